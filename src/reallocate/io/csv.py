"""Folders of CSV files (UTF-8 with BOM, for Excel): scenarios in (``read_csv_folder``), plans
and scenarios out (``write_csv``, ``write_scenario_csv``)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import limits
from ..plan import Plan
from ..scenario import Limit, Scenario
from .atomic import atomic_folder
from .cells import _Cell, _CellError, _Places, _plain, _Problems, _Table, _table
from .layout import _TABLES
from .sheets import _percent_text, _plan_sheets, _scenario_sheets, _Sheet
from .tables import _build

if TYPE_CHECKING:
    from ..uncertainty.risk import Risk


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise _CellError(
            f"{name}:{line}: not UTF-8 text; save it as 'CSV UTF-8 (comma delimited)' so Vietnamese letters survive"
        ) from None


def _csv_rows(text: str, name: str) -> list[tuple[int, list[_Cell]]]:
    """The rows of a CSV file with the line each starts on; a field past the limit is refused."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    delimiter = max((",", ";", "\t"), key=first.count) if first else ","
    limit = limits.current().max_csv_field
    if csv.field_size_limit() != limit:  # the csv module's limit is process-wide, as ours is
        csv.field_size_limit(limit)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out = []
    start = 1
    try:
        for values in reader:
            out.append((start, [_Cell(_unquote(v) if v.strip() else None) for v in values]))
            start = reader.line_num + 1
    except csv.Error as exc:
        why = f"a field is longer than {limit:,} characters" if "field limit" in str(exc) else str(exc)
        raise _CellError(f"{name}:{start}: {why}") from None
    return out


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
            rows = _csv_rows(_decode(f.read_bytes(), f.name), f.name)
        except _CellError as bad:
            problems.items.append(
                {
                    "loc": (name,),
                    "msg": str(bad).split(": ", 1)[1],
                    "type": "not_utf8" if "UTF-8" in str(bad) else "unreadable_csv",
                    "cell": str(bad).split(": ", 1)[0],
                    "table": name,
                    "row": None,
                    "column": None,
                }
            )
            continue
        table = _table(name, f.name, rows, problems)
        tables[name] = table
        places.tables[name] = table
    if problems.items:
        problems.raise_if_any()
    return _build(tables, places, problems, folder.resolve().name, typed=False)


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
    text = str(value)
    if text[:1] in _FORMULA_START and not _is_number(text):
        # a name such as "=HYPERLINK(...)" or "@SUM(1+1)" would be a live formula when Excel opens
        # the file: written with a leading apostrophe (OWASP, CSV injection), read back without it
        return "'" + text
    return text


#: what makes Excel read a text cell as a formula
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def _unquote(value: str) -> str:
    """The text a cell written by ``_csv_text`` stands for."""
    if value[:1] == "'" and value[1:2] in _FORMULA_START:
        return value[1:]
    return value


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
def write_scenario_csv(scenario: Scenario, folder: str | Path) -> Path:
    """Write ``scenario`` as CSV files (UTF-8 with a BOM) in ``folder``: lines.csv, rules.csv,
    scenario.csv, and localities.csv / transfer_costs.csv when it has them.
    :func:`read_csv_folder` reads them back equal (text tags that look like numbers or TRUE/FALSE
    come back as numbers or booleans)."""
    out = Path(folder)
    with atomic_folder(out, (".csv",)) as tmp:
        _write_scenario_files(scenario, tmp)
    return out


def _write_scenario_files(scenario: Scenario, out: Path) -> None:
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


# ------------------------------------------------------------------------------ plan writing
def write_csv(plan: Plan, folder: str | Path, lang: str = "en", risk: Risk | None = None) -> Path:
    """Write ``plan`` as CSV files in ``folder`` (created if needed) and return it: summary.csv
    (key, label, value), lines.csv, transfers.csv, lapse.csv (by pool) and, when money still
    lapses, lapse_by_locality.csv. UTF-8 with a byte-order mark, so Excel shows Vietnamese names;
    headers in ``lang``; amounts as exact decimal text (no thousands separators); rates as
    fractions. A plan made for a capacity forecast adds risk.csv (its basis; with ``risk`` the
    figures over the simulated years) and, with ``risk``, risk_lines.csv (each line's expected
    lapse), as in :func:`reallocate.io.write_excel`."""
    out = Path(folder)
    sheets = _plan_sheets(plan, lang, risk)
    with atomic_folder(out, (".csv",)) as tmp:  # replaced whole: no file of an earlier plan stays beside these
        for sheet in sheets:
            _write_csv_file(sheet, tmp / f"{sheet.name}.csv")
    return out
