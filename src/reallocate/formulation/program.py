"""Linear programs as arrays: ``Program`` (one CSR matrix, bounds, senses), the builder that
assembles one from whole blocks of columns and rows, and ``Face`` (the optima of earlier stages
kept as bounds and equalities)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

__all__ = [
    "COUNT_MAX_PAIRS",
    "EQ",
    "GE",
    "LE",
    "LP_MAX_BOUND",
    "SOLVER_DIGITS",
    "STAGES",
    "Face",
    "Program",
    "ProgramBuilder",
    "generic_weights",
    "replace_program",
    "snap_tolerance",
    "stage_tolerance",
]

#: Stage names, in lexicographic order of importance.
STAGES: tuple[str, ...] = ("absorb", "approval", "settle", "share", "cost", "count", "canonical")

#: Tolerance kept on an earlier stage's optimum (reference path): |optimum| * REL + ABS (LP units).
STAGE_TOL_REL = 1e-12
STAGE_TOL_ABS = 1e-6

#: The "fewest transfers" MILP is attempted only up to this many candidate line pairs: beyond it
#: the search rarely closes within its node limit and only costs time (costs then use flows).
COUNT_MAX_PAIRS = 150

#: LP values are integer units divided by a scale that keeps the largest bound near 1e9, so that
#: solver tolerances (~1e-7 absolute) stay far below one unit.
LP_MAX_BOUND = 1e9

LE, EQ, GE = -1, 0, 1

#: Relative precision of the values each solver hands back: HiGHS returns doubles; CBC's solution
#: file (which PuLP reads) prints 8 significant digits (sums of several such values: ~1e-6).
SOLVER_DIGITS = {"highs": 1e-13, "cbc": 1e-6}


@dataclass(frozen=True, eq=False)
class Program:
    """A linear (mixed-integer) program in array form: minimise ``cost @ x``.

    Rows are stored in CSR form (``row_start``, ``col_index``, ``value``), each with a sense
    (-1 for <=, 0 for =, 1 for >=) and a right-hand side.
    """

    stage: str
    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    row_start: np.ndarray
    col_index: np.ndarray
    value: np.ndarray
    row_sense: np.ndarray
    row_rhs: np.ndarray
    blocks: dict[str, tuple[int, int]]
    #: what each block's columns stand for: active line, pair, flow or pool indices
    index: dict[str, np.ndarray]
    #: what the rows stand for: (kind, first row, number of rows, payload per row) per block
    row_groups: list[tuple[str, int, int, np.ndarray]] = field(default_factory=list)
    #: the objective is to be maximised (only the explain program; the stages minimise)
    maximize: bool = False

    def row_group(self, r: int) -> tuple[str, int, Any]:
        """(kind, position inside its block, payload) of row ``r``."""
        for kind, start, n, payload in self.row_groups:
            if start <= r < start + n:
                return kind, r - start, payload[r - start].item() if payload.shape[0] else None
        raise IndexError(r)

    @property
    def num_cols(self) -> int:
        return int(self.cost.shape[0])

    @property
    def num_rows(self) -> int:
        return int(self.row_sense.shape[0])

    @property
    def is_mip(self) -> bool:
        return bool(self.integer.any())

    def block(self, name: str) -> slice:
        start, stop = self.blocks[name]
        return slice(start, stop)

    def has(self, name: str) -> bool:
        return name in self.blocks

    def row_kind(self) -> tuple[np.ndarray, np.ndarray]:
        """(kind code, payload) of every row; kind codes index ``row_kinds()``."""
        kinds = self.row_kinds()
        code = np.zeros(self.num_rows, dtype=np.int64)
        payload = np.zeros(self.num_rows, dtype=np.int64)
        for kind, start, n, pay in self.row_groups:
            code[start : start + n] = kinds.index(kind)
            if pay.shape[0]:
                payload[start : start + n] = pay
        return code, payload

    def row_kinds(self) -> list[str]:
        return list(dict.fromkeys(kind for kind, *_ in self.row_groups))


@dataclass
class Face:
    """The optima of earlier stages, as bounds and equalities.

    By complementary slackness, with an earlier stage's optimal duals, every optimal point has each
    column with a non-zero reduced cost at its bound and each row with a non-zero dual active; so
    those bounds and equalities describe exactly the earlier optima, with no dense objective row
    and no tolerance. ``amount_lower`` / ``amount_upper``: whole units each group must give or
    receive at least / at most. ``bounds``: per block name, (lower, upper) in LP units over all
    items of that block (groups for ``lo``/``hi``, pairs, flows). ``equal``: rows, by (kind,
    payload), that must hold with equality.
    """

    amount_lower: np.ndarray
    amount_upper: np.ndarray
    bounds: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    equal: set[tuple[str, int]] = field(default_factory=set)

    def copy(self) -> Face:
        return Face(
            self.amount_lower.copy(),
            self.amount_upper.copy(),
            {k: (lo.copy(), up.copy()) for k, (lo, up) in self.bounds.items()},
            set(self.equal),
        )


@dataclass
class ProgramBuilder:
    stage: str
    blocks: dict[str, tuple[int, int]] = field(default_factory=dict)
    index: dict[str, np.ndarray] = field(default_factory=dict)
    lower: list[np.ndarray] = field(default_factory=list)
    upper: list[np.ndarray] = field(default_factory=list)
    integer: list[np.ndarray] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)
    cols: list[np.ndarray] = field(default_factory=list)
    vals: list[np.ndarray] = field(default_factory=list)
    sense: list[np.ndarray] = field(default_factory=list)
    rhs: list[np.ndarray] = field(default_factory=list)
    n_cols: int = 0
    n_rows: int = 0
    row_groups: list[tuple[str, int, int, np.ndarray]] = field(default_factory=list)

    def block_slice(self, name: str) -> slice:
        start, stop = self.blocks[name]
        return slice(start, stop)

    def col_ids(self, name: str) -> np.ndarray:
        start, stop = self.blocks[name]
        return np.arange(start, stop)

    def columns(self, name: str, index: np.ndarray, lower: np.ndarray, upper: np.ndarray, integer: bool = False) -> int:
        start = self.n_cols
        k = int(np.asarray(lower).shape[0])
        self.blocks[name] = (start, start + k)
        self.index[name] = np.asarray(index, dtype=np.int64)
        self.lower.append(np.asarray(lower, dtype=np.float64))
        self.upper.append(np.asarray(upper, dtype=np.float64))
        self.integer.append(np.full(k, integer, dtype=bool))
        self.n_cols += k
        return start

    def row_block(
        self,
        rows: np.ndarray,
        cols: np.ndarray,
        vals: np.ndarray,
        n: int,
        sense: int | np.ndarray,
        rhs: np.ndarray | float,
        kind: str = "",
        payload: np.ndarray | int | None = None,
    ) -> None:
        """Add ``n`` rows given as COO triplets with row ids 0..n-1, labelled ``kind``; ``payload``
        says what each row stands for (one value per row, or one for all)."""
        if payload is None:
            pay = np.arange(n, dtype=np.int64)
        else:
            pay = np.broadcast_to(np.asarray(payload, dtype=np.int64), (n,)).copy()
        self.row_groups.append((kind, self.n_rows, n, pay))
        self.rows.append(np.asarray(rows, dtype=np.int64) + self.n_rows)
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.vals.append(np.asarray(vals, dtype=np.float64))
        self.sense.append(np.broadcast_to(np.asarray(sense, dtype=np.int8), (n,)).copy())
        self.rhs.append(np.broadcast_to(np.asarray(rhs, dtype=np.float64), (n,)).copy())
        self.n_rows += n

    def dense_row(self, coef: np.ndarray, sense: int, rhs: float, kind: str = "", payload: int = 0) -> None:
        nz = np.flatnonzero(coef)
        self.row_block(np.zeros(nz.shape[0], dtype=np.int64), nz, coef[nz], 1, sense, rhs, kind, payload)

    def build(self, cost: np.ndarray, maximize: bool = False) -> Program:
        def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)

        rows, cols, vals = cat(self.rows, np.int64), cat(self.cols, np.int64), cat(self.vals, np.float64)
        keep = vals != 0
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
        # HiGHS takes the entries of a row in any order: sorting by row alone is enough
        order = np.argsort(rows, kind="stable")
        rows, cols, vals = rows[order], cols[order], vals[order]
        row_start = np.zeros(self.n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=self.n_rows), out=row_start[1:])
        return Program(
            stage=self.stage,
            cost=np.asarray(cost, dtype=np.float64),
            lower=cat(self.lower, np.float64),
            upper=cat(self.upper, np.float64),
            integer=cat(self.integer, bool),
            row_start=row_start,
            col_index=cols,
            value=vals,
            row_sense=cat(self.sense, np.int8),
            row_rhs=cat(self.rhs, np.float64),
            blocks=dict(self.blocks),
            index=dict(self.index),
            row_groups=list(self.row_groups),
            maximize=maximize,
        )


def snap_tolerance(
    value: np.ndarray | float, scale: int, relative: float = SOLVER_DIGITS["highs"]
) -> np.ndarray | float:
    """How far (in integer units) a solver value may sit from a whole number or target and still be
    read as it: LP tolerances (~1e-7 to 1e-6 in LP units of ``scale`` integer units) plus the
    digits the solver prints (``relative``, see ``SOLVER_DIGITS``); never half a unit or more,
    which would read a value as a neighbouring whole number."""
    return np.minimum(0.45, 1e-6 * scale + relative * np.abs(value))


def stage_tolerance(optimum: float, digits: float = 0.0, scale: int = 1) -> float:
    """How far a later stage may move an earlier stage's optimum (LP units): 1e-12 of it (or the
    solver's printed digits, if coarser) plus 1e-6, but never a tenth of a unit of money."""
    return abs(optimum) * max(STAGE_TOL_REL, digits) + min(STAGE_TOL_ABS, 0.1 / scale)


def generic_weights(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Deterministic pseudo-random weights in [1, 2) keyed by line indices (splitmix64).

    A generic objective has a unique optimum, so HiGHS and CBC return the same plan among ties.
    """
    x = (a.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ (b.astype(np.uint64) + np.uint64(0x632BE59BD9B4E019))
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return 1.0 + (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def replace_program(program: Program, **changes: Any) -> Program:
    """A copy of ``program`` with some arrays replaced (e.g. integrality relaxed)."""
    return replace(program, **changes)
