"""The reallocation model as arrays: whole blocks of columns and rows, one sparse matrix per stage.

Only lines that can move money take part: a *donor* has surplus > 0 and a *recipient* has room > 0
in a pool where the other side exists. Each of them has an ``amount`` (given or received), bounded
by its surplus or room, so "gives only its surplus, receives only up to its room, never both" holds
by construction. Money moves only inside a pool:

* without pairs, one row per pool: sum(received) - sum(given) = 0;
* with line pairs (``min_transfer`` / ``max_transfers_per_line``, or a few costed pairs whose
  count can be minimised), one column per (donor, recipient) of a pool and one row per line:
  amount - sum(its pairs) = 0;
* with *flows* (costs at scale): costs are per locality pair and per changed attribute, so lines
  of one pool, locality and costed attributes are interchangeable. One column per (donor group,
  recipient group) of a pool and one row per group: sum(amounts of its lines) - sum(its flows) = 0.
  3,000 lines with dense locality-pair costs need ~10^4 flow columns instead of ~4·10^5 pairs.

The stages of "best plan" (DOMAIN.md) are solved one after the other:

``absorb``     maximise the money recipients receive (= total absorbable gain);
``settle``     (rules couple pools) a generic split of the absorb optimum between pools;
``share``      minimise the deviation from each line's fair target (proportional or priority),
               the targets being whole units apportioned from the pool totals;
``cost``       minimise total transfer cost (only when a pair has a non-zero cost);
``count``      minimise the number of transfers (a MILP, only with few line pairs);
``canonical``  a fixed generic tie-break so every solver returns the same plan among equals.

A later stage must keep every earlier optimum. The reference path (PuLP, CBC) adds each earlier
objective as a row ``objective <= optimum + tolerance``. The HiGHS path keeps the *optimal face*
instead: by complementary slackness, with the earlier stage's duals, every optimal point has each
column with a non-zero reduced cost at its bound and each row with a non-zero dual active; fixing
those bounds and making those rows equalities describes exactly the earlier optima, with no dense
row and no tolerance, and leaves smaller LPs.

The deviation |amount - target| needs no extra rows: the amount is split into ``lo`` in
[0, target] and ``hi`` in [0, bound - target], and the stage minimises ``hi - lo``. Whenever
``hi > 0`` while ``lo < target`` the pair (lo + e, hi - e) is strictly better, so at an optimum
``hi - lo + target`` is exactly the deviation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import numpy as np

from .scenario import Scenario
from .sharing import fair_targets, group_sums

__all__ = [
    "COUNT_MAX_PAIRS",
    "SOLVER_DIGITS",
    "STAGES",
    "Face",
    "Formulation",
    "Program",
    "snap_tolerance",
    "stage_tolerance",
]

#: Stage names, in lexicographic order of importance.
STAGES: tuple[str, ...] = ("absorb", "settle", "share", "cost", "count", "canonical")

#: Tolerance kept on an earlier stage's optimum (reference path): |optimum| * REL + ABS (LP units).
STAGE_TOL_REL = 1e-12
STAGE_TOL_ABS = 1e-6

#: The "fewest transfers" MILP is attempted only up to this many candidate line pairs: beyond it
#: the search rarely closes within its node limit and only costs time (costs then use flows).
COUNT_MAX_PAIRS = 150

# LP values are integer units divided by ``scale``; scale keeps the largest bound near 1e9 so that
# solver tolerances (~1e-7 absolute) stay far below one unit.
_LP_MAX_BOUND = 1e9

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
    """The optima of earlier stages, as bounds and equalities (see the module docstring).

    ``amount_lower`` / ``amount_upper``: whole units each active line must give or receive at least /
    at most. ``bounds``: per block name, (lower, upper) in LP units over all items of that block
    (active lines for ``lo``/``hi``, pairs, flows). ``equal``: rows, by (kind, payload), that must
    hold with equality.
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
class _Builder:
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
        order = np.lexsort((cols, rows))
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


class Formulation:
    """Everything the stages share: active lines, pools, pairs or flows, targets, scaling."""

    def __init__(self, scenario: Scenario) -> None:
        t = scenario.table
        rules = scenario.rules
        self.scenario = scenario
        n_all_pools = len(t.pool_keys)

        # A pool moves money only when it has both surplus and room.
        #: what each line may give / receive once its flags are applied
        self.can_give = np.where(t.frozen | t.receive_only, 0, t.surplus)
        self.can_receive = np.where(t.frozen | t.give_only, 0, t.room)
        pool_surplus = group_sums(t.pool, self.can_give, n_all_pools)
        pool_room = group_sums(t.pool, self.can_receive, n_all_pools)
        moving_pool = (pool_surplus > 0) & (pool_room > 0)
        donor = (self.can_give > 0) & moving_pool[t.pool]
        recipient = (self.can_receive > 0) & moving_pool[t.pool]

        #: line index of every active line; donors and recipients interleaved in line order
        self.line = np.flatnonzero(donor | recipient)
        self.is_recipient = recipient[self.line]
        self.bound = np.where(self.is_recipient, self.can_receive[self.line], self.can_give[self.line]).astype(np.int64)
        pools_used, pool_of = np.unique(t.pool[self.line], return_inverse=True)
        #: moving-pool index of each active line
        self.pool = pool_of.reshape(-1).astype(np.int64)
        #: scenario pool index of each moving pool
        self.pool_index = pools_used.astype(np.int64)
        self.n = int(self.line.shape[0])
        self.n_pools = int(pools_used.shape[0])
        self.weight = t.weight[self.line]
        #: exact surplus and room of each moving pool
        self.pool_surplus = group_sums(self.pool, np.where(self.is_recipient, 0, self.bound), self.n_pools)
        self.pool_room = group_sums(self.pool, np.where(self.is_recipient, self.bound, 0), self.n_pools)

        largest = float(self.bound.max()) if self.n else 1.0
        exponent = max(0, int(np.ceil(np.log10(largest / _LP_MAX_BOUND)))) if largest > _LP_MAX_BOUND else 0
        #: integer units per LP unit
        self.scale = 10**exponent

        self.min_transfer = int(rules.min_transfer / scenario.precision)
        self.max_transfers = rules.max_transfers_per_line
        self.recipients_rule = rules.recipients
        self.donors_rule = rules.donors
        self.targets: np.ndarray | None = None
        #: relative precision of the solver's values (set by the caller; see SOLVER_DIGITS)
        self.digits = SOLVER_DIGITS["highs"]

        self.limit_kind, self.limit_loc, self.limit_units = self._locality_limits()
        self.goals = self._target_rows()
        #: rules that tie lines of different pools together: the money stages need an LP
        self.coupled = bool(self.limit_kind.shape[0]) or bool(self.goals)

        # pairs: binaries "pair is used" are needed in every stage with min_transfer / max transfers
        self.uses_always = self.min_transfer > 0 or self.max_transfers is not None
        self._costs = _CostModel(scenario, self)
        has_cost_rules = self._costs.active
        self.n_line_pairs = self._count_line_pairs()
        self.pair_mode = "none"
        if self.uses_always or (has_cost_rules and self.n_line_pairs <= COUNT_MAX_PAIRS):
            self.pair_mode = "lines"
        elif has_cost_rules:
            self.pair_mode = "flows"
        self.pair_donor = np.zeros(0, dtype=np.int64)  # active index of the donor of each pair
        self.pair_recipient = np.zeros(0, dtype=np.int64)
        self.pair_cost = np.zeros(0, dtype=np.float64)  # cost per integer unit
        self.pair_bound = np.zeros(0, dtype=np.int64)
        self.group = np.zeros(self.n, dtype=np.int64)  # flow group of each active line
        self.n_groups = 0
        self.flow_from = np.zeros(0, dtype=np.int64)  # donor group of each flow
        self.flow_to = np.zeros(0, dtype=np.int64)
        self.flow_cost = np.zeros(0, dtype=np.float64)
        self.flow_bound = np.zeros(0, dtype=np.int64)
        self.has_cost = False
        if self.pair_mode == "lines":
            self._build_pairs()
            self.has_cost = bool(np.any(self.pair_cost > 0))
            if not self.has_cost and not self.uses_always:
                self.pair_mode = "none"
        elif self.pair_mode == "flows":
            self._build_flows()
            self.has_cost = bool(np.any(self.flow_cost > 0))
            if not self.has_cost:
                self.pair_mode = "none"
        self.uses_pairs = self.pair_mode == "lines"
        self.uses_flows = self.pair_mode == "flows"
        #: the money stages (absorb, share) have a closed form: every pool is independent
        self.closed_money = not self.coupled and not self.uses_always

    # ------------------------------------------------------------------------------ rules
    def _locality_limits(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(kind: 0 max_loss / 1 max_gain, locality index, limit in units) of every locality limit."""
        sc = self.scenario
        t = sc.table
        rules = sc.rules
        by_id = {loc.id: loc for loc in sc.localities or ()}
        totals = group_sums(t.locality, t.allocated, len(t.locality_ids)).tolist()
        kinds, locs, units = [], [], []
        if (
            rules.max_loss is None
            and rules.max_gain is None
            and not any(loc.max_loss is not None or loc.max_gain is not None for loc in by_id.values())
        ):
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.copy(), empty.copy()
        for k, lid in enumerate(t.locality_ids):
            own = by_id.get(lid)
            for code, kind in enumerate(("max_loss", "max_gain")):
                mine = getattr(own, kind) if own is not None else None
                limit = mine if mine is not None else getattr(rules, kind)
                if limit is None:
                    continue
                if limit.amount is not None:
                    u = int(limit.amount / sc.precision)
                else:
                    # a share of the locality's allocation, rounded down: the limit is never exceeded
                    u = int(Decimal(repr(limit.share)) * totals[k])
                kinds.append(code)
                locs.append(k)
                units.append(u)
        return np.array(kinds, dtype=np.int64), np.array(locs, dtype=np.int64), np.array(units, dtype=np.int64)

    @property
    def limits(self) -> list[tuple[str, int, int]]:
        """(kind, locality index, limit in units) for every locality limit: net loss or net gain."""
        names = ("max_loss", "max_gain")
        return [
            (names[k], loc, u)
            for k, loc, u in zip(
                self.limit_kind.tolist(), self.limit_loc.tolist(), self.limit_units.tolist(), strict=True
            )
        ]

    def _target_rows(self) -> list[tuple[int, np.ndarray, Decimal]]:
        """(target number, lines it covers, rate) for every target; -1 is ``target_rate``.

        A target asks that the covered lines' absorbable money reach ``rate`` x what they hold
        after the moves. Received money adds to both, given money only to what they no longer hold,
        so the row is  (1 - rate) received + rate given >= rate x allocated - absorbable before."""
        sc = self.scenario
        lines = sc.table.lines
        out = []
        goals: list[tuple[int, float, dict[str, str]]] = []
        if sc.rules.target_rate is not None:
            goals.append((-1, sc.rules.target_rate, {}))
        goals += [(k, g.rate, g.selector) for k, g in enumerate(sc.rules.targets)]
        for k, rate, selector in goals:
            mask = np.ones(len(lines), dtype=bool)
            for attr, value in selector.items():
                cats = lines.categories(attr)
                mask &= lines.codes(attr) == (cats.index(value) if value in cats else -1)
            out.append((k, np.flatnonzero(mask), Decimal(repr(rate))))
        return out

    # ------------------------------------------------------------------------------ pairs
    def _pool_sides(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Active lines sorted by (pool, side, position); where each pool starts; donors per pool."""
        order = np.lexsort((np.arange(self.n), self.is_recipient, self.pool))
        starts = np.searchsorted(self.pool[order], np.arange(self.n_pools + 1))
        donors = group_sums(self.pool, (~self.is_recipient).astype(np.int64), self.n_pools)
        return order, starts, donors

    def _count_line_pairs(self) -> int:
        donors = group_sums(self.pool, (~self.is_recipient).astype(np.int64), self.n_pools)
        recips = group_sums(self.pool, self.is_recipient.astype(np.int64), self.n_pools)
        return int(np.sum(donors * recips))

    def _build_pairs(self) -> None:
        order, starts, donors = self._pool_sides()
        parts_d, parts_r = [], []
        for p in range(self.n_pools):
            members = order[starts[p] : starts[p + 1]]
            d, r = members[: donors[p]], members[donors[p] :]
            parts_d.append(np.repeat(d, r.shape[0]))
            parts_r.append(np.tile(r, d.shape[0]))
        self.pair_donor = np.concatenate(parts_d) if parts_d else np.zeros(0, np.int64)
        self.pair_recipient = np.concatenate(parts_r) if parts_r else np.zeros(0, np.int64)
        self.pair_bound = np.minimum(self.bound[self.pair_donor], self.bound[self.pair_recipient])
        if self.min_transfer > 0:
            # a pair that cannot carry min_transfer never carries anything
            usable = self.pair_bound >= self.min_transfer
            self.pair_donor, self.pair_recipient = self.pair_donor[usable], self.pair_recipient[usable]
            self.pair_bound = self.pair_bound[usable]
        self.pair_cost = self._costs.between(self.line[self.pair_donor], self.line[self.pair_recipient])

    def _build_flows(self) -> None:
        """Groups of interchangeable active lines (same pool, side, locality and costed attributes)
        and one flow column per (donor group, recipient group) of a pool."""
        t = self.scenario.table
        keys = [self.pool, self.is_recipient.astype(np.int64), t.locality[self.line]]
        sizes = [self.n_pools, 2, len(t.locality_ids)]
        for attr in self._costs.attributes:
            keys.append(t.lines.codes(attr)[self.line])
            sizes.append(len(t.lines.categories(attr)))
        from .lines import combine_codes

        combined = combine_codes(keys, sizes)
        uniq, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
        self.group = inverse.reshape(-1).astype(np.int64)
        self.n_groups = int(uniq.shape[0])
        g_pool = self.pool[first]
        g_rec = self.is_recipient[first]
        self.group_line = self.line[first]  # a representative line of each group (for costs)
        g_bound = group_sums(self.group, self.bound, self.n_groups)
        parts_d, parts_r = [], []
        order = np.lexsort((np.arange(self.n_groups), g_rec, g_pool))
        starts = np.searchsorted(g_pool[order], np.arange(self.n_pools + 1))
        for p in range(self.n_pools):
            members = order[starts[p] : starts[p + 1]]
            d, r = members[~g_rec[members]], members[g_rec[members]]
            parts_d.append(np.repeat(d, r.shape[0]))
            parts_r.append(np.tile(r, d.shape[0]))
        self.flow_from = np.concatenate(parts_d) if parts_d else np.zeros(0, np.int64)
        self.flow_to = np.concatenate(parts_r) if parts_r else np.zeros(0, np.int64)
        self.flow_bound = np.minimum(g_bound[self.flow_from], g_bound[self.flow_to])
        self.flow_cost = self._costs.between(self.group_line[self.flow_from], self.group_line[self.flow_to])

    @property
    def n_pairs(self) -> int:
        return int(self.pair_donor.shape[0])

    @property
    def n_flows(self) -> int:
        return int(self.flow_from.shape[0])

    # ------------------------------------------------------------------------------ stages
    def stages(self) -> list[str]:
        """The LP stages this scenario needs, in order (``canonical`` may be dropped by the solver).
        With ``closed_money`` the absorb and share optima are computed exactly (``closed_form``)."""
        out = []
        if not self.closed_money:
            out.append("absorb")
            if self.coupled:
                # rules tie pools together, so the absorb optimum may split its money between pools
                # in many ways; "settle" picks one with a fixed generic objective (solver-independent)
                # before the fair targets are drawn from it
                out.append("settle")
            out.append("share")
        if self.has_cost:
            out.append("cost")
        if self.uses_pairs:
            out.append("count")
        if not self.closed_money or self.uses_pairs or self.uses_flows:
            out.append("canonical")
        return out

    def closed_form(self) -> np.ndarray:
        """Exact absorb and share optima when every pool is independent: each pool moves
        min(surplus, room) and every line gets its fair target (sets ``targets``)."""
        moved = np.minimum(self.pool_surplus, self.pool_room)
        self.set_target_totals(moved)
        assert self.targets is not None
        return self.targets.copy()

    def pairs_in(self, stage: str) -> bool:
        return self.uses_pairs and (self.uses_always or stage in ("cost", "count", "canonical"))

    def flows_in(self, stage: str) -> bool:
        return self.uses_flows and stage in ("cost", "canonical")

    def uses_in(self, stage: str, kept: Sequence[tuple[str, float]]) -> bool:
        """Whether the stage needs the binary "pair is used" columns."""
        if not self.pairs_in(stage):
            return False
        return self.uses_always or stage == "count" or any(name == "count" for name, _ in kept)

    def program(
        self,
        stage: str,
        kept: Sequence[tuple[str, float]] = (),
        *,
        elastic: bool = False,
        slack: float = 1.0,
        face: Face | None = None,
        integer: bool = False,
    ) -> Program:
        """The LP/MILP of ``stage``, keeping each earlier (stage, optimum) in ``kept`` as a row,
        and the earlier optimal ``face`` as bounds and equalities.

        ``elastic`` (absorb stage only): every target row gets a slack column and the objective is
        the total slack, i.e. the least money by which the targets must fall short. ``slack``
        widens the tolerance kept on earlier optima (a retry after a numerically infeasible stage).
        ``integer``: amounts are whole units (the integer problem; only with scale 1).
        """
        return self._program(stage, kept, elastic=elastic, slack=slack, face=face, integer=integer)

    def explain_program(self) -> Program:
        """The absorb stage as a per-line LP to *maximise* (money received), without pairs: its row
        duals price one more unit of room or surplus in each pool and of each locality limit."""
        return self._program("absorb", [], per_line=True)

    def _program(
        self,
        stage: str,
        kept: Sequence[tuple[str, float]],
        *,
        elastic: bool = False,
        per_line: bool = False,
        slack: float = 1.0,
        face: Face | None = None,
        integer: bool = False,
    ) -> Program:
        b = _Builder("elastic" if elastic else ("explain" if per_line else stage))
        pairs = self.pairs_in(stage) and not per_line
        flows = self.flows_in(stage) and not per_line
        uses = self.uses_in(stage, kept) and not per_line
        s = float(self.scale)
        lines = np.arange(self.n)
        if stage in ("absorb", "settle"):
            lower = np.zeros(self.n)
            upper = self.bound / s
            if face is not None:
                lower = np.maximum(lower, face.amount_lower / s)
                upper = np.minimum(upper, face.amount_upper / s)
            b.columns("lo", lines, lower, upper, integer=integer)
        else:
            assert self.targets is not None, "targets are set after the absorb stage"
            # zero-width columns are left out: lo only where target > 0, hi only where target < bound
            has_lo = np.flatnonzero(self.targets > 0)
            has_hi = np.flatnonzero(self.targets < self.bound)
            lo_up = self.targets[has_lo].astype(np.float64)
            hi_up = (self.bound[has_hi] - self.targets[has_hi]).astype(np.float64)
            lo_low = np.zeros(has_lo.shape[0])
            hi_low = np.zeros(has_hi.shape[0])
            if face is not None:
                # amount in [A_lo, A_up] with lo filled before hi (as every share optimum has it):
                # lo in [min(A_lo, t), min(A_up, t)], hi in [max(A_lo - t, 0), max(A_up - t, 0)]
                t_lo, t_hi = self.targets[has_lo], self.targets[has_hi]
                lo_low = np.minimum(face.amount_lower[has_lo], t_lo).astype(np.float64)
                lo_up = np.minimum(face.amount_upper[has_lo], t_lo).astype(np.float64)
                hi_low = np.maximum(face.amount_lower[has_hi] - t_hi, 0).astype(np.float64)
                hi_up = np.minimum(np.maximum(face.amount_upper[has_hi] - t_hi, 0), hi_up).astype(np.float64)
            b.columns("lo", has_lo, lo_low / s, lo_up / s, integer=integer)
            b.columns("hi", has_hi, hi_low / s, hi_up / s, integer=integer)
        if pairs:
            b.columns("pair", np.arange(self.n_pairs), np.zeros(self.n_pairs), self.pair_bound / s)
        if flows:
            b.columns("flow", np.arange(self.n_flows), np.zeros(self.n_flows), self.flow_bound / s)
        if uses:
            b.columns("use", np.arange(self.n_pairs), np.zeros(self.n_pairs), np.ones(self.n_pairs), integer=True)
        if face is not None:
            for name, (lo, up) in face.bounds.items():
                if name in b.blocks:
                    sl, idx = b.block_slice(name), b.index[name]
                    b.lower[list(b.blocks).index(name)] = np.maximum(b.lower[list(b.blocks).index(name)], lo[idx])
                    b.upper[list(b.blocks).index(name)] = np.minimum(b.upper[list(b.blocks).index(name)], up[idx])
                    del sl

        amount_blocks = [name for name in ("lo", "hi") if name in b.blocks]
        amount_cols = np.concatenate([b.col_ids(name) for name in amount_blocks])
        amount_line = np.concatenate([b.index[name] for name in amount_blocks])
        if pairs:
            # one row per line: amount - sum(pairs of the line) = 0
            p_cols = b.col_ids("pair")
            b.row_block(
                np.concatenate([amount_line, self.pair_donor, self.pair_recipient]),
                np.concatenate([amount_cols, p_cols, p_cols]),
                np.concatenate([np.ones(amount_cols.shape[0]), -np.ones(2 * self.n_pairs)]),
                self.n,
                EQ,
                0.0,
                "line",
            )
        elif flows:
            # one row per group: sum(amounts of its lines) - sum(its flows) = 0
            f_cols = b.col_ids("flow")
            b.row_block(
                np.concatenate([self.group[amount_line], self.flow_from, self.flow_to]),
                np.concatenate([amount_cols, f_cols, f_cols]),
                np.concatenate([np.ones(amount_cols.shape[0]), -np.ones(2 * self.n_flows)]),
                self.n_groups,
                EQ,
                0.0,
                "group",
            )
        else:
            # one row per pool: received - given = 0
            b.row_block(
                self.pool[amount_line],
                amount_cols,
                np.where(self.is_recipient[amount_line], 1.0, -1.0),
                self.n_pools,
                EQ,
                0.0,
                "pool",
            )
        if uses:
            p_cols, u_cols = b.col_ids("pair"), b.col_ids("use")
            k = np.arange(self.n_pairs)
            # pair <= bound * use
            b.row_block(
                np.concatenate([k, k]),
                np.concatenate([p_cols, u_cols]),
                np.concatenate([np.ones(self.n_pairs), -self.pair_bound / s]),
                self.n_pairs,
                LE,
                0.0,
                "pair_used",
            )
            if self.min_transfer > 0:
                # pair >= min_transfer * use
                b.row_block(
                    np.concatenate([k, k]),
                    np.concatenate([p_cols, u_cols]),
                    np.concatenate([np.ones(self.n_pairs), -np.full(self.n_pairs, self.min_transfer / s)]),
                    self.n_pairs,
                    GE,
                    0.0,
                    "min_transfer",
                )
            if self.max_transfers is not None:
                # each line takes part in at most max_transfers_per_line transfers
                b.row_block(
                    np.concatenate([self.pair_donor, self.pair_recipient]),
                    np.concatenate([u_cols, u_cols]),
                    np.ones(2 * self.n_pairs),
                    self.n,
                    LE,
                    float(self.max_transfers),
                    "max_transfers_per_line",
                )
        if self.coupled:
            self._rule_rows(b, amount_cols, amount_line, elastic)

        for earlier, optimum in kept:
            coef = self.objective(earlier, b.blocks, b.index, b.n_cols)
            rhs = optimum + slack * stage_tolerance(optimum, self.digits)
            b.dense_row(coef, LE, rhs, "kept", STAGES.index(earlier))
        if face is not None and face.equal:
            for part, (kind, _, _, payload) in enumerate(b.row_groups):
                hit = np.array([(kind, int(p)) in face.equal for p in payload.tolist()], dtype=bool)
                if hit.any():
                    b.sense[part][np.flatnonzero(hit)] = EQ
        if elastic:
            cost = np.zeros(b.n_cols)
            if "slack" in b.blocks:
                cost[b.block_slice("slack")] = 1.0
            return b.build(cost)
        if per_line:
            return b.build(-self.objective(stage, b.blocks, b.index, b.n_cols), maximize=True)
        return b.build(self.objective(stage, b.blocks, b.index, b.n_cols))

    def _rule_rows(self, b: _Builder, cols: np.ndarray, active: np.ndarray, elastic: bool = False) -> None:
        """Locality limits (net loss / net gain over all of a locality's lines) and targets."""
        s = float(self.scale)
        t = self.scenario.table
        gain = np.where(self.is_recipient[active], 1.0, -1.0)  # +received, -given
        locality = t.locality[self.line[active]]
        n_loc = len(t.locality_ids)
        for code, kind, sign in ((0, "max_loss", -1.0), (1, "max_gain", 1.0)):
            mine = self.limit_kind == code
            if not mine.any():
                continue
            row_of = np.full(n_loc, -1, dtype=np.int64)
            locs = self.limit_loc[mine]
            row_of[locs] = np.arange(locs.shape[0])
            r = row_of[locality]
            use = r >= 0
            b.row_block(r[use], cols[use], sign * gain[use], locs.shape[0], LE, self.limit_units[mine] / s, kind, locs)
        shorts = [(k, covered, rate, short) for k, covered, rate, short in self.target_shortfalls() if short > 0]
        if elastic and shorts:
            b.columns("slack", np.array([k for k, *_ in shorts]), np.zeros(len(shorts)), np.full(len(shorts), np.inf))
        if not shorts:
            return
        covered_line = np.zeros(t.size, dtype=bool)
        rows, row_cols, row_vals, rhs, ks = [], [], [], [], []
        line_of_active = self.line[active]
        for j, (k, covered, rate, short) in enumerate(shorts):
            covered_line[:] = False
            covered_line[covered] = True
            mine = covered_line[line_of_active]
            r = float(rate)
            c = cols[mine]
            v = np.where(self.is_recipient[active[mine]], 1.0 - r, r)
            if elastic:
                c = np.append(c, b.blocks["slack"][0] + j)
                v = np.append(v, 1.0)
            rows.append(np.full(c.shape[0], j, dtype=np.int64))
            row_cols.append(c)
            row_vals.append(v)
            rhs.append(float(short) / s)
            ks.append(k)
        b.row_block(
            np.concatenate(rows),
            np.concatenate(row_cols),
            np.concatenate(row_vals),
            len(shorts),
            GE,
            np.array(rhs),
            "target",
            np.array(ks, dtype=np.int64),
        )

    def target_shortfalls(self) -> list[tuple[int, np.ndarray, Decimal, Decimal]]:
        """(target number, lines covered, rate, units it lacks before any move) for every target."""
        t = self.scenario.table
        absorbable = t.absorbable
        out = []
        for k, covered, rate in self.goals:
            allocated = int(np.sum(t.allocated[covered], dtype=np.int64))
            before = int(np.sum(absorbable[covered], dtype=np.int64))
            out.append((k, covered, rate, rate * allocated - before))
        return out

    def objective(
        self, stage: str, blocks: dict[str, tuple[int, int]], index: dict[str, np.ndarray], n_cols: int
    ) -> np.ndarray:
        """Coefficients of ``stage``'s objective (to minimise) over a program's columns."""
        c = np.zeros(n_cols)

        def put(name: str, values: np.ndarray | float) -> None:
            if name in blocks:
                start, stop = blocks[name]
                c[start:stop] = values

        if stage == "absorb":
            for name in ("lo", "hi"):
                if name in blocks:
                    put(name, np.where(self.is_recipient[index[name]], -1.0, 0.0))
        elif stage == "share":
            put("lo", -1.0)
            put("hi", 1.0)
        elif stage == "cost":
            put("pair", self.pair_cost * self.scale)
            put("flow", self.flow_cost * self.scale)
        elif stage == "count":
            put("use", 1.0)
        elif stage in ("canonical", "settle"):
            if "pair" in blocks:
                put("pair", _generic_weights(self.line[self.pair_donor], self.line[self.pair_recipient]))
            elif "flow" in blocks:
                put("flow", _generic_weights(self.group_line[self.flow_from], self.group_line[self.flow_to]))
            if "pair" not in blocks:
                for name in ("lo", "hi"):
                    if name in blocks:
                        lines = self.line[index[name]]
                        # after the flows decide, the lines' own split is secondary
                        weight = _generic_weights(lines, lines)
                        put(name, weight * (1e-3 if "flow" in blocks else 1.0))
        else:  # pragma: no cover - programming error
            raise ValueError(f"unknown stage {stage!r}")
        return c

    def amounts(self, program: Program, x: np.ndarray) -> np.ndarray:
        """Integer units (as floats) given or received by each active line in a solution ``x``."""
        s = float(self.scale)
        out = np.zeros(self.n)
        for name in ("lo", "hi"):
            if program.has(name):
                np.add.at(out, program.index[name], x[program.block(name)] * s)
        return out

    def on_targets(self, program: Program, x: np.ndarray, solver: str) -> bool:
        """Whether every line of solution ``x`` sits on its fair target (within the solver's digits)."""
        if self.targets is None:
            return False
        raw = self.amounts(program, x)
        return bool(np.all(np.abs(raw - self.targets) <= self.line_tolerance(raw, SOLVER_DIGITS[solver])))

    def line_tolerance(self, raw: np.ndarray, relative: float) -> np.ndarray:
        """Snap tolerance of each active line's amount: a solver's error scales with the largest
        numbers of the pool (the money it moves), not with each small value."""
        pool_size = np.bincount(self.pool, weights=np.where(self.is_recipient, raw, 0.0), minlength=self.n_pools)
        return np.asarray(snap_tolerance(np.maximum(raw, pool_size[self.pool]), self.scale, relative))

    def pool_moved(self, program: Program, x: np.ndarray) -> np.ndarray:
        """Money moved in each pool (integer units, float) by a solution ``x``."""
        amount = self.amounts(program, x)
        return np.bincount(self.pool, weights=np.where(self.is_recipient, amount, 0.0), minlength=self.n_pools)

    # ------------------------------------------------------------------------------ targets
    def set_targets(self, moved: np.ndarray, relative: float = SOLVER_DIGITS["highs"]) -> None:
        """Fair targets (whole units) from the money a solution moves in each pool (floats): each
        pool's total is read as the nearest whole number (or as all it can move, when the solver's
        value is that within its digits). See ``set_target_totals``."""
        top = np.minimum(self.pool_surplus, self.pool_room)
        totals = np.clip(np.floor(moved + 0.5), 0, top.astype(np.float64)).astype(np.int64)
        near_top = np.abs(moved - top) <= snap_tolerance(top.astype(np.float64), self.scale, relative)
        totals = np.where(near_top, top, totals)  # the solver's last digits are noise: all it can move
        self.set_target_totals(totals)

    def set_target_totals(self, totals: np.ndarray) -> None:
        """Fair targets (whole units) of the exact money ``totals`` moved in each pool.

        Per pool, the money moved M is split among recipients by the recipients rule and taken from
        donors by the donors rule: proportional -> largest-remainder shares of room (of surplus);
        priority -> fill by locality weight (highest first for recipients, lowest first for
        donors), sharing proportionally within equal weights.
        """
        targets = np.zeros(self.n, dtype=np.int64)
        rec = np.flatnonzero(self.is_recipient)
        don = np.flatnonzero(~self.is_recipient)
        totals = np.asarray(totals, dtype=np.int64)
        targets[rec] = fair_targets(
            self.pool[rec], self.bound[rec], self.weight[rec], totals, self.recipients_rule, highest_first=True
        )
        targets[don] = fair_targets(
            self.pool[don], self.bound[don], self.weight[don], totals, self.donors_rule, highest_first=False
        )
        self.targets = targets

    # ------------------------------------------------------------------------------ faces
    def face_after(
        self, program: Program, x: np.ndarray, col_dual: np.ndarray, row_dual: np.ndarray, face: Face | None
    ) -> Face:
        """The optimal face of ``program`` (solved at ``x`` with these duals), added to ``face``."""
        out = face.copy() if face is not None else Face(np.zeros(self.n, dtype=np.int64), self.bound.copy())
        scale = max(1.0, float(np.max(np.abs(program.cost), initial=0.0)))
        tol = 1e-7 * scale
        near = 1e-6
        for name, (start, stop) in program.blocks.items():
            if name in ("use", "slack"):
                continue
            d = col_dual[start:stop]
            xs, lo, up = x[start:stop], program.lower[start:stop], program.upper[start:stop]
            at_lo = (d > tol) & (xs <= lo + near)
            at_up = (d < -tol) & (xs >= up - near)
            idx = program.index[name]
            if name == "lo" and not program.has("hi") and program.stage in ("absorb", "settle"):
                # amount space: held at nothing, or at everything it can move
                out.amount_upper[idx[at_lo]] = np.minimum(out.amount_upper[idx[at_lo]], 0)
                out.amount_lower[idx[at_up]] = self.bound[idx[at_up]]
                continue
            size = {"lo": self.n, "hi": self.n, "pair": self.n_pairs, "flow": self.n_flows}[name]
            lo_all, up_all = out.bounds.get(name, (np.full(size, -np.inf), np.full(size, np.inf)))
            up_all[idx[at_lo]] = lo[at_lo]
            lo_all[idx[at_up]] = up[at_up]
            out.bounds[name] = (lo_all, up_all)
        rtol = tol
        kinds = program.row_groups
        for kind, start, n, payload in kinds:
            if kind in ("kept", "pool", "line", "group"):
                continue  # equalities already, or stage rows of their own
            y = row_dual[start : start + n]
            for p in payload[np.abs(y) > rtol].tolist():
                out.equal.add((kind, int(p)))
        return out

    def amount_face(self, amounts: np.ndarray) -> Face:
        """The face of a closed-form optimum: every active line's amount is fixed."""
        return Face(amounts.astype(np.int64).copy(), amounts.astype(np.int64).copy())


class _CostModel:
    """Cost per integer unit of a move between two lines: the locality pair's transfer cost plus a
    move cost for each attribute the move changes."""

    def __init__(self, scenario: Scenario, form: Formulation) -> None:
        self.scenario = scenario
        t = scenario.table
        per_unit = float(scenario.precision)
        self.per_unit = per_unit
        self.attributes = [a for a, c in scenario.rules.move_costs.items() if c > 0]
        self.move_cost = {a: float(scenario.rules.move_costs[a]) * per_unit for a in self.attributes}
        self.n_loc = len(t.locality_ids)
        self.keys = np.zeros(0, dtype=np.int64)
        self.costs = np.zeros(0, dtype=np.float64)
        if scenario.transfer_costs:
            ids = {lid: k for k, lid in enumerate(t.locality_ids)}
            keys, costs = [], []
            for tc in scenario.transfer_costs:
                if tc.from_ in ids and tc.to in ids and tc.cost:
                    keys.append(ids[tc.from_] * self.n_loc + ids[tc.to])
                    costs.append(tc.cost * per_unit)
            order = np.argsort(np.array(keys, dtype=np.int64))
            self.keys = np.array(keys, dtype=np.int64)[order]
            self.costs = np.array(costs, dtype=np.float64)[order]
        self.active = bool(self.keys.shape[0]) or bool(self.attributes)
        del form

    def between(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Cost per integer unit of moving from line ``src`` to line ``dst`` (arrays of line indices)."""
        t = self.scenario.table
        out = np.zeros(src.shape[0], dtype=np.float64)
        if self.keys.shape[0]:
            q = t.locality[src].astype(np.int64) * self.n_loc + t.locality[dst].astype(np.int64)
            pos = np.clip(np.searchsorted(self.keys, q), 0, self.keys.shape[0] - 1)
            out += np.where(self.keys[pos] == q, self.costs[pos], 0.0)
        for attr in self.attributes:
            codes = t.lines.codes(attr)
            out += np.where(codes[src] != codes[dst], self.move_cost[attr], 0.0)
        return out


def snap_tolerance(
    value: np.ndarray | float, scale: int, relative: float = SOLVER_DIGITS["highs"]
) -> np.ndarray | float:
    """How far (in integer units) a solver value may sit from a whole number or target and still be
    read as it: LP tolerances (~1e-7 in LP units of ``scale`` integer units) plus the digits the
    solver prints (``relative``, see ``SOLVER_DIGITS``)."""
    return 1e-5 * scale + relative * np.abs(value)


def stage_tolerance(optimum: float, digits: float = 0.0) -> float:
    """How far a later stage may move an earlier stage's optimum (LP units): 1e-12 of it (or the
    solver's printed digits, if coarser) plus 1e-6."""
    return abs(optimum) * max(STAGE_TOL_REL, digits) + STAGE_TOL_ABS


def _generic_weights(a: np.ndarray, b: np.ndarray) -> np.ndarray:
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
