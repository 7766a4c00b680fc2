"""``History``: monthly cumulative disbursement per line, past years and the current one.

A long table, one row per line and report month::

    locality, program, fund, component, budget_year, year, month, disbursed, allocated

``disbursed`` is cumulative: what the line has paid out of ``budget_year``'s capital by the end
of ``year``-``month``; ``allocated`` is the line's plan for ``budget_year`` at that month. A budget
year's capital may be disbursed until the deadline (31 January of the next year), so its reports
run from January of ``budget_year`` to January (or the deadline) of the next calendar year:
``budget_year`` says which year's capital a report is about and may be left out when it is
``year`` (the reports after December carry ``year = budget_year + 1``). ``component`` may be left
out (empty).

Readers (:func:`load_history`) take JSON (a list of rows, or ``{"unit", "precision", "rows"}``),
CSV, Excel (.xlsx: the sheet ``history``, else the first) and Parquet. Every row is validated by
pydantic (:class:`HistoryRow`; a clean CSV, Parquet file or pandas table is read a whole column at
a time instead, and any cell that is not plainly valid sends it back to the rows' model), then the
table as a whole with numpy: amounts exact multiples of
``precision``, no line reported twice for one month, cumulative disbursement never decreasing,
never more disbursed than allocated. Every problem is reported at once with its path
(``rows[12].disbursed``) and value, as a :class:`~reallocate.ScenarioError` titled "invalid
history"; nothing is clamped or fixed silently. Inside, amounts are int64 whole units of
``precision``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ..errors import ScenarioError
from ..rules import LINE_KEYS, Amount
from ..text import IdText

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HISTORY_COLUMNS", "History", "HistoryRow", "line_name", "load_history"]

Key = tuple[str, str, str, str]

#: the columns of a history table, in order
HISTORY_COLUMNS: tuple[str, ...] = (*LINE_KEYS, "budget_year", "year", "month", "disbursed", "allocated")
_TITLE = "invalid history"
#: problems listed before the rest are summed up
_MAX_PROBLEMS = 200
_MAX_UNITS = 2**62


class HistoryRow(BaseModel):
    """One report: a line's cumulative disbursement of ``budget_year``'s capital at ``year``-``month``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    locality: IdText = Field(min_length=1, pattern=r"\S")
    program: IdText = Field(min_length=1, pattern=r"\S")
    fund: IdText = Field(min_length=1, pattern=r"\S")
    component: IdText = Field(default="")
    budget_year: int | None = Field(default=None, ge=1900, le=2200, description="Year of the capital; default: year.")
    year: int = Field(ge=1900, le=2200, description="Calendar year of the report.")
    month: int = Field(ge=1, le=12, description="Calendar month of the report (1-12).")
    disbursed: Amount = Field(description="Cumulative disbursement of the budget year's capital by the month's end.")
    allocated: Amount = Field(description="The line's allocation for the budget year at that month.")


_ROWS: TypeAdapter[list[HistoryRow]] = TypeAdapter(list[HistoryRow])


def line_name(key: Sequence[str]) -> str:
    """A line as people write it: ``locality/program/fund`` (``/component`` when it has one)."""
    return "/".join(k for k in key[:3]) + (f"/{key[3]}" if len(key) > 3 and key[3] else "")


def _problem(loc: tuple[str | int, ...], msg: str, value: Any, kind: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "input": value, "type": kind}


class History:
    """A validated disbursement history: columns of one row per (line, budget year, report month).

    ``keys`` are the distinct lines (locality, program, fund, component); ``line`` the row's
    position in ``keys``; ``budget_year``, ``year``, ``month`` int arrays; ``disbursed`` and
    ``allocated`` int64 whole units of ``precision``. ``period`` is the report's month counted from
    the budget year's start (January = 1, January of the next year = 13).
    Build one with :func:`load_history`, :meth:`from_rows`, :meth:`from_frame` or, for arrays
    already in units, :meth:`from_arrays`.
    """

    def __init__(
        self,
        keys: Sequence[Key],
        line: np.ndarray,
        budget_year: np.ndarray,
        year: np.ndarray,
        month: np.ndarray,
        disbursed: np.ndarray,
        allocated: np.ndarray,
        *,
        unit: str = "million VND",
        precision: Decimal = Decimal(1),
        name: str = "history",
    ) -> None:
        self.keys: list[Key] = [tuple(k) for k in keys]  # type: ignore[misc]
        self.line = np.asarray(line, dtype=np.int64)
        self.budget_year = np.asarray(budget_year, dtype=np.int64)
        self.year = np.asarray(year, dtype=np.int64)
        self.month = np.asarray(month, dtype=np.int64)
        self.disbursed = np.asarray(disbursed, dtype=np.int64)
        self.allocated = np.asarray(allocated, dtype=np.int64)
        self.unit = unit
        self.precision = Decimal(precision)
        self.name = name
        problems = self._check()
        if problems:
            raise ScenarioError(problems[:_MAX_PROBLEMS], title=_TITLE)

    # ------------------------------------------------------------------ building
    @classmethod
    def from_arrays(
        cls,
        keys: Sequence[Key],
        line: np.ndarray,
        budget_year: np.ndarray,
        year: np.ndarray,
        month: np.ndarray,
        disbursed: np.ndarray,
        allocated: np.ndarray,
        *,
        unit: str = "million VND",
        precision: Decimal | str | int = 1,
    ) -> History:
        """A history from arrays already in whole units of ``precision`` (checked as any other)."""
        return cls(
            keys, line, budget_year, year, month, disbursed, allocated, unit=unit, precision=Decimal(str(precision))
        )

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[Mapping[str, Any]],
        *,
        unit: str = "million VND",
        precision: Decimal | str | int = 1,
        name: str = "history",
    ) -> History:
        """A history from rows of :data:`HISTORY_COLUMNS` (dicts), each validated by pydantic."""
        prec = _precision(precision)
        raw = list(rows)
        problems: list[dict[str, Any]] = []
        try:
            typed: list[HistoryRow | None] = list(_ROWS.validate_python(raw))
        except ValidationError as exc:
            bad = set()
            for e in exc.errors(include_url=False):
                problems.append(_problem(("rows", *e["loc"]), e["msg"], e.get("input"), e["type"]))
                if e["loc"] and isinstance(e["loc"][0], int):
                    bad.add(e["loc"][0])
            # the other rows are still checked as a table: every problem is reported at once
            typed = [None if i in bad else HistoryRow.model_validate(r) for i, r in enumerate(raw)]
        where: dict[Key, int] = {}
        keep: list[int] = []
        values: dict[str, list[int]] = {
            c: [] for c in ("line", "budget_year", "year", "month", "disbursed", "allocated")
        }
        for i, r in enumerate(typed):
            if r is None:
                continue
            units: dict[str, int] = {}
            for f in ("disbursed", "allocated"):
                amount: Decimal = getattr(r, f)
                u = amount / prec
                if u != u.to_integral_value() or u >= _MAX_UNITS:
                    problems.append(
                        _problem(("rows", i, f), f"not a multiple of the precision {prec}", amount, "precision")
                    )
                else:
                    units[f] = int(u)
            if len(units) < 2:
                continue
            keep.append(i)
            values["line"].append(where.setdefault((r.locality, r.program, r.fund, r.component), len(where)))
            values["year"].append(r.year)
            values["budget_year"].append(r.year if r.budget_year is None else r.budget_year)
            values["month"].append(r.month)
            values["disbursed"].append(units["disbursed"])
            values["allocated"].append(units["allocated"])
        cols = {c: np.asarray(v, dtype=np.int64) for c, v in values.items()}
        if problems:
            part = object.__new__(cls)
            part.keys, part.precision = list(where), prec
            for c, v in cols.items():
                setattr(part, c, v)
            problems += _table_problems(part, np.asarray(keep, dtype=np.int64))
            raise ScenarioError(_by_row(problems)[:_MAX_PROBLEMS], title=_TITLE)
        return cls(list(where), **cols, unit=unit, precision=prec, name=name)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        unit: str = "million VND",
        precision: Decimal | str | int = 1,
        name: str = "history",
    ) -> History:
        """A history from a pandas table of :data:`HISTORY_COLUMNS` (``component`` and
        ``budget_year`` may be absent or empty)."""
        prec = _precision(precision)
        fast = _fast_columns(frame, prec)
        if fast is not None:
            keys, columns = fast
            return cls(keys, **columns, unit=unit, precision=prec, name=name)
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        return cls.from_rows(_rows_of(records), unit=unit, precision=prec, name=name)

    # ------------------------------------------------------------------ checks
    def _check(self) -> list[dict[str, Any]]:
        n = self.line.shape[0]
        arrays = (self.budget_year, self.year, self.month, self.disbursed, self.allocated)
        if any(a.shape != (n,) for a in arrays):
            raise ValueError("every column of a history needs one value per row")
        if n and (self.line.min() < 0 or self.line.max() >= len(self.keys)):
            raise ValueError("line positions must index keys")
        return _table_problems(self, np.arange(n))

    # ------------------------------------------------------------------ views
    @property
    def period(self) -> np.ndarray:
        """The report's month counted from the budget year's start (January of the next year: 13)."""
        return (self.year - self.budget_year) * 12 + self.month

    @property
    def n_rows(self) -> int:
        return int(self.line.shape[0])

    @property
    def budget_years(self) -> list[int]:
        return sorted({int(y) for y in np.unique(self.budget_year)})

    def cube(self, years: Sequence[int], periods: int) -> tuple[np.ndarray, np.ndarray]:
        """Dense ``(lines, len(years), periods)`` arrays of disbursed and allocated units for
        report months 1..``periods``; -1 where no report was given."""
        ys = np.asarray(sorted(years), dtype=np.int64)
        if list(ys) != list(years):
            raise ValueError("years must be sorted")
        if len(ys) == 0:
            ycol = np.full_like(self.budget_year, -1)
        else:
            at = np.minimum(np.searchsorted(ys, self.budget_year), len(ys) - 1)
            ycol = np.where(ys[at] == self.budget_year, at, -1)
        p = self.period
        keep = (ycol >= 0) & (p <= periods)
        d = np.full((len(self.keys), len(years), periods), -1, dtype=np.int64)
        a = np.full_like(d, -1)
        d[self.line[keep], ycol[keep], p[keep] - 1] = self.disbursed[keep]
        a[self.line[keep], ycol[keep], p[keep] - 1] = self.allocated[keep]
        return d, a

    def to_frame(self) -> pd.DataFrame:
        """The history as a long table (amounts as exact decimals in ``unit``)."""
        import pandas as pd

        from ..lines import decimals

        keys = np.array(self.keys, dtype=object).reshape(-1, 4)
        data: dict[str, Any] = {k: keys[self.line, j] for j, k in enumerate(LINE_KEYS)}
        data.update(budget_year=self.budget_year, year=self.year, month=self.month)
        data["disbursed"] = decimals(self.disbursed, self.precision)
        data["allocated"] = decimals(self.allocated, self.precision)
        return pd.DataFrame(data)

    def csv_text(self) -> str:
        """The history as CSV text (what :func:`load_history` reads back equal)."""
        from ..lines import fmt

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(HISTORY_COLUMNS)
        p = self.precision
        order = np.lexsort((self.period, self.budget_year, self.line))
        for i in order.tolist():
            k = self.keys[int(self.line[i])]
            w.writerow(
                [
                    *k,
                    int(self.budget_year[i]),
                    int(self.year[i]),
                    int(self.month[i]),
                    fmt(p * int(self.disbursed[i])),
                    fmt(p * int(self.allocated[i])),
                ]
            )
        return buf.getvalue()

    def __repr__(self) -> str:
        years = self.budget_years
        span = f"{years[0]}-{years[-1]}" if years else "no years"
        return f"History({len(self.keys)} lines, {self.n_rows} rows, {span}, unit={self.unit!r})"


def _value(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def _precision(precision: Decimal | str | int) -> Decimal:
    try:
        prec = Decimal(str(precision))
    except InvalidOperation:
        prec = Decimal("NaN")
    if not prec.is_finite() or prec <= 0:
        raise ScenarioError(
            [_problem(("precision",), "the precision must be a positive number", precision, "precision")]
        )
    return prec


def _rows_of(records: Iterable[Mapping[Any, Any]]) -> list[dict[str, Any]]:
    """Rows as the model reads them: blank cells are absent, floats of whole numbers are ints."""
    out = []
    for r in records:
        row: dict[str, Any] = {}
        for k, v in r.items():
            name = str(k).strip().lower()
            if v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and v != v):
                if name == "component":
                    row[name] = ""
                continue
            if name in ("budget_year", "year", "month") and isinstance(v, float) and v.is_integer():
                v = int(v)
            if name in ("budget_year", "year", "month") and isinstance(v, str):
                v = v.strip()
            row[name] = v
        out.append(row)
    return out


def _table_problems(h: History, rowpos: np.ndarray) -> list[dict[str, Any]]:
    """The problems of the table as a whole (row ``i`` of ``h`` is ``rows[rowpos[i]]`` of the input)."""
    out: list[dict[str, Any]] = []
    n = h.line.shape[0]

    def add(rows: np.ndarray, field: str, msg: str, kind: str, values: np.ndarray) -> None:
        for i in rows[: max(0, _MAX_PROBLEMS - len(out))].tolist():
            out.append(_problem(("rows", int(rowpos[i]), field), msg, _value(values[i]), kind))

    if n == 0:
        return [_problem(("rows",), "the history has no rows", None, "history_empty")] if rowpos.shape[0] == 0 else []
    add(np.flatnonzero((h.month < 1) | (h.month > 12)), "month", "the month must be 1 to 12", "month", h.month)
    gap = h.year - h.budget_year
    add(
        np.flatnonzero((gap < 0) | (gap > 1)),
        "year",
        "a report is in its budget year or the next calendar year",
        "report_year",
        h.year,
    )
    for name, arr in (("disbursed", h.disbursed), ("allocated", h.allocated)):
        add(np.flatnonzero((arr < 0) | (arr >= _MAX_UNITS)), name, "must be an amount of 0 or more", "amount", arr)
    add(
        np.flatnonzero(h.disbursed > h.allocated),
        "disbursed",
        "more disbursed than allocated",
        "disbursed_above_allocated",
        h.disbursed,
    )
    # one row per (line, budget year, report month), in time order within each line-year
    period = h.period
    order = np.lexsort((period, h.budget_year, h.line))
    same = (np.diff(h.line[order]) == 0) & (np.diff(h.budget_year[order]) == 0)
    dup = same & (np.diff(period[order]) == 0)
    for k in np.flatnonzero(dup)[: max(0, _MAX_PROBLEMS - len(out))].tolist():
        first, again = sorted((int(order[k]), int(order[k + 1])), key=lambda i: int(rowpos[i]))
        out.append(
            _problem(
                ("rows", int(rowpos[again])),
                f"line {line_name(h.keys[int(h.line[again])])} is reported twice for "
                f"{int(h.year[again])}-{int(h.month[again]):02d} (also rows[{int(rowpos[first])}])",
                None,
                "duplicate_report",
            )
        )
    down = same & ~dup & (np.diff(h.disbursed[order]) < 0)
    for k in np.flatnonzero(down)[: max(0, _MAX_PROBLEMS - len(out))].tolist():
        before, i = int(order[k]), int(order[k + 1])
        out.append(
            _problem(
                ("rows", int(rowpos[i]), "disbursed"),
                f"cumulative disbursement falls below {h.precision * int(h.disbursed[before])} "
                f"reported for an earlier month (rows[{int(rowpos[before])}])",
                h.precision * int(h.disbursed[i]),
                "disbursed_decreases",
            )
        )
    return _by_row(out)


def _by_row(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(problems, key=lambda e: e["loc"][1] if len(e["loc"]) > 1 and isinstance(e["loc"][1], int) else -1)


# ------------------------------------------------------------------------------ fast columns
_INT_TEXT = r"[+-]?\d{1,9}"
_UNITS_TEXT = r"\d{1,18}"


def _fast_columns(frame: pd.DataFrame, precision: Decimal) -> tuple[list[Key], dict[str, np.ndarray]] | None:
    """The columns of a clean table read a whole column at a time (no Python object per row):
    known columns only, ids that need no normalising, whole numbers, amounts that are whole
    multiples of a whole-number precision. Anything else returns None, and the rows go through
    :class:`HistoryRow` one by one, which names each problem."""
    import pandas as pd

    from ..lines import combine_codes
    from ..text import id_problem, normal_id

    names = [str(c).strip().lower() for c in frame.columns]
    required = {"locality", "program", "fund", "year", "month", "disbursed", "allocated"}
    if len(set(names)) != len(names) or not required <= set(names) or not set(names) <= set(HISTORY_COLUMNS):
        return None
    if precision != precision.to_integral_value() or precision >= 2**62:
        return None
    f = frame.set_axis(names, axis=1)
    n = len(f)
    codes, uniques = [], []
    for k in LINE_KEYS:
        col = f[k] if k in f else pd.Series([""] * n, dtype=object)
        code, values = pd.factorize(col, use_na_sentinel=True)
        if np.any(code < 0):
            return None
        for v in values:
            if not isinstance(v, str) or normal_id(v) != v or id_problem(v) is not None or (k != "component" and not v):
                return None
        codes.append(code.astype(np.int64))
        uniques.append(list(values))
    combined = combine_codes(codes, [len(u) for u in uniques])
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # lines in order of first appearance, as the rows give them
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    line = rank[inverse.reshape(-1)]
    first = first[order]
    keys: list[Key] = [tuple(uniques[j][int(codes[j][i])] for j in range(4)) for i in first.tolist()]  # type: ignore[misc]
    out: dict[str, np.ndarray] = {"line": line.reshape(-1).astype(np.int64)}
    for name, pattern in (
        ("year", _INT_TEXT),
        ("month", _INT_TEXT),
        ("disbursed", _UNITS_TEXT),
        ("allocated", _UNITS_TEXT),
    ):
        got = _whole(f[name], pattern)
        if got is None:
            return None
        out[name] = got
    if "budget_year" in f:
        col = f["budget_year"]
        blank = col.isna() | (col.astype(str).str.strip() == "") if col.dtype == object else col.isna()
        filled = col.where(~blank, f["year"])
        got = _whole(filled, _INT_TEXT)
        if got is None:
            return None
        out["budget_year"] = got
    else:
        out["budget_year"] = out["year"]
    p = int(precision)
    for name in ("disbursed", "allocated"):
        if np.any(out[name] < 0):
            return None
        if p != 1:
            if np.any(out[name] % p):
                return None
            out[name] = out[name] // p
    if np.any((out["month"] < 1) | (out["month"] > 12)) or np.any((out["year"] < 1900) | (out["year"] > 2200)):
        return None  # pydantic's own messages name these
    return keys, out


def _whole(col: pd.Series, pattern: str) -> np.ndarray | None:
    """A column of whole numbers as int64, or None when any cell is not one."""
    if col.dtype.kind in "iu":
        values = col.to_numpy()
        return values.astype(np.int64) if values.size == 0 or values.max() < 2**62 else None
    if col.dtype.kind == "b":
        return None
    if col.dtype.kind == "f":
        values = col.to_numpy()
        ok = np.isfinite(values) & (values == np.floor(values)) & (np.abs(values) < 2**53)
        return values.astype(np.int64) if ok.all() else None
    text = col.astype(str).str.strip()
    if not text.str.fullmatch(pattern).all():
        return None
    return text.astype(np.int64).to_numpy()


# ---------------------------------------------------------------------------------- readers
def load_history(
    source: str | Path | pd.DataFrame,
    *,
    unit: str | None = None,
    precision: Decimal | str | int | None = None,
) -> History:
    """Read a history from a JSON, CSV, Excel (.xlsx) or Parquet file, or a pandas table.

    JSON may carry ``unit`` and ``precision`` beside its ``rows``; for the other formats (and to
    override) pass them here (default: million VND, precision 1)."""
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        return History.from_frame(source, unit=unit or "million VND", precision=precision or 1)
    path = Path(source)
    suffix = path.suffix.lower()
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    name = path.stem
    if suffix == ".json":
        from .._decode import JSONError, parse_json

        try:
            doc = parse_json(path.read_bytes())
        except JSONError as exc:
            raise ScenarioError([_problem((), str(exc), None, "json_invalid")], title=_TITLE) from None
        if isinstance(doc, dict):
            extra = sorted(set(doc) - {"name", "unit", "precision", "rows"})
            if extra:
                raise ScenarioError(
                    [_problem((k,), "Extra inputs are not permitted", None, "extra_forbidden") for k in extra],
                    title=_TITLE,
                )
            unit = unit or doc.get("unit")
            precision = precision or doc.get("precision")
            rows = doc.get("rows")
        else:
            rows = doc
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ScenarioError(
                [_problem(("rows",), "give a list of rows, one object per line and month", None, "rows_type")],
                title=_TITLE,
            )
        return History.from_rows(rows, unit=unit or "million VND", precision=precision or 1, name=name)
    if suffix == ".csv":
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ScenarioError(
                [
                    _problem(
                        (),
                        "not UTF-8 text; save it as 'CSV UTF-8 (comma delimited)' so Vietnamese letters survive",
                        None,
                        "not_utf8",
                    )
                ],
                title=_TITLE,
            ) from None
        first = next((ln for ln in text.splitlines() if ln.strip()), "")
        delimiter = max((",", ";", "\t"), key=first.count) if first else ","
        try:
            # ids as text; numbers parsed by pandas' C reader (a column it cannot read as numbers
            # stays text, and the rows then go one by one through the model, which names the cell)
            header = next(csv.reader([first], delimiter=delimiter))
            ids = {h: str for h in header if h.strip().lower() in LINE_KEYS}
            frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=ids, keep_default_na=False)
        except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
            frame = None
        if frame is not None and _fast_columns(frame, _precision(precision or 1)) is not None:
            return History.from_frame(frame, unit=unit or "million VND", precision=precision or 1, name=name)
        records = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))
        return History.from_rows(_rows_of(records), unit=unit or "million VND", precision=precision or 1, name=name)
    if suffix in (".xlsx", ".xlsm"):
        return _read_excel(path, unit, precision)
    if suffix == ".parquet":
        return History.from_frame(
            pd.read_parquet(path), unit=unit or "million VND", precision=precision or 1, name=name
        )
    raise ScenarioError(
        [_problem((), "not a history file; expected .json, .csv, .xlsx or .parquet", path.name, "history_file")],
        title=_TITLE,
    )


def _read_excel(path: Path, unit: str | None, precision: Decimal | str | int | None) -> History:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a broken or foreign file: named, never a traceback
        raise ScenarioError(
            [_problem((), f"not an Excel .xlsx workbook ({type(exc).__name__})", path.name, "xlsx")], title=_TITLE
        ) from None
    try:
        ws = wb["history"] if "history" in wb.sheetnames else wb.worksheets[0]
        values = [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    values = [r for r in values if any(v is not None and str(v).strip() for v in r)]
    if not values:
        raise ScenarioError([_problem(("rows",), "the history has no rows", None, "history_empty")], title=_TITLE)
    header = [str(h).strip().lower() if h is not None else "" for h in values[0]]
    records = [{h: v for h, v in zip(header, r, strict=False) if h} for r in values[1:]]
    return History.from_rows(_rows_of(records), unit=unit or "million VND", precision=precision or 1, name=path.stem)
