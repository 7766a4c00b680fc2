"""What the spreadsheet tables are: their columns, rules and settings, and the header labels
and notes in English and Vietnamese."""

from __future__ import annotations

import re

from ..labels import phrase
from ..scenario import AMOUNT_FIELDS, LINE_FLAGS, LINE_KEYS

#: Columns of the ``lines`` table, in template order; the first five of :data:`LINE_REQUIRED` must exist.
LINE_COLUMNS: tuple[str, ...] = (*LINE_KEYS, *AMOUNT_FIELDS, *LINE_FLAGS)
LINE_REQUIRED: tuple[str, ...] = ("locality", "program", "fund", "allocated", "capacity")
FLAGS: tuple[str, ...] = LINE_FLAGS
_LINE_AMOUNTS: tuple[str, ...] = ("allocated", "disbursed", "capacity", "floor", "ceiling")
#: Columns of the ``localities`` table; any other column becomes a tag.
LOCALITY_COLUMNS: tuple[str, ...] = ("id", "name", "weight", "max_loss", "max_gain")
TRANSFER_COST_COLUMNS: tuple[str, ...] = ("from", "to", "cost")
_MOVE_COSTS: tuple[str, ...] = tuple(f"move_costs.{a}" for a in LINE_KEYS)
#: Rule names of the ``rules`` table (``target`` may repeat: one row per target).
RULES: tuple[str, ...] = (
    "pool_by",
    "recipients",
    "donors",
    "min_transfer",
    *_MOVE_COSTS,
    "order",
    "max_loss",
    "max_gain",
    "max_transfers_per_line",
    "target_rate",
    "target",
)
#: Settings of the ``scenario`` table.
SETTINGS: tuple[str, ...] = ("name", "unit", "precision")
#: Values offered in drop-downs (free text is still allowed).
KNOWN_FUNDS: tuple[str, ...] = ("investment", "recurrent")
KNOWN_PROGRAMS: tuple[str, ...] = ("ntm", "gnbv", "dtts")

_TABLES: tuple[str, ...] = ("scenario", "lines", "localities", "transfer_costs", "rules")
_KNOWN_COLUMNS: dict[str, tuple[str, ...]] = {
    "scenario": ("setting", "value"),
    "lines": LINE_COLUMNS,
    "localities": LOCALITY_COLUMNS,
    "transfer_costs": TRANSFER_COST_COLUMNS,
    "rules": ("rule", "value"),
}
_TARGET_KEYS: tuple[str, ...] = (*LINE_KEYS, "rate")
#: Excel keeps 15 significant digits of a number.
EXCEL_DIGITS = 15
_EXACT_INT = 2**53  # every whole number below this is exact in a double
_TRUE = {"true", "yes", "y", "x", "1", "có", "co", "đúng", "dung"}
_FALSE = {"false", "no", "n", "0", "không", "khong", "sai"}
_EXCEL_ERRORS = {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA"}
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}([,. ]\d{3})+([.,]\d+)?")
_CANONICAL_INT = re.compile(r"-?(0|[1-9]\d*)")
_REFERENCE = re.compile(r"\b(lines|localities|transfer_costs)\[(\d+)\]|\brules\.targets\[(\d+)\]")

# ------------------------------------------------------------------------------------- labels


def _label(key: str, lang: str) -> str:
    return phrase("files", key, lang)


def _pair(en: str, vi: str, lang: str) -> str:
    return vi if lang == "vi" else en


# What each column, rule and setting means (cell comments, notes, the guide sheet).
_HELP: dict[str, tuple[str, str]] = {
    "lines.locality": (
        "Required. Locality id (district, commune...). When the localities sheet has rows, the id must be "
        "listed there.",
        "Bắt buộc. Mã địa phương (huyện, xã...). Nếu trang localities có dữ liệu, mã phải có trong đó.",
    ),
    "lines.program": (
        "Required. Program id, e.g. ntm (new rural areas), gnbv (sustainable poverty reduction), dtts (ethnic "
        "minority and mountainous areas). Other ids are allowed.",
        "Bắt buộc. Mã chương trình, ví dụ ntm (nông thôn mới), gnbv (giảm nghèo bền vững), dtts (vùng đồng bào "
        "DTTS và miền núi). Có thể dùng mã khác.",
    ),
    "lines.fund": (
        "Required. investment or recurrent (other names are allowed). Money never moves between funds unless "
        "the rules say so.",
        "Bắt buộc. investment (đầu tư phát triển) hoặc recurrent (sự nghiệp); có thể dùng tên khác. Vốn không "
        "chuyển giữa hai nguồn trừ khi quy tắc cho phép.",
    ),
    "lines.component": (
        "Optional sub-line (project, component). Empty: none.",
        "Hợp phần/dự án (không bắt buộc). Để trống nếu không có.",
    ),
    "lines.allocated": (
        "Required. The line's current plan amount, in the scenario unit.",
        "Bắt buộc. Vốn đã giao cho dòng này, theo đơn vị của kịch bản.",
    ),
    "lines.disbursed": (
        "Already paid out; never moves. Empty: 0.",
        "Đã giải ngân; không điều chuyển. Để trống: 0.",
    ),
    "lines.capacity": (
        "Required. What the line can disburse by the deadline if it holds the funds.",
        "Bắt buộc. Số vốn dòng này có thể giải ngân trước hạn nếu được giao đủ.",
    ),
    "lines.floor": (
        "Least the line must keep (signed contracts). Empty: what is disbursed.",
        "Mức phải giữ lại tối thiểu (hợp đồng đã ký). Để trống: bằng số đã giải ngân.",
    ),
    "lines.ceiling": (
        "Most the line may hold after the moves. Empty: no limit.",
        "Mức tối đa dòng này được giữ sau điều chuyển. Để trống: không giới hạn.",
    ),
    "lines.frozen": ("TRUE: neither gives nor receives.", "TRUE: không cho đi, không nhận thêm."),
    "lines.give_only": (
        "TRUE: may give its surplus, never receives.",
        "TRUE: chỉ cho đi vốn dư, không nhận thêm.",
    ),
    "lines.receive_only": ("TRUE: may receive up to its room, never gives.", "TRUE: chỉ nhận thêm, không cho đi."),
    "localities.id": (
        "Required. Locality id, as used in lines and transfer_costs.",
        "Bắt buộc. Mã địa phương, như trong lines và transfer_costs.",
    ),
    "localities.name": ("Display name, e.g. Nam Trà My.", "Tên hiển thị, ví dụ Nam Trà My."),
    "localities.weight": (
        "Priority weight (default 1): with priority rules, a higher weight receives first and gives last.",
        "Trọng số ưu tiên (mặc định 1): với quy tắc priority, trọng số cao được nhận trước và cho đi sau cùng.",
    ),
    "localities.max_loss": (
        "Most this locality may lose, net over its lines: an amount (500) or a percent of its allocation "
        "(30%). Overrides the rule.",
        "Mức giảm ròng tối đa của địa phương: số tiền (500) hoặc tỷ lệ trên vốn giao (30%). Thay cho quy tắc chung.",
    ),
    "localities.max_gain": (
        "Most this locality may gain, net over its lines: an amount (500) or a percent of its allocation "
        "(30%). Overrides the rule.",
        "Mức tăng ròng tối đa của địa phương: số tiền (500) hoặc tỷ lệ trên vốn giao (30%). Thay cho quy tắc chung.",
    ),
    "localities.tags": (
        "Any other column is a tag of the locality (e.g. mountainous).",
        "Các cột khác là thuộc tính của địa phương (ví dụ mountainous).",
    ),
    "transfer_costs.from": ("Locality id the money leaves.", "Mã địa phương chuyển vốn đi."),
    "transfer_costs.to": ("Locality id the money goes to.", "Mã địa phương nhận vốn."),
    "transfer_costs.cost": (
        "Cost per unit moved between the two (pairs not listed cost 0).",
        "Chi phí trên mỗi đơn vị vốn chuyển giữa hai địa phương (cặp không liệt kê: 0).",
    ),
    "rules.rule": ("Rule name (see the rows below).", "Tên quy tắc (xem các dòng bên dưới)."),
    "rules.value": ("Its value; empty: the default.", "Giá trị; để trống: mặc định."),
    "rules.note": ("What the rule means (not read).", "Ý nghĩa quy tắc (không được đọc)."),
    "rules.pool_by": (
        "Money moves only between lines equal on these attributes, comma-separated (locality, program, fund, "
        "component). Default: program, fund. none: one pool.",
        "Vốn chỉ chuyển giữa các dòng giống nhau ở các thuộc tính này, cách nhau bằng dấu phẩy (locality, "
        "program, fund, component). Mặc định: program, fund. none: một nhóm chung.",
    ),
    "rules.recipients": (
        "When room exceeds surplus: proportional (same share of room, default) or priority (highest weight first).",
        "Khi dư địa nhiều hơn vốn dư: proportional (cùng tỷ lệ dư địa, mặc định) hoặc priority (trọng số cao trước).",
    ),
    "rules.donors": (
        "When surplus exceeds room: proportional (same share of surplus, default) or priority (lowest weight "
        "gives first).",
        "Khi vốn dư nhiều hơn dư địa: proportional (cùng tỷ lệ vốn dư, mặc định) hoặc priority (trọng số thấp "
        "cho trước).",
    ),
    "rules.min_transfer": (
        "Every transfer is 0 or at least this amount (default 0).",
        "Mỗi lần điều chuyển bằng 0 hoặc ít nhất số tiền này (mặc định 0).",
    ),
    "rules.move_costs": (
        "Cost per unit moved when a move changes the {attr}; empty: 0.",
        "Chi phí trên mỗi đơn vị khi điều chuyển làm thay đổi {attr}; để trống: 0.",
    ),
    "rules.order": (
        "The order of the goals after absorbing the most, comma-separated, each once. Default: move_costs, "
        "fair_shares, transfer_costs (a move needing a higher approval only when nothing lower can absorb the money).",
        "Thứ tự các mục tiêu sau mục tiêu hấp thụ nhiều vốn nhất, cách nhau bằng dấu phẩy, mỗi mục một lần. Mặc định: "
        "move_costs, fair_shares, transfer_costs (chỉ điều chuyển cần cấp phê duyệt cao hơn khi cấp thấp hơn không "
        "hấp thụ được số vốn đó).",
    ),
    "rules.max_loss": (
        "Most any locality may lose, net: an amount (500) or a percent of its allocation (30%). Empty: no limit.",
        "Mức giảm ròng tối đa của mọi địa phương: số tiền (500) hoặc tỷ lệ trên vốn giao (30%). Để trống: không "
        "giới hạn.",
    ),
    "rules.max_gain": (
        "Most any locality may gain, net: an amount (500) or a percent of its allocation (30%). Empty: no limit.",
        "Mức tăng ròng tối đa của mọi địa phương: số tiền (500) hoặc tỷ lệ trên vốn giao (30%). Để trống: không "
        "giới hạn.",
    ),
    "rules.max_transfers_per_line": (
        "Each line takes part in at most this many transfers (a whole number, at least 1). Empty: no limit.",
        "Mỗi dòng tham gia tối đa bấy nhiêu lần điều chuyển (số nguyên, ít nhất 1). Để trống: không giới hạn.",
    ),
    "rules.target_rate": (
        "Expected disbursement of all lines must reach this rate, e.g. 100%. Empty: none.",
        "Tỷ lệ giải ngân dự kiến của toàn bộ các dòng phải đạt mức này, ví dụ 100%. Để trống: không có.",
    ),
    "rules.target": (
        "A rate for the lines that match, e.g. program=ntm; rate=100% (also locality=, fund=, component=). One "
        "row per target.",
        "Tỷ lệ cho các dòng phù hợp, ví dụ program=ntm; rate=100% (có thể thêm locality=, fund=, component=). "
        "Mỗi mục tiêu một dòng.",
    ),
    "scenario.setting": ("Setting name.", "Tên thiết lập."),
    "scenario.value": ("Its value.", "Giá trị."),
    "scenario.note": ("What it means (not read).", "Ý nghĩa (không được đọc)."),
    "scenario.name": (
        "Scenario name shown in reports. Empty: the file name.",
        "Tên kịch bản trong báo cáo. Để trống: tên tệp.",
    ),
    "scenario.unit": ("Unit of every amount. Default: million VND.", "Đơn vị của mọi số tiền. Mặc định: triệu đồng."),
    "scenario.precision": (
        "Smallest amount: every amount must be a multiple of it. Default: 1.",
        "Số tiền nhỏ nhất: mọi số tiền phải là bội số của nó. Mặc định: 1.",
    ),
    "sheet.lines": ("Required: one row per allocation line.", "Bắt buộc: mỗi dòng vốn một hàng."),
    "sheet.localities": (
        "Optional: names, weights, limits and tags of localities.",
        "Không bắt buộc: tên, trọng số, giới hạn và thuộc tính của địa phương.",
    ),
    "sheet.transfer_costs": (
        "Optional: cost per unit moved between two localities.",
        "Không bắt buộc: chi phí điều chuyển giữa hai địa phương.",
    ),
    "sheet.rules": (
        "Optional: how money may move; empty values keep the defaults.",
        "Không bắt buộc: quy tắc điều chuyển; để trống là mặc định.",
    ),
    "sheet.scenario": ("Optional: name, unit and precision.", "Không bắt buộc: tên, đơn vị và độ chính xác."),
}


def _help(key: str, lang: str) -> str:
    if key.startswith("rules.move_costs."):
        en, vi = _HELP["rules.move_costs"]
        return _pair(en, vi, lang).format(attr=key.rsplit(".", 1)[1])
    en, vi = _HELP[key]
    return _pair(en, vi, lang)
