"""Exact refinement: from a solver's point to the best whole-unit plan near it.

A double carries 15-16 significant digits and an LP solver's tolerances are ~10^-7 of its units,
so at amounts beyond ~10^9 units of precision (say 10^15 đồng in đồng) the LP can be off by a few
units: enough to lose a unit of absorbed money, to break a locality limit by one, or to move a
line off its fair target. So the LP's point is only a guide. Around it, small integer changes of
the groups it left between their bounds are chosen by a sequence of small MILPs in whole units,
whose coefficients and right-hand sides are small integers computed exactly (Python integers):

1. the most money absorbed, pools balanced and every rule kept (exactly);
2. with that money, the least deviation from the fair targets;
3. with both, the least change from the LP's point.

For the fair targets themselves (``settle_groups``): after stage 1, the whole-unit plan that the
solver-independent "settle" objective prefers, so every solver path draws the same targets.

Each stage keeps the previous optimum as an exact integer row, so nothing is lost to tolerance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .formulation.program import EQ, GE, LE, STAGE_TOL_REL, ProgramBuilder, generic_weights

if TYPE_CHECKING:
    from .formulation import Formulation
    from .formulation.rules import RuleRows

__all__ = ["refine_flows", "refine_groups", "settle_groups"]


def refine_groups(
    form: Formulation,
    rules: RuleRows | None,
    raw: np.ndarray,
    *,
    reach: int | None = None,
    also: np.ndarray | None = None,
    settle: bool = False,
) -> np.ndarray | None:
    """The best whole-unit group amounts within ``reach`` units of the solver's ``raw`` amounts
    (see the module docstring), or None when no such plan keeps every rule. Groups at one of
    their bounds in ``raw`` stay there unless listed in ``also``. With ``settle``, stage 1 is
    followed by the settle objective instead of stages 2 and 3."""
    from .backend import run_highs

    cap = form.g_cap
    g0 = np.clip(np.rint(raw), 0, cap).astype(np.int64)
    if reach is None:
        # a later stage may let an earlier optimum slip by its kept-row tolerance (relative to the
        # money moved): the neighbourhood must reach back to the exact optimum
        moved = float(np.sum(np.where(form.g_recipient, np.clip(raw, 0, None), 0.0)))
        reach = int(max(8, np.ceil(1e-5 * form.scale), np.ceil(4 * STAGE_TOL_REL * moved)))
    inside = (g0 > 0) & (g0 < cap)
    free = inside | (np.abs(raw - g0) > 1e-9)
    if also is not None:
        free[also] = True
    if form.g_targets is not None and not settle:
        # a group off its fair target may move (the solver may have left it at a bound)
        free |= g0 != form.g_targets
    balance = np.zeros(form.n_pools, dtype=np.int64)
    np.add.at(balance, form.g_pool, np.where(form.g_recipient, g0, -g0))
    # every group of an unbalanced pool may move
    free |= balance[form.g_pool] != 0
    if rules is not None:
        for j in rules.broken(g0):
            free[rules.rows[j][2]] = True
    chosen = np.flatnonzero(free)
    if chosen.shape[0] == 0:
        return g0
    if chosen.shape[0] > 50_000:
        return None
    n = chosen.shape[0]
    up = np.minimum(reach, cap[chosen] - g0[chosen]).astype(np.float64)
    down = np.minimum(reach, g0[chosen]).astype(np.float64)
    rec = form.g_recipient[chosen]
    sign = np.where(rec, 1.0, -1.0)
    values = g0.tolist()
    position = {int(g): k for k, g in enumerate(chosen.tolist())}

    def base(stage: str) -> ProgramBuilder:
        b = ProgramBuilder(stage)
        b.columns("up", chosen, np.zeros(n), up, integer=True)
        b.columns("down", chosen, np.zeros(n), down, integer=True)
        cu, cd = b.col_ids("up"), b.col_ids("down")
        pools, pool_row = np.unique(form.g_pool[chosen], return_inverse=True)
        b.row_block(
            np.concatenate([pool_row, pool_row]),
            np.concatenate([cu, cd]),
            np.concatenate([sign, -sign]),
            pools.shape[0],
            EQ,
            -balance[pools].astype(np.float64),
            "pool",
        )
        for _kind, _payload, groups, coef, bound in rules.rows if rules is not None else ():
            lhs = sum(c * values[g] for c, g in zip(coef, groups.tolist(), strict=True))
            room = -bound - lhs
            at = [(position[g], c) for g, c in zip(groups.tolist(), coef, strict=True) if g in position]
            if room >= sum(abs(c) for _, c in at) * reach:
                continue  # cannot bind within reach
            pos = np.array([k for k, _ in at], dtype=np.int64)
            c_arr = np.array([float(c) for _, c in at])
            b.row_block(
                np.zeros(2 * pos.shape[0], dtype=np.int64),
                np.concatenate([cu[pos], cd[pos]]),
                np.concatenate([c_arr, -c_arr]),
                1,
                LE,
                float(room),
                "rule",
            )
        return b

    received = np.concatenate([np.where(rec, 1.0, 0.0), np.where(rec, -1.0, 0.0)])

    def solve(b: ProgramBuilder, cost: np.ndarray) -> np.ndarray | None:
        outcome = run_highs(b.build(cost), None)
        if outcome.status != "optimal" or outcome.values is None:
            return None
        return np.rint(outcome.values).astype(np.int64)

    # 1. the most money absorbed
    b = base("refine_absorb")
    x = solve(b, -received)
    if x is None:
        return None
    gained = int(np.dot(received, x))
    if settle:
        # the settle stage's generic objective (see Formulation.objective), keeping that money
        b = base("refine_settle")
        b.dense_row(received, GE, float(gained), "kept")
        weight = generic_weights(form.g_line[chosen], form.g_line[chosen])
        y = solve(b, np.concatenate([weight, -weight]))
        if y is None:
            return None
        out = g0.copy()
        out[chosen] += y[:n] - y[n : 2 * n]
        return None if rules is not None and rules.broken(out) else out
    # 2. the least deviation from the fair targets, keeping that money
    deviation_rows: tuple[np.ndarray, np.ndarray] | None = None
    best_dev: int | None = None
    if form.g_targets is not None:
        t = form.g_targets[chosen]
        b = base("refine_share")
        b.dense_row(np.concatenate([received, np.zeros(0)]), GE, float(gained), "kept")
        # |g0 + delta - t| as e_plus + e_minus with g0 + up - down - t = e_plus - e_minus
        e_cols = b.columns("e_plus", chosen, np.zeros(n), np.full(n, np.inf))
        b.columns("e_minus", chosen, np.zeros(n), np.full(n, np.inf))
        k = np.arange(n)
        cu, cd = b.col_ids("up"), b.col_ids("down")
        ep, em = b.col_ids("e_plus"), b.col_ids("e_minus")
        b.row_block(
            np.concatenate([k, k, k, k]),
            np.concatenate([cu, cd, ep, em]),
            np.concatenate([np.ones(n), -np.ones(n), -np.ones(n), np.ones(n)]),
            n,
            EQ,
            (t - g0[chosen]).astype(np.float64),
            "deviation",
        )
        del e_cols
        cost = np.concatenate([np.zeros(2 * n), np.ones(2 * n)])
        y = solve(b, cost)
        if y is not None:
            x = y[: 2 * n]
            best_dev = int(y[2 * n :].sum())
            deviation_rows = (t, cost)
    # 3. the least change from the solver's point, keeping both
    b = base("refine_close")
    b.dense_row(received, GE, float(gained), "kept")
    change = np.ones(2 * n)
    if deviation_rows is not None and best_dev is not None:
        t = deviation_rows[0]
        b.columns("e_plus", chosen, np.zeros(n), np.full(n, np.inf))
        b.columns("e_minus", chosen, np.zeros(n), np.full(n, np.inf))
        k = np.arange(n)
        cu, cd = b.col_ids("up"), b.col_ids("down")
        ep, em = b.col_ids("e_plus"), b.col_ids("e_minus")
        b.row_block(
            np.concatenate([k, k, k, k]),
            np.concatenate([cu, cd, ep, em]),
            np.concatenate([np.ones(n), -np.ones(n), -np.ones(n), np.ones(n)]),
            n,
            EQ,
            (t - g0[chosen]).astype(np.float64),
            "deviation",
        )
        b.dense_row(np.concatenate([np.zeros(2 * n), np.ones(2 * n)]), LE, float(best_dev), "kept")
        change = np.concatenate([change, np.zeros(2 * n)])
    z = solve(b, change)
    if z is not None:
        x = z[: 2 * n]
    out = g0.copy()
    out[chosen] += x[:n] - x[n : 2 * n]
    if rules is not None and rules.broken(out):
        return None
    return out


def settle_groups(form: Formulation, rules: RuleRows | None, raw: np.ndarray) -> np.ndarray | None:
    """Whole-unit group amounts of the settle stage near the solver's ``raw`` amounts: the most
    money absorbed, then the settle objective's choice among equals (None when none keeps every
    rule). Beyond ~10^9 units a solver's pool totals are off by a few units, and the fair targets
    drawn from them would depend on the solver path; these do not."""
    return refine_groups(form, rules, raw, settle=True)


def refine_flows(
    form: Formulation, rules: RuleRows | None, raw_flows: np.ndarray, *, settle: bool = False
) -> np.ndarray | None:
    """Whole-unit flows near the solver's ``raw_flows`` (flows mode), their last units chosen by
    small MILPs in the scenario's own goal order: the most money absorbed, then each of
    ``form.goal_stages`` (approval tiers, fair shares, transfer costs), then the generic
    tie-break. With ``settle``: the most money, the priced goals before the shares, then the
    tie-break. Needed when a priced stage comes before the shares: group amounts alone cannot
    tell what a plan costs, so ``refine_groups`` would trade a higher approval for fairness.
    None when no nearby plan keeps every rule."""
    from .backend import run_highs
    from .sharing import group_sums

    n_g = form.n_groups
    ends = (form.flow_from, form.flow_to)
    f0 = np.clip(np.rint(raw_flows), 0, form.flow_bound).astype(np.int64)
    g0 = group_sums(ends[0], f0, n_g) + group_sums(ends[1], f0, n_g)
    raw_g = group_sums(ends[0], raw_flows, n_g) + group_sums(ends[1], raw_flows, n_g)
    cap = form.g_cap
    moved = float(np.sum(np.clip(raw_flows, 0, None)))
    # as in refine_groups, but reaching back past a retried stage's wider tolerance too (x100)
    reach = int(max(8, np.ceil(1e-5 * form.scale), np.ceil(400 * STAGE_TOL_REL * moved)))
    free = ((g0 > 0) & (g0 < cap)) | (np.abs(raw_g - g0) > 1e-9) | (g0 > cap)
    if form.g_targets is not None and not settle:
        free |= g0 != form.g_targets
    if rules is not None:
        for j in rules.broken(g0):
            free[rules.rows[j][2]] = True
    fractional = np.abs(raw_flows - f0) > 1e-9
    pools = np.unique(np.concatenate([form.g_pool[free], form.g_pool[ends[0][fractional]]]))
    chosen = np.flatnonzero(np.isin(form.g_pool[ends[0]], pools))
    if chosen.shape[0] == 0:
        return f0
    if chosen.shape[0] > 50_000:
        return None
    n = chosen.shape[0]
    a, z = ends[0][chosen], ends[1][chosen]
    touched = np.unique(np.concatenate([a, z]))
    row_of = np.full(n_g, -1, dtype=np.int64)
    row_of[touched] = np.arange(touched.shape[0])
    # every group of a chosen pool may change (a later stage's tolerance may have left money
    # unabsorbed at a group the solver put at a bound), within reach of each of its flows
    g_low = -g0[touched].astype(np.float64)
    g_high = (cap[touched] - g0[touched]).astype(np.float64)
    up = np.minimum(reach, form.flow_bound[chosen] - f0[chosen]).astype(np.float64)
    down = np.minimum(reach, f0[chosen]).astype(np.float64)
    values = g0.tolist()

    def base(stage: str) -> ProgramBuilder:
        b = ProgramBuilder(stage)
        b.columns("up", chosen, np.zeros(n), up, integer=True)
        b.columns("down", chosen, np.zeros(n), down, integer=True)
        cu, cd = b.col_ids("up"), b.col_ids("down")
        rows = np.concatenate([row_of[a], row_of[z], row_of[a], row_of[z]])
        cols = np.concatenate([cu, cu, cd, cd])
        vals = np.concatenate([np.ones(2 * n), -np.ones(2 * n)])
        m = touched.shape[0]
        b.row_block(rows, cols, vals, m, LE, g_high, "group")
        b.row_block(rows, cols, vals, m, GE, g_low, "group")
        for _kind, _payload, groups, coef, bound in rules.rows if rules is not None else ():
            c_g = np.zeros(n_g)
            c_g[groups] = np.array([float(c) for c in coef])
            c_f = c_g[a] + c_g[z]
            if not c_f.any():
                continue
            lhs = sum(c * values[g] for c, g in zip(coef, groups.tolist(), strict=True))
            b.dense_row(np.concatenate([c_f, -c_f]), LE, float(-bound - lhs), "rule")
        return b

    def deviation(b: ProgramBuilder) -> np.ndarray:
        """Columns e+ and e- per touched group, with g0 + delta - target = e+ - e-; their sum."""
        assert form.g_targets is not None
        m = touched.shape[0]
        b.columns("e_plus", touched, np.zeros(m), np.full(m, np.inf))
        b.columns("e_minus", touched, np.zeros(m), np.full(m, np.inf))
        cu, cd = b.col_ids("up"), b.col_ids("down")
        k = np.arange(m)
        b.row_block(
            np.concatenate([row_of[a], row_of[z], row_of[a], row_of[z], k, k]),
            np.concatenate([cu, cu, cd, cd, b.col_ids("e_plus"), b.col_ids("e_minus")]),
            np.concatenate([np.ones(2 * n), -np.ones(2 * n), -np.ones(m), np.ones(m)]),
            m,
            EQ,
            (form.g_targets[touched] - g0[touched]).astype(np.float64),
            "deviation",
        )
        out = np.zeros(b.n_cols)
        out[b.block_slice("e_plus")] = 1.0
        out[b.block_slice("e_minus")] = 1.0
        return out

    def on_flows(per_flow: np.ndarray) -> np.ndarray:
        return np.concatenate([per_flow, -per_flow])

    goals: list[str] = ["absorb"]
    for stage in form.goal_stages:
        if stage == "share" and settle:
            break
        goals.append(stage)
    # last, the generic tie-break of the settle and canonical stages (they share it): the plan then
    # does not depend on which solver path gave the point
    goals.append("settle")
    kept: list[tuple[str, float]] = []
    x: np.ndarray | None = None

    def objective(name: str, b: ProgramBuilder, dev: np.ndarray | None) -> np.ndarray:
        c = np.zeros(b.n_cols)
        if name == "absorb":
            c[: 2 * n] = on_flows(-np.ones(n))
        elif name == "approval":
            c[: 2 * n] = on_flows(form.flow_tier[chosen])
        elif name == "cost":
            c[: 2 * n] = on_flows(form.flow_fee[chosen])
        elif name == "share":
            assert dev is not None
            c = dev.copy()
        else:  # the generic tie-break
            w = generic_weights(form.g_line[a], form.g_line[z])
            g_w = generic_weights(form.g_line, form.g_line) * 1e-3
            c[: 2 * n] = on_flows(w + g_w[a] + g_w[z])
        return c

    for goal in goals:
        b = base(f"refine_{goal}")
        dev = deviation(b) if form.g_targets is not None and not settle and "share" in goals else None
        for name, optimum in kept:
            # money and deviations are whole units: kept to the unit; costs to double precision
            slack = 0.5 if name in ("absorb", "share") else 1e-13 * abs(optimum) + 1e-9
            b.dense_row(objective(name, b, dev), LE, optimum + slack, "kept")
        cost = objective(goal, b, dev)
        outcome = run_highs(b.build(cost), None)
        if outcome.status != "optimal" or outcome.values is None:
            if x is None:
                return None
            break
        y = np.rint(outcome.values)
        x = y[: 2 * n]
        kept.append((goal, float(cost @ y)))
    assert x is not None
    out = f0.copy()
    out[chosen] += (x[:n] - x[n:]).astype(np.int64)
    g = group_sums(ends[0], out, n_g) + group_sums(ends[1], out, n_g)
    if (out < 0).any() or (g > cap).any() or (rules is not None and rules.broken(g)):
        return None
    return out
