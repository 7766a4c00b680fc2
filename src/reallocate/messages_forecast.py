"""The sentences of the capacity forecast (history input, forecast requests, the command line), in
English and Vietnamese; :mod:`reallocate.messages` puts them first in its catalogue."""

from __future__ import annotations

__all__ = ["FORECAST_SENTENCES"]

#: (English template, Vietnamese template); fields as in :mod:`reallocate.messages`
FORECAST_SENTENCES: tuple[tuple[str, str], ...] = (
    ("invalid history", "lịch sử giải ngân không hợp lệ"),
    ("invalid forecast request", "yêu cầu dự báo không hợp lệ"),
    ("the history does not fit the scenario", "lịch sử giải ngân không khớp với kịch bản"),
    ("the history has no rows", "lịch sử giải ngân không có dòng nào"),
    ("not a multiple of the precision {p:n}", "không phải bội số của độ chính xác {p}"),
    ("the month must be 1 to 12", "tháng phải từ 1 đến 12"),
    (
        "a report is in its budget year or the next calendar year",
        "báo cáo phải thuộc năm ngân sách hoặc năm dương lịch kế tiếp",
    ),
    ("must be an amount of 0 or more", "phải là số tiền từ 0 trở lên"),
    ("more disbursed than allocated", "số đã giải ngân lớn hơn vốn giao"),
    (
        "line {line} is reported twice for {month} (also rows[{k:n}])",
        "dòng vốn {line} được báo cáo hai lần cho tháng {month} (cả ở rows[{k}])",
    ),
    (
        "cumulative disbursement falls below {v:n} reported for an earlier month (rows[{k:n}])",
        "giải ngân lũy kế thấp hơn mức {v} đã báo cáo ở tháng trước (rows[{k}])",
    ),
    ("the precision must be a positive number", "độ chính xác phải là số dương"),
    (
        "give a list of rows, one object per line and month",
        "hãy đưa danh sách các dòng, mỗi dòng vốn và tháng một đối tượng",
    ),
    (
        "not a history file; expected .json, .csv, .xlsx or .parquet",
        "không phải tệp lịch sử giải ngân; cần .json, .csv, .xlsx hoặc .parquet",
    ),
    ("write the month as YYYY-MM (e.g. 2023-09)", "hãy viết tháng dạng YYYY-MM (ví dụ 2023-09)"),
    ("the method must be one of {names:l}", "phương pháp phải là một trong {names}"),
    (
        "the history has no report for this line at the as-of month",
        "lịch sử không có báo cáo của dòng vốn này ở tháng dự báo",
    ),
    ("no line has a report at the as-of month", "không dòng vốn nào có báo cáo ở tháng dự báo"),
    ("the history has no earlier year to learn from", "lịch sử không có năm trước nào để học"),
    (
        "no earlier year of this line's program and fund has a report at the deadline",
        "không năm trước nào của chương trình và nguồn vốn của dòng này có báo cáo ở hạn cuối",
    ),
    ("the deadline must fall in the as-of year or the next", "hạn cuối phải thuộc năm dự báo hoặc năm sau"),
    ("the as-of month must come before the deadline", "tháng dự báo phải trước hạn cuối"),
    ("an as-of month must come before the deadline", "tháng dự báo phải trước hạn cuối"),
    ("the history is in units of {p:n}", "lịch sử tính theo đơn vị {p}"),
    ("the history is in {unit:u}", "lịch sử tính bằng {unit}"),
    ("the history has no such line", "lịch sử không có dòng vốn này"),
    (
        "disbursed to date is above the most the line may hold",
        "số đã giải ngân cao hơn mức tối đa dòng vốn có thể giữ",
    ),
    ("--out and --backtest-out name the same file", "--out và --backtest-out trỏ đến cùng một tệp"),
    ("wrote the forecast to {path}", "đã ghi dự báo vào {path}"),
    ("wrote the backtest to {path}", "đã ghi kết quả kiểm định ngược vào {path}"),
    ("the forecast does not fit the scenario", "dự báo không khớp với kịch bản"),
    ("the forecast is in units of {p:n}", "dự báo tính theo đơn vị {p}"),
    ("the forecast is in {unit:u}", "dự báo tính bằng {unit}"),
    ("the forecast has no such line", "dự báo không có dòng vốn này"),
    # solve --history: the options, the plan for the forecast
    ("not a whole number: {v}", "không phải số nguyên: {v}"),
    ("must be a whole number from {a:n} to {b:n}: {v}", "phải là số nguyên từ {a} đến {b}: {v}"),
    ("must be a rate from 0 to 1 (0.9 is 90%): {v}", "phải là tỷ lệ từ 0 đến 1 (0.9 là 90%): {v}"),
    ("{option} needs --history", "{option} cần có --history"),
    (
        "--history needs --as-of (the month of the last report to use, e.g. 2023-09)",
        "--history cần có --as-of (tháng của báo cáo cuối cùng được dùng, ví dụ 2023-09)",
    ),
    (
        "the VSS is not computed: the scenario's rules do not fit the objective 'expected'",
        "không tính VSS: các quy tắc của kịch bản không phù hợp với mục tiêu 'expected' (kỳ vọng)",
    ),
    (
        "the CVaR LP would have {n:n} columns (samples x moving lines); at most {m:n}: use fewer samples",
        "bài toán LP của CVaR sẽ có {n} cột (số mẫu x số dòng vốn có thể điều chuyển); tối đa {m}: hãy dùng ít mẫu "
        "hơn hoặc mục tiêu 'expected' hay 'quantile'",
    ),
    (
        "the risk was assessed for another plan: its scenario or lines differ",
        "rủi ro được đánh giá cho một phương án khác: kịch bản hoặc các dòng vốn khác nhau",
    ),
    ("the scenario's rules do not fit the objective", "các quy tắc của kịch bản không phù hợp với mục tiêu"),
    (
        "not supported with the objective '{objective}': use the objective 'quantile'",
        "không áp dụng được với mục tiêu '{objective}': hãy dùng mục tiêu 'quantile'",
    ),
)
