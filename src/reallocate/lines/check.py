"""Checking lines a whole column at a time.

For each field the set of types present decides the path: a column of plain ints becomes one
int64 array (signs, multiples of precision and size checked with numpy); ids are factorised and
each distinct id is checked once. A row that fails any fast check is re-validated by pydantic's
``Line`` model alone, so its problems read exactly as pydantic's, at the row's path.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import repeat
from typing import Any

import numpy as np
from pydantic import ValidationError
from pydantic_core import InitErrorDetails

from ..rules import AMOUNT_FIELDS, LINE_FLAGS, LINE_KEYS, float_amount
from ..text import id_problem, normal_id
from .model import (
    _EXACT,
    LINE_FIELDS,
    MAX_UNITS,
    Line,
    Lines,
    combine_codes,
    factorize,
    fmt,
    issue,
    to_decimal,
)

__all__ = ["LineColumns", "LinesCheck", "check_lines", "check_relations", "duplicates", "located"]

_OPTIONAL_AMOUNTS = ("floor", "ceiling")
_MISSING: Any = object()


class LineColumns(dict):  # type: ignore[type-arg]
    """Lines given column by column (pandas, Parquet): field name -> sequence of values, all of
    the same length; an absent field is not a key, an empty cell (None, NaN) is "not given".
    ``check_lines`` reads them without building one dict per line."""


@dataclass
class LinesCheck:
    """What checking the lines found: every problem, the lines when there is none, and the lines
    that are valid on their own (with their row positions) for the scenario's cross-table checks."""

    issues: list[InitErrorDetails]
    lines: Lines | None
    #: row position of each line of ``partial``
    positions: np.ndarray
    #: the rows that are valid on their own (None when precision is unusable)
    partial: Lines | None
    n_rows: int
    #: key strings of the rows that are valid on their own (also when precision is unusable)
    key_values: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _Source:
    n: int
    column: Callable[[str], list[Any]]
    row: Callable[[int], Any]
    #: types and defaults already settled by the JSON decoder (msgspec records)
    typed: bool
    #: rows that are not even objects, or name unknown fields
    bad: np.ndarray


def _source(raw: Any) -> _Source | None:
    if isinstance(raw, LineColumns):
        lengths = {len(v) for v in raw.values()}
        n = max(lengths) if lengths else 0
        bad = np.zeros(n, dtype=bool)
        if len(lengths) > 1 or any(c not in LINE_FIELDS for c in raw):
            bad[:] = True  # pydantic names the unknown field (or the missing value) on every row

        def column_of_columns(name: str) -> list[Any]:
            col = raw.get(name)
            if col is None:
                return [_MISSING] * n
            values = col.tolist() if hasattr(col, "tolist") else list(col)
            return [_MISSING if _absent(v) else v for v in values] if _has_absent(values) else values

        def row_of_columns(k: int) -> Any:
            return {name: col[k] for name, col in raw.items() if k < len(col) and not _absent(col[k])}

        return _Source(n, column_of_columns, row_of_columns, False, bad)
    if not isinstance(raw, (list, tuple)):
        return None
    n = len(raw)
    kinds = set(map(type, raw))
    if len(kinds) == 1 and hasattr(next(iter(kinds)), "__struct_fields__"):
        import msgspec

        def column_of_structs(name: str) -> list[Any]:
            return list(map(operator.attrgetter(name), raw))

        def struct_row(k: int) -> Any:
            return msgspec.structs.asdict(raw[k])

        return _Source(n, column_of_structs, struct_row, True, np.zeros(n, dtype=bool))
    rows = [r.__dict__ if isinstance(r, Line) else r for r in raw] if Line in kinds else list(raw)
    bad = np.zeros(n, dtype=bool)
    if kinds - {dict, Line}:
        bad |= np.fromiter((not isinstance(r, dict) for r in rows), dtype=bool, count=n)
        rows = [r if isinstance(r, dict) else {} for r in rows]
    allowed = set(LINE_FIELDS)
    if set().union(*map(dict.keys, rows)) - allowed:
        bad |= np.fromiter((not r.keys() <= allowed for r in rows), dtype=bool, count=n)

    def column_of_dicts(name: str) -> list[Any]:
        return list(map(dict.get, rows, repeat(name), repeat(_MISSING)))

    return _Source(n, column_of_dicts, lambda k: raw[k], False, bad)


def _absent(value: Any) -> bool:
    """An empty cell of a column source (None or NaN) means "not given"."""
    return value is None or value is _MISSING or (type(value) is float and value != value)


def _has_absent(values: list[Any]) -> bool:
    kinds = set(map(type, values))
    return type(None) in kinds or (float in kinds and any(v != v for v in values if type(v) is float))


def _mask(values: list[Any], test: Callable[[Any], bool]) -> np.ndarray:
    return np.fromiter(map(test, values), dtype=bool, count=len(values))


class _Columns:
    """The fields of every row, normalised: ids as str, amounts as int / Decimal / None, flags as
    bool; ``bad`` marks rows a fast check refused (their values are placeholders)."""

    def __init__(self, src: _Source) -> None:
        n = src.n
        self.n = n
        self.bad = src.bad.copy()
        self.keys: dict[str, list[Any]] = {}
        self.amounts: dict[str, list[Any]] = {}
        self.flags: dict[str, np.ndarray] = {}
        typed = src.typed
        for name in LINE_KEYS:
            col = src.column(name)
            if not typed:
                if name == "component":
                    col = ["" if v is _MISSING else v for v in col] if _MISSING in col else col
                if set(map(type, col)) - {str}:
                    wrong = _mask(col, lambda v: type(v) is not str)
                    self.bad |= wrong
                    col = [v if type(v) is str else "" for v in col]
            self.keys[name] = col
        for name in AMOUNT_FIELDS:
            col = src.column(name)
            optional = name in _OPTIONAL_AMOUNTS
            if not typed and _MISSING in col:
                default = None if optional else (0 if name == "disbursed" else _MISSING)
                col = [default if v is _MISSING else v for v in col]
            ok = {int, Decimal, type(None)} if optional else {int, Decimal}
            kinds = set(map(type, col))
            if kinds - ok:
                # floats and numeric strings are read as decimals; anything else is left to pydantic
                col = [_as_decimal(v) for v in col]
                if set(map(type, col)) - ok:
                    self.bad |= _mask(col, lambda v, ok=ok: type(v) not in ok)  # type: ignore[misc]
                    col = [v if type(v) in ok else 0 for v in col]
            self.amounts[name] = col
        for name in LINE_FLAGS:
            col = src.column(name)
            if not typed:
                if _MISSING in col:
                    col = [False if v is _MISSING else v for v in col]
                if set(map(type, col)) - {bool}:
                    col = [v.item() if isinstance(v, np.bool_) else v for v in col]
                    if set(map(type, col)) - {bool}:
                        self.bad |= _mask(col, lambda v: type(v) is not bool)
                        col = [v is True for v in col]
            self.flags[name] = np.array(col, dtype=bool) if n else np.zeros(0, dtype=bool)

    def set_row(self, k: int, line: Line) -> None:
        for name in LINE_KEYS:
            self.keys[name][k] = getattr(line, name)
        for name in AMOUNT_FIELDS:
            self.amounts[name][k] = getattr(line, name)
        for name in LINE_FLAGS:
            self.flags[name][k] = getattr(line, name)


def check_lines(raw: Any, precision: Decimal | None) -> LinesCheck:
    """Check every line. ``raw`` is a list of rows (dicts, ``Line`` models, the JSON decoder's
    records) or ``LineColumns``. ``precision`` None: it is invalid itself, so amounts are checked
    for type and sign only."""
    issues: list[InitErrorDetails] = []
    src = _source(raw)
    if src is None:
        issues.append(issue(("lines",), "list_type", "Input should be a valid list", None))
        return LinesCheck(issues, None, np.zeros(0, dtype=np.int64), None, -1)
    n = src.n
    cols = _Columns(src)

    # ids: each distinct value checked once (a key must have a non-blank character)
    codes: dict[str, np.ndarray] = {}
    cats: dict[str, list[Any]] = {}
    for name in LINE_KEYS:
        codes[name], cats[name] = factorize(cols.keys[name])
        normal = [normal_id(v) for v in cats[name]]
        if normal != cats[name]:
            # one id, however it was typed (NFC, surrounding spaces): the rows hold its normal form
            merged, cats[name] = factorize(normal)
            codes[name] = merged[codes[name]]
            cols.keys[name] = [cats[name][c] for c in codes[name].tolist()]
        refused = np.array([id_problem(v) is not None or (name != "component" and not v) for v in cats[name]])
        if refused.any():
            cols.bad |= refused[codes[name]]  # pydantic names the problem of each such row

    # amounts: whole units, and rows pydantic would refuse (negative, not finite)
    units: dict[str, np.ndarray] = {}
    problem: dict[str, np.ndarray] = {}
    given: dict[str, np.ndarray] = {}
    for name in AMOUNT_FIELDS:
        col = cols.amounts[name]
        u, p, refused, present = _amount_column(col, precision)
        cols.bad |= refused
        units[name], problem[name], given[name] = u, p, present

    # rows refused by a fast check: pydantic says why (or accepts them after all)
    for k in np.flatnonzero(cols.bad).tolist():
        try:
            line = Line.model_validate(src.row(k))
        except ValidationError as exc:
            issues += [located(err, ("lines", k)) for err in exc.errors(include_url=False)]
            continue
        cols.bad[k] = False
        cols.set_row(k, line)
        for name in AMOUNT_FIELDS:
            u, p, _, present = _amount_column([getattr(line, name)], precision)
            units[name][k], problem[name][k], given[name][k] = u[0], p[0], present[0]
        for name in LINE_KEYS:
            codes[name], cats[name] = factorize(cols.keys[name])

    bad = cols.bad
    good = np.flatnonzero(~bad)
    key_values = {name: [cols.keys[name][k] for k in good.tolist()] for name in LINE_KEYS} if bad.any() else {}
    if n == 0:
        issues.append(issue(("lines",), "too_short", "at least one line is required", []))
    if precision is None:
        if not key_values:
            key_values = dict(cols.keys)
        return LinesCheck(issues, None, good, None, n, key_values)

    unusable = np.zeros(n, dtype=bool)
    for name in AMOUNT_FIELDS:
        p = problem[name]
        p[bad] = 0
        col = cols.amounts[name]
        for k in np.flatnonzero(p == 1).tolist():
            issues.append(
                issue(
                    ("lines", k, name),
                    "not_multiple_of_precision",
                    f"{name} {_show(col[k])} is not a multiple of precision {fmt(precision)}"
                    + _grouping_hint(col[k], precision),
                    str(col[k]),
                )
            )
        for k in np.flatnonzero(p == 2).tolist():
            issues.append(
                issue(
                    ("lines", k, name),
                    "amount_too_large",
                    f"{name} {_show(col[k])} is too large: it must stay below 2^62 units of precision "
                    f"{fmt(precision)} (use a larger precision or unit)",
                    str(col[k]),
                )
            )
        unusable |= p > 0
    usable = ~unusable & ~bad
    issues += _relations(units, given, usable, precision, {name: cols.amounts[name] for name in AMOUNT_FIELDS})
    for name in ("allocated", "capacity"):
        if n and int(np.sum(units[name][usable], dtype=object)) >= MAX_UNITS:
            issues.append(_total_too_large(name, precision))
    issues += duplicates({name: codes[name][good] for name in LINE_KEYS}, cats, good)
    flags = cols.flags
    count = flags["frozen"].astype(np.int8) + flags["give_only"] + flags["receive_only"]
    for k in np.flatnonzero((count > 1) & ~bad).tolist():
        on = [f for f in LINE_FLAGS if flags[f][k]]
        issues.append(
            issue(
                ("lines", k, on[1]),
                "conflicting_flags",
                f"a line can be only one of frozen, give_only, receive_only; this one is {' and '.join(on)}",
                True,
            )
        )

    def build(rows_at: np.ndarray | None) -> Lines:
        if rows_at is None:
            c, k_cats, pick = codes, cats, slice(None)
        else:
            c, k_cats = {}, {}
            for name in LINE_KEYS:
                c[name], k_cats[name] = _recode(codes[name][rows_at], cats[name])
            pick = rows_at  # type: ignore[assignment]
        return Lines(
            precision=precision,
            codes=c,
            categories=k_cats,
            allocated=units["allocated"][pick],
            disbursed=units["disbursed"][pick],
            capacity=units["capacity"][pick],
            floor=units["floor"][pick],
            has_floor=given["floor"][pick],
            ceiling=units["ceiling"][pick],
            has_ceiling=given["ceiling"][pick],
            frozen=flags["frozen"][pick],
            give_only=flags["give_only"][pick],
            receive_only=flags["receive_only"][pick],
        )

    if not issues:
        whole = build(None)
        return LinesCheck(issues, whole, np.arange(n), whole, n, {})
    usable_rows = np.flatnonzero(usable)
    return LinesCheck(issues, None, usable_rows, build(usable_rows), n, key_values)


def _recode(codes: np.ndarray, cats: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Codes of a subset of rows, renumbered over the categories they use (first seen first)."""
    used, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    return rank[inverse.reshape(-1)], [cats[int(u)] for u in used[order].tolist()]


def _amount_column(col: list[Any], precision: Decimal | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(whole units, problem code, refused, given) per value. Problem: 0 fine, 1 not a multiple of
    precision, 2 too large. Refused: negative or not finite (pydantic's to report). ``None`` is a
    floor / ceiling not given (0 units, no problem)."""
    n = len(col)
    units = np.zeros(n, dtype=np.int64)
    problem = np.zeros(n, dtype=np.int8)
    refused = np.zeros(n, dtype=bool)
    nones = col.count(None)
    if nones == n:
        return units, problem, refused, np.zeros(n, dtype=bool)
    given = _mask(col, lambda v: v is not None) if nones else np.ones(n, dtype=bool)
    num, den = precision.as_integer_ratio() if precision is not None else (1, 1)
    if not nones and set(map(type, col)) <= {int}:
        try:
            arr = np.array(col, dtype=np.int64)
        except OverflowError:
            arr = None
        if arr is not None and int(arr.max(initial=0)) <= (2**63 - 1) // den:
            refused = arr < 0
            scaled = np.where(refused, 0, arr) * den
            if num == 1:
                whole = scaled
            else:
                problem[scaled % num != 0] = 1
                whole = scaled // num
            problem[(problem == 0) & (whole >= MAX_UNITS)] = 2
            units = np.where(problem == 0, whole, 0)
            return units, problem, refused, given
    p_adjusted = precision.adjusted() if precision is not None else 0
    for k, v in enumerate(col):
        if v is None:
            continue
        if type(v) is int:
            if v < 0:
                refused[k] = True
                continue
            if precision is None:
                continue
            if v * den % num:
                problem[k] = 1
                continue
            u: int = v * den // num
        else:
            if not v.is_finite() or v < 0:
                refused[k] = True
                continue
            if precision is None:
                continue
            # magnitude first: never turn 1e999999999 into an integer
            if v and v.adjusted() - p_adjusted > 19:
                problem[k] = 2
                continue
            q = _EXACT.divide(v, precision)
            if q != q.to_integral_value(context=_EXACT):
                problem[k] = 1
                continue
            u = int(q)
        if u >= MAX_UNITS:
            problem[k] = 2
            continue
        units[k] = u
    return units, problem, refused, given


def _relations(
    units: Mapping[str, np.ndarray],
    given: Mapping[str, np.ndarray],
    usable: np.ndarray,
    precision: Decimal,
    shown: Mapping[str, Sequence[Any]] | None = None,
) -> list[InitErrorDetails]:
    """The rules between a line's amounts (disbursed <= allocated, ...), on whole columns."""
    issues: list[InitErrorDetails] = []
    a, d, c = units["allocated"], units["disbursed"], units["capacity"]

    def relation(mask: np.ndarray, name: str, kind: str, text: str, other: str) -> None:
        for k in np.flatnonzero(mask & usable).tolist():
            v = to_decimal(units[name][k], precision)
            w = to_decimal(units[other][k], precision)
            value = shown[name][k] if shown is not None else v
            issues.append(issue(("lines", k, name), kind, text.format(v=fmt(v), w=fmt(w)), str(value)))

    relation(d > a, "disbursed", "disbursed_above_allocated", "disbursed {v} exceeds allocated {w}", "allocated")
    relation(c < d, "capacity", "capacity_below_disbursed", "capacity {v} is below disbursed {w}", "disbursed")
    relation(
        given["floor"] & (units["floor"] < d),
        "floor",
        "floor_below_disbursed",
        "floor {v} is below disbursed {w}",
        "disbursed",
    )
    relation(
        given["floor"] & (units["floor"] > a),
        "floor",
        "floor_above_allocated",
        "floor {v} exceeds allocated {w}",
        "allocated",
    )
    relation(
        given["ceiling"] & (units["ceiling"] < a),
        "ceiling",
        "ceiling_below_allocated",
        "ceiling {v} is below allocated {w}",
        "allocated",
    )
    return issues


def _total_too_large(name: str, precision: Decimal) -> InitErrorDetails:
    return issue(
        ("lines",),
        "amount_too_large",
        f"total {name} is too large: it must stay below 2^62 units of precision {fmt(precision)} "
        "(use a larger precision or unit)",
        None,
    )


def check_relations(lines: Lines) -> list[InitErrorDetails]:
    """The line rules between amounts, re-checked on columns (after a what-if change)."""
    units = {name: lines.units(name) for name in AMOUNT_FIELDS}
    given = {"floor": lines.has_floor, "ceiling": lines.has_ceiling}
    issues = _relations(units, given, np.ones(len(lines), dtype=bool), lines.precision)
    for name in ("allocated", "capacity"):
        if int(np.sum(units[name], dtype=object)) >= MAX_UNITS:
            issues.append(_total_too_large(name, lines.precision))
    return issues


def duplicates(
    codes: Mapping[str, np.ndarray], cats: Mapping[str, Sequence[str]], positions: np.ndarray
) -> list[InitErrorDetails]:
    """A problem for every line whose key (locality, program, fund, component) an earlier line has."""
    n = positions.shape[0]
    if n < 2:
        return []
    combined = combine_codes([codes[name] for name in LINE_KEYS], [len(cats[name]) for name in LINE_KEYS])
    order = np.argsort(combined, kind="stable")
    sorted_keys = combined[order]
    starts = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    if starts.all():
        return []
    run_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    out = []
    for j in sorted(np.flatnonzero(~starts).tolist(), key=lambda j: int(order[j])):
        k, first = int(order[j]), int(order[run_start[j]])
        key = [cats[name][int(codes[name][k])] for name in LINE_KEYS]
        out.append(
            issue(
                ("lines", int(positions[k])),
                "duplicate_line",
                f"duplicate line {'/'.join(x for x in key if x)}: same (locality, program, fund, component) "
                f"as lines[{int(positions[first])}]",
                None,
            )
        )
    return out


def _as_decimal(value: Any) -> Any:
    """Floats and numeric strings as exact decimals (as pydantic reads them); anything else as is."""
    if type(value) is float:  # as Excel keeps numbers: 0.1 + 0.2 is 0.3 (see rules.float_amount)
        return float_amount(value) if value == value and abs(value) != float("inf") else value
    if type(value) is str:
        try:
            return Decimal(value.strip())
        except (InvalidOperation, ValueError):
            return value
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return _as_decimal(float(value))
    return value


def _grouping_hint(value: Any, precision: Decimal) -> str:
    """'9.900' with whole-unit precision is most likely 9,900 written with the Vietnamese
    thousands dot: say so, as for '9,900'."""
    if type(value) is Decimal and value.as_tuple().exponent == -3 and precision >= 1:
        whole = format(value.scaleb(3).to_integral_value(), "f")
        return (
            f"; if the dot separates thousands ({_show(value)} meaning {whole}), write numbers without "
            "thousands separators, with '.' for decimals"
        )
    return ""


def _show(value: Any) -> str:
    if type(value) is Decimal and abs(value.adjusted()) > 40:
        return format(value, "e")
    return fmt(Decimal(value))


def located(err: Any, prefix: tuple[str | int, ...]) -> InitErrorDetails:
    """A pydantic error of one part, re-raised at the part's path."""
    loc = (*prefix, *err["loc"])
    detail: dict[str, Any] = {"type": err["type"], "loc": loc, "input": err.get("input")}
    if err.get("ctx"):
        detail["ctx"] = err["ctx"]
    if err["type"] in ("value_error", "assertion_error") or ("ctx" not in detail and err["type"] not in _KNOWN):
        return issue(loc, err["type"], err["msg"], err.get("input"))
    return detail  # type: ignore[return-value]


# pydantic error types that can be re-raised by name without a context
_KNOWN = {
    "missing",
    "extra_forbidden",
    "finite_number",
    "decimal_parsing",
    "decimal_type",
    "string_type",
    "float_parsing",
    "float_type",
    "list_type",
    "tuple_type",
    "dict_type",
    "model_type",
    "model_attributes_type",
    "bool_type",
    "int_type",
    "json_invalid",
}
