"""Spreadsheets in and out: scenarios from Excel workbooks and CSV folders, plans to Excel and CSV.

Reading (:func:`read_excel`, :func:`read_csv_folder`, :func:`read_scenario`) builds the same
:class:`~reallocate.scenario.Scenario` as the JSON contract, from tables with the same columns:

* ``lines`` (required): locality, program, fund, component, allocated, disbursed, capacity, floor,
  ceiling, frozen, give_only, receive_only;
* ``localities`` (optional): id, name, weight, max_loss, max_gain; any other column is a tag;
* ``transfer_costs`` (optional): from, to, cost;
* ``rules`` (optional): two columns ``rule`` and ``value``, one rule per row (see :data:`RULES`);
* ``scenario`` (optional): two columns ``setting`` and ``value``: name, unit, precision.

Every problem is reported, all at once, at the cell that holds it (``lines!G7: capacity -3 is
negative``; in CSV ``lines.csv:7 capacity: ...``) as a :class:`ScenarioFileError`; nothing is half
read. Amounts are read exactly: text cells digit for digit, number cells as Excel shows them (at
most 15 significant digits, Excel's own precision). See ``docs/excel.md``.

Writing (:func:`write_template`, :func:`write_scenario_excel`, :func:`write_scenario_csv`,
:func:`write_excel`, :func:`write_csv`) labels every header in English or Vietnamese
(``lang="en" | "vi"``) through :mod:`reallocate.labels`.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .errors import ScenarioError, format_location
from .labels import amount_text, check_lang, phrase
from .plan import LINE_AMOUNT_COLUMNS, Plan, records
from .scenario import AMOUNT_FIELDS, LINE_FLAGS, LINE_KEYS, Limit, Scenario, Target, load

__all__ = [
    "KNOWN_FUNDS",
    "KNOWN_PROGRAMS",
    "LINE_COLUMNS",
    "LOCALITY_COLUMNS",
    "RULES",
    "SETTINGS",
    "TRANSFER_COST_COLUMNS",
    "ScenarioFileError",
    "read_csv_folder",
    "read_excel",
    "read_scenario",
    "write_csv",
    "write_excel",
    "write_scenario_csv",
    "write_scenario_excel",
    "write_template",
]

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
    "scenario.unit": ("Unit of every amount. Default: million VND.", "Đơn vị của mọi số tiền. Mặc định: million VND."),
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


# ------------------------------------------------------------------------------------- errors
class ScenarioFileError(ScenarioError):
    """An invalid scenario file: every problem named by where it is.

    ``messages`` reads ``lines!G7: capacity -3 is negative`` (Excel) or ``lines.csv:7 capacity:
    capacity -3 is negative`` (CSV). Each entry of ``errors`` keeps pydantic's keys (``loc``, ``msg``,
    ``type``, ``input``) and adds ``cell`` (that place), ``table`` (lines, localities,
    transfer_costs, rules, scenario or None), ``row`` (sheet row or file line, or None) and
    ``column`` (column, rule or setting name, or None).
    """

    def __init__(self, errors: Sequence[dict[str, Any]], source: str) -> None:
        self.source = source
        super().__init__(errors, title="invalid scenario")

    @property
    def messages(self) -> list[str]:
        out = []
        for err in self.errors:
            where = err.get("cell") or format_location(err.get("loc", ()))
            out.append(f"{where}: {err.get('msg', 'invalid')}")
        return out


class _CellError(Exception):
    """A cell that cannot be read (the message says why)."""


# ------------------------------------------------------------------------------------- tables
@dataclass
class _Cell:
    value: Any  # None, str, int, float, bool, datetime... (CSV: str or None)
    percent: bool = False  # the Excel number format shows a percent


@dataclass
class _Row:
    number: int  # sheet row / file line
    cells: dict[str, _Cell]


@dataclass
class _Table:
    name: str
    title: str  # the sheet name or file name as found
    header_row: int
    columns: dict[str, int]  # column name -> 0-based position
    rows: list[_Row] = field(default_factory=list)


class _Places:
    """Names places in the source: Excel ``lines!G7`` or CSV ``lines.csv:7 capacity``."""

    def __init__(self, source: str, excel: bool) -> None:
        self.source = source
        self.excel = excel
        self.tables: dict[str, _Table] = {}

    def place(self, table: str | None, row: int | None, column: str | None, what: str | None = None) -> str:
        t = self.tables.get(table) if table is not None else None
        if t is None:
            return self.source if table is None else (f"{table}.csv" if not self.excel else table)
        if row is None:
            return t.title
        if self.excel:
            from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

            pos = t.columns.get(column) if column is not None else None
            if pos is None:
                pos = min(t.columns.values(), default=0)
            return f"{t.title}!{get_column_letter(pos + 1)}{row}"
        name = what if (t.name in ("rules", "scenario") or (column or "").startswith("\x00")) else column
        return f"{t.title}:{row}" + (f" {name}" if name and not name.startswith("\x00") else "")


class _Problems:
    def __init__(self, places: _Places) -> None:
        self.places = places
        self.items: list[dict[str, Any]] = []
        self.reported: set[tuple[Any, ...]] = set()  # locations already reported by the reader

    def add(
        self,
        table: str | None,
        row: int | None,
        column: str | None,
        msg: str,
        *,
        loc: tuple[Any, ...] = (),
        kind: str = "invalid_cell",
        value: Any = None,
        what: str | None = None,
    ) -> None:
        if loc:
            self.reported.add(loc)
        if row is None:
            column = what = None
        self.items.append(
            {
                "loc": loc,
                "msg": msg,
                "type": kind,
                "input": value,
                "cell": self.places.place(table, row, column, what),
                "table": table,
                "row": row,
                "column": what or (column if column is None or not column.startswith("\x00") else None),
            }
        )

    def raise_if_any(self) -> None:
        if not self.items:
            return
        tables = self.places.tables

        def order(e: dict[str, Any]) -> tuple[int, int, int]:
            t = e["table"]
            pos = tables[t].columns.get(e["column"] or "", 0) if t in tables else 0
            return (_TABLES.index(t) + 1 if t in _TABLES else 0, e["row"] or 0, pos)

        raise ScenarioFileError(sorted(self.items, key=order), self.places.source)


def _header_name(value: Any) -> str:
    text = unicodedata.normalize("NFC", str(value)).strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


def _ignored(name: str) -> bool:
    """Columns that are never read: notes."""
    return name in ("note", "notes", "ghi_chú") or name.startswith("#")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _table(
    name: str,
    title: str,
    rows: Iterable[tuple[int, list[_Cell]]],
    problems: _Problems,
) -> _Table:
    """Header (first non-empty row) and data rows (empty rows skipped) of one sheet or file.

    Known column names match whatever their case and spacing (``Give only`` is ``give_only``);
    other names (tags, typos) keep their text."""
    known = _KNOWN_COLUMNS[name]
    it = iter(rows)
    header = next((r for r in it if any(not _blank(c.value) for c in r[1])), None)
    if header is None:
        return _Table(name, title, 1, {}, [])
    number, cells = header
    table = _Table(name, title, number, {})
    problems.places.tables[name] = table
    for pos, cell in enumerate(cells):
        if _blank(cell.value):
            continue
        col = _header_name(cell.value)
        if col not in known and not _ignored(col):
            col = _nfc(str(cell.value))
        if col in table.columns:
            table.columns[f"\x00{pos}"] = pos  # keeps the place nameable
            problems.add(
                name,
                number,
                f"\x00{pos}",
                f"column {col!r} appears twice",
                kind="duplicate_column",
                what=col,
            )
            continue
        table.columns[col] = pos
    named = set(table.columns.values())
    flagged: set[int] = set()
    for number, cells in it:
        if not any(not _blank(c.value) for c in cells):
            continue
        row = _Row(number, {})
        for col, pos in table.columns.items():
            if pos < len(cells) and not col.startswith("\x00") and not _ignored(col):
                row.cells[col] = cells[pos]
        for pos, cell in enumerate(cells):
            if pos not in named and pos not in flagged and not _blank(cell.value):
                flagged.add(pos)  # reported once per column
                table.columns[f"\x00{pos}"] = pos
                problems.add(
                    name,
                    number,
                    f"\x00{pos}",
                    f"a value in column {pos + 1}, which has no header",
                    kind="no_header",
                )
        table.rows.append(row)
    return table


# --------------------------------------------------------------------------------- conversion
def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _show(value: Any) -> str:
    """A value as a person would type it."""
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, float):
        return format(value, "g") if abs(value) < 1e16 else repr(value)
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _plain(d: Decimal) -> str:
    """Exact decimal text without exponent: ``Decimal('1E+3')`` -> ``1000``, ``0.50`` -> ``0.5``."""
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def _sig_digits(d: Decimal) -> int:
    return len(d.normalize().as_tuple().digits) if d else 1


def _from_double(f: float) -> Decimal:
    """The decimal a number cell means: its shortest repr; beyond 15 significant digits (binary noise
    of a formula, e.g. 0.30000000000000004), the 15 digits Excel shows — except whole numbers below
    2**53, which are exact."""
    d = Decimal(repr(f))
    if _sig_digits(d) > EXCEL_DIGITS:
        if f == int(f) and abs(f) < _EXACT_INT:
            return Decimal(int(f))
        d = Decimal(format(f, f".{EXCEL_DIGITS}g"))
    return Decimal(int(d)) if d == d.to_integral_value() else d


def _date_problem(value: Any, what: str) -> _CellError:
    return _CellError(f"{what} is a date or time ({value}); format the cell as a number")


def _decimal(cell: _Cell, what: str) -> Decimal | None:
    v = cell.value
    if _blank(v):
        return None
    if isinstance(v, bool):
        raise _CellError(f"{what} {v} is not a number")
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise _CellError(f"{what} is not a finite number")
        return _from_double(v)
    if isinstance(v, (datetime, date, time, timedelta)):
        raise _date_problem(v, what)
    text = _nfc(str(v))
    if text in _EXCEL_ERRORS:
        raise _CellError(f"{what} is the Excel error {text}")
    if _NUMBER.fullmatch(text):
        try:
            return Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            pass
    if _GROUPED.fullmatch(text):
        raise _CellError(f"{what} {text!r}: write numbers without thousands separators, with '.' for decimals")
    raise _CellError(f"{what} {text!r} is not a number")


def _number(cell: _Cell, what: str) -> float | int | None:
    d = _decimal(cell, what)
    if d is None:
        return None
    return int(d) if isinstance(cell.value, int) and not isinstance(cell.value, bool) else float(d)


def _rate(cell: _Cell, what: str) -> float | None:
    """A rate: a percent (``95%``, or a number cell formatted as a percent) or a fraction (0.95)."""
    v = cell.value
    if isinstance(v, str) and v.strip().endswith("%"):
        try:
            d = _decimal(_Cell(v.strip()[:-1].strip()), what)
        except _CellError:
            raise _CellError(f"{what} {_nfc(v)!r} is not a percent (e.g. 95%) or a fraction (e.g. 0.95)") from None
        return None if d is None else float(d / 100)
    d = _decimal(cell, what)
    return None if d is None else float(d)


def _limit(cell: _Cell, what: str) -> dict[str, Any] | None:
    """A locality limit: ``{"share": ...}`` from a percent, else ``{"amount": ...}``."""
    v = cell.value
    if _blank(v):
        return None
    if cell.percent or (isinstance(v, str) and v.strip().endswith("%")):
        return {"share": _rate(cell, what)}
    return {"amount": _decimal(cell, what)}


def _integer(cell: _Cell, what: str) -> int | float | None:
    d = _decimal(cell, what)
    if d is None:
        return None
    if d != d.to_integral_value():
        return float(d)  # pydantic says: not a whole number
    return int(d)


def _flag(cell: _Cell, what: str) -> bool | None:
    v = cell.value
    if _blank(v):
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)) and v in (0, 1):
        return bool(v)
    text = _nfc(str(v)).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _CellError(f"{what} {_show(v if not isinstance(v, str) else _nfc(v))} is not TRUE or FALSE")


def _text(cell: _Cell, what: str) -> str | None:
    v = cell.value
    if _blank(v):
        return None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        d = _from_double(v)
        return _plain(d)
    if isinstance(v, (datetime, date, time)):
        return v.isoformat()
    return _nfc(str(v))


def _tag(cell: _Cell, what: str, typed: bool) -> str | int | float | bool | None:
    """A tag value: as the cell holds it (Excel), or inferred from the text (CSV)."""
    v = cell.value
    if _blank(v):
        return None
    if typed:
        if isinstance(v, (bool, int)):
            return v
        if isinstance(v, float):
            d = _from_double(v)
            return int(d) if d == d.to_integral_value() and abs(v) < _EXACT_INT else float(d)
        return _text(cell, what)
    text = _nfc(str(v))
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if _CANONICAL_INT.fullmatch(text):
        return int(text)
    if _NUMBER.fullmatch(text):
        f = float(text)
        if repr(f) == text:
            return f
    return text


# ------------------------------------------------------------------------------------ builder
class _Builder:
    """Turns tables into the scenario's JSON shape, remembering where every value came from."""

    def __init__(self, places: _Places, problems: _Problems, default_name: str, typed: bool) -> None:
        self.places = places
        self.problems = problems
        self.default_name = default_name
        self.typed = typed  # cells carry types (Excel), or text only (CSV)
        self.record_rows: dict[str, list[int]] = {}
        self.rule_rows: dict[str, int] = {}
        self.target_rows: list[int] = []
        self.setting_rows: dict[str, int] = {}

    # --------------------------------------------------------------------------- structure
    def check_columns(self, table: _Table, known: Sequence[str], required: Sequence[str], *, tags: bool) -> bool:
        ok = True
        names = [c for c in table.columns if not c.startswith("\x00")]
        missing = [c for c in required if c not in table.columns]
        if missing:
            ok = False
            self.problems.add(
                table.name,
                None,
                None,
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"(the header, row {table.header_row}, has: {', '.join(names) or 'nothing'})",
                loc=(table.name,),
                kind="missing_column",
            )
        if not tags:
            for col in names:
                if col not in known and not _ignored(col):
                    ok = False
                    self.problems.add(
                        table.name,
                        table.header_row,
                        col,
                        f"unknown column {col!r}; the columns are {', '.join(known)}",
                        kind="unknown_column",
                    )
        return ok

    def _read(
        self, table: str, k: int, row: _Row, col: str, convert: Callable[[_Cell, str], Any], what: str | None = None
    ) -> Any:
        cell = row.cells.get(col)
        if cell is None:
            return None
        try:
            return convert(cell, what or col)
        except _CellError as bad:
            loc = (table, k, col) if table != "localities" or col in LOCALITY_COLUMNS else (table, k, "tags", col)
            self.problems.add(table, row.number, col, str(bad), loc=loc, value=cell.value)
            return None

    # ------------------------------------------------------------------------------ tables
    def lines(self, table: _Table) -> list[dict[str, Any]]:
        converters: dict[str, Callable[[_Cell, str], Any]] = {
            **{k: _text for k in LINE_KEYS},
            **{k: _decimal for k in _LINE_AMOUNTS},
            **{k: _flag for k in FLAGS},
        }
        out = []
        self.record_rows["lines"] = []
        for k, row in enumerate(table.rows):
            rec: dict[str, Any] = {}
            for col in LINE_COLUMNS:
                value = self._read("lines", k, row, col, converters[col])
                if value is not None:
                    rec[col] = value
            out.append(rec)
            self.record_rows["lines"].append(row.number)
        return out

    def localities(self, table: _Table) -> list[dict[str, Any]]:
        out = []
        self.record_rows["localities"] = []
        tag_columns = [c for c in table.columns if c not in LOCALITY_COLUMNS and not c.startswith("\x00")]
        for k, row in enumerate(table.rows):
            rec: dict[str, Any] = {}
            for col, convert in (("id", _text), ("name", _text), ("weight", _number)):
                value = self._read("localities", k, row, col, convert)
                if value is not None:
                    rec[col] = value
            for col in ("max_loss", "max_gain"):
                value = self._read("localities", k, row, col, _limit)
                if value is not None and None not in value.values():
                    rec[col] = value
            tags = {}
            for col in tag_columns:
                if _ignored(col):
                    continue
                value = self._read("localities", k, row, col, lambda c, w: _tag(c, w, self.typed))
                if value is not None:
                    tags[col] = value
            if tags:
                rec["tags"] = tags
            out.append(rec)
            self.record_rows["localities"].append(row.number)
        return out

    def transfer_costs(self, table: _Table) -> list[dict[str, Any]]:
        out = []
        self.record_rows["transfer_costs"] = []
        for k, row in enumerate(table.rows):
            rec: dict[str, Any] = {}
            for col, convert in (("from", _text), ("to", _text), ("cost", _number)):
                value = self._read("transfer_costs", k, row, col, convert)
                if value is not None:
                    rec[col] = value
            out.append(rec)
            self.record_rows["transfer_costs"].append(row.number)
        return out

    def _pairs(self, table: _Table, key_col: str, known: Sequence[str]) -> list[tuple[str, _Row, _Cell]]:
        """(name, row, value cell) of a two-column table; unknown and repeated names are problems."""
        out = []
        first: dict[str, int] = {}
        for row in table.rows:
            name_cell = row.cells.get(key_col)
            value = row.cells.get("value", _Cell(None))
            name = _header_name(name_cell.value) if name_cell is not None and not _blank(name_cell.value) else ""
            if not name:
                if not _blank(value.value):
                    self.problems.add(
                        table.name, row.number, key_col, f"a value without a {key_col} name", kind="no_name"
                    )
                continue
            if name not in known:
                self.problems.add(
                    table.name,
                    row.number,
                    key_col,
                    f"unknown {key_col} {name!r}; the {key_col}s are {', '.join(known)}",
                    kind=f"unknown_{key_col}",
                    value=name,
                )
                continue
            if name != "target" and name in first:
                self.problems.add(
                    table.name,
                    row.number,
                    key_col,
                    f"{name} is given twice (also {self.places.place(table.name, first[name], key_col)})",
                    kind=f"duplicate_{key_col}",
                    value=name,
                )
                continue
            first.setdefault(name, row.number)
            out.append((name, row, value))
        return out

    def rules(self, table: _Table) -> dict[str, Any]:
        rules: dict[str, Any] = {}
        targets: list[dict[str, Any]] = []
        move_costs: dict[str, Any] = {}
        for name, row, cell in self._pairs(table, "rule", RULES):
            if _blank(cell.value):
                continue
            self.rule_rows[name] = row.number
            where: tuple[Any, ...] = ("rules", name)
            try:
                if name == "pool_by":
                    text = _text(cell, name) or ""
                    parts = [p.strip().lower() for p in re.split(r"[,;]", text) if p.strip()]
                    rules["pool_by"] = [] if parts == ["none"] else parts
                elif name in ("recipients", "donors"):
                    rules[name] = (_text(cell, name) or "").lower()
                elif name == "min_transfer":
                    rules[name] = _decimal(cell, name)
                elif name in _MOVE_COSTS:
                    attr = name.split(".", 1)[1]
                    where = ("rules", "move_costs", attr)
                    move_costs[attr] = _number(cell, name)
                elif name in ("max_loss", "max_gain"):
                    rules[name] = _limit(cell, name)
                elif name == "max_transfers_per_line":
                    rules[name] = _integer(cell, name)
                elif name == "target_rate":
                    rules[name] = _rate(cell, name)
                else:  # target
                    where = ("rules", "targets", len(targets))
                    targets.append(self._target(cell))
                    self.target_rows.append(row.number)
            except _CellError as bad:
                if name == "target":
                    where = ("rules", "target", row.number)  # not a position: the target is left out
                self.problems.add("rules", row.number, "value", str(bad), loc=where, value=cell.value, what=name)
        if move_costs:
            rules["move_costs"] = move_costs
        if targets:
            rules["targets"] = targets
        return rules

    def _target(self, cell: _Cell) -> dict[str, Any]:
        """``program=ntm; fund=investment; rate=100%`` -> ``{"program": "ntm", ..., "rate": 1.0}``."""
        v = cell.value
        if not isinstance(v, str):
            raise _CellError(f"target {_show(v)}: write it as text, e.g. program=ntm; rate=100%")
        out: dict[str, Any] = {}
        for part in (p.strip() for p in v.split(";")):
            if not part:
                continue
            key, sep, value = part.partition("=")
            key = _header_name(key)
            if not sep or key not in _TARGET_KEYS:
                raise _CellError(
                    f"target {_nfc(v)!r}: {part!r} should be key=value with key one of {', '.join(_TARGET_KEYS)} "
                    "(e.g. program=ntm; rate=100%)"
                )
            if key in out:
                raise _CellError(f"target {_nfc(v)!r} gives {key} twice")
            out[key] = _rate(_Cell(value.strip()), "target rate") if key == "rate" else _nfc(value)
        if out.get("rate") is None:
            raise _CellError(f"target {_nfc(v)!r} has no rate (e.g. program=ntm; rate=100%)")
        return out

    def settings(self, table: _Table) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, row, cell in self._pairs(table, "setting", SETTINGS):
            if _blank(cell.value):
                continue
            self.setting_rows[name] = row.number
            try:
                out[name] = _decimal(cell, name) if name == "precision" else _text(cell, name)
            except _CellError as bad:
                self.problems.add("scenario", row.number, "value", str(bad), loc=(name,), value=cell.value, what=name)
        return out

    # ------------------------------------------------------------------------ validation
    def locate(self, loc: tuple[Any, ...]) -> tuple[str | None, int | None, str | None, str]:
        """(table, row, column, what) of a pydantic location."""
        if not loc:
            return None, None, None, "scenario"
        head = loc[0]
        if head in SETTINGS:
            return "scenario", self.setting_rows.get(head), "value", head
        if head in ("lines", "localities", "transfer_costs"):
            rows = self.record_rows.get(head, [])
            if len(loc) < 2 or not isinstance(loc[1], int) or loc[1] >= len(rows):
                return head, None, None, head
            row = rows[loc[1]]
            if len(loc) < 3:
                return head, row, None, head
            col = str(loc[3]) if loc[2] == "tags" and len(loc) > 3 else str(loc[2])
            return head, row, col, col
        if head == "rules" and len(loc) > 1:
            name = str(loc[1])
            if name == "targets":
                t = loc[2] if len(loc) > 2 and isinstance(loc[2], int) else None
                trow = self.target_rows[t] if t is not None and t < len(self.target_rows) else None
                what = "target rate" if loc[-1] == "rate" else "target"
                return "rules", trow, "value", what
            if name == "move_costs" and len(loc) > 2:
                name = f"move_costs.{loc[2]}"
            return "rules", self.rule_rows.get(name), "value", name
        return (head if head in _TABLES else None), None, None, format_location(loc)

    def references(self, msg: str) -> str:
        """``lines[3]`` -> ``lines!A5`` (the row), ``rules.targets[1]`` -> the target's cell."""

        def repl(m: re.Match[str]) -> str:
            if m.group(3) is not None:
                table, row, col, what = self.locate(("rules", "targets", int(m.group(3))))
            else:
                table, row, col, what = self.locate((m.group(1), int(m.group(2))))
            return self.places.place(table, row, col, what) if row is not None else m.group(0)

        return _REFERENCE.sub(repl, msg)

    def validate(self, data: dict[str, Any]) -> Scenario | None:
        try:
            return Scenario.from_dict(data)
        except ScenarioError as exc:
            for err in exc.errors:
                loc = tuple(err.get("loc", ()))
                if any(loc[: len(r)] == r for r in self.problems.reported):
                    continue  # the reader already said what is wrong with this cell
                table, row, col, what = self.locate(loc)
                msg = self.references(_message(err, what, table))
                self.problems.add(table, row, col, msg, kind=str(err.get("type", "invalid")), what=what)
                self.problems.items[-1]["loc"] = loc
                self.problems.items[-1]["input"] = err.get("input")
            return None


def _message(err: dict[str, Any], what: str, table: str | None) -> str:
    """A pydantic problem in the words of a spreadsheet user."""
    kind = err.get("type")
    ctx = err.get("ctx") or {}
    value = err.get("input")
    shown = _show(value)
    loc = tuple(err.get("loc", ()))
    if loc and loc[-1] == "share" and isinstance(value, (int, float)) and not isinstance(value, bool):
        shown = _percent_text(float(value))  # it was given as a percent
    if kind == "missing":
        return f"{what} is required (the cell is empty)"
    if kind == "too_short" and table == "lines":
        return "at least one line is required: the sheet has no rows below its header"
    if kind == "greater_than_equal":
        return f"{what} {shown} is negative" if ctx.get("ge") == 0 else f"{what} {shown} is below {ctx.get('ge')}"
    if kind == "greater_than":
        return f"{what} {shown} must be above {ctx.get('gt')}"
    if kind == "less_than_equal":
        if loc and loc[-1] == "share":
            return f"{what} {shown} is above 100%"
        if ctx.get("le") == 1:
            return f"{what} {shown} is above 100%: write a rate as a percent (95%) or a fraction (0.95)"
        return f"{what} {shown} is above {ctx.get('le')}"
    if kind in ("string_too_short", "string_pattern_mismatch"):
        return f"{what} is blank"
    if kind == "literal_error":
        return f"{what} {shown} should be {ctx.get('expected', 'one of the allowed values')}"
    if kind in ("decimal_parsing", "float_parsing", "int_parsing", "decimal_type", "float_type"):
        return f"{what} {shown} is not a number"
    if kind in ("int_type", "int_from_float"):
        return f"{what} {shown} is not a whole number"
    if kind == "finite_number":
        return f"{what} is not a finite number"
    return str(err.get("msg", "invalid"))


def _build(tables: dict[str, _Table], places: _Places, problems: _Problems, default_name: str, typed: bool) -> Scenario:
    b = _Builder(places, problems, default_name, typed)
    lines_t = tables.get("lines")
    if lines_t is None:
        problems.add(
            None,
            None,
            None,
            "no lines table: add a sheet (or lines.csv) with one row per allocation line",
            loc=("lines",),
            kind="missing_table",
        )
    ok = True
    if lines_t is not None:
        ok &= b.check_columns(lines_t, LINE_COLUMNS, LINE_REQUIRED, tags=False)
    locs_t = tables.get("localities")
    if locs_t is not None and locs_t.rows:
        ok &= b.check_columns(locs_t, LOCALITY_COLUMNS, ("id",), tags=True)
    tc_t = tables.get("transfer_costs")
    if tc_t is not None and tc_t.rows:
        ok &= b.check_columns(tc_t, TRANSFER_COST_COLUMNS, TRANSFER_COST_COLUMNS, tags=False)
    rules_t = tables.get("rules")
    if rules_t is not None and rules_t.rows:
        ok &= b.check_columns(rules_t, ("rule", "value"), ("rule", "value"), tags=False)
    set_t = tables.get("scenario")
    if set_t is not None and set_t.rows:
        ok &= b.check_columns(set_t, ("setting", "value"), ("setting", "value"), tags=False)
    if not ok or lines_t is None:
        problems.raise_if_any()

    assert lines_t is not None
    data: dict[str, Any] = {"name": default_name}
    if set_t is not None and set_t.rows:
        data.update(b.settings(set_t))
    data["lines"] = b.lines(lines_t)
    if locs_t is not None and locs_t.rows:  # an empty sheet means "no localities table"
        data["localities"] = b.localities(locs_t)
    if tc_t is not None and tc_t.rows:
        data["transfer_costs"] = b.transfer_costs(tc_t)
    if rules_t is not None and rules_t.rows:
        data["rules"] = b.rules(rules_t)
    scenario = b.validate(data)
    problems.raise_if_any()
    assert scenario is not None
    return scenario


# ------------------------------------------------------------------------------------ readers
def read_excel(path: str | Path) -> Scenario:
    """Read a scenario from an Excel workbook (.xlsx).

    Sheets (names are case-insensitive; other sheets are ignored): ``lines`` (required),
    ``localities``, ``transfer_costs``, ``rules``, ``scenario`` — see the module docstring and
    ``docs/excel.md``. The first non-empty row of a sheet is its header; empty rows are skipped;
    columns named ``note`` or starting with ``#`` are not read.

    Raises :class:`ScenarioFileError` (a :class:`~reallocate.errors.ScenarioError`) listing every
    problem as ``sheet!cell: problem``, or ``OSError`` when the file cannot be opened.
    """
    from zipfile import BadZipFile

    import openpyxl  # type: ignore[import-untyped]
    from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

    p = Path(path)
    places = _Places(p.name, excel=True)
    problems = _Problems(places)
    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, ValueError) as exc:
        if not p.exists():
            raise FileNotFoundError(2, "No such file or directory", str(p)) from None
        raise ScenarioFileError(
            [_file_problem(p.name, f"not an Excel .xlsx workbook ({exc})", "not_a_workbook")], p.name
        ) from None
    try:
        tables: dict[str, _Table] = {}
        for ws in wb.worksheets:
            key = _header_name(ws.title)
            if key not in _TABLES:
                continue
            if key in tables:
                problems.add(None, None, None, f"two sheets are named {key!r}: {tables[key].title!r} and {ws.title!r}")
                continue
            ws.reset_dimensions()  # never trust the stored size: read every row there is
            rows = (
                (
                    number,
                    [
                        _Cell(
                            c.value,
                            percent="%" in (getattr(c, "number_format", None) or "")
                            and isinstance(c.value, (int, float))
                            and not isinstance(c.value, bool),
                        )
                        for c in cells
                    ],
                )
                for number, cells in enumerate(ws.iter_rows(), start=1)
            )
            table = _table(key, ws.title, rows, problems)
            tables[key] = table
            places.tables[key] = table
    finally:
        wb.close()
    try:
        return _build(tables, places, problems, p.stem, typed=True)
    except ScenarioFileError as exc:
        _explain_formulas(p, exc)
        raise


def _explain_formulas(path: Path, exc: ScenarioFileError) -> None:
    """Empty required cells that hold a formula: say that its result was never saved."""
    empty = [e for e in exc.errors if e.get("type") == "missing" and e.get("table") and e.get("row")]
    if not empty:
        return
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=False, data_only=False)
    except Exception:  # pragma: no cover - it opened a moment ago
        return
    try:
        for e in empty:
            sheet, _, ref = str(e["cell"]).rpartition("!")
            if not sheet or sheet not in wb.sheetnames:
                continue
            value = wb[sheet][ref].value
            if isinstance(value, str) and value.startswith("="):
                e["msg"] = (
                    f"{e['column']} is a formula ({value}) whose result was never saved: open the workbook in "
                    "Excel or LibreOffice, save it, and read it again"
                )
    finally:
        wb.close()
    exc.args = (exc._render(),)


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise _CellError(
            f"{name}:{line}: not UTF-8 text; save it as 'CSV UTF-8 (comma delimited)' so Vietnamese letters survive"
        ) from None


def _csv_rows(text: str) -> Iterable[tuple[int, list[_Cell]]]:
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    delimiter = max((",", ";", "\t"), key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    for values in reader:
        yield start, [_Cell(v if v.strip() else None) for v in values]
        start = reader.line_num + 1


def read_csv_folder(path: str | Path) -> Scenario:
    """Read a scenario from a folder of CSV files: ``lines.csv`` (required), ``localities.csv``,
    ``transfer_costs.csv``, ``rules.csv``, ``scenario.csv`` — the same columns as the Excel sheets.

    Files are UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8"); the delimiter is a
    comma (a semicolon or tab header is recognised). Amounts are read digit for digit. Raises
    :class:`ScenarioFileError` listing every problem as ``lines.csv:7 capacity: problem``.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise NotADirectoryError(20, "Not a directory", str(folder))
    places = _Places(folder.name or str(folder), excel=False)
    problems = _Problems(places)
    files = {f.name.lower(): f for f in folder.iterdir() if f.is_file()}
    tables: dict[str, _Table] = {}
    for name in _TABLES:
        f = files.get(f"{name}.csv")
        if f is None:
            continue
        try:
            text = _decode(f.read_bytes(), f.name)
        except _CellError as bad:
            problems.items.append(
                {
                    "loc": (name,),
                    "msg": str(bad).split(": ", 1)[1],
                    "type": "not_utf8",
                    "cell": str(bad).split(": ", 1)[0],
                    "table": name,
                    "row": None,
                    "column": None,
                }
            )
            continue
        table = _table(name, f.name, _csv_rows(text), problems)
        tables[name] = table
        places.tables[name] = table
    if problems.items:
        problems.raise_if_any()
    return _build(tables, places, problems, folder.resolve().name, typed=False)


def read_scenario(path: str | Path) -> Scenario:
    """Read a scenario from a JSON file, an Excel workbook (.xlsx, .xlsm) or a folder of CSV files
    (a path to its ``lines.csv`` also works)."""
    p = Path(path)
    if p.is_dir():
        return read_csv_folder(p)
    suffix = p.suffix.lower()
    if suffix == ".json":
        return load(p)
    if suffix in (".xlsx", ".xlsm"):
        return read_excel(p)
    if suffix == ".csv" and p.name.lower() == "lines.csv":
        return read_csv_folder(p.parent)
    if not p.exists():
        raise FileNotFoundError(2, "No such file or directory", str(p))
    hint = " (save old .xls workbooks as .xlsx)" if suffix == ".xls" else ""
    raise ScenarioFileError(
        [_file_problem(p.name, f"not a scenario file; expected .json, .xlsx or a folder of CSV files{hint}")],
        p.name,
    )


def _file_problem(name: str, msg: str, kind: str = "unknown_format") -> dict[str, Any]:
    return {"loc": (), "msg": msg, "type": kind, "cell": name, "table": None, "row": None, "column": None}


# ----------------------------------------------------------------------------- sheet writing
@dataclass
class _Column:
    """One column to write: its header, values and how to show them."""

    key: str
    header: str
    values: list[Any]
    kind: str = "text"  # text | amount | signed | number | count | percent | rate | flag | limit
    note: str | None = None
    decimals: int | None = None  # decimals shown for amounts (None: as many as each value has)
    kinds: list[str] | None = None  # per-row kinds (summary values)
    width_cap: int = 60
    excel: bool = True  # written to Excel
    csv: bool = True  # written to CSV


@dataclass
class _Sheet:
    name: str
    columns: list[_Column]
    validations: list[tuple[str, str, str, str]] = field(default_factory=list)  # col key, formula1, style, prompt
    list_rows: int = 0  # how many rows the drop-downs and column formats cover


def _places_of(d: Decimal) -> int:
    exp = d.normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def _amount_format(decimals: int, signed: bool = False) -> str:
    body = "#,##0" + ("." + "0" * decimals if decimals else "")
    return f"+{body};-{body};0" if signed else body


def _percent_format(decimals: int) -> str:
    return "0" + ("." + "0" * decimals if decimals else "") + "%"


def _percent_text(rate: float) -> str:
    """0.3 -> ``30%``, 0.125 -> ``12.5%``: exact (the rate's shortest repr, times 100)."""
    return _plain(Decimal(repr(rate)) * 100) + "%"


def _share_decimals(rate: float) -> int:
    return _places_of(Decimal(repr(rate)) * 100)


def _exact_in_excel(d: Decimal) -> bool:
    return _sig_digits(d) <= EXCEL_DIGITS and abs(d) < Decimal("1e300")


def _excel_cell_value(value: Any, kind: str, decimals: int | None) -> tuple[Any, str | None, bool]:
    """(cell value, number format, written as text) for one value.

    Kinds: ``percent`` shows a rate with one decimal, ``rate`` with every digit it has."""
    if value is None:
        return None, None, False
    if isinstance(value, Limit):
        if value.share is not None:
            return value.share, _percent_format(_share_decimals(value.share)), False
        value = value.amount
        kind = "amount"
    if isinstance(value, Decimal):
        places = _places_of(value) if decimals is None or kind == "cost" else decimals
        fmt = _amount_format(places, signed=kind == "signed")
        if not _exact_in_excel(value):
            return _plain(value), None, True
        return (int(value) if value == value.to_integral_value() else float(value)), fmt, False
    if isinstance(value, bool):
        return value, None, False
    if kind == "percent" and isinstance(value, float):
        return value, _percent_format(1), False
    if kind == "rate" and isinstance(value, (int, float)):
        return value, _percent_format(_share_decimals(float(value))), False
    if isinstance(value, float):
        exact = _sig_digits(Decimal(repr(value))) <= EXCEL_DIGITS
        return (value if exact else repr(value)), None, not exact
    if isinstance(value, int) and kind in ("count", "amount"):
        return value, "#,##0", False
    return value, None, False


def _display_width(value: Any, kind: str) -> int:
    if value is None:
        return 0
    if isinstance(value, Limit):
        return len(_percent_text(value.share)) if value.share is not None else _display_width(value.amount, "amount")
    if isinstance(value, Decimal):
        return len(amount_text(value)) + (1 if kind == "signed" else 0)
    if isinstance(value, bool):
        return 5
    if kind == "percent" and isinstance(value, float):
        return 7
    if kind == "rate" and isinstance(value, (int, float)):
        return len(_percent_text(float(value)))
    if isinstance(value, float):
        return len(format(value, ",g"))
    if isinstance(value, int):
        return len(f"{value:,}")
    return max((len(part) for part in str(value).splitlines()), default=0)


def _write_workbook(sheets: list[_Sheet], path: Path) -> int:
    """Write ``sheets`` to ``path``; returns how many amounts were written as text (too many digits)."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment  # type: ignore[import-untyped]
    from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation  # type: ignore[import-untyped]

    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    right = Alignment(horizontal="right")
    wrap = Alignment(wrap_text=True, vertical="top")
    as_text = 0
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name)
        columns = [c for c in sheet.columns if c.excel]
        n = max((len(c.values) for c in columns), default=0)
        for j, col in enumerate(columns, start=1):
            letter = get_column_letter(j)
            head = ws.cell(row=1, column=j, value=col.header)
            head.font = bold
            head.fill = fill
            if col.note:
                comment = Comment(col.note, "reallocate")
                comment.width = 320
                comment.height = max(90, 20 * (len(col.note) // 45 + 2))
                head.comment = comment
            width = len(col.header) + 2  # room for the filter button
            if sheet.list_rows:  # an input sheet: room for what people will type
                width = max(width, 14 if col.kind in ("amount", "signed", "limit") else 12)
            column_format: str | None = None
            for i, value in enumerate(col.values, start=2):
                kind = col.kinds[i - 2] if col.kinds is not None else col.kind
                cell_value, fmt, text = _excel_cell_value(value, kind, col.decimals)
                if cell_value is None:
                    continue
                cell = ws.cell(row=i, column=j, value=cell_value)
                if isinstance(cell_value, str) and cell_value.startswith("="):
                    cell.data_type = "s"  # text, never a formula
                if fmt:
                    cell.number_format = fmt
                    column_format = column_format or fmt
                if text:
                    as_text += 1
                    cell.alignment = right
                width = max(width, _display_width(value, kind))
            if sheet.list_rows and col.kind in ("amount", "signed") and column_format is None:
                column_format = _amount_format(col.decimals or 0)
            if sheet.list_rows and column_format and col.kind in ("amount", "signed", "number"):
                ws.column_dimensions[letter].number_format = column_format  # cells typed later
            if width > col.width_cap and col.kind == "text":
                for i in range(2, n + 2):
                    ws.cell(row=i, column=j).alignment = wrap
            ws.column_dimensions[letter].width = min(max(width, 6), col.width_cap) + 2
        last = max(n + 1, sheet.list_rows)
        for key, formula, style, prompt in sheet.validations:
            pos = next((j for j, c in enumerate(columns, start=1) if c.key == key), None)
            if pos is None:
                continue
            letter = get_column_letter(pos)
            if formula.startswith("cells:"):
                ref = formula.split(":", 2)[2]
                formula = formula.split(":", 2)[1]
            else:
                ref = f"{letter}2:{letter}{last}"
            if formula == "decimal>=0":
                dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
            else:
                dv = DataValidation(type="list", formula1=formula, allow_blank=True)
            dv.errorStyle = style
            dv.showErrorMessage = True
            dv.error = prompt
            dv.errorTitle = "reallocate"
            ws.add_data_validation(dv)
            dv.add(ref)
        ws.freeze_panes = "A2"
        if columns:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(n + 1, 1)}"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return as_text


def _csv_text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if isinstance(value, Limit):
        return _percent_text(value.share) if value.share is not None else _csv_text(value.amount, "amount")
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if kind == "rate" and isinstance(value, (int, float)):
        return _percent_text(float(value))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _write_csv_file(sheet: _Sheet, path: Path) -> None:
    columns = [c for c in sheet.columns if c.csv]
    n = max((len(c.values) for c in columns), default=0)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow([c.header for c in columns])
        for i in range(n):
            w.writerow(
                [
                    _csv_text(c.values[i] if i < len(c.values) else None, c.kinds[i] if c.kinds else c.kind)
                    for c in columns
                ]
            )


# -------------------------------------------------------------------------- scenario writing
def _scenario_sheets(scenario: Scenario | None, lang: str) -> list[_Sheet]:
    """The input tables of ``scenario`` (or an empty template) as sheets with notes and drop-downs."""
    rows = 0 if scenario is None else len(scenario.lines)
    list_rows = max(1000, rows + 500)
    dec = 0 if scenario is None else _places_of(scenario.precision)

    def col(table: str, key: str, values: list[Any], kind: str = "text") -> _Column:
        note = f"{_label(key, lang)} — {_help(f'{table}.{key}', lang)}"
        return _Column(key, key, values, kind=kind, note=note, decimals=dec if kind in ("amount", "limit") else None)

    lines = list(scenario.lines) if scenario is not None else []
    line_cols = []
    for key in LINE_COLUMNS:
        if key in FLAGS:
            line_cols.append(col("lines", key, [True if getattr(x, key) else None for x in lines], "flag"))
        elif key in _LINE_AMOUNTS:
            line_cols.append(col("lines", key, [getattr(x, key) for x in lines], "amount"))
        else:
            line_cols.append(col("lines", key, [getattr(x, key) or None for x in lines]))
    fund_msg = _pair(
        "Known funds are investment and recurrent. Keep this value?",
        "Nguồn vốn thường dùng: investment, recurrent. Giữ giá trị này?",
        lang,
    )
    program_msg = _pair(
        "Known programs: ntm, gnbv, dtts. Another program id is fine.",
        "Chương trình thường dùng: ntm, gnbv, dtts. Có thể dùng mã khác.",
        lang,
    )
    flag_msg = _pair("TRUE, FALSE or empty.", "TRUE, FALSE hoặc để trống.", lang)
    amount_msg = _pair(
        "An amount is a number >= 0 (amounts over 15 digits: type them as text).",
        "Số tiền là số >= 0 (số có hơn 15 chữ số: nhập dạng văn bản).",
        lang,
    )
    validations = [
        ("fund", '"' + ",".join(KNOWN_FUNDS) + '"', "warning", fund_msg),
        ("program", '"' + ",".join(KNOWN_PROGRAMS) + '"', "information", program_msg),
        *((f, '"TRUE,FALSE"', "stop", flag_msg) for f in FLAGS),
        *((a, "decimal>=0", "warning", amount_msg) for a in _LINE_AMOUNTS),
    ]
    sheets = [_Sheet("lines", line_cols, validations, list_rows)]

    locs = list(scenario.localities or ()) if scenario is not None else []
    tag_keys: list[str] = []
    for loc in locs:
        for k in loc.tags:
            if k not in tag_keys:
                tag_keys.append(k)
    loc_cols = [
        col("localities", "id", [x.id for x in locs]),
        col("localities", "name", [x.name for x in locs]),
        col("localities", "weight", [x.weight for x in locs], "number"),
        col("localities", "max_loss", [x.max_loss for x in locs], "limit"),
        col("localities", "max_gain", [x.max_gain for x in locs], "limit"),
    ]
    tag_note = _help("localities.tags", lang)
    loc_cols += [_Column(k, k, [x.tags.get(k) for x in locs], note=tag_note) for k in tag_keys]
    weight_msg = _pair("A weight is a number >= 0.", "Trọng số là số >= 0.", lang)
    sheets.append(_Sheet("localities", loc_cols, [("weight", "decimal>=0", "warning", weight_msg)], list_rows))

    costs = list(scenario.transfer_costs or ()) if scenario is not None else []
    sheets.append(
        _Sheet(
            "transfer_costs",
            [
                col("transfer_costs", "from", [c.from_ for c in costs]),
                col("transfer_costs", "to", [c.to for c in costs]),
                col("transfer_costs", "cost", [c.cost for c in costs], "number"),
            ],
            [("cost", "decimal>=0", "warning", weight_msg)],
            list_rows,
        )
    )

    rules = scenario.rules if scenario is not None else None
    names: list[str] = []
    values: list[Any] = []
    for name in RULES:
        if name == "target":
            targets: list[Target | None] = list(rules.targets) if rules is not None else []
            for t in targets or [None]:
                names.append("target")
                values.append(
                    None
                    if t is None
                    else "; ".join([*(f"{k}={v}" for k, v in t.selector.items()), f"rate={_percent_text(t.rate)}"])
                )
            continue
        names.append(name)
        if rules is None:
            default = {"pool_by": "program, fund", "recipients": "proportional", "donors": "proportional"}
            values.append(Decimal(0) if name == "min_transfer" else default.get(name))
        elif name == "pool_by":
            values.append(", ".join(rules.pool_by) or "none")
        elif name in _MOVE_COSTS:
            values.append(rules.move_costs.get(name.split(".", 1)[1]))  # type: ignore[call-overload]
        elif name == "target_rate":
            values.append(rules.target_rate)
        else:
            values.append(getattr(rules, name))
    kinds = ["rate" if n == "target_rate" else "count" if n == "max_transfers_per_line" else "text" for n in names]
    share_msg = _pair("proportional or priority.", "proportional hoặc priority.", lang)
    rule_validations = [
        ("value", f'cells:"proportional,priority":B{names.index(n) + 2}', "stop", share_msg)
        for n in ("recipients", "donors")
    ]
    sheets.append(
        _Sheet(
            "rules",
            [
                _Column("rule", "rule", names, note=_help("rules.rule", lang)),
                _Column("value", "value", values, note=_help("rules.value", lang), kinds=kinds, width_cap=40),
                _Column("note", "note", [_help(f"rules.{n}", lang) for n in names], note=_help("rules.note", lang)),
            ],
            rule_validations,
        )
    )
    settings = [
        scenario.name if scenario is not None else None,
        scenario.unit if scenario is not None else "million VND",
        scenario.precision if scenario is not None else Decimal(1),
    ]
    sheets.append(
        _Sheet(
            "scenario",
            [
                _Column("setting", "setting", list(SETTINGS), note=_help("scenario.setting", lang)),
                _Column("value", "value", settings, note=_help("scenario.value", lang), width_cap=40),
                _Column(
                    "note", "note", [_help(f"scenario.{s}", lang) for s in SETTINGS], note=_help("scenario.note", lang)
                ),
            ],
        )
    )
    guide: list[tuple[str, str, str]] = []
    for sheet in sheets:
        guide.append((sheet.name, "", _help(f"sheet.{sheet.name}", lang)))
        if sheet.name in ("lines", "localities", "transfer_costs"):
            for c in sheet.columns:
                if c.key in tag_keys:
                    continue
                guide.append((sheet.name, c.key, _help(f"{sheet.name}.{c.key}", lang)))
            if sheet.name == "localities":
                guide.append((sheet.name, "…", _help("localities.tags", lang)))
    sheets.append(
        _Sheet(
            "guide",
            [
                _Column("sheet", _label("sheet", lang), [g[0] for g in guide]),
                _Column("column", _label("column", lang), [g[1] or None for g in guide]),
                _Column("meaning", _label("meaning", lang), [g[2] for g in guide], width_cap=100),
            ],
        )
    )
    return sheets


def write_template(path: str | Path, lang: str = "en") -> Path:
    """Write an empty, documented scenario workbook to ``path`` (.xlsx) and return the path.

    Headers carry notes (cell comments) in ``lang`` explaining each column; fund, program, the
    flags and the recipients/donors rules have drop-downs (fund and program still accept other
    values); amount columns have thousands separators; the header row is frozen; ``rules`` and
    ``scenario`` are pre-filled with every rule and setting and its default. Reading it back
    untouched fails with one clear problem: the ``lines`` sheet has no rows.
    """
    check_lang(lang)
    p = Path(path)
    _write_workbook(_scenario_sheets(None, lang), p)
    return p


def write_scenario_excel(scenario: Scenario, path: str | Path, lang: str = "en") -> Path:
    """Write ``scenario`` as a workbook in the template's layout; :func:`read_excel` reads it back
    equal. Amounts with more than 15 significant digits are written as text, digit for digit."""
    check_lang(lang)
    p = Path(path)
    _write_workbook(_scenario_sheets(scenario, lang), p)
    return p


def write_scenario_csv(scenario: Scenario, folder: str | Path) -> Path:
    """Write ``scenario`` as CSV files (UTF-8 with a BOM) in ``folder``: lines.csv, rules.csv,
    scenario.csv, and localities.csv / transfer_costs.csv when it has them.
    :func:`read_csv_folder` reads them back equal (text tags that look like numbers or TRUE/FALSE
    come back as numbers or booleans)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for sheet in _scenario_sheets(scenario, "en"):
        if sheet.name == "guide":
            continue
        if sheet.name == "localities" and scenario.localities is None:
            continue
        if sheet.name == "transfer_costs" and scenario.transfer_costs is None:
            continue
        if sheet.name in ("rules", "scenario"):
            sheet.columns = [c for c in sheet.columns if c.key != "note"]
        _write_csv_file(sheet, out / f"{sheet.name}.csv")
    return out


# ------------------------------------------------------------------------------ plan writing
def _pool_label(key: Sequence[str]) -> str:
    return " / ".join(k for k in key if k) or "(all lines)"


def _summary_rows(plan: Plan, lang: str) -> list[tuple[str, Any, str]]:
    """(key, value, kind) rows of the summary."""
    sc = plan.scenario
    rows: list[tuple[str, Any, str]] = [
        ("scenario", sc.name, "text"),
        ("unit", sc.unit, "text"),
        ("status", _label(plan.status, lang), "text"),
        ("solver", plan.solver, "text"),
        ("message", plan.message, "text"),
    ]
    s = plan.summary
    if s is not None:
        for key in (
            "allocated",
            "disbursed",
            "absorbable_before",
            "absorbable_after",
            "lapse_before",
            "lapse_after",
            "moved",
        ):
            rows.append((key, getattr(s, key), "amount"))
        rows.append(("transfer_count", s.transfer_count, "count"))
        rows.append(("transfer_cost", s.transfer_cost, "cost"))
        rows.append(("rate_before", s.rate_before, "percent"))
        rows.append(("rate_after", s.rate_after, "percent"))
    e = plan.explain
    if e is not None:
        if e.gap.get("text"):
            rows.append(("gap", e.gap["text"], "text"))
        for note in e.notes:
            rows.append(("note", note, "text"))
        if e.diagnosis:
            for d in e.diagnosis.get("targets", []):
                rows.append(("diagnosis", d.get("text", ""), "text"))
            for c in e.diagnosis.get("conflict", []) or []:
                rows.append(("conflict", c, "text"))
    return rows


def _plan_sheets(plan: Plan, lang: str) -> list[_Sheet]:
    check_lang(lang)
    sc = plan.scenario
    names = sc.locality_labels()

    def h(key: str) -> str:
        return _label(key, lang)

    dec = _places_of(sc.precision)

    def amounts(key: str, values: list[Any], kind: str = "amount") -> _Column:
        return _Column(key, h(key), values, kind, decimals=dec)

    def costs(key: str, values: list[Any]) -> _Column:
        places = max((_places_of(v) for v in values if isinstance(v, Decimal)), default=0)
        return _Column(key, h(key), values, "amount", decimals=min(places, 6))

    # summary
    srows = _summary_rows(plan, lang)
    summary = _Sheet(
        "summary",
        [
            _Column("key", h("key"), [r[0] for r in srows], excel=False),
            _Column("label", h("item"), [h(r[0]) for r in srows]),
            _Column(
                "value", h("value"), [r[1] for r in srows], kinds=[r[2] for r in srows], width_cap=90, decimals=dec
            ),
        ],
    )

    # lines
    recs = records(plan.lines)
    explain_lines = plan.explain.lines if plan.explain is not None and not plan.explain.lines.empty else None
    line_cols = [
        _Column("locality", h("locality"), [r["locality"] for r in recs]),
        _Column("name", h("name"), [names.get(r["locality"], r["locality"]) for r in recs]),
        _Column("program", h("program"), [r["program"] for r in recs]),
        _Column("fund", h("fund"), [r["fund"] for r in recs]),
        _Column("component", h("component"), [r["component"] or None for r in recs]),
    ]
    for key in LINE_AMOUNT_COLUMNS:
        line_cols.append(amounts(key, [r[key] for r in recs], "signed" if key == "change" else "amount"))
    if explain_lines is not None:
        line_cols.append(_Column("reason", h("reason"), explain_lines["reason"].tolist()))
        line_cols.append(_Column("text", h("text"), explain_lines["text"].tolist(), width_cap=100))

    # transfers
    trecs = records(plan.transfers)
    t_cols: list[_Column] = []
    for side in ("from", "to"):
        for key in LINE_KEYS:
            t_cols.append(_Column(f"{side}_{key}", f"{h(side)}: {h(key)}", [r[f"{side}_{key}"] or None for r in trecs]))
            if key == "locality":
                t_cols.append(
                    _Column(
                        f"{side}_name",
                        f"{h(side)}: {h('name')}",
                        [names.get(r[f"{side}_locality"], r[f"{side}_locality"]) for r in trecs],
                    )
                )
    t_cols += [
        amounts("amount", [r["amount"] for r in trecs]),
        costs("unit_cost", [r["unit_cost"] for r in trecs]),
        costs("cost", [r["cost"] for r in trecs]),
        _Column("approval", h("approval"), [h(r["approval"]) for r in trecs]),
    ]

    # lapse by pool
    pools: dict[tuple[str, ...], dict[str, Decimal]] = {}
    zero = Decimal(0)
    if recs:
        for pool_key in sc.table.pool_keys:
            pools[tuple(pool_key)] = {}
        for r in recs:
            agg = pools.setdefault(tuple(r[a] for a in sc.rules.pool_by), {})
            for c in ("allocated", "surplus", "room"):
                agg[c] = agg.get(c, zero) + r[c]
            agg["moved"] = agg.get("moved", zero) + max(r["change"], zero)
            agg["lapse_before"] = agg.get("lapse_before", zero) + r["allocated"] - r["absorbable_before"]
            agg["lapse_after"] = agg.get("lapse_after", zero) + r["final"] - r["absorbable_after"]
    lapse = plan.explain.lapse if plan.explain is not None and not plan.explain.lapse.empty else None
    split: dict[str, dict[str, Any]] = {}
    if lapse is not None:
        for r in records(lapse):
            s = split.setdefault(r["pool"], {"no_room": zero, "blocked": zero, "blocked_by": []})
            s["no_room"] += r["no_room"]
            s["blocked"] += r["blocked"]
            for b in (x.strip() for x in str(r["blocked_by"]).split(",")):
                if b and b not in s["blocked_by"]:
                    s["blocked_by"].append(b)
    labels = [_pool_label(k) for k in pools]
    p_cols = [_Column("pool", h("pool"), labels)]
    for key in ("allocated", "surplus", "room", "moved", "lapse_before", "lapse_after"):
        p_cols.append(amounts(key, [a.get(key, zero) for a in pools.values()]))
    if plan.explain is not None and plan.found:
        p_cols.append(amounts("no_room", [split.get(x, {}).get("no_room", zero) for x in labels]))
        p_cols.append(amounts("blocked", [split.get(x, {}).get("blocked", zero) for x in labels]))
        p_cols.append(
            _Column(
                "blocked_by",
                h("blocked_by"),
                [", ".join(split.get(x, {}).get("blocked_by", [])) or None for x in labels],
            )
        )
    sheets = [
        summary,
        _Sheet("lines", line_cols),
        _Sheet("transfers", t_cols),
        _Sheet("lapse", p_cols),
    ]
    if lapse is not None:
        lrecs = records(lapse)
        sheets.append(
            _Sheet(
                "lapse_by_locality",
                [
                    _Column("pool", h("pool"), [r["pool"] for r in lrecs]),
                    _Column("locality", h("locality"), [r["locality"] for r in lrecs]),
                    _Column("name", h("name"), [r["name"] for r in lrecs]),
                    amounts("lapse", [r["lapse"] for r in lrecs]),
                    amounts("no_room", [r["no_room"] for r in lrecs]),
                    amounts("blocked", [r["blocked"] for r in lrecs]),
                    _Column("blocked_by", h("blocked_by"), [r["blocked_by"] or None for r in lrecs]),
                ],
            )
        )
    return sheets


def _text_amounts(sheets: list[_Sheet]) -> int:
    return sum(
        1
        for s in sheets
        for c in s.columns
        if c.excel
        for v in c.values
        if isinstance(v, Decimal) and not _exact_in_excel(v)
    )


def write_excel(plan: Plan, path: str | Path, lang: str = "en") -> Path:
    """Write ``plan`` as an Excel workbook and return the path.

    Sheets: ``summary`` (label, value; rates in percent format), ``lines`` (before and after,
    with the reason and its explanation when the plan has one), ``transfers`` (with the approval
    each needs), ``lapse`` (by pool: allocated, surplus, room, moved, lapse before and after,
    and what still lapses split into no room / blocked), and ``lapse_by_locality`` when money
    still lapses (from the plan's explanation). Headers are in ``lang`` and frozen; amounts are numbers with thousands
    separators and the scenario's decimals. An amount with more than 15 significant digits
    (beyond Excel's precision) is written as text, digit for digit, and the summary says how
    many. A plan without a solution (infeasible, error) gets its status, message and diagnosis.
    """
    p = Path(path)
    sheets = _plan_sheets(plan, lang)
    n_text = _text_amounts(sheets)
    if n_text:
        summary = sheets[0]
        note = _pair(
            f"{n_text} amounts have more than 15 significant digits: written as text to stay exact "
            "(Excel's SUM skips text).",
            f"{n_text} số tiền có hơn 15 chữ số có nghĩa: ghi dạng văn bản để giữ chính xác (hàm SUM của Excel "
            "bỏ qua văn bản).",
            lang,
        )
        summary.columns[0].values.append("note")
        summary.columns[1].values.append(_label("note", lang))
        summary.columns[2].values.append(note)
        assert summary.columns[2].kinds is not None
        summary.columns[2].kinds.append("text")
    _write_workbook(sheets, p)
    return p


def write_csv(plan: Plan, folder: str | Path, lang: str = "en") -> Path:
    """Write ``plan`` as CSV files in ``folder`` (created if needed) and return it: summary.csv
    (key, label, value), lines.csv, transfers.csv, lapse.csv (by pool) and, when money still
    lapses, lapse_by_locality.csv. UTF-8 with a byte-order mark, so Excel shows Vietnamese names;
    headers in ``lang``; amounts as exact decimal text (no thousands separators); rates as
    fractions."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for sheet in _plan_sheets(plan, lang):
        _write_csv_file(sheet, out / f"{sheet.name}.csv")
    return out
