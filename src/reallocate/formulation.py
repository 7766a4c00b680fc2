"""The reallocation model as arrays: whole blocks of columns and rows, one sparse matrix per stage.

Only lines that can move money take part: a *donor* has surplus > 0 and a *recipient* has room > 0
in a pool where the other side exists. Each of them has an ``amount`` (given or received), bounded
by its surplus or room, so "gives only its surplus, receives only up to its room, never both" holds
by construction. Money moves only inside a pool:

* without pairs, one row per pool: sum(received) - sum(given) = 0;
* with pairs (transfer costs or ``min_transfer`` need them), one column per (donor, recipient) of a
  pool and one row per line: amount - sum(its pairs) = 0.

The stages of "best plan" (DOMAIN.md) are solved one after the other; each later stage adds the
earlier objectives as rows ``objective <= optimum + tolerance``:

``absorb``     maximise the money recipients receive (= total absorbable gain);
``share``      minimise the deviation from each line's fair target (proportional or priority),
               the targets being whole units apportioned from the ``absorb`` pool totals;
``cost``       minimise total transfer cost (only when a pair has a non-zero cost);
``count``      minimise the number of transfers (a MILP, only with pairs);
``canonical``  a fixed generic tie-break so every solver returns the same plan among equals.

The deviation |amount - target| needs no extra rows: the amount is split into ``lo`` in
[0, target] and ``hi`` in [0, bound - target], and the stage minimises ``hi - lo``. Whenever
``hi > 0`` while ``lo < target`` the pair (lo + e, hi - e) is strictly better, so at an optimum
``hi - lo + target`` is exactly the deviation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from .scenario import LINE_KEYS, Scenario

__all__ = ["SOLVER_DIGITS", "STAGES", "Formulation", "Program", "apportion", "snap_tolerance", "stage_tolerance"]

#: Stage names, in lexicographic order of importance.
STAGES: tuple[str, ...] = ("absorb", "settle", "share", "cost", "count", "canonical")

#: Tolerance kept on an earlier stage's optimum: |optimum| * REL + ABS (in LP units).
STAGE_TOL_REL = 1e-12
STAGE_TOL_ABS = 1e-6

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
    #: what each block's columns stand for: active line, pair or pool indices
    index: dict[str, np.ndarray]
    #: what the rows stand for: (kind, first row, number of rows, payload) per block of rows
    row_groups: list[tuple[str, int, int, object]] = field(default_factory=list)
    #: the objective is to be maximised (only the explain program; the stages minimise)
    maximize: bool = False

    def row_group(self, r: int) -> tuple[str, int, object]:
        """(kind, position inside its block, payload) of row ``r``."""
        for kind, start, n, payload in self.row_groups:
            if start <= r < start + n:
                return kind, r - start, payload
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
    row_groups: list[tuple[str, int, int, object]] = field(default_factory=list)

    def block_slice(self, name: str) -> slice:
        start, stop = self.blocks[name]
        return slice(start, stop)

    def columns(self, name: str, index: np.ndarray, lower: np.ndarray, upper: np.ndarray, integer: bool = False) -> int:
        start = self.n_cols
        k = int(lower.shape[0])
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
        sense: int,
        rhs: np.ndarray | float,
        kind: str = "",
        payload: object = None,
    ) -> None:
        """Add ``n`` rows given as COO triplets with row ids 0..n-1, labelled ``kind``."""
        self.row_groups.append((kind, self.n_rows, n, payload))
        self.rows.append(np.asarray(rows, dtype=np.int64) + self.n_rows)
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.vals.append(np.asarray(vals, dtype=np.float64))
        self.sense.append(np.full(n, sense, dtype=np.int8))
        self.rhs.append(np.broadcast_to(np.asarray(rhs, dtype=np.float64), (n,)).copy())
        self.n_rows += n

    def dense_row(self, coef: np.ndarray, sense: int, rhs: float, kind: str = "", payload: object = None) -> None:
        nz = np.flatnonzero(coef)
        self.row_block(np.zeros(nz.shape[0], dtype=np.int64), nz, coef[nz], 1, sense, rhs, kind, payload)

    def build(self, cost: np.ndarray, maximize: bool = False) -> Program:
        def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

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


def apportion(total: int, caps: np.ndarray) -> np.ndarray:
    """Split ``total`` whole units among lines in proportion to ``caps`` (largest remainder).

    Every share is floor or ceil of ``cap * total / sum(caps)``, never above its cap, and the
    shares sum to ``total`` exactly. Ties in the remainder go to the earlier line. Exact integer
    arithmetic, also beyond int64.
    """
    caps_obj = [int(c) for c in caps]
    whole = sum(caps_obj)
    if total < 0 or total > whole:
        raise ValueError(f"cannot apportion {total} over caps summing to {whole}")
    if whole == 0:
        return np.zeros(len(caps_obj), dtype=np.int64)
    shares = [c * total // whole for c in caps_obj]
    rema = [c * total % whole for c in caps_obj]
    left = total - sum(shares)
    rank = sorted(range(len(caps_obj)), key=lambda i: -rema[i])  # stable: earlier first among equal remainders
    for i in rank[:left]:
        shares[i] += 1
    return np.array(shares, dtype=np.int64)


class Formulation:
    """Everything the stages share: active lines, pools, pairs, targets, scaling."""

    def __init__(self, scenario: Scenario) -> None:
        t = scenario.table
        rules = scenario.rules
        self.scenario = scenario

        # A pool moves money only when it has both surplus and room.
        n_pools = len(t.pool_keys)
        #: what each line may give / receive once its flags are applied
        self.can_give = np.where(t.frozen | t.receive_only, 0, t.surplus)
        self.can_receive = np.where(t.frozen | t.give_only, 0, t.room)
        pool_surplus = np.bincount(t.pool, weights=self.can_give, minlength=n_pools)
        pool_room = np.bincount(t.pool, weights=self.can_receive, minlength=n_pools)
        moving_pool = (pool_surplus > 0) & (pool_room > 0)
        donor = (self.can_give > 0) & moving_pool[t.pool]
        recipient = (self.can_receive > 0) & moving_pool[t.pool]

        #: line index of every active line; donors and recipients interleaved in line order
        self.line = np.flatnonzero(donor | recipient)
        self.is_recipient = recipient[self.line]
        self.bound = np.where(self.is_recipient, self.can_receive[self.line], self.can_give[self.line]).astype(np.int64)
        pools_used, self.pool = np.unique(t.pool[self.line], return_inverse=True)
        self.pool = self.pool.astype(np.int64)
        #: scenario pool index of each moving pool
        self.pool_index = pools_used.astype(np.int64)
        self.n = int(self.line.shape[0])
        self.n_pools = int(pools_used.shape[0])
        self.weight = t.weight[self.line]

        largest = float(self.bound.max()) if self.n else 1.0
        exponent = max(0, int(np.ceil(np.log10(largest / _LP_MAX_BOUND)))) if largest > _LP_MAX_BOUND else 0
        #: integer units per LP unit
        self.scale = 10**exponent

        self.min_transfer = int(scenario.rules.min_transfer / scenario.precision)
        self.max_transfers = rules.max_transfers_per_line
        cost_per_unit = _pair_cost_lookup(scenario)
        self.pair_donor = np.zeros(0, dtype=np.int64)  # active index of the donor of each pair
        self.pair_recipient = np.zeros(0, dtype=np.int64)
        self.pair_cost = np.zeros(0, dtype=np.float64)  # cost per integer unit
        self.pair_bound = np.zeros(0, dtype=np.int64)
        self._cost_lookup = cost_per_unit
        self.has_cost = False
        move_costs = any(c > 0 for c in rules.move_costs.values())
        if cost_per_unit is not None or move_costs or self.min_transfer > 0 or self.max_transfers is not None:
            self._build_pairs()
            self.has_cost = bool(np.any(self.pair_cost > 0))
        #: binaries "pair is used" are needed in every stage (not only to count transfers)
        self.uses_always = self.min_transfer > 0 or self.max_transfers is not None
        self.uses_pairs = self.uses_always or self.has_cost
        self.recipients_rule = rules.recipients
        self.donors_rule = rules.donors
        self.targets: np.ndarray | None = None
        #: relative precision of the solver's values (set by the caller; see SOLVER_DIGITS)
        self.digits = SOLVER_DIGITS["highs"]
        self.limits = self._locality_limits()
        self.goals = self._target_rows()
        #: rules that tie lines of different pools together: the absorb stage stays per line
        self.coupled = bool(self.limits) or bool(self.goals)

    # ------------------------------------------------------------------------------ rules
    def _locality_limits(self) -> list[tuple[str, int, int]]:
        """(kind, locality index, limit in units) for every locality limit: net loss or net gain."""
        sc = self.scenario
        t = sc.table
        rules = sc.rules
        by_id = {loc.id: loc for loc in sc.localities or ()}
        exact_total = [0] * len(t.locality_ids)
        for loc, units in zip(t.locality.tolist(), t.allocated.tolist(), strict=True):
            exact_total[loc] += units
        out = []
        for k, lid in enumerate(t.locality_ids):
            for kind in ("max_loss", "max_gain"):
                own = getattr(by_id[lid], kind) if lid in by_id else None
                limit = own if own is not None else getattr(rules, kind)
                if limit is None:
                    continue
                if limit.amount is not None:
                    units = int(limit.amount / sc.precision)
                else:
                    # a share of the locality's allocation, rounded down: the limit is never exceeded
                    units = int(Decimal(repr(limit.share)) * exact_total[k])
                out.append((kind, k, units))
        return out

    def _target_rows(self) -> list[tuple[int, np.ndarray, Decimal]]:
        """(target number, lines it covers, rate) for every target; -1 is ``target_rate``.

        A target asks that the covered lines' absorbable money reach ``rate`` x what they hold
        after the moves. Received money adds to both, given money only to what they no longer hold,
        so the row is  (1 - rate) received + rate given >= rate x allocated - absorbable before."""
        sc = self.scenario
        t = sc.table
        out = []
        goals: list[tuple[int, float, dict[str, str]]] = []
        if sc.rules.target_rate is not None:
            goals.append((-1, sc.rules.target_rate, {}))
        goals += [(k, g.rate, g.selector) for k, g in enumerate(sc.rules.targets)]
        for k, rate, selector in goals:
            positions = [LINE_KEYS.index(a) for a in selector]
            want = tuple(selector.values())
            mask = np.array([tuple(key[p] for p in positions) == want for key in t.keys], dtype=bool)
            out.append((k, np.flatnonzero(mask), Decimal(repr(rate))))
        return out

    # ------------------------------------------------------------------------------ pairs
    def _build_pairs(self) -> None:
        t = self.scenario.table
        donors_by_pool: list[np.ndarray] = []
        recips_by_pool: list[np.ndarray] = []
        order = np.argsort(self.pool, kind="stable")
        bounds = np.searchsorted(self.pool[order], np.arange(self.n_pools + 1))
        for p in range(self.n_pools):
            members = order[bounds[p] : bounds[p + 1]]
            d = members[~self.is_recipient[members]]
            r = members[self.is_recipient[members]]
            donors_by_pool.append(np.repeat(d, r.shape[0]))
            recips_by_pool.append(np.tile(r, d.shape[0]))
        self.pair_donor = np.concatenate(donors_by_pool) if donors_by_pool else np.zeros(0, np.int64)
        self.pair_recipient = np.concatenate(recips_by_pool) if recips_by_pool else np.zeros(0, np.int64)
        self.pair_bound = np.minimum(self.bound[self.pair_donor], self.bound[self.pair_recipient])
        if self.min_transfer > 0:
            # a pair that cannot carry min_transfer never carries anything
            usable = self.pair_bound >= self.min_transfer
            self.pair_donor, self.pair_recipient = self.pair_donor[usable], self.pair_recipient[usable]
            self.pair_bound = self.pair_bound[usable]
        src, dst = self.line[self.pair_donor], self.line[self.pair_recipient]
        self.pair_cost = np.zeros(self.pair_donor.shape[0])
        if self._cost_lookup is not None:
            self.pair_cost += self._cost_lookup(t.locality[src], t.locality[dst])
        per_unit = float(self.scenario.precision)
        for attr, cost in self.scenario.rules.move_costs.items():
            if cost <= 0:
                continue
            pos = LINE_KEYS.index(attr)
            codes: dict[str, int] = {}
            code = np.array([codes.setdefault(k[pos], len(codes)) for k in t.keys], dtype=np.int64)
            self.pair_cost += np.where(code[src] != code[dst], cost * per_unit, 0.0)

    @property
    def n_pairs(self) -> int:
        return int(self.pair_donor.shape[0])

    # ------------------------------------------------------------------------------ stages
    def stages(self) -> list[str]:
        """The stages this scenario needs, in order (``canonical`` may be dropped by the solver)."""
        out = ["absorb"]
        if self.coupled:
            # rules tie pools together, so the absorb optimum may split its money between pools in
            # many ways; "settle" picks one with a fixed generic objective (solver-independent)
            # before the fair targets are drawn from it
            out.append("settle")
        out.append("share")
        if self.has_cost:
            out.append("cost")
        if self.uses_pairs:
            out.append("count")
        out.append("canonical")
        return out

    def pairs_in(self, stage: str) -> bool:
        return self.uses_pairs and (self.uses_always or stage in ("cost", "count", "canonical"))

    def uses_in(self, stage: str, kept: list[tuple[str, float]]) -> bool:
        """Whether the stage needs the binary "pair is used" columns."""
        if not self.pairs_in(stage):
            return False
        return self.uses_always or stage == "count" or any(name == "count" for name, _ in kept)

    def program(
        self, stage: str, kept: list[tuple[str, float]], *, elastic: bool = False, slack: float = 1.0
    ) -> Program:
        """The LP/MILP of ``stage``, keeping each earlier (stage, optimum) in ``kept``.

        ``elastic`` (absorb stage only): every target row gets a slack column and the objective is
        the total slack, i.e. the least money by which the targets must fall short. ``slack``
        widens the tolerance kept on earlier optima (a retry after a numerically infeasible stage).
        """
        return self._program(stage, kept, elastic=elastic, slack=slack)

    def explain_program(self) -> Program:
        """The absorb stage as a per-line LP to *maximise* (money received), without pairs: its row
        duals price one more unit of room or surplus in each pool and of each locality limit."""
        return self._program("absorb", [], per_line=True)

    def _program(
        self,
        stage: str,
        kept: list[tuple[str, float]],
        *,
        elastic: bool = False,
        per_line: bool = False,
        slack: float = 1.0,
    ) -> Program:
        b = _Builder("elastic" if elastic else ("explain" if per_line else stage))
        pairs = self.pairs_in(stage) and not per_line
        uses = self.uses_in(stage, kept) and not per_line
        s = float(self.scale)
        lines = np.arange(self.n)
        if stage == "absorb" and not pairs and not self.coupled and not per_line:
            # Lines of one pool and side are interchangeable here: one column per pool and side.
            room = np.bincount(self.pool, weights=np.where(self.is_recipient, self.bound, 0), minlength=self.n_pools)
            surplus = np.bincount(self.pool, weights=np.where(self.is_recipient, 0, self.bound), minlength=self.n_pools)
            pools = np.arange(self.n_pools)
            b.columns("pool_in", pools, np.zeros(self.n_pools), room / s)
            b.columns("pool_out", pools, np.zeros(self.n_pools), surplus / s)
        elif stage in ("absorb", "settle"):
            b.columns("lo", lines, np.zeros(self.n), self.bound / s)
        else:
            assert self.targets is not None, "targets are set after the absorb stage"
            # zero-width columns are left out: lo only where target > 0, hi only where target < bound
            has_lo = np.flatnonzero(self.targets > 0)
            has_hi = np.flatnonzero(self.targets < self.bound)
            b.columns("lo", has_lo, np.zeros(has_lo.shape[0]), self.targets[has_lo] / s)
            b.columns("hi", has_hi, np.zeros(has_hi.shape[0]), (self.bound[has_hi] - self.targets[has_hi]) / s)
        if pairs:
            b.columns("pair", np.arange(self.n_pairs), np.zeros(self.n_pairs), self.pair_bound / s)
        if uses:
            b.columns("use", np.arange(self.n_pairs), np.zeros(self.n_pairs), np.ones(self.n_pairs), integer=True)

        amount_blocks = [name for name in ("lo", "hi") if name in b.blocks]
        if "pool_in" in b.blocks:
            # one row per pool: received - given = 0
            i0, o0 = b.blocks["pool_in"][0], b.blocks["pool_out"][0]
            pools = np.arange(self.n_pools)
            b.row_block(
                np.concatenate([pools, pools]),
                np.concatenate([i0 + pools, o0 + pools]),
                np.concatenate([np.ones(self.n_pools), -np.ones(self.n_pools)]),
                self.n_pools,
                EQ,
                0.0,
                "pool",
            )
        elif not pairs:
            # one row per pool: received - given = 0
            rows = np.concatenate([self.pool[b.index[name]] for name in amount_blocks])
            cols = np.concatenate([b.blocks[name][0] + np.arange(b.index[name].shape[0]) for name in amount_blocks])
            vals = np.concatenate([np.where(self.is_recipient[b.index[name]], 1.0, -1.0) for name in amount_blocks])
            b.row_block(rows, cols, vals, self.n_pools, EQ, 0.0, "pool")
        else:
            # one row per line: amount - sum(pairs of the line) = 0
            p0 = b.blocks["pair"][0]
            k = np.arange(self.n_pairs)
            rows = np.concatenate([*(b.index[name] for name in amount_blocks), self.pair_donor, self.pair_recipient])
            cols = np.concatenate(
                [*(b.blocks[name][0] + np.arange(b.index[name].shape[0]) for name in amount_blocks), p0 + k, p0 + k]
            )
            vals = np.concatenate(
                [*(np.ones(b.index[name].shape[0]) for name in amount_blocks), -np.ones(2 * self.n_pairs)]
            )
            b.row_block(rows, cols, vals, self.n, EQ, 0.0, "line")
        if uses:
            p0, u0 = b.blocks["pair"][0], b.blocks["use"][0]
            k = np.arange(self.n_pairs)
            # pair <= bound * use
            b.row_block(
                np.concatenate([k, k]),
                np.concatenate([p0 + k, u0 + k]),
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
                    np.concatenate([p0 + k, u0 + k]),
                    np.concatenate([np.ones(self.n_pairs), -np.full(self.n_pairs, self.min_transfer / s)]),
                    self.n_pairs,
                    GE,
                    0.0,
                    "min_transfer",
                )

        if self.max_transfers is not None and uses:
            # each line takes part in at most max_transfers_per_line transfers
            u0 = b.blocks["use"][0]
            k = np.arange(self.n_pairs)
            b.row_block(
                np.concatenate([self.pair_donor, self.pair_recipient]),
                np.concatenate([u0 + k, u0 + k]),
                np.ones(2 * self.n_pairs),
                self.n,
                LE,
                float(self.max_transfers),
                "max_transfers_per_line",
            )
        if self.coupled:
            self._rule_rows(b, amount_blocks, elastic)

        for earlier, optimum in kept:
            coef = self.objective(earlier, b.blocks, b.index, b.n_cols)
            b.dense_row(coef, LE, optimum + slack * stage_tolerance(optimum, self.digits), "kept", earlier)
        if elastic:
            cost = np.zeros(b.n_cols)
            if "slack" in b.blocks:
                cost[b.block_slice("slack")] = 1.0
            return b.build(cost)
        if per_line:
            return b.build(-self.objective(stage, b.blocks, b.index, b.n_cols), maximize=True)
        return b.build(self.objective(stage, b.blocks, b.index, b.n_cols))

    def _rule_rows(self, b: _Builder, amount_blocks: Sequence[str], elastic: bool = False) -> None:
        """Locality limits (net loss / net gain over all of a locality's lines) and targets."""
        s = float(self.scale)
        t = self.scenario.table
        cols = np.concatenate([b.blocks[name][0] + np.arange(b.index[name].shape[0]) for name in amount_blocks])
        active = np.concatenate([b.index[name] for name in amount_blocks])
        gain = np.where(self.is_recipient[active], 1.0, -1.0)  # +received, -given
        locality = t.locality[self.line[active]]
        for kind, loc, units in self.limits:
            mine = locality == loc
            sign = -1.0 if kind == "max_loss" else 1.0
            b.row_block(
                np.zeros(int(mine.sum()), dtype=np.int64), cols[mine], sign * gain[mine], 1, LE, units / s, kind, loc
            )
        covered_active = np.zeros(self.scenario.table.size, dtype=bool)
        shorts = [(k, covered, rate, short) for k, covered, rate, short in self.target_shortfalls() if short > 0]
        if elastic and shorts:
            b.columns("slack", np.array([k for k, *_ in shorts]), np.zeros(len(shorts)), np.full(len(shorts), np.inf))
        for j, (k, covered, rate, short) in enumerate(shorts):
            covered_active[:] = False
            covered_active[covered] = True
            mine = covered_active[self.line[active]]
            r = float(rate)
            row_cols = cols[mine]
            row_vals = np.where(self.is_recipient[active[mine]], 1.0 - r, r)
            if elastic:
                row_cols = np.append(row_cols, b.blocks["slack"][0] + j)
                row_vals = np.append(row_vals, 1.0)
            b.row_block(
                np.zeros(row_cols.shape[0], dtype=np.int64), row_cols, row_vals, 1, GE, float(short) / s, "target", k
            )

    def target_shortfalls(self) -> list[tuple[int, np.ndarray, Decimal, Decimal]]:
        """(target number, lines covered, rate, units it lacks before any move) for every target."""
        t = self.scenario.table
        absorbable = t.absorbable
        out = []
        for k, covered, rate in self.goals:
            allocated = int(np.sum(t.allocated[covered], dtype=object))
            before = int(np.sum(absorbable[covered], dtype=object))
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
            put("pool_in", -1.0)
            for name in ("lo", "hi"):
                if name in blocks:
                    put(name, np.where(self.is_recipient[index[name]], -1.0, 0.0))
        elif stage == "share":
            put("lo", -1.0)
            put("hi", 1.0)
        elif stage == "cost":
            put("pair", self.pair_cost * self.scale)
        elif stage == "count":
            put("use", 1.0)
        elif stage in ("canonical", "settle"):
            if "pair" in blocks:
                put("pair", _generic_weights(self.line[self.pair_donor], self.line[self.pair_recipient]))
            else:
                for name in ("lo", "hi"):
                    if name in blocks:
                        lines = self.line[index[name]]
                        put(name, _generic_weights(lines, lines))
        else:  # pragma: no cover - programming error
            raise ValueError(f"unknown stage {stage!r}")
        return c

    def amounts(self, program: Program, x: np.ndarray) -> np.ndarray:
        """Integer units (as floats) given or received by each active line in a solution ``x``."""
        s = float(self.scale)
        out = np.zeros(self.n)
        if program.has("pool_in"):
            # aggregated absorb stage: spread each pool's total over its lines by bound
            moved = x[program.block("pool_in")] * s
            for p in range(self.n_pools):
                members = np.flatnonzero(self.pool == p)
                total = int(np.floor(moved[p] + 0.5))
                for side in (self.is_recipient[members], ~self.is_recipient[members]):
                    m = members[side]
                    out[m] = apportion(min(total, int(self.bound[m].sum())), self.bound[m])
            return out
        for name in ("lo", "hi"):
            if program.has(name):
                np.add.at(out, program.index[name], x[program.block(name)] * s)
        return out

    def on_targets(self, program: Program, x: np.ndarray, solver: str) -> bool:
        """Whether every line of solution ``x`` sits on its fair target (within the solver's digits)."""
        if self.targets is None or program.has("pool_in"):
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
        if program.has("pool_in"):
            return x[program.block("pool_in")] * float(self.scale)
        amount = self.amounts(program, x)
        return np.bincount(self.pool, weights=np.where(self.is_recipient, amount, 0.0), minlength=self.n_pools)

    # ------------------------------------------------------------------------------ targets
    def set_targets(self, moved: np.ndarray, relative: float = SOLVER_DIGITS["highs"]) -> None:
        """Fair targets (whole units) from the money the ``absorb`` solution moves in each pool.

        Per pool, the money moved M is split among recipients by the recipients rule and taken from
        donors by the donors rule: proportional -> largest-remainder shares of room (of surplus);
        priority -> fill by locality weight (highest first for recipients, lowest first for
        donors), sharing proportionally within equal weights.
        """
        targets = np.zeros(self.n, dtype=np.int64)
        order = np.argsort(self.pool, kind="stable")
        edges = np.searchsorted(self.pool[order], np.arange(self.n_pools + 1))
        for p in range(self.n_pools):
            members = order[edges[p] : edges[p + 1]]
            rec = members[self.is_recipient[members]]
            don = members[~self.is_recipient[members]]
            top = min(int(self.bound[rec].sum()), int(self.bound[don].sum()))
            total = min(max(int(np.floor(moved[p] + 0.5)), 0), top)
            if abs(float(moved[p]) - top) <= snap_tolerance(float(top), self.scale, relative):
                total = top  # the solver's last digits are noise: the pool moves all it can
            targets[rec] = _fill(total, self.bound[rec], self.weight[rec], self.recipients_rule, highest_first=True)
            targets[don] = _fill(total, self.bound[don], self.weight[don], self.donors_rule, highest_first=False)
        self.targets = targets


def _fill(total: int, bounds: np.ndarray, weight: np.ndarray, rule: str, *, highest_first: bool) -> np.ndarray:
    if rule == "proportional":
        return apportion(total, bounds)
    out = np.zeros(bounds.shape[0], dtype=np.int64)
    classes = np.unique(weight)
    if highest_first:
        classes = classes[::-1]
    left = total
    for w in classes:
        members = np.flatnonzero(weight == w)
        cap = int(bounds[members].sum())
        take = min(cap, left)
        out[members] = apportion(take, bounds[members])
        left -= take
        if left == 0:
            break
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


def _pair_cost_lookup(scenario: Scenario):  # type: ignore[no-untyped-def]
    """A vectorised (from locality index, to locality index) -> cost per integer unit, or None."""
    if not scenario.transfer_costs:
        return None
    ids = {lid: k for k, lid in enumerate(scenario.table.locality_ids)}
    n_loc = len(ids)
    keys = []
    costs = []
    per_unit = float(scenario.precision)
    for tc in scenario.transfer_costs:
        if tc.from_ in ids and tc.to in ids:
            keys.append(ids[tc.from_] * n_loc + ids[tc.to])
            costs.append(tc.cost * per_unit)
    if not keys:
        return None
    key_arr = np.array(keys, dtype=np.int64)
    cost_arr = np.array(costs, dtype=np.float64)
    order = np.argsort(key_arr)
    key_arr, cost_arr = key_arr[order], cost_arr[order]

    def lookup(from_loc: np.ndarray, to_loc: np.ndarray) -> np.ndarray:
        q = from_loc.astype(np.int64) * n_loc + to_loc.astype(np.int64)
        pos = np.clip(np.searchsorted(key_arr, q), 0, key_arr.shape[0] - 1)
        hit = key_arr[pos] == q
        return np.where(hit, cost_arr[pos], 0.0)

    return lookup
