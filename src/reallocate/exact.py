"""From a solver's floating-point point to an exact plan in whole units of precision.

Floats are not enough on their own (amounts reach 10^15 đồng), so:

* values within a tiny tolerance of their fair target or of a whole unit are snapped to it;
* without pairs, any pool whose snapped amounts are not whole or do not balance is re-apportioned:
  the pool's moved total M (one whole number) is split on each side by largest remainder, so
  received == given exactly;
* with line pairs, fractional pair amounts are rounded by walking cycles and paths of fractional
  pairs (each step keeps every inner line's total), and line amounts are the sums of their pairs;
* with flows (groups of interchangeable lines), flows are rounded the same way between groups,
  each group's whole total is split among its lines, and each flow is split into line transfers;
* without pairs, the transfer list is derived afterwards, pool by pool.

The result is re-checked exactly by the plan verifier; nothing here is trusted on its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from fractions import Fraction

import numpy as np

from .formulation import Formulation, Program, snap_tolerance
from .formulation.program import EQ, LE, ProgramBuilder
from .formulation.rules import RuleRows
from .refine import refine_flows, refine_groups
from .sharing import apportion_groups, derive_transfers, group_sums, interval_overlaps

__all__ = ["Moves", "exact_moves", "round_groups", "split_flows"]


class Moves:
    """Exact result: ``amount[k]`` whole units given (donor) or received (recipient) by active line
    k, and the transfers as arrays of active-line indices (``src`` donor, ``dst`` recipient) and
    whole ``units``."""

    def __init__(self, amount: np.ndarray, src: np.ndarray, dst: np.ndarray, units: np.ndarray) -> None:
        self.amount = np.asarray(amount, dtype=np.int64)
        self.src = np.asarray(src, dtype=np.int64)
        self.dst = np.asarray(dst, dtype=np.int64)
        self.units = np.asarray(units, dtype=np.int64)

    @classmethod
    def none(cls, n: int = 0) -> Moves:
        empty = np.zeros(0, dtype=np.int64)
        return cls(np.zeros(n, dtype=np.int64), empty, empty, empty)

    @property
    def transfers(self) -> list[tuple[int, int, int]]:
        """(donor, recipient, units) triples (for small plans and tests)."""
        return list(zip(self.src.tolist(), self.dst.tolist(), self.units.tolist(), strict=True))


class RoundingError(ValueError):
    """Rounding a solver's point to whole units breaks a rule (a target, a locality limit) and no
    nearby whole-unit plan keeps every rule: the integer problem has to decide."""


def exact_moves(
    form: Formulation, program: Program, x: np.ndarray, relative: float = 1e-13, rules: RuleRows | None = None
) -> Moves:
    """Whole units per active line, and transfers, from a solver's point ``x`` of ``program``.
    With ``rules`` (targets, locality limits), the whole units are checked against them exactly;
    where rounding breaks one, the smallest whole-unit change that keeps them all is searched
    (``repair_groups``), else ``RoundingError`` is raised."""
    s = float(form.scale)
    if program.has("pair"):
        # line pairs: every group is one line
        # (binaries were fixed and the rest solved again as an LP: see solving._polish)
        units = x[program.block("pair")] * s
        ends = (form.pair_donor, form.pair_recipient)
        pair_units = _round_edges(ends, units, form.pair_bound, snap_tolerance(units, form.scale, relative))
        amount = np.zeros(form.n, dtype=np.int64)
        np.add.at(amount, form.pair_donor, pair_units)
        np.add.at(amount, form.pair_recipient, pair_units)
        used = np.flatnonzero(pair_units > 0)
        return Moves(amount, form.pair_donor[used], form.pair_recipient[used], pair_units[used])

    raw = form.amounts(program, x)
    if program.has("flow"):
        flows = x[program.block("flow")] * s
        ends = (form.flow_from, form.flow_to)
        flow_units = _round_edges(ends, flows, form.flow_bound, snap_tolerance(flows, form.scale, relative))
        g_amount = group_sums(form.flow_from, flow_units, form.n_groups) + group_sums(
            form.flow_to, flow_units, form.n_groups
        )
        if form.priced_before_share and (
            form.scale > 1 or np.any(np.abs(flows - flow_units) > 1e-9) or (rules is not None and rules.rows)
        ):
            # a priced goal comes before the shares: the last units are chosen on the flows
            # themselves, in the scenario's goal order (see refine_flows)
            exact = refine_flows(form, rules, flows)
            if exact is None:
                raise RoundingError("no whole-unit plan near the solver's keeps every rule")
            flow_units = exact
            g_amount = group_sums(form.flow_from, flow_units, form.n_groups) + group_sums(
                form.flow_to, flow_units, form.n_groups
            )
        elif form.closed_money and form.g_targets is not None:
            # the money is known exactly (closed form): the flows carry exactly it, whatever digits
            # the solver printed (CBC's solution file has 8: a unit lost at ~10^6)
            if not np.array_equal(g_amount, form.g_targets):
                flow_units = fit_flows(form, flow_units, form.g_targets)
                g_amount = form.g_targets.copy()
        elif form.scale > 1 or (rules is not None and rules.rows and rules.broken(g_amount)):
            refined = refine_groups(form, rules, raw)
            if refined is None:
                raise RoundingError("no whole-unit plan near the solver's keeps every rule")
            g_amount = refined
            flow_units = fit_flows(form, flow_units, g_amount)
        amount = form.line_amounts(g_amount)
        src, dst, units = split_flows(form, flow_units, amount)
        return Moves(amount, src, dst, units)

    if form.scale > 1:
        # beyond ~10^9 units the LP's last units are noise: choose them exactly (see refine)
        refined = refine_groups(form, rules, raw)
        if refined is None:
            raise RoundingError("no whole-unit plan near the solver's keeps every rule")
        amount = form.line_amounts(refined)
        src, dst, units = derive_transfers(form.pool, form.is_recipient, amount, form.n_pools)
        return Moves(amount, src, dst, units)

    tol = form.group_tolerance(raw, relative)
    g_amount = round_groups(form, raw, tol)
    if rules is not None and rules.rows and rules.broken(g_amount):
        fractional = np.flatnonzero(np.abs(raw - np.rint(raw)) > tol)
        repaired = repair_groups(form, rules, g_amount, fractional)
        if repaired is None:
            raise RoundingError("rounding to whole units breaks a rule and no nearby whole-unit plan keeps them all")
        g_amount = repaired
    amount = form.line_amounts(g_amount)
    src, dst, units = derive_transfers(form.pool, form.is_recipient, amount, form.n_pools)
    return Moves(amount, src, dst, units)


def round_groups(form: Formulation, raw: np.ndarray, tol: np.ndarray | float) -> np.ndarray:
    """Whole units per group from a solver's amounts: values within ``tol`` of their fair target or
    of a whole number snap to it; a pool whose snapped amounts do not balance (or are not whole) is
    re-apportioned from its moved total, on each side, by largest remainder of the values."""
    bound = form.g_bound
    raw = np.clip(raw, 0.0, bound.astype(np.float64))
    amount = np.rint(raw).astype(np.int64)
    close = np.abs(raw - amount) <= tol
    if form.g_targets is not None:
        on_target = np.abs(raw - form.g_targets) <= tol
        amount = np.where(on_target, form.g_targets, amount)
        close |= on_target
    amount = np.minimum(np.maximum(amount, 0), bound)
    rec, pool = form.g_recipient, form.g_pool
    balance = group_sums(pool, np.where(rec, amount, -amount), form.n_pools)
    fractional = group_sums(pool, (~close).astype(np.int64), form.n_pools)
    for p in np.flatnonzero((balance != 0) | (fractional > 0)).tolist():
        members = np.flatnonzero(pool == p)
        r = members[rec[members]]
        d = members[~rec[members]]
        top = min(int(bound[r].sum()), int(bound[d].sum()))
        moved = min(max(int(np.floor((float(raw[r].sum()) + float(raw[d].sum())) / 2 + 0.5)), 0), top)
        amount[r] = _apportion_values(moved, raw[r], bound[r])
        amount[d] = _apportion_values(moved, raw[d], bound[d])
    return amount


def _apportion_values(total: int, values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Split ``total`` whole units in proportion to ``values`` (largest remainder), each share at
    most its bound. Exact: quotas are computed on the exact binary values of the floats."""
    vals = [Fraction(float(v)) for v in values]
    caps = [int(b) for b in bounds]
    whole = sum(vals)
    if whole == 0:
        return apportion_groups(
            np.zeros(len(caps), dtype=np.int64), np.array(caps, dtype=np.int64), np.array([total], dtype=np.int64)
        )
    quota = [min(v * total / whole, Fraction(c)) for v, c in zip(vals, caps, strict=True)]
    share = [int(q) for q in quota]  # floor (quotas are >= 0)
    left = total - sum(share)
    # largest remainder first, then most spare capacity; ties to the earlier line
    order = sorted(range(len(caps)), key=lambda i: (-(quota[i] - share[i]), -(caps[i] - share[i])))
    while left > 0:
        moved = False
        for i in order:
            if left == 0:
                break
            if share[i] < caps[i]:
                share[i] += 1
                left -= 1
                moved = True
        if not moved:  # pragma: no cover - total <= sum(caps) is checked by the caller
            raise ValueError("cannot apportion: not enough capacity")
    return np.array(share, dtype=np.int64)


def _round_edges(
    ends: tuple[np.ndarray, np.ndarray], units: np.ndarray, bound: np.ndarray, tol: np.ndarray | float
) -> np.ndarray:
    """Whole units on the edges of a bipartite graph (pairs between lines, flows between groups):
    values within ``tol`` of a whole number snap to it; the others are rounded together along
    cycles and paths so that every inner node keeps its total."""
    units = np.clip(units, 0.0, bound.astype(np.float64))
    whole = np.rint(units)
    fractional = np.flatnonzero(np.abs(units - whole) > tol)
    out = whole.astype(np.int64)
    if fractional.shape[0] == 0:
        return out
    base = np.floor(units[fractional]).astype(np.int64)
    frac = {int(k): Fraction(float(units[k])) - int(b) for k, b in zip(fractional, base, strict=True)}
    for k, b in zip(fractional.tolist(), base.tolist(), strict=True):
        out[k] = b

    def node_ends(k: int) -> tuple[int, int]:
        # donors and recipients are told apart by sign so their indices never collide
        return (int(ends[0][k]), -1 - int(ends[1][k]))

    _dependent_rounding(node_ends, frac)
    for k, f in frac.items():
        out[k] += int(f)  # f is now 0 or 1
    return out


def _dependent_rounding(ends: Callable[[int], tuple[int, int]], frac: dict[int, Fraction]) -> None:
    """Round every fractional part in ``frac`` (edge -> value in (0, 1)) to 0 or 1 in place,
    moving along cycles (all node totals kept) or maximal paths (only the two end nodes, each with
    a single fractional edge, move to the floor or ceiling of their total)."""
    open_edges = {k for k, f in frac.items() if 0 < f < 1}
    for k in list(frac):
        if k not in open_edges:
            frac[k] = Fraction(round(frac[k]))
    while open_edges:
        incident: dict[int, list[int]] = defaultdict(list)
        for k in sorted(open_edges):
            d, r = ends(k)
            incident[d].append(k)
            incident[r].append(k)
        start = next((node for node in sorted(incident) if len(incident[node]) == 1), None)
        if start is None:
            start = min(incident)
        path: list[int] = []
        seen_at = {start: 0}
        node = start
        last = -1
        while True:
            options = [k for k in incident[node] if k != last]
            if not options:
                break
            k = options[0]
            path.append(k)
            d, r = ends(k)
            node = r if node == d else d
            last = k
            if node in seen_at:
                path = path[seen_at[node] :]  # a cycle
                break
            seen_at[node] = len(path)
            if len(incident[node]) == 1:
                break
        plus, minus = path[0::2], path[1::2]
        up = min([1 - frac[k] for k in plus] + [frac[k] for k in minus])
        down = min([frac[k] for k in plus] + [1 - frac[k] for k in minus])
        step = up if up <= down else -down
        for k in plus:
            frac[k] += step
        for k in minus:
            frac[k] -= step
        for k in path:
            if frac[k] <= 0 or frac[k] >= 1:
                frac[k] = Fraction(1 if frac[k] >= 1 else 0)
                open_edges.discard(k)


def split_flows(
    form: Formulation, flow_units: np.ndarray, amount: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Line transfers that realise whole flows between groups and whole line amounts: each donor
    group's lines are laid against its outgoing flows, then each recipient group's incoming pieces
    against its lines. Fewest pieces for the given flows; deterministic."""
    used = np.flatnonzero(flow_units > 0)
    if used.shape[0] == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), empty.copy()
    f_from, f_to, f_units = form.flow_from[used], form.flow_to[used], flow_units[used]
    moving = np.flatnonzero(amount > 0)
    donors = moving[~form.is_recipient[moving]]
    recips = moving[form.is_recipient[moving]]
    # donor side: lines of each group against its flows (flows by recipient group)
    d_order = np.lexsort((donors, form.group[donors]))
    donors = donors[d_order]
    f_order = np.lexsort((f_to, f_from))
    ia, ib, piece = interval_overlaps(form.group[donors], amount[donors], f_from[f_order], f_units[f_order])
    piece_donor, piece_flow = donors[ia], f_order[ib]
    # recipient side: incoming pieces of each group (by donor group, then donor line) against its lines
    r_order = np.lexsort((recips, form.group[recips]))
    recips = recips[r_order]
    p_group = f_to[piece_flow]
    p_order = np.lexsort((piece_donor, f_from[piece_flow], p_group))
    ja, jb, units = interval_overlaps(p_group[p_order], piece[p_order], form.group[recips], amount[recips])
    src = piece_donor[p_order][ja]
    dst = recips[jb]
    order = np.lexsort((dst, src))
    return src[order], dst[order], units[order].astype(np.int64)


def repair_groups(
    form: Formulation, rules: RuleRows, g_amount: np.ndarray, fractional: np.ndarray, steps: tuple[int, ...] = (2, 8)
) -> np.ndarray | None:
    """The whole-unit plan nearest to ``g_amount`` that keeps every rule: small integer changes of
    the groups that the solver left fractional or that a broken rule covers, pools kept balanced,
    absorbing the most money first and changing the least after that. A small MILP in whole units
    (coefficients and bounds are small integers, so it is exact at any amount). None when no change
    within the allowed steps keeps every rule."""
    from .backend import run_highs

    broken = rules.broken(g_amount)
    members = set(fractional.tolist())
    for j in broken:
        members.update(rules.rows[j][2].tolist())
    if not members or len(members) > 20_000:
        return None
    chosen = np.array(sorted(members), dtype=np.int64)
    values = g_amount.tolist()
    for step in steps:
        up = np.minimum(step, form.g_bound[chosen] - g_amount[chosen]).astype(np.float64)
        down = np.minimum(step, g_amount[chosen]).astype(np.float64)
        n = chosen.shape[0]
        b = ProgramBuilder("repair")
        weight = float(1 + 2 * step * n)  # any money absorbed outweighs any number of changes
        rec = form.g_recipient[chosen]
        b.columns("up", chosen, np.zeros(n), up, integer=True)
        b.columns("down", chosen, np.zeros(n), down, integer=True)
        cols_up, cols_down = b.col_ids("up"), b.col_ids("down")
        sign = np.where(rec, 1.0, -1.0)
        pools, pool_row = np.unique(form.g_pool[chosen], return_inverse=True)
        b.row_block(
            np.concatenate([pool_row, pool_row]),
            np.concatenate([cols_up, cols_down]),
            np.concatenate([sign, -sign]),
            pools.shape[0],
            EQ,
            0.0,
            "pool",
        )
        position = {int(g): k for k, g in enumerate(chosen.tolist())}
        for _kind, _payload, groups, coef, bound in rules.rows:
            lhs = sum(c * values[g] for c, g in zip(coef, groups.tolist(), strict=True))
            room = -bound - lhs  # how much the row may still grow (negative: broken by that much)
            at = [(position[g], c) for g, c in zip(groups.tolist(), coef, strict=True) if g in position]
            reach = sum(abs(c) for _, c in at) * step
            if room >= reach:
                continue  # cannot bind within the allowed changes
            if not at:
                if room < 0:
                    return None  # broken, and nothing here can move it
                continue
            pos = np.array([k for k, _ in at], dtype=np.int64)
            c_arr = np.array([float(c) for _, c in at])
            b.row_block(
                np.zeros(2 * pos.shape[0], dtype=np.int64),
                np.concatenate([cols_up[pos], cols_down[pos]]),
                np.concatenate([c_arr, -c_arr]),
                1,
                LE,
                float(room),
                "rule",
            )
        cost = np.concatenate([np.where(rec, 1.0 - weight, 1.0), np.where(rec, 1.0 + weight, 1.0)])
        outcome = run_highs(b.build(cost), None)
        if outcome.status != "optimal" or outcome.values is None:
            continue
        x = np.rint(outcome.values).astype(np.int64)
        out = g_amount.copy()
        out[chosen] += x[:n] - x[n:]
        if not rules.broken(out):
            return out
    return None


def fit_flows(form: Formulation, flow_units: np.ndarray, g_amount: np.ndarray) -> np.ndarray:
    """Whole flows between groups whose totals are exactly ``g_amount``, as close to ``flow_units``
    as the totals allow. Where a group holds too much, its largest flows are cut (which leaves
    their other ends short); then every shortfall, donors' and recipients' alike, is filled along
    the cheapest flows of its pool (every donor group of a pool has a flow to every recipient
    group). The totals balance in every pool, so this always ends, exactly."""
    flows = flow_units.astype(np.int64).copy()
    have = group_sums(form.flow_from, flows, form.n_groups) + group_sums(form.flow_to, flows, form.n_groups)
    need = (g_amount - have).astype(np.int64)
    if not need.any():
        return flows
    for p in np.unique(form.g_pool[need != 0]).tolist():
        at = np.flatnonzero(form.g_pool[form.flow_from] == p)
        for end, other in ((form.flow_from, form.flow_to), (form.flow_to, form.flow_from)):
            for g in np.flatnonzero((need < 0) & (form.g_pool == p)).tolist():
                mine = at[end[at] == g]
                for f in mine[np.argsort(-flows[mine], kind="stable")].tolist():
                    cut = min(-int(need[g]), int(flows[f]))
                    if cut <= 0:
                        break
                    flows[f] -= cut
                    need[g] += cut
                    need[int(other[f])] += cut
        for f in at[np.argsort(form.flow_cost[at], kind="stable")].tolist():
            d, r = int(form.flow_from[f]), int(form.flow_to[f])
            add = min(int(need[d]), int(need[r]))
            if add > 0:
                flows[f] += add
                need[d] -= add
                need[r] -= add
    if need.any() or (flows < 0).any():
        raise RoundingError("flows cannot meet the whole-unit group totals")
    return flows
