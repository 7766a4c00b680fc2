"""Labels for people, in English or Vietnamese (``lang="en" | "vi"``).

Every table, chart, workbook and report that people read takes its column names, titles and
number formats from here, so a planner can work in Vietnamese end to end.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

__all__ = [
    "LANGS",
    "REASONS_VI",
    "REASON_TEXTS",
    "UNITS_VI",
    "Lang",
    "amount_text",
    "check_lang",
    "label",
    "percent_text",
    "phrase",
    "reason_text",
    "unit_text",
]

Lang = Literal["en", "vi"]
LANGS: tuple[str, ...] = ("en", "vi")

_LABELS: dict[str, tuple[str, str]] = {
    # line keys and amounts
    "locality": ("Locality", "Địa phương"),
    "name": ("Name", "Tên"),
    "program": ("Program", "Chương trình"),
    "fund": ("Fund", "Nguồn vốn"),
    "component": ("Component", "Hợp phần"),
    "allocated": ("Allocated", "Vốn giao"),
    "disbursed": ("Disbursed", "Đã giải ngân"),
    "capacity": ("Capacity", "Khả năng giải ngân"),
    "floor": ("Floor", "Mức giữ lại tối thiểu"),
    "ceiling": ("Ceiling", "Mức tối đa"),
    "surplus": ("Surplus", "Vốn dư"),
    "room": ("Room", "Dư địa tiếp nhận"),
    "final": ("Final", "Sau điều chuyển"),
    "change": ("Change", "Thay đổi"),
    "absorbable_before": ("Absorbable before", "Dự kiến giải ngân trước"),
    "absorbable_after": ("Absorbable after", "Dự kiến giải ngân sau"),
    "reason": ("Reason", "Lý do"),
    "text": ("Why", "Giải thích"),
    # transfers
    "from": ("From", "Từ"),
    "to": ("To", "Đến"),
    "amount": ("Amount", "Số tiền"),
    "unit_cost": ("Unit cost", "Chi phí/đơn vị"),
    "cost": ("Cost", "Chi phí"),
    "approval": ("Approval", "Thẩm quyền"),
    "pool": ("Pool", "Nhóm điều chuyển"),
    # summary
    "lapse_before": ("Lapse before", "Vốn có nguy cơ hủy trước"),
    "lapse_after": ("Lapse after", "Vốn có nguy cơ hủy sau"),
    "lapse": ("Lapse", "Vốn có nguy cơ hủy"),
    "no_room": ("No room in pool", "Không còn dư địa"),
    "blocked": ("Blocked by a rule", "Bị quy định chặn"),
    "blocked_by": ("Blocked by", "Quy định chặn"),
    "moved": ("Moved", "Vốn điều chuyển"),
    "transfer_count": ("Transfers", "Số lần điều chuyển"),
    "transfer_cost": ("Transfer cost", "Chi phí điều chuyển"),
    "rate_before": ("Expected disbursement before", "Tỷ lệ giải ngân dự kiến trước"),
    "rate_after": ("Expected disbursement after", "Tỷ lệ giải ngân dự kiến sau"),
    "status": ("Status", "Trạng thái"),
    "unit": ("Unit", "Đơn vị"),
    "scenario": ("Scenario", "Kịch bản"),
    "before": ("Before", "Trước"),
    "after": ("After", "Sau"),
    # sheets and sections
    "summary": ("Summary", "Tổng hợp"),
    "lines": ("Lines", "Dòng vốn"),
    "transfers": ("Transfers", "Điều chuyển"),
    "lapse_by_pool": ("Lapse by pool", "Vốn hủy theo nhóm"),
    "localities": ("Localities", "Địa phương"),
    "rules": ("Rules", "Quy tắc"),
    # statuses
    "optimal": ("optimal", "tối ưu"),
    "time_limit": ("time limit reached", "hết thời gian"),
    "infeasible": ("infeasible", "không khả thi"),
    "error": ("error", "lỗi"),
    # funds and approvals
    "investment": ("investment", "đầu tư phát triển"),
    "recurrent": ("recurrent", "sự nghiệp"),
    "people_committee": ("People's Committee (routine)", "UBND tỉnh (thường xuyên)"),
    "people_council": ("People's Council", "HĐND tỉnh"),
    "capital_structure": ("changes the capital structure", "thay đổi cơ cấu vốn"),
    # charts
    "chart_absorbable": ("Expected disbursement by locality", "Dự kiến giải ngân theo địa phương"),
    "chart_flows": ("Transfers between localities", "Điều chuyển giữa các địa phương"),
    "chart_lapse": ("Money that still lapses, by pool", "Vốn còn nguy cơ hủy theo nhóm"),
    "headline": ("expected disbursement", "tỷ lệ giải ngân dự kiến"),
}


# Phrases of the charts, the HTML report, the workbooks, comparisons and the text report, by area:
# area -> key -> (English, Vietnamese); ``{name}`` fields are filled in by :func:`phrase`.
_PHRASES: dict[str, dict[str, tuple[str, str]]] = {
    "forecast": {
        "title": (
            "Capacity forecast as of {as_of} (deadline {deadline}), method: {method}; {n} lines, in {unit}",
            "Dự báo khả năng giải ngân tại {as_of} (hạn {deadline}), phương pháp: {method}; "
            "{n} dòng vốn, đơn vị {unit}",
        ),
        "method_ratio": ("ratio-to-date", "tỷ lệ lũy kế đến nay"),
        "method_logistic": ("logistic S-curve", "đường cong chữ S logistic"),
        "method_samples": ("given samples", "mẫu cho sẵn"),
        "line": ("Line", "Dòng vốn"),
        "disbursed": ("Disbursed", "Đã giải ngân"),
        "allocated": ("Allocated", "Vốn giao"),
        "low": ("Low", "Cận dưới"),
        "mean": ("Mean", "Trung bình"),
        "p10": ("P10", "P10 (thấp)"),
        "p50": ("P50", "P50 (trung vị)"),
        "p90": ("P90", "P90 (cao)"),
        "high": ("High", "Cận trên"),
        "total": ("Total", "Tổng"),
        "note": (
            "Low: disbursed to date; high: the most the line may hold. P10/P50/P90 of the total come from "
            "joint draws (a bad year is bad for many lines at once).",
            "Cận dưới: số đã giải ngân; cận trên: mức tối đa dòng vốn có thể giữ. P10/P50/P90 của tổng lấy từ "
            "các mẫu đồng thời (năm khó khăn thì nhiều dòng vốn cùng chậm).",
        ),
        "bt_title": (
            "Backtest, leave one year out: error of the year-end forecast (P50) and coverage of the 80% interval",
            "Kiểm định ngược, bỏ ra từng năm: sai số dự báo cuối năm (P50) và tỷ lệ nằm trong khoảng 80%",
        ),
        "bt_method": ("Method", "Phương pháp"),
        "bt_as_of_month": ("As of month", "Tháng dự báo"),
        "bt_years": ("Years", "Số năm"),
        "bt_line_years": ("Line-years", "Dòng vốn-năm"),
        "bt_mape": ("MAPE (lines)", "MAPE (dòng vốn)"),
        "bt_mape_total": ("MAPE (total)", "MAPE (tổng)"),
        "bt_coverage80": ("80% coverage", "Tỷ lệ trong khoảng 80%"),
    },
    "chart": {
        "axis_absorbable": ("Expected disbursement", "Dự kiến giải ngân"),
        "axis_lapse": ("Still lapses", "Vẫn có nguy cơ hủy"),
        "lapse_before_mark": ("Lapse before the moves", "Vốn có nguy cơ hủy trước điều chuyển"),
        "from_axis": ("From (gives)", "Từ (chuyển đi)"),
        "to_axis": ("To (receives)", "Đến (nhận)"),
        "total_given": ("Total given", "Tổng chuyển đi"),
        "total_received": ("Total received", "Tổng nhận"),
        "all_pools": ("all pools added up", "cộng tất cả các nhóm"),
        "transfers_n": ("transfers", "lần điều chuyển"),
        "moved_n": ("moved", "đã điều chuyển"),
        "no_transfers": ("No transfers", "Không có điều chuyển"),
        "no_lapse": (
            "Nothing lapses: every line is expected to disburse all it holds",
            "Không còn vốn có nguy cơ hủy: mọi dòng vốn dự kiến giải ngân hết",
        ),
        "of_allocation": ("of allocation", "so với vốn giao"),
        "largest_of": ("the largest {shown} of {total}", "{shown} mục lớn nhất trong {total}"),
        "localities_n": ("localities", "địa phương"),
        "pools_n": ("pools", "nhóm"),
        "givers_n": ("givers", "nơi chuyển đi"),
        "receivers_n": ("receivers", "nơi nhận"),
        "no_plan": ("no plan to chart", "không có phương án để vẽ biểu đồ"),
        "risk_title": (
            "Disbursement rate under the capacity forecast",
            "Tỷ lệ giải ngân theo dự báo năng lực giải ngân",
        ),
        "risk_subtitle": (
            "{samples} simulated years; mean {mean}, P10 {p10}, P90 {p90}",
            "{samples} năm mô phỏng; trung bình {mean}, P10 {p10}, P90 {p90}",
        ),
        "risk_axis_rate": ("Disbursement rate", "Tỷ lệ giải ngân"),
        "risk_axis_share": ("Share of simulated years", "Tỷ lệ số năm mô phỏng"),
        "risk_target": (
            "target {target}: below it in {share} of years",
            "mục tiêu {target}: thấp hơn ở {share} số năm",
        ),
    },
    "html": {
        "report": ("Reallocation plan", "Phương án điều chuyển vốn"),
        "no_plan": ("No plan", "Không có phương án"),
        "solver": ("solver", "bộ giải"),
        "charts": ("Charts", "Biểu đồ"),
        "no_charts": (
            "No charts: there is no plan to draw. The diagnosis below says what it would take.",
            "Không có biểu đồ: không có phương án để vẽ. Phần chẩn đoán dưới đây cho biết cần gì để có phương án.",
        ),
        "no_transfers": ("No transfers: {message}", "Không có điều chuyển: {message}"),
        "no_lapse": (
            "Nothing lapses: every line is expected to disburse all it holds.",
            "Không còn vốn có nguy cơ hủy: mọi dòng vốn dự kiến giải ngân hết.",
        ),
        "shown_first": (
            "Showing the first {shown} of {total} rows; the JSON output has them all.",
            "Hiển thị {shown} dòng đầu trong {total} dòng; tệp JSON có đầy đủ.",
        ),
        "gap_none": (
            "Gap to 100%: none — every line is expected to disburse all it holds.",
            "Khoảng cách đến 100%: không còn — mọi dòng vốn dự kiến giải ngân hết.",
        ),
        "gap": (
            "Gap to 100%: {amount} {unit} ({share} of allocation) still lapses — {no_room} has no room anywhere "
            "in its pool, {blocked} is blocked by a rule; most in {pool} ({pool_lapse}) and at {locality} "
            "({locality_lapse}).",
            "Khoảng cách đến 100%: {amount} {unit} ({share} vốn giao) vẫn có nguy cơ bị hủy — {no_room} không còn "
            "dư địa trong nhóm, {blocked} bị quy định chặn; nhiều nhất ở nhóm {pool} ({pool_lapse}) và tại "
            "{locality} ({locality_lapse}).",
        ),
        "headline_lapse": ("lapse", "vốn có nguy cơ hủy"),
        "message": ("Message", "Thông báo"),
        "lapse_detail": ("Lapse by pool and locality", "Vốn có nguy cơ hủy theo nhóm và địa phương"),
        "diagnosis": ("What it would take", "Cần gì để có phương án"),
        "target_short": (
            "Target {selector} ({rate}) is short by {missing} {unit}: it needs {missing} {unit} more absorptive "
            "capacity on lines that still lapse{reduction}.",
            "Mục tiêu {selector} ({rate}) còn thiếu {missing} {unit}: cần thêm {missing} {unit} khả năng giải ngân "
            "ở các dòng vốn vẫn có nguy cơ hủy{reduction}.",
        ),
        "or_less_allocation": (
            " (or {amount} {unit} less allocation on them)",
            " (hoặc giảm {amount} {unit} vốn giao ở đó)",
        ),
        "lapse_left": ("Still lapses", "Vẫn có nguy cơ hủy"),
        "add_capacity": ("Capacity to add", "Khả năng giải ngân cần thêm"),
        "closest_lines": ("Closest lines", "Các dòng vốn gần nhất"),
        "line": ("Line", "Dòng vốn"),
        "conflict": ("The smallest set of rules that conflict", "Tập quy tắc nhỏ nhất mâu thuẫn nhau"),
        "notes": ("Notes", "Ghi chú"),
        "made_by": ("made by reallocate {version}", "tạo bởi reallocate {version}"),
        "all_lines": ("all lines", "tất cả các dòng"),
        "saves_note": (
            "Shadow prices: the money one more unit of capacity on the line would keep from lapsing, up to the "
            "amount shown.",
            "Giá bóng: số vốn được giữ khỏi bị hủy khi dòng vốn có thêm một đơn vị khả năng giải ngân, tối đa đến "
            "mức ghi bên cạnh.",
        ),
    },
    "files": {
        "message": ("Message", "Thông báo"),
        "solver": ("Solver", "Bộ giải"),
        "gap": ("Gap to 100%", "Khoảng cách đến 100%"),
        "diagnosis": ("Diagnosis", "Chẩn đoán"),
        "conflict": ("Conflicting rule", "Quy tắc xung đột"),
        "note": ("Note", "Ghi chú"),
        "item": ("Item", "Nội dung"),
        "value": ("Value", "Giá trị"),
        "key": ("Key", "Mã mục"),
        "id": ("Id", "Mã"),
        "weight": ("Weight", "Trọng số"),
        "max_loss": ("Max loss", "Mức giảm tối đa"),
        "max_gain": ("Max gain", "Mức tăng tối đa"),
        "frozen": ("Frozen", "Giữ nguyên"),
        "give_only": ("Give only", "Chỉ cho đi"),
        "receive_only": ("Receive only", "Chỉ nhận"),
        "rule": ("Rule", "Quy tắc"),
        "setting": ("Setting", "Thiết lập"),
        "precision": ("Precision", "Độ chính xác"),
        "transfer_costs": ("Transfer costs", "Chi phí điều chuyển"),
        "lapse_by_locality": ("Lapse by pool and locality", "Vốn hủy theo nhóm và địa phương"),
        "guide": ("Guide", "Hướng dẫn"),
        "sheet": ("Sheet", "Trang"),
        "column": ("Column", "Cột"),
        "meaning": ("Meaning", "Ý nghĩa"),
        "basis": ("Planning basis", "Cơ sở lập phương án"),
    },
    "sweep": {
        "tornado_title": ("What moves {metric} most", "Yếu tố tác động nhiều nhất đến {metric}"),
        "tornado_subtitle": (
            "each bar spans the mean over the other axes, from the axis value giving the lowest to the "
            "one giving the highest; {n} variants with a plan of {total}",
            "mỗi thanh trải từ giá trị của trục cho mức thấp nhất đến giá trị cho mức cao nhất (bình quân theo "
            "các trục khác); {n} phương án có kết quả trên {total}",
        ),
        "baseline": ("Baseline", "Kịch bản gốc"),
        "axis": ("Axis", "Trục"),
        "low_value": ("Value at low", "Giá trị cho mức thấp"),
        "low": ("Low", "Thấp"),
        "high_value": ("Value at high", "Giá trị cho mức cao"),
        "high": ("High", "Cao"),
        "swing": ("Swing", "Biên độ"),
        "variants": ("Variants", "Phương án"),
        "count": ("Count", "Số lượng"),
        "summary": (
            "{n} variants: {found} with a plan, {other} without",
            "{n} phương án: {found} có kết quả, {other} không có",
        ),
    },
    "compare": {
        "title": ("Comparison of {n} plans ({unit})", "So sánh {n} phương án ({unit})"),
        "no_plan": ("no plan", "không có phương án"),
        "vs": ("vs", "so với"),
        "changed_lines": ("Lines that changed: {n} of {total}", "Dòng vốn thay đổi: {n} trên {total}"),
        "changed_transfers": ("Transfers that changed: {n} of {total}", "Điều chuyển thay đổi: {n} trên {total}"),
        "more": ("... and {n} more", "... và {n} dòng khác"),
        "none": ("(none)", "(không có)"),
        "points": ("pts", "điểm %"),
        "in_transfers": ("in {n} transfers", "qua {n} lần điều chuyển"),
        "in_transfer": ("in {n} transfer", "qua {n} lần điều chuyển"),
        "absent": ("-", "-"),
    },
    "risk": {
        "title": ("Risk of lapse", "Rủi ro vốn bị hủy"),
        "basis": (
            "Capacities shown are planning capacities from the {method} capacity forecast, {objective}; "
            "the expected disbursement and lapse of the plan are measured against them.",
            "Khả năng giải ngân trình bày là khả năng giải ngân dùng để lập phương án, từ dự báo khả năng giải ngân "
            "({method}), {objective}; tỷ lệ giải ngân dự kiến và vốn có nguy cơ hủy của phương án được tính theo "
            "các mức này.",
        ),
        "objective_expected": (
            "under the objective 'expected': the most expected disbursement, each line's capacity taken as "
            "{breakpoints} equally likely values",
            "theo mục tiêu 'expected' (kỳ vọng): tối đa số vốn giải ngân kỳ vọng, khả năng giải ngân của mỗi dòng "
            "vốn lấy {breakpoints} giá trị đồng khả năng",
        ),
        "objective_quantile": (
            "under the objective 'quantile' (epsilon {epsilon}): a line receives only what it disburses with "
            "probability {sure}, and gives only what it fails to disburse with probability {sure}",
            "theo mục tiêu 'quantile' (phân vị, epsilon {epsilon}): một dòng vốn chỉ nhận phần nó giải ngân được "
            "với xác suất {sure}, và chỉ chuyển đi phần nó không giải ngân được với xác suất {sure}",
        ),
        "objective_cvar": (
            "under the objective 'cvar': (1 − omega) × expected disbursement + omega × its mean over the worst "
            "{worst} of {samples} simulated years (alpha {alpha}, omega {omega}, seed {seed})",
            "theo mục tiêu 'cvar': (1 − omega) × số vốn giải ngân kỳ vọng + omega × mức trung bình của {worst} "
            "số năm xấu nhất trong {samples} năm mô phỏng (alpha {alpha}, omega {omega}, seed {seed})",
        ),
        "simulated": (
            "Over {samples} simulated years of the capacity forecast (seed {seed}); P10, P50, P90: the values "
            "that 10%, 50%, 90% of the simulated years stay at or below.",
            "Trên {samples} năm mô phỏng theo dự báo khả năng giải ngân (seed {seed}); P10, P50, P90: các giá trị "
            "mà 10%, 50%, 90% số năm mô phỏng không vượt quá.",
        ),
        "outlook": (
            "Under the forecast ({samples} simulated years): disbursement rate {mean} on average (P10 {p10}, "
            'P90 {p90}); {lapse} {unit} lapses on average. See "{title}".',
            "Theo dự báo ({samples} năm mô phỏng): tỷ lệ giải ngân trung bình {mean} (P10 {p10}, P90 {p90}); "
            'bình quân {lapse} {unit} bị hủy. Xem "{title}".',
        ),
        "figure": ("Figure", "Chỉ tiêu"),
        "mean": ("Mean", "Trung bình"),
        "rate": ("Disbursement rate", "Tỷ lệ giải ngân"),
        "lapse": ("Lapse ({unit})", "Vốn bị hủy ({unit})"),
        "absorbed_mean": ("Expected disbursement: {amount} {unit}", "Số vốn giải ngân kỳ vọng: {amount} {unit}"),
        "below_target": (
            "Probability that the rate stays below the target of {target}: {probability}",
            "Xác suất tỷ lệ giải ngân thấp hơn mục tiêu {target}: {probability}",
        ),
        "vss": (
            "Value of the stochastic solution (VSS): {vss} {unit} of expected disbursement gained by planning for "
            "the forecast instead of on its median capacities",
            "Giá trị của lời giải ngẫu nhiên (VSS): {vss} {unit} vốn giải ngân kỳ vọng có thêm nhờ lập phương án "
            "theo dự báo thay vì theo khả năng giải ngân trung vị",
        ),
        "top": (
            "Lines carrying the most expected lapse ({unit}; largest {top})",
            "Các dòng vốn mang nhiều vốn bị hủy kỳ vọng nhất ({unit}; {top} dòng lớn nhất)",
        ),
        "no_top": ("No line is expected to lapse.", "Không dòng vốn nào có vốn bị hủy kỳ vọng."),
        "line": ("Line", "Dòng vốn"),
        "expected_lapse": ("Expected lapse", "Vốn bị hủy kỳ vọng"),
        "share": ("Share", "Tỷ trọng"),
        # the workbook's risk sheet
        "item_basis": ("Planning basis", "Cơ sở lập phương án"),
        "item_objective": ("Objective", "Mục tiêu (objective)"),
        "name_expected": ("expected", "'expected' (kỳ vọng)"),
        "name_quantile": ("quantile", "'quantile' (phân vị)"),
        "name_cvar": ("cvar", "'cvar' (giá trị rủi ro có điều kiện)"),
        "item_forecast": ("Forecast method", "Phương pháp dự báo"),
        "item_as_of": ("Forecast made as of", "Thời điểm dự báo"),
        "item_breakpoints": ("Breakpoints per line", "Số điểm chia mỗi dòng vốn (breakpoints)"),
        "item_epsilon": ("Epsilon", "Epsilon (xác suất chấp nhận)"),
        "item_alpha": ("Alpha (share of worst years)", "Alpha (tỷ lệ số năm xấu nhất)"),
        "item_omega": ("Omega (weight of the worst years)", "Omega (trọng số của các năm xấu nhất)"),
        "item_cvar_samples": ("Simulated years of the plan", "Số năm mô phỏng khi lập phương án"),
        "item_cvar_seed": ("Seed of the plan", "Seed khi lập phương án"),
        "item_samples": ("Simulated years", "Số năm mô phỏng"),
        "item_seed": ("Seed", "Seed (hạt giống ngẫu nhiên)"),
        "item_rate_mean": ("Disbursement rate, mean", "Tỷ lệ giải ngân, trung bình"),
        "item_rate_p10": ("Disbursement rate, P10", "Tỷ lệ giải ngân, P10 (thấp)"),
        "item_rate_p50": ("Disbursement rate, P50", "Tỷ lệ giải ngân, P50 (trung vị)"),
        "item_rate_p90": ("Disbursement rate, P90", "Tỷ lệ giải ngân, P90 (cao)"),
        "item_lapse_mean": ("Lapse, mean", "Vốn bị hủy, trung bình"),
        "item_lapse_p10": ("Lapse, P10", "Vốn bị hủy, P10 (thấp)"),
        "item_lapse_p50": ("Lapse, P50", "Vốn bị hủy, P50 (trung vị)"),
        "item_lapse_p90": ("Lapse, P90", "Vốn bị hủy, P90 (cao)"),
        "item_absorbed_mean": ("Expected disbursement", "Số vốn giải ngân kỳ vọng"),
        "item_target": ("Target rate", "Tỷ lệ mục tiêu"),
        "item_probability_below_target": ("Probability below the target", "Xác suất thấp hơn mục tiêu"),
        "item_vss": ("Value of the stochastic solution (VSS)", "Giá trị của lời giải ngẫu nhiên (VSS)"),
        "planning_capacity": ("Planning capacity", "Khả năng giải ngân để lập phương án"),
    },
    "report": {
        "against_planning": (
            "against the planning capacities",
            "so với khả năng giải ngân dùng để lập phương án",
        ),
        "pools": (
            "Pools ({unit}; money moves only inside a pool: same {by})",
            "Nhóm điều chuyển ({unit}; vốn chỉ điều chuyển trong cùng nhóm: cùng {by})",
        ),
        "transfers": ("Transfers ({unit})", "Điều chuyển ({unit})"),
        "none": ("(none: no pool has both surplus and room)", "(không có: không nhóm nào vừa có vốn dư vừa có dư địa)"),
        "moved": ("moved {moved} {unit} in {count} transfers", "điều chuyển {moved} {unit} qua {count} lần"),
        "cost": ("; transfer cost {cost}", "; chi phí điều chuyển {cost}"),
        "why": ("Why (lines by reason)", "Lý do (số dòng vốn theo lý do)"),
        "saves": (
            "Where ready projects would save the most money (per extra unit of capacity; top {top})",
            "Nơi dự án sẵn sàng giúp giảm vốn hủy nhiều nhất (mỗi đơn vị khả năng tăng thêm; {top} dòng đầu)",
        ),
        "lapses": (
            "Money that still lapses ({unit}; largest {top})",
            "Vốn còn nguy cơ hủy ({unit}; {top} nhóm lớn nhất)",
        ),
        "note": ("note: {note}", "ghi chú: {note}"),
        "closest": (
            "  - {line}: +{add} capacity (lapses {lapse} of capacity {capacity})",
            "  - {line}: cần thêm {add} khả năng giải ngân (còn {lapse} có nguy cơ hủy, khả năng giải ngân {capacity})",
        ),
        "valid": (
            "valid scenario {name}: {lines} lines, {localities} localities, {pools} pools (pool_by: {pool_by}); "
            "surplus {surplus} {unit}, room {room} {unit}",
            "kịch bản hợp lệ {name}: {lines} dòng vốn, {localities} địa phương, {pools} nhóm (pool_by: {pool_by}); "
            "vốn dư {surplus} {unit}, dư địa {room} {unit}",
        ),
        "no_plan": ("no plan", "không có phương án"),
        "gap": (
            "gap to 100%: {amount} {unit} ({share} of allocation) still lapses",
            "khoảng cách tới 100%: {amount} {unit} ({share} vốn giao) còn nguy cơ hủy",
        ),
        "saves_per_unit": ("saves per unit", "giảm mỗi đơn vị"),
        "up_to": ("up to", "tối đa"),
        "line": ("line", "dòng vốn"),
    },
}

#: Every reason code a line can get: what it means, in English and Vietnamese.
REASON_TEXTS: dict[str, tuple[str, str]] = {
    "received_all_room": ("received its whole room", "nhận đủ dư địa"),
    "received_share": (
        "received a share of its room: its pool ran out of surplus",
        "nhận một phần dư địa: nhóm đã hết vốn dư",
    ),
    "gave_all_surplus": ("gave all its surplus", "chuyển đi toàn bộ vốn dư"),
    "kept_surplus": (
        "kept part of its surplus: its pool ran out of room",
        "giữ lại một phần vốn dư: nhóm đã hết dư địa",
    ),
    "no_room_in_pool": ("has surplus, but no line of its pool has room", "có vốn dư nhưng trong nhóm không còn dư địa"),
    "no_surplus_in_pool": (
        "has room, but no line of its pool has surplus",
        "có dư địa nhưng trong nhóm không có vốn dư",
    ),
    "held_by_approval": (
        "held back by the approval tiers: a move needing a higher approval is made only when no lower one can "
        "absorb the money",
        "bị thứ bậc phê duyệt giữ lại: điều chuyển cần cấp phê duyệt cao hơn chỉ thực hiện khi cấp thấp hơn không "
        "hấp thụ được số vốn đó",
    ),
    "held_by_locality_limit": (
        "held back by its locality's max_loss / max_gain",
        "bị giới hạn của địa phương (max_loss / max_gain) giữ lại",
    ),
    "held_by_min_transfer": ("held back by min_transfer", "bị mức điều chuyển tối thiểu (min_transfer) giữ lại"),
    "held_by_max_transfers": (
        "held back by max_transfers_per_line",
        "bị số lần điều chuyển tối đa (max_transfers_per_line) giữ lại",
    ),
    "held_by_rules": (
        "held back by the rules of its pool (limits or priorities elsewhere)",
        "bị các quy tắc của nhóm giữ lại (giới hạn hoặc ưu tiên ở nơi khác)",
    ),
    "held_by_flags": (
        "held back by flags: the rest of its pool's room (surplus) is on frozen or give_only (receive_only) lines",
        "bị các dòng được đánh dấu giữ lại: phần dư địa (vốn dư) còn lại của nhóm nằm ở các dòng frozen hoặc "
        "give_only (receive_only)",
    ),
    "held_by_floor": (
        "must keep its floor (signed contracts) above what it can disburse",
        "phải giữ mức tối thiểu (hợp đồng đã ký) cao hơn khả năng giải ngân",
    ),
    "held_by_ceiling": ("at its ceiling: it could disburse more", "đã chạm mức tối đa: còn có thể giải ngân thêm"),
    "frozen": ("frozen: neither gives nor receives", "bị khóa: không chuyển đi, không nhận"),
    "give_only": ("give_only: has room but never receives", "chỉ được chuyển đi: có dư địa nhưng không nhận"),
    "receive_only": ("receive_only: has surplus but never gives", "chỉ được nhận: có vốn dư nhưng không chuyển đi"),
    "balanced": (
        "holds what it can disburse: nothing to give or receive",
        "giữ đúng mức có thể giải ngân: không cho, không nhận",
    ),
}

#: The reasons in Vietnamese (``REASON_TEXTS``' second column).
REASONS_VI: dict[str, str] = {code: pair[1] for code, pair in REASON_TEXTS.items()}


def reason_text(code: str, lang: str = "en") -> str:
    """What reason ``code`` means, in ``lang``; an unknown code is shown as itself."""
    pair = REASON_TEXTS.get(code)
    if pair is None:
        return code
    return pair[1] if check_lang(lang) == "vi" else pair[0]


#: Units written in English, as a Vietnamese reader writes them (any other unit is shown as given).
UNITS_VI: dict[str, str] = {
    "VND": "đồng",
    "dong": "đồng",
    "thousand VND": "nghìn đồng",
    "million VND": "triệu đồng",
    "billion VND": "tỷ đồng",
}


def unit_text(unit: str, lang: str = "en") -> str:
    """The scenario's unit as a reader of ``lang`` writes it: "million VND" is "triệu đồng" in
    Vietnamese; a unit the catalogue does not know is shown as the scenario gives it."""
    if check_lang(lang) == "vi":
        return UNITS_VI.get(unit.strip(), unit)
    return unit


def phrase(area: str, key: str, lang: str = "en", **values: object) -> str:
    """A phrase of ``area`` ("chart", "html", "files", "compare", "report", "sweep") in ``lang``, its
    ``{name}`` fields filled from ``values``; a key the area lacks falls back to :func:`label`."""
    pair = _PHRASES[area].get(key)
    if pair is None:
        return label(key, lang)
    text = pair[1] if check_lang(lang) == "vi" else pair[0]
    return text.format(**values) if values else text


def check_lang(lang: str) -> Lang:
    """``lang`` itself when it is a known language, else ``ValueError`` naming the choices."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}; got {lang!r}")
    return lang  # type: ignore[return-value]


def label(key: str, lang: str = "en") -> str:
    """The label of ``key`` in ``lang``; an unknown key is shown as itself."""
    pair = _LABELS.get(key)
    if pair is None:
        return key
    return pair[1] if check_lang(lang) == "vi" else pair[0]


def amount_text(value: Decimal | int | float, lang: str = "en") -> str:
    """Thousands separators: ``1,047,495`` (en) or ``1.047.495`` (vi); decimals keep their digits."""
    d = Decimal(value) if not isinstance(value, float) else Decimal(repr(value))
    if d == d.to_integral_value():
        d = d.quantize(Decimal(1))
    text = f"{d:,}"
    if check_lang(lang) == "vi":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def percent_text(rate: float | None, lang: str = "en", digits: int = 1) -> str:
    """``57.9%`` (en) or ``57,9%`` (vi); ``n/a`` when there is no rate."""
    if rate is None:
        return "n/a"
    text = f"{rate * 100:.{digits}f}%"
    return text.replace(".", ",") if check_lang(lang) == "vi" else text
