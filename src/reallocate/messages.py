"""The sentences of messages, in English and Vietnamese: validation errors, plan messages, reasons,
diagnoses and command-line errors.

The library writes its messages in English where they arise (a pydantic error, a rule check, a
solver note), each from a fixed sentence with values in it. This catalogue holds every such
sentence once, with its Vietnamese, as a template: ``{name}`` is any text, ``{name:n}`` a number
(written ``1.234,5`` in Vietnamese), ``{name:p}`` a percent, ``{name:m}`` a message translated in
turn, ``{name:l}`` a list (its "and" / "or" translated), ``{name:s}`` a selector ("all lines"),
``{name:u}`` the scenario's unit.
:func:`translate` matches a message against the templates and writes it in the language asked for;
a message made of parts joined by "; " is translated part by part. ``labels`` holds the words and
phrases of tables, charts and reports; between them they are the catalogue every reader sees.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from .labels import check_lang, unit_text
from .messages_forecast import FORECAST_SENTENCES

__all__ = ["SENTENCES", "translate", "untranslated"]

#: (English template, Vietnamese template), the more specific before the more general
SENTENCES: tuple[tuple[str, str], ...] = (
    *FORECAST_SENTENCES,
    # ------------------------------------------------------------------ plan messages and notes
    ("optimal plan", "phương án tối ưu"),
    ("no plan found", "không tìm được phương án"),
    (
        "no pool has both surplus and room: nothing can move",
        "không nhóm nào vừa có vốn dư vừa có dư địa: không có gì để điều chuyển",
    ),
    ("no plan in whole units satisfies the rules", "không có phương án nào theo đơn vị nguyên thỏa mãn các quy tắc"),
    ("no plan satisfies the rules", "không có phương án nào thỏa mãn các quy tắc"),
    (
        "fewest transfers not searched ({n:n} candidate pairs > {m:n})",
        "chưa tìm số lần điều chuyển ít nhất ({n} cặp ứng viên > {m})",
    ),
    (
        "the transfers kept are optimal for every earlier stage",
        "các điều chuyển được giữ là tối ưu cho mọi bước trước",
    ),
    (
        "fewest transfers not proven within {n:n} branch-and-bound nodes",
        "chưa chứng minh được số lần điều chuyển ít nhất trong {n} nút nhánh-cận",
    ),
    (
        "fewest transfers not proven (the solver's switches did not hold once fixed)",
        "chưa chứng minh được số lần điều chuyển ít nhất (các biến nhị phân của bộ giải không giữ được khi cố định)",
    ),
    (
        "the generic tie-break was skipped (the solver's switches did not hold once fixed)",
        "bỏ qua bước phân định chung (các biến nhị phân của bộ giải không giữ được khi cố định)",
    ),
    (
        "the plan has the fewest found ({n:n}), and is optimal for every earlier stage",
        "phương án có số lần điều chuyển ít nhất tìm được ({n}) và tối ưu cho mọi bước trước",
    ),
    ("time limit reached before stage {stage}", "hết thời gian trước bước {stage}"),
    ("time limit reached in stage {stage}", "hết thời gian trong bước {stage}"),
    ("the best plan found is kept (not proven optimal)", "giữ phương án tốt nhất đã tìm được (chưa chứng minh tối ưu)"),
    ("the best plan found is kept", "giữ phương án tốt nhất đã tìm được"),
    ("stage {stage}: solver crashed", "bước {stage}: bộ giải gặp sự cố"),
    ("stage {stage}: {detail}", "bước {stage}: {detail}"),
    (
        "CBC's solution ({n:n} printed digits) rounded to a worse plan: the plan is the whole-unit optimum",
        "lời giải của CBC ({n} chữ số) làm tròn thành phương án kém hơn: phương án là tối ưu theo đơn vị nguyên",
    ),
    (
        "rules bind at fractions of a unit: the plan is the whole-unit optimum",
        "các quy tắc ràng buộc ở phần lẻ của đơn vị: phương án là tối ưu theo đơn vị nguyên",
    ),
    (
        "could not round the integer solution exactly: {why:m}",
        "không làm tròn chính xác được lời giải nguyên: {why}",
    ),
    ("could not round the solution exactly: {why:m}", "không làm tròn chính xác được lời giải: {why}"),
    (
        "at amounts above 10^9 units of precision the whole-unit problem is not solved exactly "
        "(a larger precision would make it so)",
        "với số tiền trên 10^9 đơn vị độ chính xác, bài toán đơn vị nguyên không được giải chính xác "
        "(độ chính xác lớn hơn sẽ giải được)",
    ),
    (
        "the integer solution did not hold once its switches were fixed (numerically unreliable at these amounts)",
        "lời giải nguyên không giữ được khi cố định các biến nhị phân (số học không tin cậy ở mức số tiền này)",
    ),
    (
        "the whole-unit plan found absorbs less than the LP optimum",
        "phương án đơn vị nguyên tìm được hấp thụ ít hơn tối ưu của bài toán tuyến tính",
    ),
    (
        "no whole-unit plan near the solver's keeps every rule",
        "không có phương án đơn vị nguyên nào gần lời giải của bộ giải giữ được mọi quy tắc",
    ),
    (
        "rounding to whole units breaks a rule and no nearby whole-unit plan keeps them all",
        "làm tròn về đơn vị nguyên vi phạm một quy tắc và không có phương án nguyên gần đó giữ được tất cả",
    ),
    ("conflicting rules: {rules:m}", "các quy tắc mâu thuẫn: {rules}"),
    (
        "shadow prices ignore min_transfer and max_transfers_per_line (LP duals)",
        "giá bóng bỏ qua min_transfer và max_transfers_per_line (nghiệm đối ngẫu của bài toán tuyến tính)",
    ),
    (
        "shadow prices from pool totals only (no dual prices were available)",
        "giá bóng chỉ tính từ tổng của nhóm (không có nghiệm đối ngẫu)",
    ),
    (
        "gap to 100%: none — every line is expected to disburse all it holds",
        "khoảng cách đến 100%: không còn — mọi dòng vốn dự kiến giải ngân hết",
    ),
    (
        "gap to 100%: {amount:n} {unit:u} ({share:p} of allocation) still lapses — {no_room:n} has no room anywhere "
        "in its pool, {blocked:n} is blocked by a rule; most in {pool} ({pool_lapse:n}) and at {loc} ({loc_lapse:n})",
        "khoảng cách đến 100%: {amount} {unit} ({share} vốn giao) vẫn có nguy cơ bị hủy — {no_room} không còn dư địa "
        "trong nhóm, {blocked} bị quy định chặn; nhiều nhất ở nhóm {pool} ({pool_lapse}) và tại {loc} ({loc_lapse})",
    ),
    # ------------------------------------------------------------------ diagnoses and conflicts
    (
        "target {sel:s} ({rate:p}) is short by {missing:n} {unit:u}: it needs {need:n} {unit2:u} more absorptive "
        "capacity on lines that still lapse (or {less:n} {unit3:u} less allocation on them)",
        "mục tiêu {sel} ({rate}) còn thiếu {missing} {unit:u}: cần thêm {need} {unit2:u} khả năng giải ngân ở các dòng "
        "vốn vẫn có nguy cơ hủy (hoặc giảm {less} {unit3:u} vốn giao ở đó)",
    ),
    (
        "target {sel:s} ({rate:p}) is short by {missing:n} {unit:u}: it needs {need:n} {unit2:u} more absorptive "
        "capacity on lines that still lapse",
        "mục tiêu {sel} ({rate}) còn thiếu {missing} {unit:u}: cần thêm {need} {unit2:u} khả năng giải ngân ở các dòng "
        "vốn vẫn có nguy cơ hủy",
    ),
    ("e.g. +{n:n} capacity at {line}", "ví dụ thêm {n} khả năng giải ngân tại {line}"),
    ("spread over {n:n} lines, largest at {line}", "phân bổ trên {n} dòng vốn, lớn nhất tại {line}"),
    (
        "each line can give only its surplus: {n:n} line(s), {total:n} {unit:u} in all ({lines:l})",
        "mỗi dòng chỉ chuyển đi được vốn dư của mình: {n} dòng, tổng {total} {unit:u} ({lines})",
    ),
    (
        "each line can receive up to its room: {n:n} line(s), {total:n} {unit:u} in all ({lines:l})",
        "mỗi dòng chỉ nhận tối đa dư địa của mình: {n} dòng, tổng {total} {unit:u} ({lines})",
    ),
    ("max_loss of locality {loc}: {n:n}", "mức giảm tối đa (max_loss) của địa phương {loc}: {n}"),
    ("max_gain of locality {loc}: {n:n}", "mức tăng tối đa (max_gain) của địa phương {loc}: {n}"),
    ("pool {pool}: money moves only inside it", "nhóm {pool}: vốn chỉ điều chuyển trong nhóm"),
    ("pool {pool}: its total room", "nhóm {pool}: tổng dư địa của nhóm"),
    ("pool {pool}: its total surplus", "nhóm {pool}: tổng vốn dư của nhóm"),
    ("rules.target_rate: all lines must reach {rate:p}", "rules.target_rate: mọi dòng vốn phải đạt {rate}"),
    ("rules.targets[{k:n}]: {sel:s} must reach {rate:p}", "rules.targets[{k}]: {sel} phải đạt {rate}"),
    (
        "rules.max_transfers_per_line: each line takes part in at most {n:n} transfers",
        "rules.max_transfers_per_line: mỗi dòng tham gia tối đa {n} lần điều chuyển",
    ),
    (
        "rules.min_transfer: every transfer is 0 or at least {n:n} {unit:u}",
        "rules.min_transfer: mỗi lần điều chuyển bằng 0 hoặc ít nhất {n} {unit:u}",
    ),
    (
        "whole units: the rules can be met only with fractions of a unit of precision",
        "đơn vị nguyên: các quy tắc chỉ đáp ứng được với phần lẻ của đơn vị độ chính xác",
    ),
    ("the rule behind the {kind} rows", "quy tắc đứng sau các ràng buộc {kind}"),
    # ------------------------------------------------------------------ what blocks lapsing money
    ("max_loss of {loc}", "mức giảm tối đa (max_loss) của {loc}"),
    ("max_gain of {locs:l}", "mức tăng tối đa (max_gain) của {locs}"),
    ("max_gain", "mức tăng tối đa (max_gain)"),
    ("max_loss", "mức giảm tối đa (max_loss)"),
    ("floor", "mức giữ lại tối thiểu (floor)"),
    ("frozen", "bị khóa (frozen)"),
    ("receive_only", "chỉ nhận (receive_only)"),
    ("give_only", "chỉ cho đi (give_only)"),
    ("min_transfer", "mức điều chuyển tối thiểu (min_transfer)"),
    ("max_transfers_per_line", "số lần điều chuyển tối đa (max_transfers_per_line)"),
    ("ceiling", "mức tối đa (ceiling)"),
    ("room on frozen or give_only lines", "dư địa nằm ở các dòng frozen hoặc give_only"),
    ("rules", "các quy tắc"),
    # ------------------------------------------------------------------ reasons of lines
    ("gave all its surplus {s:n}", "đã chuyển đi toàn bộ vốn dư {s}"),
    (
        "gave all its surplus {s:n}; keeps its floor {f:n}, above its capacity {c:n}",
        "đã chuyển đi toàn bộ vốn dư {s}; giữ mức tối thiểu {f}, cao hơn khả năng giải ngân {c}",
    ),
    (
        "gave {g:n} of its surplus {s:n} ({p:p}): its pool ran out of room (a pro-rata share of the pool's room)",
        "đã chuyển đi {g} trong vốn dư {s} ({p}): nhóm đã hết dư địa (chia theo tỷ lệ dư địa của nhóm)",
    ),
    (
        "gave {g:n} of its surplus {s:n} ({p:p}): its pool ran out of room (a share by priority weight of the "
        "pool's room)",
        "đã chuyển đi {g} trong vốn dư {s} ({p}): nhóm đã hết dư địa (chia theo trọng số ưu tiên)",
    ),
    (
        "gave {g:n} of its surplus {s:n}: the rest of its pool's room is on frozen or give_only lines",
        "đã chuyển đi {g} trong vốn dư {s}: phần dư địa còn lại của nhóm nằm ở các dòng frozen hoặc give_only",
    ),
    ("gave {g:n} of its surplus {s:n}: {why:m}", "đã chuyển đi {g} trong vốn dư {s}: {why}"),
    ("received its whole room {r:n}", "đã nhận đủ dư địa {r}"),
    (
        "received its whole room {r:n} (its ceiling {c:n} caps it below its capacity)",
        "đã nhận đủ dư địa {r} (mức tối đa {c} giới hạn thấp hơn khả năng giải ngân)",
    ),
    (
        "received {g:n} of its room {r:n} ({p:p}): its pool ran out of surplus (a pro-rata share)",
        "đã nhận {g} trong dư địa {r} ({p}): nhóm đã hết vốn dư (chia theo tỷ lệ)",
    ),
    (
        "received {g:n} of its room {r:n} ({p:p}): its pool ran out of surplus (a share by priority weight)",
        "đã nhận {g} trong dư địa {r} ({p}): nhóm đã hết vốn dư (chia theo trọng số ưu tiên)",
    ),
    (
        "received {g:n} of its room {r:n}: the rest of its pool's surplus is on frozen or receive_only lines",
        "đã nhận {g} trong dư địa {r}: phần vốn dư còn lại của nhóm nằm ở các dòng frozen hoặc receive_only",
    ),
    ("received {g:n} of its room {r:n}: {why:m}", "đã nhận {g} trong dư địa {r}: {why}"),
    ("{loc}'s max_loss ({n:n}) is reached", "đã chạm mức giảm tối đa (max_loss) của {loc} ({n})"),
    ("{loc}'s max_gain ({n:n}) is reached", "đã chạm mức tăng tối đa (max_gain) của {loc} ({n})"),
    (
        "a move across {attrs:l} needs a higher approval: it is made only when no move needing a lower one can "
        "absorb the money (rules.order)",
        "điều chuyển khác {attrs} cần cấp phê duyệt cao hơn: chỉ thực hiện khi không có điều chuyển nào cần cấp thấp "
        "hơn hấp thụ được số vốn đó (rules.order)",
    ),
    ("a transfer must be at least {n:n}", "mỗi lần điều chuyển phải ít nhất {n}"),
    ("at most {n:n} transfers per line", "tối đa {n} lần điều chuyển mỗi dòng"),
    ("locality limits elsewhere ({locs})", "giới hạn của địa phương khác ({locs})"),
    ("the rules of its pool", "các quy tắc của nhóm"),
    ("has surplus {s:n}, but no line of its pool has room", "có vốn dư {s} nhưng trong nhóm không dòng nào còn dư địa"),
    ("has surplus {s:n} but no line of its pool has room", "có vốn dư {s} nhưng trong nhóm không dòng nào còn dư địa"),
    (
        "could absorb {r:n} more, but no line of its pool has surplus",
        "có thể hấp thụ thêm {r} nhưng trong nhóm không dòng nào có vốn dư",
    ),
    (
        "must keep its floor {f:n} (signed contracts) but can disburse only {c:n}",
        "phải giữ mức tối thiểu {f} (hợp đồng đã ký) nhưng chỉ giải ngân được {c}",
    ),
    ("at its ceiling {a:n}: it could disburse {r:n} more", "đã chạm mức tối đa {a}: còn có thể giải ngân thêm {r}"),
    ("has surplus {s:n} but is receive_only: it lapses", "có vốn dư {s} nhưng chỉ được nhận (receive_only): sẽ bị hủy"),
    ("could absorb {r:n} more but is give_only", "có thể hấp thụ thêm {r} nhưng chỉ được cho đi (give_only)"),
    ("frozen: neither gives nor receives", "bị khóa: không chuyển đi, không nhận"),
    ("holds what it can disburse: nothing to give or receive", "giữ đúng mức có thể giải ngân: không cho, không nhận"),
    # ------------------------------------------------------------------ pydantic's own errors
    ("Field required", "thiếu trường bắt buộc"),
    ("missing", "thiếu"),
    ("Extra inputs are not permitted", "trường này không có trong mẫu (không được phép)"),
    ("Input should be a valid boolean", "phải là TRUE hoặc FALSE (true hoặc false)"),
    ("Input should be a valid boolean, unable to interpret input", "phải là TRUE hoặc FALSE (true hoặc false)"),
    ("Input should be a valid decimal", "phải là một số thập phân hợp lệ"),
    (
        "Decimal input should be an integer, float, string or Decimal object",
        "phải là một số (số nguyên, số thập phân hoặc chuỗi chữ số)",
    ),
    ("Input should be a finite number", "phải là một số hữu hạn"),
    ("Input should be a valid number", "phải là một số hợp lệ"),
    ("Input should be a valid number, unable to parse string as a number", "phải là một số hợp lệ"),
    ("Input should be a number, not a boolean", "phải là một số, không phải TRUE/FALSE"),
    ("Input should be greater than or equal to {n:n}", "phải lớn hơn hoặc bằng {n}"),
    ("Input should be greater than {n:n}", "phải lớn hơn {n}"),
    ("Input should be less than or equal to {n:n}", "phải nhỏ hơn hoặc bằng {n}"),
    ("Input should be less than {n:n}", "phải nhỏ hơn {n}"),
    ("Input should be a valid integer", "phải là một số nguyên"),
    ("Input should be a valid integer, unable to parse string as an integer", "phải là một số nguyên"),
    ("Input should be a valid integer, got a number with a fractional part", "phải là số nguyên, không có phần lẻ"),
    ("Input should be a valid string", "phải là văn bản"),
    (
        "Input should be a valid string, unable to parse raw data as a unicode string",
        "phải là văn bản hợp lệ (không đọc được dưới dạng Unicode)",
    ),
    ("Input should be a valid dictionary or instance of {kind}", "phải là một đối tượng (từ điển) kiểu {kind}"),
    ("Input should be a valid dictionary", "phải là một đối tượng (từ điển)"),
    ("Input should be a valid list", "phải là một danh sách"),
    ("Input should be a valid tuple", "phải là một danh sách"),
    ("Input should be {choices:l}", "phải là {choices}"),
    ("String should match pattern {pattern}", "văn bản phải khớp mẫu {pattern}"),
    ("String should have at least {n:n} character", "văn bản phải có ít nhất {n} ký tự"),
    ("String should have at least {n:n} characters", "văn bản phải có ít nhất {n} ký tự"),
    ("String should have at most {n:n} characters", "văn bản chỉ được có tối đa {n} ký tự"),
    ("Value error, {why:m}", "lỗi giá trị, {why}"),
    # ------------------------------------------------------------------ scenario checks
    (
        "{what} {v:n} is not a multiple of precision {p:n}",
        "{what} {v} không phải là bội số của độ chính xác {p}",
    ),
    (
        "if the dot separates thousands ({v} meaning {w:n}), write numbers without thousands separators, "
        "with '.' for decimals",
        "nếu dấu chấm dùng để tách hàng nghìn ({v} nghĩa là {w}), hãy viết số không có dấu tách hàng nghìn, dùng "
        "'.' cho phần thập phân",
    ),
    (
        "{what} is too large: it must stay below 2^62 units of precision {p:n} (use a larger precision or unit)",
        "{what} quá lớn: phải nhỏ hơn 2^62 đơn vị độ chính xác {p} (hãy dùng độ chính xác hoặc đơn vị lớn hơn)",
    ),
    (
        "{what} is too large: it must stay below 2^62 units of precision",
        "{what} quá lớn: phải nhỏ hơn 2^62 đơn vị độ chính xác",
    ),
    (
        "a line can be only one of frozen, give_only, receive_only; this one is {flags:l}",
        "một dòng chỉ được đặt một trong frozen, give_only, receive_only; dòng này đặt {flags}",
    ),
    ("floor {v:n} is below disbursed {w:n}", "floor {v} thấp hơn số đã giải ngân {w}"),
    ("floor {v:n} exceeds allocated {w:n}", "floor {v} vượt vốn giao {w}"),
    ("ceiling {v:n} is below allocated {w:n}", "ceiling {v} thấp hơn vốn giao {w}"),
    ("capacity {v:n} is below disbursed {w:n}", "capacity {v} thấp hơn số đã giải ngân {w}"),
    ("disbursed {v:n} exceeds allocated {w:n}", "disbursed {v} vượt vốn giao {w}"),
    (
        "duplicate line {key}: same (locality, program, fund, component) as {other}",
        "dòng vốn {key} bị trùng: cùng (locality, program, fund, component) với {other}",
    ),
    ("duplicate line {key}: same keys as {other}", "dòng vốn {key} bị trùng: cùng khóa với {other}"),
    ("line {key}: {why:m}", "dòng vốn {key}: {why}"),
    ("duplicate locality id {id} (also {other})", "mã địa phương {id} bị trùng (đã có ở {other})"),
    ("locality {id} is not listed in localities", "địa phương {id} không có trong localities"),
    ("pool_by names {attr} twice", "pool_by nêu {attr} hai lần"),
    ("target for {sel:s} matches no line", "mục tiêu cho {sel} không khớp dòng vốn nào"),
    ("a second target for {sel:s} (also {other})", "mục tiêu thứ hai cho {sel} (đã có ở {other})"),
    (
        "move_costs.{attr} can never apply: pool_by keeps {attr2} the same in every move",
        "move_costs.{attr} không bao giờ áp dụng: pool_by giữ nguyên {attr2} trong mọi lần điều chuyển",
    ),
    (
        "{end} locality {id} is not a locality of this scenario",
        "địa phương {id} ở cột {end} không thuộc kịch bản này",
    ),
    ("duplicate cost for {a} -> {b} (also {other})", "chi phí cho {a} -> {b} bị trùng (đã có ở {other})"),
    ("give exactly one of 'amount' or 'share'", "ghi đúng một trong 'amount' hoặc 'share'"),
    (
        "name each of move_costs, fair_shares, transfer_costs exactly once ({why:m})",
        "nêu mỗi mục move_costs, fair_shares, transfer_costs đúng một lần ({why})",
    ),
    ("missing {names:l}", "thiếu {names}"),
    ("named twice: {names:l}", "nêu hai lần: {names}"),
    ("at least one line is required", "cần ít nhất một dòng vốn"),
    (
        "at least one line is required: the sheet has no rows below its header",
        "cần ít nhất một dòng vốn: trang tính không có dòng nào dưới tiêu đề",
    ),
    ("the id is {n:n} characters long; at most {m:n} are allowed", "mã dài {n} ký tự; tối đa {m} ký tự"),
    ("the text is {n:n} characters long; at most {m:n} are allowed", "văn bản dài {n} ký tự; tối đa {m} ký tự"),
    ("the id holds {what:m} at position {n:n}", "mã chứa {what} ở vị trí {n}"),
    ("the text holds {what:m} at position {n:n}", "văn bản chứa {what} ở vị trí {n}"),
    ("a control character ({code})", "một ký tự điều khiển ({code})"),
    ("a lone surrogate ({code})", "một ký tự surrogate đơn lẻ ({code})"),
    ("{what:m} (index label {label})", "{what} (nhãn chỉ mục {label})"),
    ("expected a number", "cần một số"),
    ("expected text", "cần văn bản"),
    # ------------------------------------------------------------------ JSON
    ("not valid JSON: {why:m}", "không phải JSON hợp lệ: {why}"),
    ("{why:m}: line {a:n} column {b:n} (char {c:n})", "{why}: dòng {a} cột {b} (ký tự {c})"),
    ("Expecting value", "cần một giá trị"),
    ("Expecting {sep} delimiter", "cần dấu phân cách {sep}"),
    ("Expecting property name enclosed in double quotes", "cần tên thuộc tính trong dấu ngoặc kép"),
    ("Invalid control character at", "ký tự điều khiển không hợp lệ tại"),
    ("Unterminated string starting at", "chuỗi chưa được đóng, bắt đầu tại"),
    ("Extra data", "dữ liệu thừa"),
    ("Invalid \\escape", "chuỗi thoát \\ không hợp lệ"),
    ("nested deeper than {n:n} levels", "lồng sâu hơn {n} cấp"),
    ("not UTF-8 text ({why:m} at byte {n:n})", "không phải văn bản UTF-8 ({why} tại byte {n})"),
    ("invalid start byte", "byte bắt đầu không hợp lệ"),
    ("invalid continuation byte", "byte tiếp nối không hợp lệ"),
    ("unexpected end of data", "dữ liệu kết thúc bất ngờ"),
    # ------------------------------------------------------------------ tables and frames
    (
        "expected a pandas DataFrame (or a list of row dicts), got {kind}",
        "cần một pandas DataFrame (hoặc danh sách các dict theo dòng), nhận được {kind}",
    ),
    ("{table} table is missing column {cols:l}", "bảng {table} thiếu cột {cols}"),
    ("{table} table is missing columns {cols:l}", "bảng {table} thiếu các cột {cols}"),
    ("{name} (is {near} it, misspelt?)", "{name} (có phải {near} bị viết sai?)"),
    (
        "{table} table has column {cols:l}; to keep one as a tag, name it {prefix} + its name",
        "bảng {table} có cột {cols}; để giữ làm thuộc tính, đặt tên {prefix} + tên cột",
    ),
    (
        "{table} table has columns {cols:l}; to keep one as a tag, name it {prefix} + its name",
        "bảng {table} có các cột {cols}; để giữ làm thuộc tính, đặt tên {prefix} + tên cột",
    ),
    ("{table} table has unknown column {cols:l}", "bảng {table} có cột không xác định {cols}"),
    ("{table} table has unknown columns {cols:l}", "bảng {table} có các cột không xác định {cols}"),
    ("{what:m} (did you mean {near}?)", "{what} (có phải là {near}?)"),
    ("lines.parquet has unknown column {cols:l}", "lines.parquet có cột không xác định {cols}"),
    ("lines.parquet has unknown columns {cols:l}", "lines.parquet có các cột không xác định {cols}"),
    (
        "{name} given twice: in scenario.json and in {file}",
        "{name} được ghi hai lần: trong scenario.json và trong {file}",
    ),
    ("{file} is not a readable Parquet file ({why})", "{file} không phải tệp Parquet đọc được ({why})"),
    # ------------------------------------------------------------------ workbook and CSV cells
    ("column {col} appears twice", "cột {col} xuất hiện hai lần"),
    ("a value in column {n:n}, which has no header", "một giá trị ở cột {n}, cột này không có tiêu đề"),
    ("a value in column {n:n} which has no header", "một giá trị ở cột {n}, cột này không có tiêu đề"),
    (
        "missing column {cols:l} (the header, row {n:n}, has: {has:l})",
        "thiếu cột {cols} (dòng tiêu đề, dòng {n}, có: {has})",
    ),
    (
        "missing columns {cols:l} (the header, row {n:n}, has: {has:l})",
        "thiếu các cột {cols} (dòng tiêu đề, dòng {n}, có: {has})",
    ),
    ("unknown column {col}; the columns are {cols:l}", "cột không xác định {col}; các cột là {cols}"),
    ("a value without a {key} name", "một giá trị không có tên {key}"),
    ("unknown rule {name}; the rules are {names:l}", "quy tắc không xác định {name}; các quy tắc là {names}"),
    ("unknown rule {name}; rules are {names:l}", "quy tắc không xác định {name}; các quy tắc là {names}"),
    ("unknown setting {name}; the settings are {names:l}", "thiết lập không xác định {name}; các thiết lập là {names}"),
    ("unknown {key} {name}; the {keys} are {names:l}", "{key} không xác định {name}; các {keys} là {names}"),
    ("{name} is given twice (also {other})", "{name} được ghi hai lần (đã có ở {other})"),
    (
        "target {v}: write it as text, e.g. program=ntm; rate=100%",
        "mục tiêu {v}: hãy ghi dạng văn bản, ví dụ program=ntm; rate=100%",
    ),
    (
        "target {v}: {part} should be key=value with key one of {keys:l}",
        "mục tiêu {v}: {part} phải có dạng khóa=giá trị với khóa là một trong {keys}",
    ),
    (
        "target {v} has no rate (e.g. program=ntm; rate=100%)",
        "mục tiêu {v} không có tỷ lệ (ví dụ program=ntm; rate=100%)",
    ),
    (
        "target rate {v:p} is above 100%: write a rate as a percent (95%) or a fraction (0.95)",
        "tỷ lệ mục tiêu {v} vượt 100%: ghi tỷ lệ dạng phần trăm (95%) hoặc phân số (0.95)",
    ),
    ("{what} is required (the cell is empty)", "{what} là bắt buộc (ô đang trống)"),
    ("{what} {v} is negative", "{what} {v} là số âm"),
    ("{what} {v} is below {w:n}", "{what} {v} nhỏ hơn {w}"),
    ("{what} {v} must be above {w:n}", "{what} {v} phải lớn hơn {w}"),
    (
        "{what} {v} is above 100%: write a rate as a percent (95%) or a fraction (0.95)",
        "{what} {v} vượt 100%: ghi tỷ lệ dạng phần trăm (95%) hoặc phân số (0.95)",
    ),
    ("{what} {v} is above 100%", "{what} {v} vượt 100%"),
    ("{what} {v} is above {w:n}", "{what} {v} lớn hơn {w}"),
    ("{what} is blank", "{what} đang trống"),
    ("{what} {v} should be {choices:l}", "{what} {v} phải là {choices}"),
    ("{what} {v} is not a whole number", "{what} {v} không phải số nguyên"),
    ("{what} is not a finite number", "{what} không phải một số hữu hạn"),
    (
        "{what} is a date or time ({v}); format the cell as a number",
        "{what} là ngày hoặc giờ ({v}); hãy định dạng ô là số",
    ),
    ("{what} is the Excel error {v}", "{what} là lỗi Excel {v}"),
    (
        "{what} {v}: write numbers without thousands separators, with '.' for decimals",
        "{what} {v}: hãy viết số không có dấu tách hàng nghìn, dùng '.' cho phần thập phân",
    ),
    (
        "{what} {v} is not a percent (e.g. 95%) or a fraction (e.g. 0.95)",
        "{what} {v} không phải phần trăm (ví dụ 95%) hoặc phân số (ví dụ 0.95)",
    ),
    ("{what} {v} is not TRUE or FALSE", "{what} {v} không phải TRUE hoặc FALSE"),
    ("{what} {v} is not a number", "{what} {v} không phải là số"),
    (
        "{col} is a formula ({v}) whose result was never saved: open the workbook in Excel or LibreOffice, save it, "
        "and read it again",
        "{col} là công thức ({v}) chưa được lưu kết quả: mở sổ tính bằng Excel hoặc LibreOffice, lưu lại rồi đọc lại",
    ),
    (
        "no lines table: add a sheet (or lines.csv) with one row per allocation line",
        "không có bảng lines: hãy thêm một trang tính (hoặc lines.csv) với mỗi dòng vốn một hàng",
    ),
    (
        "{where}: not UTF-8 text; save it as 'CSV UTF-8 (comma delimited)' so Vietnamese letters survive",
        "{where}: không phải văn bản UTF-8; hãy lưu dạng 'CSV UTF-8 (comma delimited)' để giữ chữ tiếng Việt",
    ),
    (
        "not UTF-8 text; save it as 'CSV UTF-8 (comma delimited)' so Vietnamese letters survive",
        "không phải văn bản UTF-8; hãy lưu dạng 'CSV UTF-8 (comma delimited)' để giữ chữ tiếng Việt",
    ),
    ("a field is longer than {n:n} characters", "một ô dài hơn {n} ký tự"),
    (
        "entry {name} uses a compression Excel never writes (method {n:n})",
        "mục {name} dùng kiểu nén Excel không bao giờ dùng (phương thức {n})",
    ),
    (
        "entry {name} would expand {n:n} times (at most {m:n} allowed): not a normal workbook",
        "mục {name} sẽ giãn ra {n} lần (tối đa {m} lần): không phải sổ tính bình thường",
    ),
    (
        "the workbook expands to {n:n} MiB; at most {m:n} MiB are read (reallocate.limits)",
        "sổ tính giãn ra {n} MiB; chỉ đọc tối đa {m} MiB (reallocate.limits)",
    ),
    ("sheet {name} has more than {n:n} rows (reallocate.limits)", "trang {name} có hơn {n} dòng (reallocate.limits)"),
    ("sheet {name} has more than {n:n} cells (reallocate.limits)", "trang {name} có hơn {n} ô (reallocate.limits)"),
    ("not an Excel .xlsx workbook ({why})", "không phải sổ tính Excel .xlsx ({why})"),
    ("File is not a zip file", "tệp không phải tệp zip"),
    ("two sheets are named {key}: {a} and {b}", "hai trang tính cùng tên {key}: {a} và {b}"),
    (
        "not a scenario file; expected .json, .xlsx, .parquet or a folder (save old .xls workbooks as .xlsx)",
        "không phải tệp kịch bản; cần .json, .xlsx, .parquet hoặc một thư mục (lưu sổ tính .xls cũ thành .xlsx)",
    ),
    (
        "not a scenario file; expected .json, .xlsx, .parquet or a folder",
        "không phải tệp kịch bản; cần .json, .xlsx, .parquet hoặc một thư mục",
    ),
    # ------------------------------------------------------------------ what-ifs and plans read back
    ("{sel:s} matches no line", "{sel} không khớp dòng vốn nào"),
    ("{sel:s} matches no locality", "{sel} không khớp địa phương nào"),
    ("{field} cannot be removed, only floor and ceiling", "không được bỏ {field}, chỉ bỏ được floor và ceiling"),
    ("'kind' must be one of {kinds:l}", "'kind' phải là một trong {kinds}"),
    ("give a list of changes", "hãy đưa một danh sách thay đổi"),
    ("not a plan: missing {names:l}", "không phải phương án: thiếu {names}"),
    ("expected one of {names:l}", "cần một trong {names}"),
    ("expected the position of a line (0 to {n:n})", "cần vị trí của một dòng vốn (0 đến {n})"),
    ("expected a number of at most {n:n} digits", "cần một số có tối đa {n} chữ số"),
    ("{end} {key} is not a line of the plan", "{end} {key} không phải dòng vốn của phương án"),
    ("a transfer moves a positive amount", "mỗi lần điều chuyển phải có số tiền dương"),
    (
        "unknown plan version (this reallocate reads version {n:n})",
        "phiên bản phương án không xác định (reallocate này đọc phiên bản {n})",
    ),
    ("compare needs at least two plans; got {n:n}", "cần ít nhất hai phương án để so sánh; nhận được {n}"),
    ("got {n:n} names for {m:n} plans", "có {n} tên cho {m} phương án"),
    (
        "plan names must be distinct and not blank; got {names}",
        "tên phương án phải khác nhau và không trống; nhận được {names}",
    ),
    (
        "plans have different units ({units:l}): their amounts do not compare",
        "các phương án có đơn vị khác nhau ({units}): không so sánh được số tiền",
    ),
    # ------------------------------------------------------------------ sweeps
    ("invalid variants", "danh sách phương án không hợp lệ"),
    ("an axis value is a text, a number or true/false", "giá trị của trục là chữ, số hoặc true/false"),
    ("an axis name may not be blank nor a result column", "tên trục không được trống hoặc trùng cột kết quả"),
    ("an axis is an object of values and their changes", "trục là một đối tượng gồm các giá trị và thay đổi của chúng"),
    ("give changes per value, or one template", "hãy đưa thay đổi cho từng giá trị, hoặc một mẫu chung"),
    ("the template never uses {v}", "mẫu thay đổi không dùng {v}"),
    ("give a list of values and a template of changes", "hãy đưa danh sách giá trị và một mẫu thay đổi"),
    ("an axis needs at least one value", "mỗi trục cần ít nhất một giá trị"),
    ("the axis has this value twice", "giá trị này xuất hiện hai lần trên trục"),
    ("a grid needs at least one axis", "lưới cần ít nhất một trục"),
    ("give a whole number of samples, at least 1", "hãy đưa số mẫu là số nguyên, ít nhất bằng 1"),
    (
        "unknown field: a variant has name, changes and axes",
        "trường không xác định: phương án gồm name, changes và axes",
    ),
    ("a name is a text that is not blank", "tên phải là chữ và không được trống"),
    ("axes are an object of axis name and value", "axes là một đối tượng gồm tên trục và giá trị"),
    ("an axis may not take a result column's name", "trục không được trùng tên với cột kết quả"),
    (
        "give a list of variants, a grid or capacity samples",
        "hãy đưa danh sách phương án, một lưới hoặc các mẫu khả năng giải ngân",
    ),
    ("a sweep needs at least one variant", "cần ít nhất một phương án để chạy hàng loạt"),
    ("a variants file holds either grid or variants", "tệp phương án chỉ chứa grid hoặc variants"),
    ("a grid is an object of axes", "lưới là một đối tượng gồm các trục"),
    ("the file is not UTF-8 text", "tệp không phải văn bản UTF-8"),
    ("the row has more cells than the header", "dòng có nhiều ô hơn dòng tiêu đề"),
    ("a change needs its kind", "mỗi thay đổi cần có kind"),
    ("--out must name a .parquet file; got {v}", "--out phải là tệp .parquet; nhận được {v}"),
    (
        "{path} holds an unfinished sweep: add --resume to finish it, or --force to start over",
        "{path} chứa một lần chạy hàng loạt chưa xong: thêm --resume để chạy tiếp, hoặc --force để chạy lại từ đầu",
    ),
    (
        "{path} holds a different sweep (another baseline, variants or settings): use another --out, "
        "or --force to start over",
        "{path} chứa một lần chạy hàng loạt khác (kịch bản gốc, phương án hoặc thiết lập khác): hãy dùng --out "
        "khác, hoặc --force để chạy lại từ đầu",
    ),
    (
        "{path} holds files that are not a sweep's, so it is not replaced",
        "{path} chứa các tệp không thuộc lần chạy hàng loạt, nên không bị ghi đè",
    ),
    (
        "keep_plans needs out (the plans are written as Parquet beside it)",
        "keep_plans cần out (các phương án được ghi thành Parquet bên cạnh)",
    ),
    ("{name} must be a whole number of at least 1; got {v}", "{name} phải là số nguyên ít nhất bằng 1; nhận được {v}"),
    ("metric must be one of {names:l}; got {v}", "metric phải là một trong {names}; nhận được {v}"),
    ("solver must be one of {names:l}; got {v}", "solver phải là một trong {names}; nhận được {v}"),
    (
        "samples and seed are for a CapacityForecast given as variants",
        "samples và seed chỉ dùng khi variants là một CapacityForecast",
    ),
    (
        "the sweep has no axes (a grid's, or the axes given with each variant)",
        "lần chạy hàng loạt không có trục (của lưới, hoặc trục ghi kèm từng phương án)",
    ),
    (
        "no plans were kept: sweep with keep_plans=True and out=...",
        "không giữ phương án nào: hãy chạy với keep_plans=True và out=...",
    ),
    ("--tornado needs axes: a grid, or variants with axes", "--tornado cần các trục: một lưới, hoặc phương án có trục"),
    (
        "--scheduler needs Dask: pip install 'reallocate[cluster]'",
        "--scheduler cần Dask: pip install 'reallocate[cluster]'",
    ),
    ("cannot reach the Dask scheduler at {addr}: {why}", "không kết nối được bộ điều phối Dask tại {addr}: {why}"),
    ("resumed: {n:n} of {m:n} chunks were already done", "chạy tiếp: {n} trên {m} phần đã xong từ trước"),
    ("wrote {n:n} results to {path}", "đã ghi {n} kết quả vào {path}"),
    (
        "interrupted: finished chunks are kept in {path}; add --resume to finish",
        "bị ngắt: các phần đã xong được giữ trong {path}; thêm --resume để chạy tiếp",
    ),
    ("wrote the tornado chart to {path}", "đã ghi biểu đồ lốc xoáy vào {path}"),
    (
        "{path} is the results file too: write the chart elsewhere",
        "{path} cũng là tệp kết quả: hãy ghi biểu đồ ra chỗ khác",
    ),
    ("no variant has a plan: there is no tornado chart", "không phương án nào có kết quả: không có biểu đồ lốc xoáy"),
    ("must be at least 1: {v}", "phải ít nhất bằng 1: {v}"),
    # ------------------------------------------------------------------ the command line
    ("{title:m}: {n:n} problem", "{title}: {n} lỗi"),
    ("{title:m}: {n:n} problems", "{title}: {n} lỗi"),
    ("invalid scenario", "kịch bản không hợp lệ"),
    ("invalid changes", "danh sách thay đổi không hợp lệ"),
    ("invalid plan", "phương án không hợp lệ"),
    ("changes cannot be applied", "không áp dụng được các thay đổi"),
    ("changes make an invalid scenario", "các thay đổi tạo ra kịch bản không hợp lệ"),
    ("{what:m} (got {v})", "{what} (nhận được {v})"),
    (
        "{path} is an input of this run: write the output somewhere else",
        "{path} là đầu vào của lần chạy này: hãy ghi kết quả ra chỗ khác",
    ),
    ("{path} already exists: add --force to replace it", "{path} đã tồn tại: thêm --force để ghi đè"),
    ("--format {fmt} needs --out (a folder)", "--format {fmt} cần --out (một thư mục)"),
    ("--format {fmt} needs --out (a file)", "--format {fmt} cần --out (một tệp)"),
    ("wrote an empty template to {path}", "đã ghi mẫu trống vào {path}"),
    ("wrote {n:n} charts to {path}", "đã ghi {n} biểu đồ vào {path}"),
    ("wrote the plan to {path}", "đã ghi phương án vào {path}"),
    ("wrote the comparison to {path}", "đã ghi bản so sánh vào {path}"),
    ("wrote {what} to {path}", "đã ghi {what} vào {path}"),
    ("no plan ({status}): {why:m}", "không có phương án ({status}): {why}"),
    ("cannot read or write {path}: {why:m}", "không đọc hoặc ghi được {path}: {why}"),
    ("No such file or directory", "không có tệp hoặc thư mục này"),
    ("Permission denied", "không có quyền truy cập"),
    ("Is a directory", "là một thư mục"),
    ("Not a directory", "không phải thư mục"),
    ("No space left on device", "hết dung lượng trên thiết bị"),
    (
        "interrupted before the output was complete (a file named by --out is left as it was)",
        "bị ngắt trước khi ghi xong kết quả (tệp ở --out được giữ nguyên như cũ)",
    ),
    (
        "internal error ({why}); rerun with REALLOCATE_DEBUG=1 and report it",
        "lỗi nội bộ ({why}); chạy lại với REALLOCATE_DEBUG=1 và báo lỗi",
    ),
    ("the following arguments are required: {names:l}", "thiếu các đối số bắt buộc: {names}"),
    (
        "argument {arg}: invalid choice: {v} (choose from {names:l})",
        "đối số {arg}: lựa chọn không hợp lệ {v} (chọn một trong {names})",
    ),
    ("argument {arg}: invalid {kind} value: {v}", "đối số {arg}: giá trị {kind} không hợp lệ: {v}"),
    ("argument {arg}: expected one argument", "đối số {arg}: cần một giá trị"),
    ("unrecognized arguments: {v}", "đối số không nhận ra: {v}"),
    ("argument {arg}: {why:m}", "đối số {arg}: {why}"),
    ("not a number of seconds: {v}", "không phải số giây: {v}"),
    ("must be a positive number of seconds: {v}", "phải là số giây dương: {v}"),
    (
        "environment variable {name} must be a whole number; got {v}",
        "biến môi trường {name} phải là số nguyên; nhận được {v}",
    ),
    (
        "limit {name} must be a whole number of at least 1; got {v}",
        "giới hạn {name} phải là số nguyên ít nhất bằng 1; nhận được {v}",
    ),
    ("lang must be one of {names:l}; got {v}", "lang phải là một trong {names}; nhận được {v}"),
)

_NUMBER = r"[-+]?(?:\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?|\.\d+)"
#: what a field of each kind matches (any other kind: any text, as little as needed)
#: a text field never spans "; " (parts of a longer message); a message field may
_PATTERN = {"n": _NUMBER, "p": r"[-+]?\d+(?:\.\d+)?%", "l": r"[^;]+?", "": r"[^;]+?", "m": r".+?"}
_FIELD = re.compile(r"\{(\w+)(?::([nmlpsu]))?\}")


def _vi_number(text: str) -> str:
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


_LIST_WORDS = ((" and ", " và "), (" or ", " hoặc "), ("nothing", "không có"))


def _vi_list(text: str) -> str:
    text = re.sub(r" and (\d+) more\b", r" và \1 mục khác", text)
    for en, vi in _LIST_WORDS:
        text = text.replace(en, vi)
    return _vi_selector(text)


def _vi_selector(text: str) -> str:
    return text.replace("all lines", "tất cả các dòng").replace("all localities", "tất cả các địa phương")


_CONVERT: dict[str, Callable[[str], str]] = {
    "": lambda s: s,
    "n": _vi_number,
    "p": lambda s: s.replace(".", ","),
    "l": _vi_list,
    "s": _vi_selector,
    "u": lambda s: unit_text(s, "vi"),
}


class _Sentence:
    def __init__(self, en: str, vi: str) -> None:
        self.en = en
        self.vi = _FIELD.sub(lambda f: "{" + f.group(1) + "}", vi)  # kinds are given on the English side
        parts, kinds, pos = [], {}, 0
        for m in _FIELD.finditer(en):
            parts.append(re.escape(en[pos : m.start()]))
            name, kind = m.group(1), m.group(2) or ""
            kinds[name] = kind
            parts.append(f"(?P<{name}>{_PATTERN.get(kind, '[^;]+?')})")
            pos = m.end()
        parts.append(re.escape(en[pos:]))
        self.regex = re.compile("".join(parts), re.DOTALL)
        self.kinds = kinds
        #: the literal start of the sentence, for a quick first test
        first = _FIELD.search(en)
        self.prefix = en[: first.start()] if first is not None else en

    def render(self, match: re.Match[str]) -> str:
        values = {}
        for name, kind in self.kinds.items():
            value = match.group(name)
            values[name] = _translate(value) if kind == "m" else _CONVERT[kind](value)
        return self.vi.format(**values)


_SENTENCES = [_Sentence(en, vi) for en, vi in SENTENCES]


def _candidates(text: str) -> list[_Sentence]:
    return [s for s in _SENTENCES if text.startswith(s.prefix)]


@lru_cache(maxsize=65_536)
def _translate(text: str) -> str:
    if "\n" in text:
        return "\n".join(_translate(part) for part in text.split("\n"))
    stripped = text.strip()
    if stripped != text:
        start = text.index(stripped[0]) if stripped else len(text)
        return text[:start] + _translate(stripped) + text[start + len(stripped) :]
    if not text:
        return text
    if ", " in text and all(_known(part) for part in text.split(", ")):
        # a list of known items (what blocks a lapse): each in turn, so that no item's free field
        # takes the rest of the list
        return ", ".join(_translate(part) for part in text.split(", "))
    for sentence in _candidates(text):
        m = sentence.regex.fullmatch(text)
        if m is not None:
            return sentence.render(m)
    if "; " in text:
        return "; ".join(_translate(part) for part in text.split("; "))
    if ", " in text and all(_known(part) for part in text.split(", ")):
        return ", ".join(_translate(part) for part in text.split(", "))
    return text


def _known(text: str) -> bool:
    return any(s.regex.fullmatch(text) for s in _candidates(text))


def translate(text: str, lang: str = "en") -> str:
    """``text`` (a message the library wrote in English) in ``lang``: matched against the
    catalogue's sentences, its values kept (numbers in the language's format). A message the
    catalogue does not hold is returned as it is."""
    if check_lang(lang) == "en" or not text:
        return text
    return _translate(text)


def untranslated(text: str) -> list[str]:
    """The parts of ``text`` that no sentence of the catalogue matches (for tests)."""
    out: list[str] = []

    def walk(part: str) -> None:
        part = part.strip()
        if not part:
            return
        for sentence in _candidates(part):
            m = sentence.regex.fullmatch(part)
            if m is not None:
                for name, kind in sentence.kinds.items():
                    if kind == "m":
                        walk(m.group(name))
                return
        if "; " in part:
            for p in part.split("; "):
                walk(p)
            return
        if ", " in part and all(_known(p) for p in part.split(", ")):
            return
        out.append(part)

    for line in text.split("\n"):
        walk(line)
    return out
