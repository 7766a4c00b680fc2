"""``Formulation``: everything the stages share, and the LP of each stage built from arrays."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from ..lines import combine_codes
from ..scenario import Scenario
from ..sharing import apportion_groups, fair_targets, group_sums
from .costs import CostModel
from .program import (
    COUNT_MAX_PAIRS,
    EQ,
    GE,
    LE,
    LP_MAX_BOUND,
    SOLVER_DIGITS,
    STAGES,
    Face,
    Program,
    ProgramBuilder,
    generic_weights,
    snap_tolerance,
    stage_tolerance,
)
from .rules import locality_limits, target_rows

__all__ = ["Formulation"]


class Formulation:
    """Everything the stages share: active lines and their groups, pools, pairs or flows,
    targets, scaling.

    An *active* line can move money: a donor (surplus > 0) or a recipient (room > 0) in a pool
    where the other side exists. Active lines of one pool and side that also share their locality,
    their costed attributes and the targets covering them are interchangeable for every row of
    every stage (pool balance, locality limits, targets, costs): the LPs have one column per such
    *group*, bounded by the sum of its lines' surplus (room), and a group's total is split among
    its lines afterwards, exactly and as close to their fair targets as it allows. With line pairs
    (``min_transfer``, ``max_transfers_per_line``, few costed pairs) every group is one line.
    """

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

        self.min_transfer = int(rules.min_transfer / scenario.precision)
        self.max_transfers = rules.max_transfers_per_line
        self.recipients_rule = rules.recipients
        self.donors_rule = rules.donors
        #: fair target of each active line (whole units), and of each group (the sum)
        self.targets: np.ndarray | None = None
        self.g_targets: np.ndarray | None = None
        #: relative precision of the solver's values (set by the caller; see SOLVER_DIGITS)
        self.digits = SOLVER_DIGITS["highs"]

        self.limit_kind, self.limit_loc, self.limit_units = locality_limits(scenario)
        self.goals = target_rows(scenario)
        #: rules that tie lines of different pools together: the money stages need an LP
        self.coupled = bool(self.limit_kind.shape[0]) or bool(self.goals)

        # pairs: binaries "pair is used" are needed in every stage with min_transfer / max transfers
        self.uses_always = self.min_transfer > 0 or self.max_transfers is not None
        self.costs = CostModel(scenario)
        self.n_line_pairs = self._count_line_pairs()
        self.pair_mode = "none"
        # line pairs let the count stage find the fewest transfers, but binaries cannot tell units
        # apart beyond ~10^9 units: costs then go by flows between groups
        line_scale_ok = (
            float(np.minimum(self.bound, np.minimum(self.pool_surplus, self.pool_room)[self.pool]).max(initial=0))
            <= LP_MAX_BOUND
        )
        if self.uses_always or (self.costs.active and self.n_line_pairs <= COUNT_MAX_PAIRS and line_scale_ok):
            self.pair_mode = "lines"
        elif self.costs.active:
            self.pair_mode = "flows"
        self._build_groups()

        self._tighten_caps()
        largest = float(self.g_cap.max()) if self.n_groups else 1.0
        exponent = max(0, int(np.ceil(np.log10(largest / LP_MAX_BOUND)))) if largest > LP_MAX_BOUND else 0
        #: integer units per LP unit
        self.scale = 10**exponent

        self.pair_donor = np.zeros(0, dtype=np.int64)  # group (= active line) of the donor of each pair
        self.pair_recipient = np.zeros(0, dtype=np.int64)
        # cost per integer unit: the approval tier's part (move_costs), the transfer_costs part, both
        self.pair_tier = np.zeros(0, dtype=np.float64)
        self.pair_fee = np.zeros(0, dtype=np.float64)
        self.pair_cost = np.zeros(0, dtype=np.float64)
        self.pair_bound = np.zeros(0, dtype=np.int64)
        self.flow_from = np.zeros(0, dtype=np.int64)  # donor group of each flow
        self.flow_to = np.zeros(0, dtype=np.int64)
        self.flow_tier = np.zeros(0, dtype=np.float64)
        self.flow_fee = np.zeros(0, dtype=np.float64)
        self.flow_cost = np.zeros(0, dtype=np.float64)
        self.flow_bound = np.zeros(0, dtype=np.int64)
        #: some move needs a higher approval (move_costs) / costs something (transfer_costs)
        self.has_tier = False
        self.has_fee = False
        if self.pair_mode == "lines":
            self._build_pairs()
            self.has_tier, self.has_fee = bool(np.any(self.pair_tier > 0)), bool(np.any(self.pair_fee > 0))
        elif self.pair_mode == "flows":
            self._build_flows()
            self.has_tier, self.has_fee = bool(np.any(self.flow_tier > 0)), bool(np.any(self.flow_fee > 0))
        self.has_cost = self.has_tier or self.has_fee
        if not self.has_cost and not self.uses_always:
            self.pair_mode = "none"
        #: the goals after "absorb the most", in the scenario's order, as stage names
        self.goal_stages = [
            stage
            for goal in rules.order
            if (stage := {"move_costs": "approval", "fair_shares": "share", "transfer_costs": "cost"}[goal])
            and (stage == "share" or (self.has_tier if stage == "approval" else self.has_fee))
        ]
        #: a priced stage (approval, cost) comes before the fair shares: the shares are then drawn
        #: only among the plans that stage allows, and need the pairs (flows) that price it
        self.priced_before_share = self.goal_stages[0] != "share"
        self.uses_pairs = self.pair_mode == "lines"
        self.uses_flows = self.pair_mode == "flows"
        #: the money stages (absorb, share) have a closed form: every pool is independent
        self.closed_money = not self.coupled and not self.uses_always and not self.priced_before_share
        #: independent pools with a priced stage before the shares: what each pool moves is known
        #: exactly (min(surplus, room)) and held by an equality row in every stage, not by a kept
        #: optimum's tolerance (with CBC's 1e-6 that let a few units go for a cheaper approval)
        self.pool_totals: np.ndarray | None = None
        if not self.coupled and not self.uses_always and self.priced_before_share:
            self.pool_totals = np.minimum(self.pool_surplus, self.pool_room)

    # ------------------------------------------------------------------------------ groups
    def _build_groups(self) -> None:
        """Groups of interchangeable active lines; see the class docstring."""
        t = self.scenario.table
        if self.pair_mode == "lines":
            group = np.arange(self.n, dtype=np.int64)
        else:
            keys = [self.pool, self.is_recipient.astype(np.int64), t.locality[self.line]]
            sizes = [self.n_pools, 2, len(t.locality_ids)]
            for attr in self.costs.attributes:
                keys.append(t.lines.codes(attr)[self.line])
                sizes.append(len(t.lines.categories(attr)))
            covered = np.zeros(t.size, dtype=bool)
            for _, lines, _ in self.goals:
                covered[:] = False
                covered[lines] = True
                keys.append(covered[self.line].astype(np.int64))
                sizes.append(2)
            combined = combine_codes(keys, sizes) if self.n else np.zeros(0, dtype=np.int64)
            _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
            # groups numbered in order of their first line
            order = np.argsort(first, kind="stable")
            rank = np.empty_like(order)
            rank[order] = np.arange(order.shape[0])
            group = rank[inverse.reshape(-1)].astype(np.int64)
        #: group of each active line
        self.group = group
        self.n_groups = int(group.max(initial=-1)) + 1
        first_line = np.full(self.n_groups, self.n, dtype=np.int64)
        np.minimum.at(first_line, group, np.arange(self.n))
        #: a representative active line of each group (its first)
        self.g_first = first_line
        self.g_line = self.line[first_line] if self.n else np.zeros(0, dtype=np.int64)
        self.g_pool = self.pool[first_line] if self.n else np.zeros(0, dtype=np.int64)
        self.g_recipient = self.is_recipient[first_line] if self.n else np.zeros(0, dtype=bool)
        self.g_locality = t.locality[self.g_line] if self.n else np.zeros(0, dtype=np.int64)
        self.g_bound = group_sums(group, self.bound, self.n_groups)
        # no group can move more than its pool can (min of the pool's surplus and room): a valid
        # bound that also keeps the LP's scale to the money that can move, not to the largest line
        top = np.minimum(self.pool_surplus, self.pool_room)
        #: the most each group can give or receive in any plan
        self.g_cap = np.minimum(self.g_bound, top[self.g_pool]) if self.n else self.g_bound.copy()
        self.g_size = group_sums(group, np.ones(self.n, dtype=np.int64), self.n_groups)

    def _tighten_caps(self) -> None:
        """A locality's net loss is at most its max_loss: it gives at most max_loss plus all it can
        receive (and gains at most max_gain: it receives at most max_gain plus all it can give).
        Valid bounds on every plan that keep the LP's scale to money that can really move."""
        if not self.limit_kind.shape[0] or not self.n_groups:
            return
        n_loc = len(self.scenario.table.locality_ids)
        big = np.iinfo(np.int64).max // 4
        loss = np.full(n_loc, big, dtype=np.int64)
        gain = np.full(n_loc, big, dtype=np.int64)
        loss[self.limit_loc[self.limit_kind == 0]] = self.limit_units[self.limit_kind == 0]
        gain[self.limit_loc[self.limit_kind == 1]] = self.limit_units[self.limit_kind == 1]
        for _ in range(2):
            rec_total = group_sums(self.g_locality, np.where(self.g_recipient, self.g_cap, 0), n_loc)
            don_total = group_sums(self.g_locality, np.where(self.g_recipient, 0, self.g_cap), n_loc)
            give_max = np.minimum(loss + np.minimum(rec_total, big), big)
            take_max = np.minimum(gain + np.minimum(don_total, big), big)
            limit = np.where(self.g_recipient, take_max[self.g_locality], give_max[self.g_locality])
            self.g_cap = np.minimum(self.g_cap, limit)

    # ------------------------------------------------------------------------------ rules
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

    # ------------------------------------------------------------------------------ pairs, flows
    def _count_line_pairs(self) -> int:
        donors = group_sums(self.pool, (~self.is_recipient).astype(np.int64), self.n_pools)
        recips = group_sums(self.pool, self.is_recipient.astype(np.int64), self.n_pools)
        return int(np.sum(donors * recips))

    def _side_pairs(self, pool: np.ndarray, recipient: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every (donor, recipient) of the same pool, donors in order, then recipients in order."""
        order = np.lexsort((np.arange(pool.shape[0]), recipient, pool))
        starts = np.searchsorted(pool[order], np.arange(self.n_pools + 1))
        parts_d, parts_r = [], []
        for p in range(self.n_pools):
            members = order[starts[p] : starts[p + 1]]
            d, r = members[~recipient[members]], members[recipient[members]]
            parts_d.append(np.repeat(d, r.shape[0]))
            parts_r.append(np.tile(r, d.shape[0]))
        empty = np.zeros(0, dtype=np.int64)
        return (np.concatenate(parts_d) if parts_d else empty), (np.concatenate(parts_r) if parts_r else empty)

    def _build_pairs(self) -> None:
        self.pair_donor, self.pair_recipient = self._side_pairs(self.pool, self.is_recipient)
        self.pair_bound = np.minimum(self.g_cap[self.pair_donor], self.g_cap[self.pair_recipient])
        if self.min_transfer > 0:
            # a pair that cannot carry min_transfer never carries anything
            usable = self.pair_bound >= self.min_transfer
            self.pair_donor, self.pair_recipient = self.pair_donor[usable], self.pair_recipient[usable]
            self.pair_bound = self.pair_bound[usable]
        src, dst = self.line[self.pair_donor], self.line[self.pair_recipient]
        self.pair_tier = self.costs.between(src, dst, "move")
        self.pair_fee = self.costs.between(src, dst, "transfer")
        self.pair_cost = self.pair_tier + self.pair_fee

    def _build_flows(self) -> None:
        """One flow column per (donor group, recipient group) of a pool: groups share locality and
        costed attributes, so every line pair between two groups costs the same."""
        self.flow_from, self.flow_to = self._side_pairs(self.g_pool, self.g_recipient)
        self.flow_bound = np.minimum(self.g_cap[self.flow_from], self.g_cap[self.flow_to])
        src, dst = self.g_line[self.flow_from], self.g_line[self.flow_to]
        self.flow_tier = self.costs.between(src, dst, "move")
        self.flow_fee = self.costs.between(src, dst, "transfer")
        self.flow_cost = self.flow_tier + self.flow_fee

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
        for stage in self.goal_stages:
            if stage != "share":
                out.append(stage)
            elif not self.closed_money:
                if self.coupled:
                    # rules tie pools together, so the optimum so far may split its money between
                    # pools in many ways; "settle" picks one with a fixed generic objective
                    # (solver-independent) before the fair targets are drawn from it
                    out.append("settle")
                out.append("share")
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

    def _priced(self, stage: str) -> bool:
        """Whether ``stage`` must see which donor gives to which recipient: the priced stages and
        every stage after the first of them."""
        if stage in ("approval", "cost", "count", "canonical"):
            return True
        return self.priced_before_share and stage in ("settle", "share")

    def in_amount_space(self, stage: str) -> bool:
        """Whether ``stage`` has one amount column per group (no split around the fair targets):
        the stages before the fair shares, which are drawn only after them."""
        if stage in ("absorb", "settle"):
            return True
        return (
            stage in ("approval", "cost")
            and self.priced_before_share
            and self.goal_stages.index(stage) < (self.goal_stages.index("share"))
        )

    def pairs_in(self, stage: str) -> bool:
        return self.uses_pairs and (self.uses_always or self._priced(stage))

    def flows_in(self, stage: str) -> bool:
        return self.uses_flows and self._priced(stage)

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
        own_bounds: bool = False,
    ) -> Program:
        """The LP/MILP of ``stage``, keeping each earlier (stage, optimum) in ``kept`` as a row,
        and the earlier optimal ``face`` as bounds and equalities.

        ``elastic`` (absorb stage only): every target row gets a slack column and the objective is
        the total slack, i.e. the least money by which the targets must fall short. ``slack``
        widens the tolerance kept on earlier optima (a retry after a numerically infeasible stage).
        ``integer``: amounts are whole units (the integer problem; only with scale 1).
        ``own_bounds``: each group bounded by its lines' surplus or room only, not by the caps the
        rules imply (for diagnoses, which must name the rules themselves).
        """
        return self._program(
            stage, kept, elastic=elastic, slack=slack, face=face, integer=integer, own_bounds=own_bounds
        )

    def explain_program(self) -> Program:
        """The absorb stage per group as an LP to *maximise* (money received), without pairs: its
        row duals price one more unit of room or surplus in each pool and of each locality limit."""
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
        own_bounds: bool = False,
    ) -> Program:
        b = ProgramBuilder("elastic" if elastic else ("explain" if per_line else stage))
        pairs = self.pairs_in(stage) and not per_line
        flows = self.flows_in(stage) and not per_line
        uses = self.uses_in(stage, kept) and not per_line
        s = float(self.scale)
        groups = np.arange(self.n_groups)
        if self.in_amount_space(stage):
            lower = np.zeros(self.n_groups)
            # the explain program keeps each group's own bound: its duals must price the rules,
            # not the derived caps (which only restate them)
            upper = (self.g_bound if per_line or own_bounds else self.g_cap) / s
            if face is not None:
                lower = np.maximum(lower, face.amount_lower / s)
                upper = np.minimum(upper, face.amount_upper / s)
            b.columns("lo", groups, lower, upper, integer=integer)
        else:
            assert self.g_targets is not None, "targets are set after the absorb stage"
            target = self.g_targets
            # zero-width columns are left out: lo only where target > 0, hi only where target < bound
            has_lo = np.flatnonzero(target > 0)
            has_hi = np.flatnonzero(target < self.g_cap)
            t_lo, t_hi = target[has_lo], target[has_hi]
            lo_low, lo_up = np.zeros(has_lo.shape[0]), t_lo.astype(np.float64)
            hi_low, hi_up = np.zeros(has_hi.shape[0]), (self.g_cap[has_hi] - t_hi).astype(np.float64)
            if face is not None:
                # amount in [A_lo, A_up] with lo filled before hi (as every share optimum has it):
                # lo in [min(A_lo, t), min(A_up, t)], hi in [max(A_lo - t, 0), max(A_up - t, 0)]
                lo_low = np.minimum(face.amount_lower[has_lo], t_lo).astype(np.float64)
                lo_up = np.minimum(face.amount_upper[has_lo], t_lo).astype(np.float64)
                hi_low = np.maximum(face.amount_lower[has_hi] - t_hi, 0).astype(np.float64)
                hi_up = np.minimum(np.maximum(face.amount_upper[has_hi] - t_hi, 0), hi_up)
            b.columns("lo", has_lo, lo_low / s, lo_up / s, integer=integer)
            b.columns("hi", has_hi, hi_low / s, hi_up / s, integer=integer)
        if pairs:
            # a pair carries at most what both of its lines may still move in this stage: the
            # tightest bound keeps the "used" switch honest (a big bound times the solver's
            # integrality tolerance would let real money through a switch that is off)
            group_up = np.zeros(self.n_groups)
            for name in ("lo", "hi"):
                if name in b.blocks:
                    at = list(b.blocks).index(name)
                    np.add.at(group_up, b.index[name], b.upper[at])
            pair_up = np.minimum(
                self.pair_bound / s, np.minimum(group_up[self.pair_donor], group_up[self.pair_recipient])
            )
            b.columns("pair", np.arange(self.n_pairs), np.zeros(self.n_pairs), pair_up)
        if flows:
            b.columns("flow", np.arange(self.n_flows), np.zeros(self.n_flows), self.flow_bound / s)
        if uses:
            b.columns("use", np.arange(self.n_pairs), np.zeros(self.n_pairs), np.ones(self.n_pairs), integer=True)
        if face is not None:
            for name, (lo, up) in face.bounds.items():
                if name in b.blocks:
                    at = list(b.blocks).index(name)
                    idx = b.index[name]
                    b.lower[at] = np.maximum(b.lower[at], lo[idx])
                    b.upper[at] = np.minimum(b.upper[at], up[idx])

        amount_blocks = [name for name in ("lo", "hi") if name in b.blocks]
        amount_cols = np.concatenate([b.col_ids(name) for name in amount_blocks])
        amount_group = np.concatenate([b.index[name] for name in amount_blocks])
        if pairs or flows:
            # one row per group: its amount - its pairs (flows) = 0
            name = "pair" if pairs else "flow"
            ends = (self.pair_donor, self.pair_recipient) if pairs else (self.flow_from, self.flow_to)
            e_cols = b.col_ids(name)
            b.row_block(
                np.concatenate([amount_group, *ends]),
                np.concatenate([amount_cols, e_cols, e_cols]),
                np.concatenate([np.ones(amount_cols.shape[0]), -np.ones(2 * e_cols.shape[0])]),
                self.n_groups,
                EQ,
                0.0,
                "line" if pairs else "group",
            )
        else:
            # one row per pool: received - given = 0
            b.row_block(
                self.g_pool[amount_group],
                amount_cols,
                np.where(self.g_recipient[amount_group], 1.0, -1.0),
                self.n_pools,
                EQ,
                0.0,
                "pool",
            )
        if self.pool_totals is not None and not per_line:
            rec = self.g_recipient[amount_group]
            b.row_block(
                self.g_pool[amount_group[rec]],
                amount_cols[rec],
                np.ones(int(rec.sum())),
                self.n_pools,
                EQ,
                self.pool_totals / s,
                "total",
            )
        if uses:
            self._use_rows(b)
        if self.coupled:
            self._rule_rows(b, amount_cols, amount_group, elastic)

        for earlier, optimum in kept:
            coef = self.objective(earlier, b.blocks, b.index, b.n_cols)
            rhs = optimum + slack * stage_tolerance(optimum, self.digits, self.scale)
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

    def _use_rows(self, b: ProgramBuilder) -> None:
        """Binary "pair is used": a pair carries money only when used, then at least min_transfer;
        each line takes part in at most max_transfers_per_line transfers."""
        s = float(self.scale)
        p_cols, u_cols = b.col_ids("pair"), b.col_ids("use")
        k = np.arange(self.n_pairs)
        pair_up = b.upper[list(b.blocks).index("pair")]
        b.row_block(
            np.concatenate([k, k]),
            np.concatenate([p_cols, u_cols]),
            np.concatenate([np.ones(self.n_pairs), -pair_up]),
            self.n_pairs,
            LE,
            0.0,
            "pair_used",
        )
        if self.min_transfer > 0:
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
            b.row_block(
                np.concatenate([self.pair_donor, self.pair_recipient]),
                np.concatenate([u_cols, u_cols]),
                np.ones(2 * self.n_pairs),
                self.n,
                LE,
                float(self.max_transfers),
                "max_transfers_per_line",
            )

    def _rule_rows(self, b: ProgramBuilder, cols: np.ndarray, group: np.ndarray, elastic: bool = False) -> None:
        """Locality limits (net loss / net gain over all of a locality's lines) and targets."""
        s = float(self.scale)
        t = self.scenario.table
        gain = np.where(self.g_recipient[group], 1.0, -1.0)  # +received, -given
        locality = self.g_locality[group]
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
        line_of_group = self.g_line[group]
        for j, (k, covered, rate, short) in enumerate(shorts):
            covered_line[:] = False
            covered_line[covered] = True
            mine = covered_line[line_of_group]  # a group's lines are all covered, or none
            r = float(rate)
            c = cols[mine]
            v = np.where(self.g_recipient[group[mine]], 1.0 - r, r)
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
                    put(name, np.where(self.g_recipient[index[name]], -1.0, 0.0))
        elif stage == "share":
            put("lo", -1.0)
            put("hi", 1.0)
        elif stage == "approval":
            put("pair", self.pair_tier * self.scale)
            put("flow", self.flow_tier * self.scale)
        elif stage == "cost":
            put("pair", self.pair_fee * self.scale)
            put("flow", self.flow_fee * self.scale)
        elif stage == "count":
            put("use", 1.0)
        elif stage in ("canonical", "settle"):
            if "pair" in blocks:
                put("pair", generic_weights(self.line[self.pair_donor], self.line[self.pair_recipient]))
            elif "flow" in blocks:
                put("flow", generic_weights(self.g_line[self.flow_from], self.g_line[self.flow_to]))
            if "pair" not in blocks:
                for name in ("lo", "hi"):
                    if name in blocks:
                        lines = self.g_line[index[name]]
                        # after the flows decide, the groups' own split is secondary
                        weight = generic_weights(lines, lines)
                        put(name, weight * (1e-3 if "flow" in blocks else 1.0))
        else:  # pragma: no cover - programming error
            raise ValueError(f"unknown stage {stage!r}")
        return c

    # ------------------------------------------------------------------------------ solutions
    def amounts(self, program: Program, x: np.ndarray) -> np.ndarray:
        """Integer units (as floats) given or received by each group in a solution ``x``."""
        s = float(self.scale)
        out = np.zeros(self.n_groups)
        for name in ("lo", "hi"):
            if program.has(name):
                np.add.at(out, program.index[name], x[program.block(name)] * s)
        return out

    def on_targets(self, program: Program, x: np.ndarray, solver: str) -> bool:
        """Whether every group of solution ``x`` sits on its fair target (within the solver's digits)."""
        if self.g_targets is None:
            return False
        raw = self.amounts(program, x)
        return bool(np.all(np.abs(raw - self.g_targets) <= self.group_tolerance(raw, SOLVER_DIGITS[solver])))

    def group_tolerance(self, raw: np.ndarray, relative: float) -> np.ndarray:
        """Snap tolerance of each group's amount: a solver's error scales with the largest numbers
        of the pool (the money it moves), not with each small value."""
        pool_size = np.bincount(self.g_pool, weights=np.where(self.g_recipient, raw, 0.0), minlength=self.n_pools)
        return np.asarray(snap_tolerance(np.maximum(raw, pool_size[self.g_pool]), self.scale, relative))

    def pool_moved(self, program: Program, x: np.ndarray) -> np.ndarray:
        """Money moved in each pool (integer units, float) by a solution ``x``."""
        amount = self.amounts(program, x)
        return np.bincount(self.g_pool, weights=np.where(self.g_recipient, amount, 0.0), minlength=self.n_pools)

    def line_amounts(self, group_amount: np.ndarray) -> np.ndarray:
        """Whole units per active line from whole units per group, as close to the lines' fair
        targets as the group total allows: below the group's target, shares of it in proportion to
        the lines' targets; above it, every line at its target plus shares of the rest in
        proportion to what each can still take. Exact; each line within its bound."""
        g_amount = np.asarray(group_amount, dtype=np.int64)
        if self.targets is None or self.g_targets is None:
            return apportion_groups(self.group, self.bound, g_amount)
        below = np.minimum(g_amount, self.g_targets)
        above = np.maximum(g_amount - self.g_targets, 0)
        return apportion_groups(self.group, self.targets, below) + apportion_groups(
            self.group, self.bound - self.targets, above
        )

    def line_values(self, group_amount: np.ndarray) -> np.ndarray:
        """Float amounts per active line from float amounts per group, in proportion to the lines'
        bounds (for diagnoses, where no exact plan exists)."""
        share = self.bound / np.maximum(self.g_bound[self.group], 1)
        return np.asarray(group_amount, dtype=np.float64)[self.group] * share

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
        self.g_targets = group_sums(self.group, targets, self.n_groups)

    # ------------------------------------------------------------------------------ faces
    def face_after(
        self, program: Program, x: np.ndarray, col_dual: np.ndarray, row_dual: np.ndarray, face: Face | None
    ) -> Face:
        """The optimal face of ``program`` (solved at ``x`` with these duals), added to ``face``."""
        out = face.copy() if face is not None else Face(np.zeros(self.n_groups, dtype=np.int64), self.g_cap.copy())
        tol = 1e-7 * max(1.0, float(np.max(np.abs(program.cost), initial=0.0)))
        near = 1e-6
        sizes = {"lo": self.n_groups, "hi": self.n_groups, "pair": self.n_pairs, "flow": self.n_flows}
        for name, (start, stop) in program.blocks.items():
            if name not in sizes:
                continue
            d = col_dual[start:stop]
            xs, lo, up = x[start:stop], program.lower[start:stop], program.upper[start:stop]
            at_lo = (d > tol) & (xs <= lo + near)
            at_up = (d < -tol) & (xs >= up - near)
            idx = program.index[name]
            if name == "lo" and not program.has("hi") and self.in_amount_space(program.stage):
                # amount space: held at its lower bound, or at its upper one: the bounds this
                # program had (an earlier stage's face may have narrowed them below the caps)
                s = float(self.scale)
                out.amount_upper[idx[at_lo]] = np.rint(lo[at_lo] * s).astype(np.int64)
                out.amount_lower[idx[at_up]] = np.minimum(self.g_cap[idx[at_up]], np.rint(up[at_up] * s)).astype(
                    np.int64
                )
                continue
            lo_all, up_all = out.bounds.get(name, (np.full(sizes[name], -np.inf), np.full(sizes[name], np.inf)))
            up_all[idx[at_lo]] = lo[at_lo]
            lo_all[idx[at_up]] = up[at_up]
            out.bounds[name] = (lo_all, up_all)
        for kind, start, n, payload in program.row_groups:
            if kind in ("kept", "pool", "line", "group", "total"):
                continue  # equalities already
            y = row_dual[start : start + n]
            for p in payload[np.abs(y) > tol].tolist():
                out.equal.add((kind, int(p)))
        return out

    def flow_group_amounts(self, flow_units: np.ndarray) -> np.ndarray:
        """What each group gives or receives along whole-unit flows."""
        return group_sums(self.flow_from, flow_units, self.n_groups) + group_sums(
            self.flow_to, flow_units, self.n_groups
        )

    def amount_face(self, line_amounts: np.ndarray) -> Face:
        """The face of a closed-form optimum: every group's amount is fixed."""
        g = group_sums(self.group, np.asarray(line_amounts, dtype=np.int64), self.n_groups)
        return Face(g.copy(), g.copy())
