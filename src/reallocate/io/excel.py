"""Excel workbooks: scenarios in (``read_excel``), plans and scenarios out (``write_excel``,
``write_scenario_excel``)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import limits
from ..labels import check_lang
from ..plan import Plan
from ..scenario import Scenario
from .atomic import atomic_file
from .cells import ScenarioFileError, _Cell, _file_problem, _header_name, _Places, _Problems, _Table, _table
from .layout import _TABLES, _label, _pair
from .sheets import (
    _amount_format,
    _display_width,
    _exact_in_excel,
    _excel_cell_value,
    _plan_sheets,
    _scenario_sheets,
    _Sheet,
)
from .tables import _build

if TYPE_CHECKING:
    from ..uncertainty.risk import Risk


def _check_archive(p: Path) -> None:
    """Refuse a workbook whose entries would expand past the limits before any is read: a
    compression bomb of a few KB can declare gigabytes. The zip reader never yields more than an
    entry declares, so the declared sizes bound the work."""
    import zipfile

    lim = limits.current()

    def refuse(why: str) -> ScenarioFileError:
        return ScenarioFileError([_file_problem(p.name, why, "workbook_too_large")], p.name)

    try:
        with zipfile.ZipFile(p) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return  # openpyxl says what is wrong with it
    total = 0
    for info in entries:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise refuse(f"entry {info.filename!r} uses a compression Excel never writes (method {info.compress_type})")
        total += info.file_size
        if info.file_size > 1024**2 and info.file_size > lim.max_xlsx_ratio * max(info.compress_size, 1):
            raise refuse(
                f"entry {info.filename!r} would expand {info.file_size / max(info.compress_size, 1):,.0f} times "
                f"(at most {lim.max_xlsx_ratio:,} allowed): not a normal workbook"
            )
    if total > lim.max_xlsx_expanded_bytes:
        raise refuse(
            f"the workbook expands to {total / 1024**2:,.0f} MiB; at most "
            f"{lim.max_xlsx_expanded_bytes / 1024**2:,.0f} MiB are read (reallocate.limits)"
        )


def _bounded_rows(ws: Any, name: str) -> Iterator[tuple[int, Any]]:
    """A sheet's rows, refused past the row and cell limits (counted as read, not as declared)."""
    lim = limits.current()
    cells = 0
    for number, row in enumerate(ws.iter_rows(), start=1):
        cells += len(row)
        if number > lim.max_sheet_rows or cells > lim.max_sheet_cells:
            what = f"{lim.max_sheet_rows:,} rows" if number > lim.max_sheet_rows else f"{lim.max_sheet_cells:,} cells"
            raise ScenarioFileError(
                [
                    _file_problem(
                        name, f"sheet {ws.title!r} has more than {what} (reallocate.limits)", "sheet_too_large"
                    )
                ],
                name,
            )
        yield number, row


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
    if p.is_file():
        _check_archive(p)
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
                for number, cells in _bounded_rows(ws, p.name)
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
    # a column of mixed values (the summary): figures sit next to their labels, texts wrap
    beside = Alignment(horizontal="left", vertical="top", wrap_text=True)
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
                if col.left:
                    cell.alignment = beside
                    if isinstance(cell_value, str) and len(cell_value) > col.width_cap:
                        # spreadsheets do not grow a row for wrapped text they did not lay out
                        lines = -(-len(cell_value) // col.width_cap)
                        ws.row_dimensions[i].height = 15 * lines
                width = max(width, _display_width(value, kind))
            if sheet.list_rows and col.kind in ("amount", "signed") and column_format is None:
                column_format = _amount_format(col.decimals or 0)
            if sheet.list_rows and column_format and col.kind in ("amount", "signed", "number"):
                ws.column_dimensions[letter].number_format = column_format  # cells typed later
            if width > col.width_cap and col.kind == "text" and not col.left:
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
    buffer = io.BytesIO()  # the zip is complete in memory before a byte reaches the disk
    wb.save(buffer)
    with atomic_file(path) as tmp:
        tmp.write_bytes(buffer.getvalue())
    return as_text


def write_scenario_excel(scenario: Scenario, path: str | Path, lang: str = "en") -> Path:
    """Write ``scenario`` as a workbook in the template's layout; :func:`read_excel` reads it back
    equal. Amounts with more than 15 significant digits are written as text, digit for digit."""
    check_lang(lang)
    p = Path(path)
    _write_workbook(_scenario_sheets(scenario, lang), p)
    return p


def _text_amounts(sheets: list[_Sheet]) -> int:
    return sum(
        1
        for s in sheets
        for c in s.columns
        if c.excel
        for v in c.values
        if isinstance(v, Decimal) and not _exact_in_excel(v)
    )


def write_excel(plan: Plan, path: str | Path, lang: str = "en", risk: Risk | None = None) -> Path:
    """Write ``plan`` as an Excel workbook and return the path.

    Sheets: ``summary`` (label, value; rates in percent format), ``lines`` (before and after,
    with the reason and its explanation when the plan has one), ``transfers`` (with the approval
    each needs), ``lapse`` (by pool: allocated, surplus, room, moved, lapse before and after,
    and what still lapses split into no room / blocked), and ``lapse_by_locality`` when money
    still lapses (from the plan's explanation). Headers are in ``lang`` and frozen; amounts are numbers with thousands
    separators and the scenario's decimals. An amount with more than 15 significant digits
    (beyond Excel's precision) is written as text, digit for digit, and the summary says how
    many. A plan without a solution (infeasible, error) gets its status, message and diagnosis.

    A plan made for a capacity forecast (``plan.basis``) says in its summary that its capacities
    are planning capacities (the lines' header says so too), and gets a ``risk`` sheet with the
    objective and its parameters; with ``risk`` (``plan.risk(forecast, ...)``) that sheet has the
    rate and lapse over the simulated years (mean, P10, P50, P90), the probability below the
    target and the VSS when known, and a ``risk_lines`` sheet every line that may lapse with its expected lapse,
    largest first.
    """
    p = Path(path)
    sheets = _plan_sheets(plan, lang, risk)
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
