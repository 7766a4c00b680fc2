"""Reading cells: one table of a workbook or CSV file, each value read exactly and every problem
placed at its cell (``lines!G7``, ``lines.csv:7``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import ScenarioError, format_location
from .layout import (
    _CANONICAL_INT,
    _EXACT_INT,
    _EXCEL_ERRORS,
    _FALSE,
    _GROUPED,
    _KNOWN_COLUMNS,
    _NUMBER,
    _TABLES,
    _TRUE,
    EXCEL_DIGITS,
)


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

    def messages_in(self, lang: str) -> list[str]:
        from ..messages import translate

        out = []
        for err in self.errors:
            where = err.get("cell") or format_location(err.get("loc", ()))
            out.append(f"{where}: {translate(str(err.get('msg', 'invalid')), lang)}")
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


def _file_problem(name: str, msg: str, kind: str = "unknown_format") -> dict[str, Any]:
    return {"loc": (), "msg": msg, "type": kind, "cell": name, "table": None, "row": None, "column": None}


# ----------------------------------------------------------------------------- sheet writing
