"""Labels for people, in English or Vietnamese (``lang="en" | "vi"``).

Every table, chart, workbook and report that people read takes its column names, titles and
number formats from here, so a planner can work in Vietnamese end to end.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

__all__ = ["LANGS", "Lang", "amount_text", "check_lang", "label", "percent_text"]

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
