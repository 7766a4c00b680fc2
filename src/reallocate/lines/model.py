"""``Lines``: a scenario's lines held as columns, and ``Line``, one line as JSON gives it.

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
from decimal import Context, Decimal
from typing import TYPE_CHECKING, Any, overload

import numpy as np
from pydantic import BaseModel, Field, StrictBool
from pydantic_core import InitErrorDetails, PydanticCustomError

from ..rules import AMOUNT_FIELDS, LINE_FLAGS, LINE_KEYS, Amount
from ..text import IdText

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LINE_FIELDS",
    "MAX_UNITS",
    "Line",
    "Lines",
    "combine_codes",
    "decimals",
    "factorize",
    "fmt",
    "issue",
    "to_decimal",
]

#: Every field a line may have, in the public order.
LINE_FIELDS: tuple[str, ...] = (*LINE_KEYS, *AMOUNT_FIELDS, *LINE_FLAGS)
#: Integer units must stay exact in int64 sums; 2**62 leaves head-room for sums of two totals.
MAX_UNITS = 2**62
_EXACT = Context(prec=80)


class Line(BaseModel):
    """One allocation: (locality, program, fund, component) with its amounts.

    Scenarios keep their lines as columns (:class:`Lines`); this model is the schema of one line in
    JSON and what ``scenario.lines[i]`` gives back.
    """

    model_config = {"extra": "forbid", "frozen": True}

    locality: IdText = Field(min_length=1, pattern=r"\S")
    program: IdText = Field(min_length=1, pattern=r"\S")
    fund: IdText = Field(min_length=1, pattern=r"\S", description="e.g. 'investment' or 'recurrent'.")
    component: IdText = Field(default="", description="Optional sub-line (project, component).")
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
_ARRAYS = (
    "allocated",
    "disbursed",
    "capacity",
    "floor",
    "has_floor",
    "ceiling",
    "has_ceiling",
    "frozen",
    "give_only",
    "receive_only",
)


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
        "_arrays",
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
        self._arrays: dict[str, np.ndarray] = {}
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

    def category_array(self, key: str) -> np.ndarray:
        """The distinct values of ``key`` as a numpy object array, to pick per line by code."""
        found = self._arrays.get(key)
        if found is None:
            found = np.array(list(self._categories[key]) or [""], dtype=object)
            self._arrays[key] = found
        return found

    def categorical(self, key: str) -> pd.Categorical:
        """The ``key`` of every line as a pandas Categorical (no string object per line)."""
        import pandas as pd

        cats = pd.Index(list(self._categories[key]), dtype=object)
        return pd.Categorical.from_codes(self._codes[key], categories=cats)

    def canonical_order(self) -> np.ndarray | None:
        """The rows in the order of their keys (locality, program, fund, component, compared as
        text), or None when they are in that order already. Solving in this order makes a plan a
        function of the scenario's content, not of the order its lines were listed in."""
        n = len(self)
        if n < 2:
            return None
        ranks = []
        for key in reversed(LINE_KEYS):  # lexsort: the last key sorts first
            cats = self._categories[key]
            rank = np.empty(len(cats), dtype=np.int64)
            rank[sorted(range(len(cats)), key=cats.__getitem__)] = np.arange(len(cats))
            ranks.append(rank[self._codes[key]])
        order = np.lexsort(ranks)
        if np.array_equal(order, np.arange(n)):
            return None
        return order

    def take(self, order: np.ndarray) -> Lines:
        """These lines in the order ``order``; categories re-listed in order of first appearance."""
        codes: dict[str, np.ndarray] = {}
        categories: dict[str, list[str]] = {}
        for key in LINE_KEYS:
            picked = self._codes[key][order]
            seen, first = np.unique(picked, return_index=True)
            listed = seen[np.argsort(first, kind="stable")]
            remap = np.empty(len(self._categories[key]), dtype=np.int64)
            remap[listed] = np.arange(listed.shape[0])
            codes[key] = remap[picked]
            categories[key] = [self._categories[key][c] for c in listed.tolist()]
        return Lines(
            precision=self.precision,
            codes=codes,
            categories=categories,
            **{name: getattr(self, name)[order] for name in _ARRAYS},
        )

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
