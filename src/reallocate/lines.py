"""The lines of a scenario, column by column: validated as whole columns, held as arrays.

A national scenario has 10^5-10^6 lines, and one Python object per line costs more than the
solve. So lines from any reader (JSON, Excel, CSV, Parquet, pandas, Python objects) are checked a
whole column at a time: types by the set of types present, signs and exact multiples of
``precision`` with numpy, ids as categories (each distinct id is checked once, not once per line).
A row that fails a fast check is handed to pydantic's ``Line`` model, so its problems read exactly
as pydantic's, each with its path (``lines[41873].capacity``).

The result, ``Lines``, keeps ids as category codes, money as int64 whole units of ``precision``,
and flags as bool arrays. ``Decimal`` appears only at the edges: ``lines[i]`` (a ``Line``),
``amounts(field)`` and the JSON writers.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation
from itertools import repeat
from typing import Any, overload

import numpy as np
from pydantic import BaseModel, Field, StrictBool, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from .rules import AMOUNT_FIELDS, LINE_FLAGS, LINE_KEYS, Amount

__all__ = [
    "LINE_FIELDS",
    "MAX_UNITS",
    "Line",
    "LineColumns",
    "Lines",
    "LinesCheck",
    "check_lines",
    "check_relations",
    "issue",
]

#: Every field a line may have, in the public order.
LINE_FIELDS: tuple[str, ...] = (*LINE_KEYS, *AMOUNT_FIELDS, *LINE_FLAGS)
#: Integer units must stay exact in int64 sums; 2**62 leaves head-room for sums of two totals.
MAX_UNITS = 2**62
_EXACT = Context(prec=80)
_REQUIRED = ("locality", "program", "fund", "allocated", "capacity")
_OPTIONAL_AMOUNTS = ("floor", "ceiling")
_MISSING = object()


class Line(BaseModel):
    """One allocation: (locality, program, fund, component) with its amounts.

    Scenarios keep their lines as columns (:class:`Lines`); this model is the schema of one line in
    JSON and what ``scenario.lines[i]`` gives back.
    """

    model_config = {"extra": "forbid", "frozen": True}

    locality: str = Field(min_length=1, pattern=r"\S")
    program: str = Field(min_length=1, pattern=r"\S")
    fund: str = Field(min_length=1, pattern=r"\S", description="e.g. 'investment' or 'recurrent'.")
    component: str = Field(default="", description="Optional sub-line (project, component).")
    allocated: Amount = Field(description="Current plan amount.")
    disbursed: Amount = Field(default=Decimal(0), description="Already paid out; never moves.")
    capacity: Amount = Field(description="What the line can disburse by the deadline if funded.")
    floor: Amount | None = Field(
        default=None, description="Least the line must keep (signed contracts); defaults to disbursed."
    )
    ceiling: Amount | None = Field(default=None, description="Most the line may hold after the moves.")
    frozen: StrictBool = Field(default=False, description="Neither gives nor receives.")
    give_only: StrictBool = Field(default=False, description="May give its surplus, never receives.")
    receive_only: StrictBool = Field(default=False, description="May receive up to its room, never gives.")

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.locality, self.program, self.fund, self.component)


def issue(loc: tuple[str | int, ...], kind: str, message: str, value: Any) -> InitErrorDetails:
    """One problem in pydantic's shape, with our own type and message."""
    return InitErrorDetails(
        type=PydanticCustomError(kind, "{message}", {"message": message}),
        loc=loc,
        input=value,
    )


def fmt(value: Decimal) -> str:
    """A decimal as people write it: no exponent, no trailing zeros on whole numbers."""
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


def to_decimal(units: int, precision: Decimal) -> Decimal:
    """Whole units of ``precision`` as an exact decimal amount."""
    return _EXACT.multiply(Decimal(int(units)), precision)


def decimals(units: np.ndarray, precision: Decimal) -> list[Decimal]:
    """Whole units (an int array) as exact decimal amounts, one per element."""
    ints = units.tolist()
    if precision == 1:
        return [Decimal(u) for u in ints]
    exp = precision.as_tuple().exponent
    if isinstance(exp, int) and precision == Decimal(1).scaleb(exp):
        return [Decimal(u).scaleb(exp) for u in ints]
    return [_EXACT.multiply(Decimal(u), precision) for u in ints]


# --------------------------------------------------------------------------------------- Lines
class Lines(Sequence[Line]):
    """A scenario's lines as columns.

    * ids (``locality``, ``program``, ``fund``, ``component``): category codes (``codes(key)``)
      into ``categories(key)``, one entry per distinct id in order of first appearance;
    * money: int64 whole units of ``precision`` (``allocated``, ``disbursed``, ``capacity``;
      ``floor`` and ``ceiling`` where ``has_floor`` / ``has_ceiling``);
    * flags: bool arrays (``frozen``, ``give_only``, ``receive_only``).

    It is also a read-only sequence of :class:`Line`: ``len(lines)``, ``lines[i]``, iteration (one
    ``Line`` per step: convenient for small scenarios, slow for national ones).
    """

    __slots__ = (
        "_categories",
        "_codes",
        "_hash",
        "allocated",
        "capacity",
        "ceiling",
        "disbursed",
        "floor",
        "frozen",
        "give_only",
        "has_ceiling",
        "has_floor",
        "precision",
        "receive_only",
    )

    def __init__(
        self,
        *,
        precision: Decimal,
        codes: Mapping[str, np.ndarray],
        categories: Mapping[str, Sequence[str]],
        allocated: np.ndarray,
        disbursed: np.ndarray,
        capacity: np.ndarray,
        floor: np.ndarray,
        has_floor: np.ndarray,
        ceiling: np.ndarray,
        has_ceiling: np.ndarray,
        frozen: np.ndarray,
        give_only: np.ndarray,
        receive_only: np.ndarray,
    ) -> None:
        self.precision = precision
        self._codes = {k: _frozen(np.asarray(codes[k], dtype=np.int64)) for k in LINE_KEYS}
        self._categories = {k: tuple(categories[k]) for k in LINE_KEYS}
        self.allocated = _frozen(np.asarray(allocated, dtype=np.int64))
        self.disbursed = _frozen(np.asarray(disbursed, dtype=np.int64))
        self.capacity = _frozen(np.asarray(capacity, dtype=np.int64))
        self.has_floor = _frozen(np.asarray(has_floor, dtype=bool))
        self.floor = _frozen(np.where(self.has_floor, np.asarray(floor, dtype=np.int64), 0))
        self.has_ceiling = _frozen(np.asarray(has_ceiling, dtype=bool))
        self.ceiling = _frozen(np.where(self.has_ceiling, np.asarray(ceiling, dtype=np.int64), 0))
        self.frozen = _frozen(np.asarray(frozen, dtype=bool))
        self.give_only = _frozen(np.asarray(give_only, dtype=bool))
        self.receive_only = _frozen(np.asarray(receive_only, dtype=bool))
        self._hash: int | None = None

    # ------------------------------------------------------------------------------ columns
    def codes(self, key: str) -> np.ndarray:
        """Category code of each line for ``key`` (an index into ``categories(key)``)."""
        return self._codes[key]

    def categories(self, key: str) -> tuple[str, ...]:
        """The distinct values of ``key``, in order of first appearance."""
        return self._categories[key]

    def values(self, key: str) -> list[str]:
        """The ``key`` of every line, as strings."""
        cats = self._categories[key]
        return [cats[c] for c in self._codes[key].tolist()]

    def units(self, name: str) -> np.ndarray:
        """An amount column in whole units (0 where an optional floor / ceiling is not given)."""
        if name not in AMOUNT_FIELDS:
            raise KeyError(name)
        return getattr(self, name)  # type: ignore[no-any-return]

    def amounts(self, name: str) -> list[Decimal | None]:
        """An amount column as exact decimals (``None`` where a floor / ceiling is not given)."""
        out: list[Decimal | None] = list(decimals(self.units(name), self.precision))
        given = self.has_floor if name == "floor" else self.has_ceiling if name == "ceiling" else None
        if given is not None:
            out = [v if g else None for v, g in zip(out, given.tolist(), strict=True)]
        return out

    def flag(self, name: str) -> np.ndarray:
        if name not in LINE_FLAGS:
            raise KeyError(name)
        return getattr(self, name)  # type: ignore[no-any-return]

    @property
    def floor_or_disbursed(self) -> np.ndarray:
        """The floor each line keeps: its own, else what it has disbursed."""
        return np.where(self.has_floor, self.floor, self.disbursed)

    def key(self, i: int) -> tuple[str, str, str, str]:
        """(locality, program, fund, component) of line ``i``."""
        return tuple(self._categories[k][int(self._codes[k][i])] for k in LINE_KEYS)  # type: ignore[return-value]

    def keys(self) -> list[tuple[str, str, str, str]]:
        """The key of every line (one tuple per line: fine for thousands of lines)."""
        return list(zip(*(self.values(k) for k in LINE_KEYS), strict=True))  # type: ignore[arg-type]

    def key_codes(self, attributes: Sequence[str]) -> tuple[np.ndarray, list[tuple[str, ...]]]:
        """Group lines equal on ``attributes``: a group index per line (groups in order of first
        appearance) and each group's values. No Python object per line."""
        n = len(self)
        if not attributes:
            return np.zeros(n, dtype=np.int64), [()]
        combined = combine_codes([self._codes[a] for a in attributes], [len(self._categories[a]) for a in attributes])
        uniq, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
        # renumber groups in order of first appearance (stable across equal inputs)
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.shape[0])
        group = rank[inverse.reshape(-1)]
        firsts = first[order]
        labels = [tuple(self._categories[a][int(self._codes[a][i])] for a in attributes) for i in firsts.tolist()]
        del uniq
        return group.astype(np.int64), labels

    # ------------------------------------------------------------------------------ sequence
    def __len__(self) -> int:
        return int(self.allocated.shape[0])

    @overload
    def __getitem__(self, i: int) -> Line: ...

    @overload
    def __getitem__(self, i: slice) -> tuple[Line, ...]: ...

    def __getitem__(self, i: int | slice) -> Line | tuple[Line, ...]:
        if isinstance(i, slice):
            return tuple(self._line(k) for k in range(*i.indices(len(self))))
        n = len(self)
        k = operator.index(i)
        if k < 0:
            k += n
        if not 0 <= k < n:
            raise IndexError(i)
        return self._line(k)

    def _line(self, k: int) -> Line:
        p = self.precision
        return Line.model_construct(
            locality=self._categories["locality"][int(self._codes["locality"][k])],
            program=self._categories["program"][int(self._codes["program"][k])],
            fund=self._categories["fund"][int(self._codes["fund"][k])],
            component=self._categories["component"][int(self._codes["component"][k])],
            allocated=to_decimal(self.allocated[k], p),
            disbursed=to_decimal(self.disbursed[k], p),
            capacity=to_decimal(self.capacity[k], p),
            floor=to_decimal(self.floor[k], p) if self.has_floor[k] else None,
            ceiling=to_decimal(self.ceiling[k], p) if self.has_ceiling[k] else None,
            frozen=bool(self.frozen[k]),
            give_only=bool(self.give_only[k]),
            receive_only=bool(self.receive_only[k]),
        )

    def __iter__(self) -> Iterator[Line]:
        return (self._line(k) for k in range(len(self)))

    def __repr__(self) -> str:
        return f"<Lines: {len(self)} lines, {len(self._categories['locality'])} localities>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Lines):
            if len(self) != len(other):
                return False
            if any(self.values(k) != other.values(k) for k in LINE_KEYS):
                return False
            return all(_amounts_equal(self, other, name) for name in AMOUNT_FIELDS) and all(
                np.array_equal(self.flag(f), other.flag(f)) for f in LINE_FLAGS
            )
        if isinstance(other, (tuple, list)):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            parts = [len(self), *(tuple(self.values(k)) for k in LINE_KEYS)]
            parts += [tuple(self.amounts(name)) for name in AMOUNT_FIELDS]
            parts += [self.flag(f).tobytes() for f in LINE_FLAGS]
            self._hash = hash(tuple(parts))
        return self._hash

    # ------------------------------------------------------------------------------ export
    def to_rows(self, *, exclude_none: bool = False) -> list[dict[str, Any]]:
        """One dict per line with exact decimal amounts (the JSON shape of lines)."""
        columns: dict[str, list[Any]] = {k: self.values(k) for k in LINE_KEYS}
        for name in AMOUNT_FIELDS:
            columns[name] = self.amounts(name)
        for f in LINE_FLAGS:
            columns[f] = self.flag(f).tolist()
        names = list(LINE_FIELDS)
        rows = [dict(zip(names, row, strict=True)) for row in zip(*(columns[c] for c in names), strict=True)]
        if exclude_none:
            for row in rows:
                if row["floor"] is None:
                    del row["floor"]
                if row["ceiling"] is None:
                    del row["ceiling"]
        return rows

    def replace(self, **columns: np.ndarray) -> Lines:
        """A copy with some amount or flag columns replaced (arrays of the same length)."""
        args: dict[str, Any] = {
            "precision": self.precision,
            "codes": self._codes,
            "categories": self._categories,
            **{name: getattr(self, name) for name in (*AMOUNT_FIELDS, "has_floor", "has_ceiling", *LINE_FLAGS)},
        }
        for name, values in columns.items():
            if name not in args or name in ("precision", "codes", "categories"):
                raise KeyError(name)
            args[name] = values
        return Lines(**args)


def _amounts_equal(a: Lines, b: Lines, name: str) -> bool:
    if a.precision == b.precision:
        same = np.array_equal(a.units(name), b.units(name))
        if name == "floor":
            return same and np.array_equal(a.has_floor, b.has_floor)
        if name == "ceiling":
            return same and np.array_equal(a.has_ceiling, b.has_ceiling)
        return same
    return a.amounts(name) == b.amounts(name)


def factorize(values: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """A code per value and the distinct values in order of first appearance (hash based, C speed)."""
    index = {v: i for i, v in enumerate(dict.fromkeys(values))}
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
    return codes, list(index)


def combine_codes(codes: Sequence[np.ndarray], sizes: Sequence[int]) -> np.ndarray:
    """One int64 code per row that is equal exactly when every given code is equal (codes of
    several columns combined; re-compressed whenever the product of sizes could overflow)."""
    n = codes[0].shape[0] if codes else 0
    combined = np.zeros(n, dtype=np.int64)
    span = 1
    for c, size in zip(codes, sizes, strict=True):
        size = max(int(size), 1)
        if span * size >= 2**62:
            _, inverse = np.unique(combined, return_inverse=True)
            combined = inverse.reshape(-1).astype(np.int64)
            span = int(combined.max(initial=0)) + 1
        combined = combined * size + c
        span *= size
    return combined


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr = np.ascontiguousarray(arr)
    if arr.flags.writeable:
        arr = arr.copy() if arr.base is not None else arr
        arr.flags.writeable = False
    return arr


# ----------------------------------------------------------------------------------- checking
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
    #: key strings of the good rows (also when precision is unusable)
    key_values: dict[str, list[str]] = field(default_factory=dict)


class LineColumns(dict):  # type: ignore[type-arg]
    """Lines given column by column (pandas, Parquet): field name -> list of values, all of the
    same length; a field that is absent is simply not a key. ``check_lines`` reads them without
    building one dict per line."""


def _source(raw: Any) -> tuple[int, Any, Any, bool] | None:
    """(number of rows, column getter, row getter, whether values were type-checked by the
    decoder) for rows (dicts, Line models, msgspec structs) or ``LineColumns``."""
    if isinstance(raw, LineColumns):
        lengths = {len(v) for v in raw.values()}
        if len(lengths) > 1:
            raise ValueError("columns of different lengths")
        n = lengths.pop() if lengths else 0

        def column_of_columns(name: str) -> list[Any]:
            col = raw.get(name)
            return list(col) if col is not None else [_MISSING] * n

        def row_of_columns(k: int) -> Any:
            return {name: col[k] for name, col in raw.items() if not _absent(col[k])}

        return n, column_of_columns, row_of_columns, False
    if not isinstance(raw, (list, tuple)):
        return None
    rows = [r.__dict__ if isinstance(r, Line) else r for r in raw]
    n = len(rows)
    kinds = set(map(type, rows))
    if len(kinds) == 1 and hasattr(next(iter(kinds)), "__struct_fields__"):
        import msgspec

        # msgspec structs from the JSON fast path: types checked, defaults filled in
        def column_of_structs(name: str) -> list[Any]:
            return list(map(operator.attrgetter(name), rows))

        return n, column_of_structs, lambda k: msgspec.structs.asdict(rows[k]), True  # type: ignore[arg-type]

    dict_rows = [r if isinstance(r, dict) else {} for r in rows] if kinds - {dict} else rows

    def column_of_dicts(name: str) -> list[Any]:
        return list(map(dict.get, dict_rows, repeat(name), repeat(_MISSING)))

    return n, column_of_dicts, lambda k: raw[k], False


def _absent(value: Any) -> bool:
    """An empty cell of a column source (None or NaN) means "not given"."""
    return value is None or value is _MISSING or (type(value) is float and value != value)


def check_lines(raw: Any, precision: Decimal | None) -> LinesCheck:
    """Check every line; see the module docstring. ``raw`` is a list of rows (dicts, ``Line``
    models) or ``LineColumns``. ``precision`` None: it is invalid itself, so amounts are checked
    for type and sign only."""
    issues: list[InitErrorDetails] = []
    empty = np.zeros(0, dtype=np.int64)
    found = _source(raw)
    if found is None:
        issues.append(issue(("lines",), "list_type", "Input should be a valid list", None))
        return LinesCheck(issues, None, empty, None, -1)
    n, column, row_at, typed = found
    bad = np.zeros(n, dtype=bool)
    if isinstance(raw, (list, tuple)) and not typed:
        rows = [r.__dict__ if isinstance(r, Line) else r for r in raw]
        kinds = set(map(type, rows))
        if kinds - {dict}:
            bad |= np.fromiter((not isinstance(r, dict) for r in rows), dtype=bool, count=n)
        allowed = set(LINE_FIELDS)
        dicts = [r for r in rows if isinstance(r, dict)]
        seen_keys: set[Any] = set().union(*map(dict.keys, dicts)) if dicts else set()
        if seen_keys - allowed:
            bad |= np.fromiter((isinstance(r, dict) and not r.keys() <= allowed for r in rows), dtype=bool, count=n)
    elif isinstance(raw, LineColumns):
        unknown = [c for c in raw if c not in LINE_FIELDS]
        if unknown:
            bad[:] = True  # pydantic names the unknown field on every row

    cols: dict[str, list[Any]] = {}
    for name in LINE_KEYS:
        col = column(name)
        if name == "component" and not typed and (isinstance(raw, LineColumns) or _MISSING in col):
            col = ["" if _absent(v) else v for v in col]
        if set(map(type, col)) - {str}:
            wrong = np.fromiter((type(v) is not str for v in col), dtype=bool, count=n)
            bad |= wrong
            col = [v if type(v) is str else "" for v in col]
        cols[name] = col
    for name in AMOUNT_FIELDS:
        col = column(name)
        if isinstance(raw, LineColumns):
            col = [_MISSING if _absent(v) else v for v in col]
        if name == "disbursed" and not typed and _MISSING in col:
            col = [0 if v is _MISSING else v for v in col]
        elif name in _OPTIONAL_AMOUNTS and not typed and _MISSING in col:
            col = [None if v is _MISSING else v for v in col]
        ok_kinds = {int, Decimal, type(None)} if name in _OPTIONAL_AMOUNTS else {int, Decimal}
        if set(map(type, col)) - ok_kinds:
            # floats and numeric strings are read as decimals; anything else is left to pydantic
            col = [_as_decimal(v) for v in col]
            if set(map(type, col)) - ok_kinds:
                bad |= np.fromiter((type(v) not in ok_kinds for v in col), dtype=bool, count=n)
                col = [v if type(v) in ok_kinds else 0 for v in col]
        cols[name] = col
    flags: dict[str, np.ndarray] = {}
    for name in LINE_FLAGS:
        col = column(name)
        if not typed and (isinstance(raw, LineColumns) or _MISSING in col):
            col = [False if _absent(v) else v for v in col]
        if set(map(type, col)) - {bool}:
            col = [v.item() if isinstance(v, np.bool_) else v for v in col]
            if set(map(type, col)) - {bool}:
                bad |= np.fromiter((type(v) is not bool for v in col), dtype=bool, count=n)
                col = [v is True for v in col]
        flags[name] = np.array(col, dtype=bool)

    # ids: checked once per distinct value
    key_codes: dict[str, np.ndarray] = {}
    key_cats: dict[str, list[str]] = {}
    for name in LINE_KEYS:
        codes, cats = factorize(cols[name])
        key_codes[name] = codes
        key_cats[name] = cats
        if name != "component":
            blank = np.array([not (type(v) is str and v.strip()) for v in cats], dtype=bool)
            if blank.any():
                bad |= blank[codes]

    # amounts: non-negative finite numbers (sign and finiteness checked on the values)
    for name in AMOUNT_FIELDS:
        col = cols[name]
        bad |= _bad_amounts(col)

    bad_rows = np.flatnonzero(bad).tolist()
    recovered: dict[int, Line] = {}
    for k in bad_rows:
        try:
            recovered[k] = Line.model_validate(row_at(k))
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                issues.append(_located(err, ("lines", k)))
    if recovered:
        # pydantic accepted a row the fast checks doubted (e.g. a numeric string with spaces)
        for k, line in recovered.items():
            bad[k] = False
            for name in LINE_KEYS:
                cols[name][k] = getattr(line, name)
            for name in AMOUNT_FIELDS:
                cols[name][k] = getattr(line, name)
            for name in LINE_FLAGS:
                flags[name][k] = getattr(line, name)
        for name in LINE_KEYS:
            key_codes[name], key_cats[name] = factorize(cols[name])

    good = np.flatnonzero(~bad)
    key_values = {name: [cols[name][k] for k in good.tolist()] for name in LINE_KEYS} if bad.any() else dict(cols)
    if n == 0:
        issues.append(issue(("lines",), "too_short", "at least one line is required", []))
    if precision is None:
        return LinesCheck(issues, None, good, None, n, key_values)

    # whole units of precision
    units: dict[str, np.ndarray] = {}
    unusable = np.zeros(n, dtype=bool)
    given = {name: np.array([v is not None for v in cols[name]], dtype=bool) for name in _OPTIONAL_AMOUNTS}
    for name in AMOUNT_FIELDS:
        col = cols[name]
        u, problem = _to_units(col, precision, bad)
        units[name] = u
        for k in np.flatnonzero(problem == 1).tolist():
            v = col[k]
            issues.append(
                issue(
                    ("lines", k, name),
                    "not_multiple_of_precision",
                    f"{name} {fmt(Decimal(v))} is not a multiple of precision {fmt(precision)}",
                    str(v),
                )
            )
        for k in np.flatnonzero(problem == 2).tolist():
            v = col[k]
            issues.append(
                issue(
                    ("lines", k, name),
                    "amount_too_large",
                    f"{name} {_show_big(v)} is too large: it must stay below 2^62 units of precision "
                    f"{fmt(precision)} (use a larger precision or unit)",
                    str(v),
                )
            )
        unusable |= problem > 0
    usable = ~unusable & ~bad
    allocated, disbursed, capacity = units["allocated"], units["disbursed"], units["capacity"]
    floor_given, ceiling_given = units["floor"], units["ceiling"]

    def relation(mask: np.ndarray, name: str, kind: str, text: str, other: str) -> None:
        for k in np.flatnonzero(mask & usable).tolist():
            v = to_decimal(units[name][k], precision)
            w = to_decimal(units[other][k], precision)
            issues.append(issue(("lines", k, name), kind, text.format(v=fmt(v), w=fmt(w)), str(cols[name][k])))

    relation(
        disbursed > allocated,
        "disbursed",
        "disbursed_above_allocated",
        "disbursed {v} exceeds allocated {w}",
        "allocated",
    )
    relation(
        capacity < disbursed, "capacity", "capacity_below_disbursed", "capacity {v} is below disbursed {w}", "disbursed"
    )
    relation(
        given["floor"] & (floor_given < disbursed),
        "floor",
        "floor_below_disbursed",
        "floor {v} is below disbursed {w}",
        "disbursed",
    )
    relation(
        given["floor"] & (floor_given > allocated),
        "floor",
        "floor_above_allocated",
        "floor {v} exceeds allocated {w}",
        "allocated",
    )
    relation(
        given["ceiling"] & (ceiling_given < allocated),
        "ceiling",
        "ceiling_below_allocated",
        "ceiling {v} is below allocated {w}",
        "allocated",
    )
    ok = ~bad
    for name in ("allocated", "capacity"):
        total = int(np.sum(units[name][ok & ~unusable], dtype=object)) if n else 0
        if total >= MAX_UNITS:
            issues.append(
                issue(
                    ("lines",),
                    "amount_too_large",
                    f"total {name} is too large: it must stay below 2^62 units of precision "
                    f"{fmt(precision)} (use a larger precision or unit)",
                    None,
                )
            )

    # keys unique (among the rows that are valid on their own)
    good_codes = {name: key_codes[name][good] for name in LINE_KEYS}
    issues += _duplicates(good_codes, key_cats, good)

    # flags: at most one per line
    count = flags["frozen"].astype(np.int8) + flags["give_only"] + flags["receive_only"]
    for k in np.flatnonzero((count > 1) & ok).tolist():
        on = [f for f in LINE_FLAGS if flags[f][k]]
        issues.append(
            issue(
                ("lines", k, on[1]),
                "conflicting_flags",
                f"a line can be only one of frozen, give_only, receive_only; this one is {' and '.join(on)}",
                True,
            )
        )

    def build(rows_at: np.ndarray) -> Lines:
        codes = {}
        cats: dict[str, list[str]] = {}
        for name in LINE_KEYS:
            c = key_codes[name][rows_at]
            used, inverse = np.unique(c, return_inverse=True)
            # keep categories in order of first appearance among these rows
            first = np.full(used.shape[0], c.shape[0], dtype=np.int64)
            np.minimum.at(first, inverse.reshape(-1), np.arange(c.shape[0]))
            order = np.argsort(first, kind="stable")
            rank = np.empty_like(order)
            rank[order] = np.arange(order.shape[0])
            codes[name] = rank[inverse.reshape(-1)]
            cats[name] = [key_cats[name][int(u)] for u in used[order].tolist()]
        return Lines(
            precision=precision,
            codes=codes,
            categories=cats,
            allocated=allocated[rows_at],
            disbursed=disbursed[rows_at],
            capacity=capacity[rows_at],
            floor=floor_given[rows_at],
            has_floor=given["floor"][rows_at],
            ceiling=ceiling_given[rows_at],
            has_ceiling=given["ceiling"][rows_at],
            frozen=flags["frozen"][rows_at],
            give_only=flags["give_only"][rows_at],
            receive_only=flags["receive_only"][rows_at],
        )

    if not issues:
        whole = Lines(
            precision=precision,
            codes=key_codes,
            categories=key_cats,
            allocated=allocated,
            disbursed=disbursed,
            capacity=capacity,
            floor=floor_given,
            has_floor=given["floor"],
            ceiling=ceiling_given,
            has_ceiling=given["ceiling"],
            frozen=flags["frozen"],
            give_only=flags["give_only"],
            receive_only=flags["receive_only"],
        )
        return LinesCheck(issues, whole, np.arange(n), whole, n, key_values)
    usable_rows = np.flatnonzero(usable)
    return LinesCheck(issues, None, usable_rows, build(usable_rows), n, key_values)


def check_relations(lines: Lines) -> list[InitErrorDetails]:
    """The line rules that hold between amounts, re-checked on columns (after a what-if change)."""
    p = lines.precision
    issues: list[InitErrorDetails] = []

    def relation(mask: np.ndarray, name: str, kind: str, text: str, other: str) -> None:
        for k in np.flatnonzero(mask).tolist():
            v = to_decimal(lines.units(name)[k], p)
            w = to_decimal(lines.units(other)[k], p)
            issues.append(issue(("lines", k, name), kind, text.format(v=fmt(v), w=fmt(w)), str(v)))

    a, d, c = lines.allocated, lines.disbursed, lines.capacity
    relation(d > a, "disbursed", "disbursed_above_allocated", "disbursed {v} exceeds allocated {w}", "allocated")
    relation(c < d, "capacity", "capacity_below_disbursed", "capacity {v} is below disbursed {w}", "disbursed")
    relation(
        lines.has_floor & (lines.floor < d),
        "floor",
        "floor_below_disbursed",
        "floor {v} is below disbursed {w}",
        "disbursed",
    )
    relation(
        lines.has_floor & (lines.floor > a),
        "floor",
        "floor_above_allocated",
        "floor {v} exceeds allocated {w}",
        "allocated",
    )
    relation(
        lines.has_ceiling & (lines.ceiling < a),
        "ceiling",
        "ceiling_below_allocated",
        "ceiling {v} is below allocated {w}",
        "allocated",
    )
    for name in ("allocated", "capacity"):
        if int(np.sum(lines.units(name), dtype=object)) >= MAX_UNITS:
            issues.append(
                issue(
                    ("lines",),
                    "amount_too_large",
                    f"total {name} is too large: it must stay below 2^62 units of precision {fmt(p)} "
                    "(use a larger precision or unit)",
                    None,
                )
            )
    for name in AMOUNT_FIELDS:
        for k in np.flatnonzero(lines.units(name) >= MAX_UNITS).tolist():
            issues.append(
                issue(
                    ("lines", k, name),
                    "amount_too_large",
                    f"{name} is too large: it must stay below 2^62 units of precision {fmt(p)}",
                    None,
                )
            )
    return issues


def _duplicates(
    codes: Mapping[str, np.ndarray], cats: Mapping[str, Sequence[str]], positions: np.ndarray
) -> list[InitErrorDetails]:
    n = positions.shape[0]
    if n < 2:
        return []
    combined = combine_codes([codes[name] for name in LINE_KEYS], [len(cats[name]) for name in LINE_KEYS])
    order = np.argsort(combined, kind="stable")
    sorted_keys = combined[order]
    repeat_at = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1]) + 1
    if repeat_at.shape[0] == 0:
        return []
    out = []
    # first occurrence of each repeated key: the start of its run in the stable sort
    run_start = np.maximum.accumulate(np.where(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]], np.arange(n), 0))
    for j in sorted(repeat_at.tolist(), key=lambda j: int(order[j])):
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
    if type(value) is float:
        return Decimal(repr(value))
    if type(value) is str:
        try:
            return Decimal(value)
        except (InvalidOperation, ValueError):
            return value
    if isinstance(value, np.generic):
        return _as_decimal(value.item())
    return value


def _bad_amounts(col: list[Any]) -> np.ndarray:
    """Values pydantic would refuse: negative or not finite (types are checked before)."""
    n = len(col)
    kinds = set(map(type, col))
    if kinds <= {int}:
        try:
            arr = np.array(col, dtype=np.int64)
        except OverflowError:
            return np.fromiter((v < 0 for v in col), dtype=bool, count=n)
        return arr < 0
    return np.fromiter(
        ((type(v) is int and v < 0) or (type(v) is Decimal and (not v.is_finite() or v < 0)) for v in col),
        dtype=bool,
        count=n,
    )


def _show_big(value: Any) -> str:
    if type(value) is Decimal and abs(value.adjusted()) > 40:
        return format(value, "e")
    return fmt(Decimal(value))


def _to_units(col: list[Any], precision: Decimal, skip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whole units of ``precision`` per value, and a problem code per value: 0 fine, 1 not a
    multiple of precision, 2 too large. Missing (None) and skipped rows count 0 with no problem."""
    n = len(col)
    units = np.zeros(n, dtype=np.int64)
    problem = np.zeros(n, dtype=np.int8)
    num, den = precision.as_integer_ratio()
    kinds = set(map(type, col))
    if kinds <= {int} and n:
        try:
            arr = np.array(col, dtype=np.int64)
        except OverflowError:
            arr = None
        if arr is not None and int(arr.max(initial=0)) <= (2**63 - 1) // den:
            scaled = arr * den
            exact = scaled % num == 0 if num != 1 else np.ones(n, dtype=bool)
            whole = scaled // num if num != 1 else scaled
            problem[~exact] = 1
            problem[exact & (whole >= MAX_UNITS)] = 2
            problem[skip] = 0
            units[:] = np.where((problem == 0) & ~skip, whole, 0)
            return units, problem
    # value by value (decimals, or ints too large for the vector path)
    p_adjusted = precision.adjusted()
    for k, v in enumerate(col):
        if v is None or skip[k]:
            continue
        if type(v) is int:
            if v * den % num:
                problem[k] = 1
                continue
            u: int = v * den // num
        else:
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
    return units, problem


def _located(err: Any, prefix: tuple[str | int, ...]) -> InitErrorDetails:
    """A pydantic error of one row, re-raised at the row's path."""
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
