"""Plans for a capacity forecast: the first stage under uncertainty, then today's exact stages.

Every objective ends the same way: it fixes, per line, a *planning capacity* — the amount the line
is planned to hold, or its allocation when it neither gives nor receives — and the scenario with
those capacities is solved by :func:`reallocate.solve` as any other: fair shares, approval tiers,
transfer costs and the fewest transfers keep their meaning, the amounts are exact, the plan is
verified. What the objectives decide is the first stage:

* ``"quantile"`` (chance-constrained per line, ``epsilon``): a line receives only what it absorbs
  with probability ``1 - epsilon`` (its ``epsilon``-quantile), and gives only what it fails to
  absorb with probability ``1 - epsilon`` (above its ``1 - epsilon``-quantile); every rule applies.
* ``"expected"``: maximise expected absorbable money, ``sum_i E[min(final_i, C_i)]``, with each
  line's capacity compressed to ``breakpoints`` (K) equally likely quantiles — the sample-average
  LP with K breakpoints per line. Its slope at a level is the chance that the capacity exceeds
  it, so the LP is a pairing of units by chance, solved here exactly in integers (the tests check
  it against the LP solved by HiGHS): each pool moves a unit only from where it is less likely to
  be spent to where it is more likely — never between equal chances, so the least money moves
  among the optima — and when several lines could use the last money equally well it is shared
  by the scenario's ``recipients`` / ``donors`` rule, as the fair-share stage does.
* ``"cvar"``: maximise ``(1 - omega) E[absorbed] + omega CVaR_alpha[absorbed]`` over joint
  samples (Rockafellar-Uryasev: one column per moving line and sample); its ties go to the plan
  closest to the ``"expected"`` plan (a distance weighed far below any unit of the objective);
  amounts rounded to whole units with each pool's total kept exactly.

With zero uncertainty (every draw equal to the scenario's capacity) all three give today's plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import OptimizationError, ScenarioError
from ..sharing import apportion_groups, fair_targets, group_sums
from .capacity import CapacityForecast

if TYPE_CHECKING:
    from ..scenario import Scenario

__all__ = ["OBJECTIVES", "CVaR", "Expected", "PlanningBasis", "Quantile", "planning_scenario"]

OBJECTIVES: tuple[str, ...] = ("expected", "quantile", "cvar")

#: beyond every amount (2**62 keeps sums of two inside int64)
_BIG = 2**62
#: most columns (moving lines x samples) the CVaR LP may have
CVAR_MAX_CELLS = 2_000_000


@dataclass(frozen=True)
class Expected:
    """Maximise expected absorbable money, each line's capacity as ``breakpoints`` equally likely
    quantiles."""

    breakpoints: int = 5


@dataclass(frozen=True)
class Quantile:
    """Chance-constrained per line: receive only what is absorbed with probability
    ``1 - epsilon``, give only what is not absorbed with probability ``1 - epsilon``
    (``epsilon = 0.5``: plan every line on its median)."""

    epsilon: float = 0.2


@dataclass(frozen=True)
class CVaR:
    """Maximise ``(1 - omega)`` expected absorbed + ``omega`` CVaR at ``alpha`` (the mean of the
    worst ``alpha`` share of years) over ``samples`` joint draws (``seed``); ties go to the plan
    closest to the ``Expected(breakpoints)`` plan."""

    alpha: float = 0.1
    omega: float = 0.5
    samples: int = 500
    seed: int = 0
    breakpoints: int = 5


_NAMED: dict[str, Expected | Quantile | CVaR] = {"expected": Expected(), "quantile": Quantile(), "cvar": CVaR()}


@dataclass(frozen=True)
class PlanningBasis:
    """How a plan allowed for the forecast: the objective and its parameters, and the planning
    capacity of each line (whole units, in the scenario's line order)."""

    objective: str
    forecast: str
    as_of: str | None = None
    breakpoints: int | None = None
    epsilon: float | None = None
    alpha: float | None = None
    omega: float | None = None
    samples: int | None = None
    seed: int | None = None
    capacity_units: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"objective": self.objective, "forecast": self.forecast}
        for name in ("as_of", "breakpoints", "epsilon", "alpha", "omega", "samples", "seed"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


def planning_scenario(
    scenario: Scenario, forecast: CapacityForecast, objective: str | Expected | Quantile | CVaR = "expected"
) -> tuple[Scenario, PlanningBasis]:
    """The scenario with each line's capacity replaced by its planning capacity under
    ``objective`` (a name, or ``Expected``/``Quantile``/``CVaR`` with its parameters), and how it
    was found."""
    at = forecast.positions(scenario)  # first: its errors name the lines as the scenario lists them
    order = scenario.lines.canonical_order()
    if order is None:
        basis = _basis(scenario, forecast, objective, at)
    else:
        # ties (fair shares, roundings) are broken by position: decided with the lines in key
        # order, as solve() does, so that the plan depends on the content only
        basis = _basis(scenario.reordered(order), forecast, objective, at[order])
        back = np.empty_like(order)
        back[order] = np.arange(order.shape[0])
        basis = replace(basis, capacity_units=basis.capacity_units[back])
    return with_capacities(scenario, basis.capacity_units), basis


def _basis(
    scenario: Scenario, forecast: CapacityForecast, objective: str | Expected | Quantile | CVaR, at: np.ndarray
) -> PlanningBasis:
    """The planning capacities of ``scenario``'s lines (``at``: their columns in the forecast)."""
    if isinstance(objective, str):
        if objective not in _NAMED:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}; got {objective!r}")
        objective = _NAMED[objective]
    if not isinstance(objective, (Expected, Quantile, CVaR)):
        raise TypeError(f"objective must be a name, Expected, Quantile or CVaR; got {type(objective).__name__}")
    method, as_of = forecast.method, forecast.as_of
    if isinstance(objective, Quantile):
        if not 0 < objective.epsilon <= 0.5:
            raise ValueError(f"epsilon must be in (0, 0.5]; got {objective.epsilon}")
        low, high = forecast.quantile_units([objective.epsilon, 1 - objective.epsilon])
        # a capacity is never below what the line has already paid out (a forecast made without
        # the scenario may draw lower)
        paid = scenario.lines.units("disbursed")
        kappa = quantile_capacities(
            scenario.lines.units("allocated"), np.maximum(low[at], paid), np.maximum(high[at], paid)
        )
        return PlanningBasis("quantile", method, as_of, epsilon=objective.epsilon, capacity_units=kappa)
    k = objective.breakpoints
    if not 1 <= k <= 200:
        raise ValueError(f"breakpoints must be between 1 and 200; got {k}")
    name = "expected" if isinstance(objective, Expected) else "cvar"
    _refuse_coupled(scenario, name)
    fair = expected_holdings(scenario, breakpoint_atoms(forecast, k)[:, at].T)
    if isinstance(objective, Expected):
        return PlanningBasis("expected", method, as_of, breakpoints=k, capacity_units=fair)
    alpha, omega, samples = objective.alpha, objective.omega, objective.samples
    if not 0 < alpha <= 1 or not 0 <= omega <= 1 or samples < 1:
        raise ValueError(f"alpha must be in (0, 1], omega in [0, 1], samples >= 1; got {alpha}, {omega}, {samples}")
    draws = forecast.sample(samples, seed=objective.seed)[:, at]
    kappa = cvar_holdings(scenario, draws, alpha, omega, fair)
    return PlanningBasis(
        "cvar",
        method,
        as_of,
        breakpoints=k,
        alpha=alpha,
        omega=omega,
        samples=samples,
        seed=objective.seed,
        capacity_units=kappa,
    )


def with_capacities(scenario: Scenario, capacity_units: np.ndarray) -> Scenario:
    """``scenario`` with every line's capacity replaced (whole units), validated as any scenario."""
    from ..scenario import Scenario as ScenarioModel

    values = {name: getattr(scenario, name) for name in ScenarioModel.model_fields}
    values["lines"] = scenario.lines.replace(capacity=np.asarray(capacity_units, dtype=np.int64))
    return ScenarioModel.model_validate(values)


def _refuse_coupled(scenario: Scenario, objective: str) -> None:
    """The pairing of units by chance is exact for independent pools; rules that tie pools or
    transfers together need ``"quantile"`` (which keeps every rule)."""
    from ..formulation.rules import locality_limits, target_rows

    rules = scenario.rules
    found: list[tuple[str, ...]] = []
    if locality_limits(scenario)[0].shape[0]:
        named = [("rules", n) for n in ("max_loss", "max_gain") if getattr(rules, n) is not None]
        found += named or [("localities",)]
    if target_rows(scenario):
        named = [("rules", n) for n in ("target_rate", "targets") if getattr(rules, n)]
        found += named or [("rules", "targets")]
    if rules.min_transfer > 0:
        found.append(("rules", "min_transfer"))
    if rules.max_transfers_per_line is not None:
        found.append(("rules", "max_transfers_per_line"))
    # a priced goal before the fair shares decides who gives and receives by approvals or costs;
    # the pairing by chance shares its ties fairly, so it needs the shares to come first
    tiers = any(cost > 0 and name not in rules.pool_by for name, cost in rules.move_costs.items())
    fees = any(c.cost > 0 for c in scenario.transfer_costs or ())
    present = [g for g in rules.order if g == "fair_shares" or (tiers if g == "move_costs" else fees)]
    if present and present[0] != "fair_shares":
        found.append(("rules", present[0]))
    if found:
        raise ScenarioError(
            [
                {
                    "loc": loc,
                    "msg": f"not supported with the objective '{objective}': use the objective 'quantile'",
                    "input": objective,
                    "type": "objective_rule",
                }
                for loc in found
            ],
            title="the scenario's rules do not fit the objective",
        )


# ---------------------------------------------------------------------------------- quantile
def quantile_capacities(allocated: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Chance-constrained planning capacities: give only above ``high`` (money the line fails to
    use with probability ``1 - epsilon``), receive only up to ``low`` (money it uses with
    probability ``1 - epsilon``), otherwise hold the allocation."""
    allocated = allocated.astype(np.int64)
    return np.where(high < allocated, high, np.where(low > allocated, low, allocated)).astype(np.int64)


# ---------------------------------------------------------------------------------- expected
def breakpoint_atoms(forecast: CapacityForecast, k: int) -> np.ndarray:
    """K equally likely capacities per line: the quantiles at (j + 1/2) / K, shape (K, lines)."""
    probabilities = (np.arange(k) + 0.5) / k
    return np.sort(np.atleast_2d(forecast.quantile_units(list(probabilities))), axis=0)


def slope_widths(start: np.ndarray, stop: np.ndarray, atoms: np.ndarray) -> np.ndarray:
    """Units ``t`` in ``[start, stop)`` per line and per level ``j`` = how many of the K atoms
    exceed ``t`` (K times the chance that the unit from ``t`` to ``t + 1`` is spent). ``atoms``
    is (lines, K), sorted; the result is (lines, K + 1)."""
    n = atoms.shape[0]
    edges = np.concatenate([np.full((n, 1), -_BIG), atoms.astype(np.int64), np.full((n, 1), _BIG)], axis=1)
    # level j holds the t with edges[K - j] <= t < edges[K - j + 1]
    flipped = edges[:, ::-1]
    lower = flipped[:, 1:]
    upper = flipped[:, :-1]
    lo = np.maximum(start[:, None], lower)
    hi = np.minimum(stop[:, None], upper)
    return np.maximum(hi - lo, 0).astype(np.int64)


def holding_bounds(scenario: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(allocated, least, most) each line may hold: its floor (else disbursed) and its ceiling;
    its allocation where a flag forbids giving or receiving."""
    lines = scenario.lines
    allocated = lines.units("allocated").astype(np.int64)
    least = np.minimum(lines.floor_or_disbursed.astype(np.int64), allocated)
    most = np.maximum(np.where(lines.has_ceiling, lines.ceiling, _BIG).astype(np.int64), allocated)
    frozen = lines.flag("frozen")
    least = np.where(frozen | lines.flag("receive_only"), allocated, least)
    most = np.where(frozen | lines.flag("give_only"), allocated, most)
    return allocated, least, most


def expected_holdings(scenario: Scenario, atoms: np.ndarray) -> np.ndarray:
    """What each line holds in the plan that maximises expected absorbable money over the K
    equally likely capacities ``atoms`` (lines, K), with the least money moved and ties shared by
    the scenario's rules. Exact integers; whole arrays, one pass per level."""
    allocated, least, most = holding_bounds(scenario)
    t = scenario.table
    k = atoms.shape[1]
    n_pools = len(t.pool_keys)
    take = slope_widths(allocated, most, atoms)  # units a line could receive, per level
    give = slope_widths(least, allocated, atoms)  # units it could give, per level
    demand = np.stack([group_sums(t.pool, take[:, j], n_pools) for j in range(k + 1)], axis=1)
    supply = np.stack([group_sums(t.pool, give[:, j], n_pools) for j in range(k + 1)], axis=1)
    demand_from = np.cumsum(demand[:, ::-1], axis=1)[:, ::-1]  # receivable at levels >= j
    supply_to = np.cumsum(supply, axis=1)  # givable at levels <= j
    # a unit moves only to a strictly likelier use: with the threshold between levels m - 1 and
    # m, min(receivable at >= m, givable at <= m - 1) units can move; the best threshold moves most
    zero = np.zeros((n_pools, 1), dtype=np.int64)
    receivable = np.concatenate([demand_from, zero], axis=1)  # m = 0 .. K + 1
    givable = np.concatenate([zero, supply_to], axis=1)
    moved = np.minimum(receivable, givable).max(axis=1)
    rho = _boundary_from_top(demand_from, moved)
    gamma = _boundary_from_bottom(supply_to, moved)
    rules = scenario.rules
    received = _take_levels(t, take, rho, moved, demand_from, above=True, rule=rules.recipients)
    given = _take_levels(t, give, gamma, moved, supply_to, above=False, rule=rules.donors)
    return (allocated + received - given).astype(np.int64)


def _boundary_from_top(demand_from: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """Per pool, the highest level whose receivable-at-or-above reaches ``moved`` (K + 1: none)."""
    levels = demand_from.shape[1]
    reach = demand_from >= moved[:, None]
    last = levels - 1 - np.argmax(reach[:, ::-1], axis=1)
    return np.where(moved > 0, last, levels)


def _boundary_from_bottom(supply_to: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """Per pool, the lowest level whose givable-at-or-below reaches ``moved`` (-1: none)."""
    first = np.argmax(supply_to >= moved[:, None], axis=1)
    return np.where(moved > 0, first, -1)


def _take_levels(
    t: Any,
    widths: np.ndarray,
    boundary: np.ndarray,
    moved: np.ndarray,
    cumulative: np.ndarray,
    *,
    above: bool,
    rule: str,
) -> np.ndarray:
    """Units each line moves: all its units on its pool's levels beyond ``boundary``, and a fair
    share (``rule``) of what the pool still needs from the boundary level."""
    n, levels = widths.shape
    b = boundary[t.pool]
    j = np.arange(levels)[None, :]
    beyond = (j > b[:, None]) if above else (j < b[:, None])
    whole = (widths * beyond).sum(axis=1)
    inside = (b >= 0) & (b < levels)
    at = np.where(inside, widths[np.arange(n), np.clip(b, 0, levels - 1)], 0)
    # what the pool takes beyond its boundary level, and so still needs from it
    pools = np.arange(boundary.shape[0])
    past = boundary + 1 if above else boundary - 1
    done = np.where((past >= 0) & (past < levels), cumulative[pools, np.clip(past, 0, levels - 1)], 0)
    need = np.where((moved > 0) & (boundary >= 0) & (boundary < levels), moved - done, 0)
    share = fair_targets(t.pool, at, t.weight, need.astype(np.int64), rule, highest_first=above)
    return (whole + share).astype(np.int64)


# ---------------------------------------------------------------------------------- cvar
def cvar_holdings(scenario: Scenario, draws: np.ndarray, alpha: float, omega: float, anchor: np.ndarray) -> np.ndarray:
    """What each line holds in the plan that maximises ``(1 - omega) E + omega CVaR_alpha`` of
    the absorbed total over the equally likely ``draws`` (samples, lines); among the optima, the
    one closest (sum of distances) to ``anchor``. Whole units, each pool's total exact."""
    allocated, least, most = holding_bounds(scenario)
    t = scenario.table
    n_pools = len(t.pool_keys)
    # only lines of pools that can move money are columns; the others add a constant per sample
    can_give = least < allocated
    can_take = most > allocated
    pool_moves = (group_sums(t.pool, can_give.astype(np.int64), n_pools) > 0) & (
        group_sums(t.pool, can_take.astype(np.int64), n_pools) > 0
    )
    active = np.flatnonzero(pool_moves[t.pool] & (can_give | can_take))
    if active.shape[0] == 0:
        return allocated
    s, n = draws.shape[0], active.shape[0]
    if s * n > CVAR_MAX_CELLS:
        raise ValueError(
            f"the CVaR LP would have {s * n:,} columns (samples x moving lines); at most {CVAR_MAX_CELLS:,}: "
            "use fewer samples"
        )
    fixed = np.ones(allocated.shape[0], dtype=bool)
    fixed[active] = False
    constant = np.minimum(allocated[fixed][None, :], draws[:, fixed]).sum(axis=1).astype(np.float64)
    # amounts divided by ``scale`` keep the LP's numbers near 1
    scale = float(max(1, int(allocated[active].max(initial=1))))
    # columns: f (n) | y (s*n, sample-major) | eta | z (s)
    n_cols = n + s * n + 1 + s
    y0, eta, z0 = n, n + s * n, n + s * n + 1
    top = np.where(most[active] >= _BIG, np.inf, most[active] / scale)
    lower = np.concatenate([least[active] / scale, np.zeros(s * n), [-np.inf], np.zeros(s)])
    upper = np.concatenate([top, (draws[:, active] / scale).reshape(-1), [np.inf], np.full(s, np.inf)])
    # maximise (1-w)/S sum y + w (eta - 1/(alpha S) sum z): minimise the negative
    cost = np.zeros(n_cols)
    cost[y0:eta] = -(1 - omega) / s
    cost[eta] = -omega
    cost[z0:] = omega / (alpha * s)
    rows = _Rows()
    cell = np.arange(s * n)
    # y_si <= f_i
    rows.add(np.r_[cell, cell], np.r_[y0 + cell, cell % n], np.r_[np.ones(s * n), -np.ones(s * n)], -np.inf, 0.0)
    # z_s >= eta - (constant_s + sum_i y_si)
    samp = np.arange(s)
    rows.add(
        np.r_[samp, samp, np.repeat(samp, n)],
        np.r_[z0 + samp, np.full(s, eta), y0 + cell],
        np.r_[np.ones(s), -np.ones(s), np.ones(s * n)],
        -constant / scale,
        np.inf,
    )
    # each pool keeps its total
    pools, pool_row = np.unique(t.pool[active], return_inverse=True)
    totals = group_sums(pool_row, allocated[active], pools.shape[0]).astype(np.float64) / scale
    rows.add(pool_row, np.arange(n), np.ones(n), totals, totals)
    # among the optima, the closest to the anchor: d_i >= |f_i - anchor_i| at a weight far below
    # any trade the objective can make (one unit moved changes it by at least the smallest
    # coefficient), so the optimum stays the CVaR optimum and only its ties are decided
    target = anchor[active] / scale
    d = n_cols + np.arange(n)
    f = np.arange(n)
    rows.add(np.r_[f, f], np.r_[d, f], np.r_[np.ones(n), -np.ones(n)], -target, np.inf)
    rows.add(np.r_[f, f], np.r_[d, f], np.r_[np.ones(n), np.ones(n)], target, np.inf)
    # the objective is divided by its smallest coefficient, so that whatever omega, alpha and the
    # number of draws, a unit of it is 1 and the distance's weight (1e-6) stays far above HiGHS's
    # tolerances (1e-9) and far below any trade of the objective
    smallest = min(c for c in ((1 - omega) / s, omega / (alpha * s)) if c > 0)
    x = _solve_lp(
        np.r_[cost / smallest, np.full(n, 1e-6)], np.r_[lower, np.zeros(n)], np.r_[upper, np.full(n, np.inf)], rows
    )
    values = x[:n] * scale
    # the LP's amounts are exact only to its tolerance (relative 1e-9: a thousand units at 10^12):
    # a line within that of its place in the "expected" plan is put there exactly
    near = np.abs(values - anchor[active]) <= max(1.0, 1e-6 * scale)
    values = np.where(near, anchor[active], values)
    held = allocated.copy()
    held[active] = whole_units(values, t.pool[active], allocated[active], least[active], most[active])
    return held


class _Rows:
    """Rows of an LP gathered block by block (row numbers local to each block), then CSR."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.n = 0

    def add(self, row: np.ndarray, col: np.ndarray, val: np.ndarray, lo: Any, hi: Any) -> None:
        count = int(np.max(row, initial=-1)) + 1
        self.r.append(self.n + np.asarray(row, dtype=np.int64))
        self.c.append(np.asarray(col, dtype=np.int64))
        self.v.append(np.asarray(val, dtype=np.float64))
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=np.float64), (count,)))
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), (count,)))
        self.n += count

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r, c, v = np.concatenate(self.r), np.concatenate(self.c), np.concatenate(self.v)
        order = np.lexsort((c, r))
        start = np.searchsorted(r[order], np.arange(self.n + 1))
        return start.astype(np.int32), c[order].astype(np.int32), v[order]


def whole_units(
    values: np.ndarray, pool: np.ndarray, allocated: np.ndarray, least: np.ndarray, most: np.ndarray
) -> np.ndarray:
    """An LP's amounts as whole units inside their bounds, each pool's total exact: floors, then
    the units left to the largest fractions (largest remainder); what an LP's tolerance leaves
    beyond that (more or fewer units than the pool holds) is spread over the lines in proportion
    to their room to take or give it."""
    values = np.clip(values, least, np.minimum(most, _BIG).astype(np.float64))
    base = np.clip(np.floor(values + 1e-9).astype(np.int64), least, most)
    pools, group = np.unique(pool, return_inverse=True)
    n_pools = pools.shape[0]
    left = group_sums(group, allocated, n_pools) - group_sums(group, base, n_pools)
    room = (np.minimum(most, base + 1) - base).astype(np.int64)  # one more unit at most
    # largest fractions first (then line order) among the lines that can take a unit
    frac = np.where(room > 0, values - base, -1.0)
    order = np.lexsort((np.arange(values.shape[0]), -frac, group))
    starts = np.searchsorted(group[order], np.arange(n_pools))
    rank = np.empty_like(order)
    rank[order] = np.arange(values.shape[0]) - starts[group[order]]
    up = (rank < np.maximum(left, 0)[group]) & (room > 0)
    out = base + up.astype(np.int64)
    left = left - group_sums(group, up.astype(np.int64), n_pools)
    if np.any(left > 0):
        out += apportion_groups(group, (most - out).astype(np.int64), np.maximum(left, 0))
    if np.any(left < 0):
        out -= apportion_groups(group, (out - least).astype(np.int64), np.maximum(-left, 0))
    return out


def _solve_lp(cost: np.ndarray, lower: np.ndarray, upper: np.ndarray, rows: _Rows) -> np.ndarray:
    """Minimise ``cost @ x`` with HiGHS from arrays (no banner on stdout); the solution, or
    ``OptimizationError`` when HiGHS does not prove it optimal."""
    import highspy

    from ..backend import quiet_highs

    inf = highspy.kHighsInf
    start, index, value = rows.csr()
    row_lo, row_hi = np.concatenate(rows.lo), np.concatenate(rows.hi)
    lp = highspy.HighsLp()
    lp.num_col_ = int(cost.shape[0])
    lp.num_row_ = rows.n
    lp.col_cost_ = cost
    lp.col_lower_ = np.where(np.isneginf(lower), -inf, lower)
    lp.col_upper_ = np.where(np.isposinf(upper), inf, upper)
    lp.row_lower_ = np.where(np.isneginf(row_lo), -inf, row_lo)
    lp.row_upper_ = np.where(np.isposinf(row_hi), inf, row_hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    h = quiet_highs()
    # (no "threads" option: HiGHS refuses to run when it differs from its scheduler's first setting)
    for option in ("primal_feasibility_tolerance", "dual_feasibility_tolerance"):
        h.setOptionValue(option, 1e-9)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise OptimizationError(f"the CVaR LP was not solved to optimality: {h.modelStatusToString(status)}")
    return np.asarray(h.getSolution().col_value, dtype=np.float64)
