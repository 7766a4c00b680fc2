"""Plans for a capacity forecast, checked without reallocate's own planning code: the "expected"
plan against the breakpoint LP solved by scipy's HiGHS and against brute force, the CVaR plan
against an independent Rockafellar-Uryasev LP and the sorted-tail definition, the quantile plan
against the draws themselves, the risk against a plain loop; and with zero uncertainty every
objective gives today's plan."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

import reallocate
from reallocate import Scenario, ScenarioError
from reallocate.datasets import quang_nam_2023
from reallocate.uncertainty import CapacityForecast, CVaR, Expected, Quantile, value_of_stochastic_solution
from test_independent import SETTINGS

FLAGS = ("frozen", "give_only", "receive_only")


def _scenario(rng: np.random.Generator, n_lines: int, n_pools: int, rules: dict[str, Any] | None = None) -> Scenario:
    lines = []
    for i in range(n_lines):
        allocated = int(rng.integers(0, 60))
        disbursed = int(rng.integers(0, allocated + 1))
        line: dict[str, Any] = {
            "locality": f"l{i}",
            "program": f"p{int(rng.integers(0, n_pools))}",
            "fund": "investment",
            "allocated": allocated,
            "disbursed": disbursed,
            "capacity": int(rng.integers(disbursed, 80)),
        }
        roll = rng.random()
        if roll < 0.15:
            line["floor"] = int(rng.integers(disbursed, allocated + 1))
        elif roll < 0.3:
            line["ceiling"] = int(rng.integers(allocated, allocated + 40))
        elif roll < 0.4:
            line[FLAGS[int(rng.integers(0, 3))]] = True
        lines.append(line)
    return Scenario.model_validate({"name": "random", "lines": lines, "rules": rules or {}})


def _draws(rng: np.random.Generator, scenario: Scenario, n: int) -> np.ndarray:
    """Joint draws: a year effect shared by every line, and each line's own noise."""
    cap = scenario.lines.units("capacity").astype(float)
    year = rng.normal(0, 0.3, size=(n, 1))
    raw = np.floor(np.maximum(cap, 5) * np.exp(year + rng.normal(0, 0.4, size=(n, cap.shape[0]))))
    return np.maximum(raw, scenario.lines.units("disbursed")).astype(np.int64)


def _bounds(scenario: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What each line may hold, from its fields (DOMAIN.md): floor (else disbursed) to ceiling;
    its allocation when a flag forbids giving or receiving."""
    least, most, allocated = [], [], []
    for line in scenario.lines:
        a = int(line.allocated)
        lo = int(line.floor if line.floor is not None else line.disbursed)
        hi = int(line.ceiling) if line.ceiling is not None else 10**9
        if line.frozen or line.receive_only:
            lo = a
        if line.frozen or line.give_only:
            hi = a
        least.append(min(lo, a))
        most.append(max(hi, a))
        allocated.append(a)
    return np.array(allocated), np.array(least), np.array(most)


def _pools(scenario: Scenario) -> np.ndarray:
    names = [line.program for line in scenario.lines]
    return np.unique(names, return_inverse=True)[1]


def _expected_value(final: np.ndarray, atoms: np.ndarray) -> float:
    """Sum over lines of the mean over atoms of min(final, atom): atoms is (K, lines)."""
    return float(np.minimum(final[None, :], atoms).mean(axis=0).sum())


def _breakpoint_lp(scenario: Scenario, atoms: np.ndarray) -> tuple[float, float]:
    """The sample-average LP over K atoms, written from the fields: max sum_i sum_k y_ik / K with
    y_ik <= f_i, y_ik <= atom_ik, bounds on f, each pool's total kept. Its optimum; then the least
    money moved (sum |f - allocated|) among its optima."""
    allocated, least, most = _bounds(scenario)
    pools = _pools(scenario)
    k, n = atoms.shape
    n_cols = n + k * n
    c = np.zeros(n_cols)
    c[n:] = -1.0 / k
    rows = []
    for kk in range(k):
        for i in range(n):
            row = np.zeros(n_cols)
            row[n + kk * n + i] = 1
            row[i] = -1
            rows.append(row)
    a_le = np.array(rows)
    a_pool = np.zeros((pools.max() + 1, n_cols))
    for i, p in enumerate(pools):
        a_pool[p, i] = 1
    totals = np.bincount(pools, weights=allocated)
    lower = np.r_[least, np.zeros(k * n)]
    upper = np.r_[most, atoms.reshape(-1)]
    cons = [LinearConstraint(a_le, -np.inf, 0), LinearConstraint(a_pool, totals, totals)]
    first = milp(c, constraints=cons, bounds=Bounds(lower, upper), options={"mip_rel_gap": 0})
    assert first.success, first.message
    best = -first.fun
    # least movement among the optima: d_i >= |f_i - a_i|, value kept
    c2 = np.r_[np.zeros(n_cols), np.ones(n)]
    width = n_cols + n
    d_rows = []
    for i in range(n):
        up, down = np.zeros(width), np.zeros(width)
        up[n_cols + i], up[i] = 1, -1
        down[n_cols + i], down[i] = 1, 1
        d_rows += [(up, -allocated[i]), (down, allocated[i])]
    keep = np.r_[c, np.zeros(n)]
    cons2 = [
        LinearConstraint(np.c_[a_le, np.zeros((a_le.shape[0], n))], -np.inf, 0),
        LinearConstraint(np.c_[a_pool, np.zeros((a_pool.shape[0], n))], totals, totals),
        LinearConstraint(np.array([r for r, _ in d_rows]), np.array([b for _, b in d_rows]), np.inf),
        LinearConstraint(keep[None, :], -np.inf, -best + 1e-7),
    ]
    second = milp(c2, constraints=cons2, bounds=Bounds(np.r_[lower, np.zeros(n)], np.r_[upper, np.full(n, np.inf)]))
    assert second.success, second.message
    return best, float(second.fun)


@settings(max_examples=40, **SETTINGS)
@given(seed=st.integers(0, 10**6), k=st.sampled_from([1, 2, 3, 5]), n_pools=st.integers(1, 3))
def test_the_expected_plan_is_the_optimum_of_the_breakpoint_lp_with_the_least_money_moved(
    seed: int, k: int, n_pools: int
) -> None:
    rng = np.random.default_rng(seed)
    scenario = _scenario(rng, int(rng.integers(2, 9)), n_pools)
    atoms = np.sort(_draws(rng, scenario, k), axis=0)
    forecast = CapacityForecast.from_samples(scenario.lines.keys(), atoms)
    plan = reallocate.solve(scenario, capacity=forecast, objective=Expected(breakpoints=k))
    assert plan.optimal and plan.basis is not None and plan.basis.objective == "expected"
    final = plan.final_units
    assert final is not None
    allocated, least, most = _bounds(scenario)
    pools = _pools(scenario)
    assert (final >= least).all() and (final <= most).all()
    assert np.array_equal(np.bincount(pools, weights=final), np.bincount(pools, weights=allocated))
    best, least_moved = _breakpoint_lp(scenario, atoms)
    assert _expected_value(final, atoms) == pytest.approx(best, abs=1e-6)
    assert float(np.abs(final - allocated).sum()) == pytest.approx(least_moved, abs=1e-3)


def test_the_expected_value_equals_a_brute_force_search_on_small_cases() -> None:
    rng = np.random.default_rng(7)
    for _ in range(25):
        allocated = rng.integers(0, 9, size=3)
        draws = rng.integers(0, 12, size=(4, 3))
        lines = [
            {"locality": f"l{i}", "program": "p", "fund": "f", "allocated": int(a), "capacity": 0}
            for i, a in enumerate(allocated)
        ]
        scenario = Scenario.model_validate({"name": "tiny", "lines": lines})
        forecast = CapacityForecast.from_samples(scenario.lines.keys(), draws)
        plan = reallocate.solve(scenario, capacity=forecast, objective=Expected(breakpoints=4))
        total = int(allocated.sum())
        best = max(
            _expected_value(np.array([a, b, total - a - b]), draws)
            for a, b in itertools.product(range(total + 1), repeat=2)
            if a + b <= total
        )
        assert plan.final_units is not None
        assert _expected_value(plan.final_units, draws) == pytest.approx(best)


def _zero_uncertainty(scenario: Scenario) -> CapacityForecast:
    cap = scenario.lines.units("capacity")
    return CapacityForecast.from_samples(scenario.lines.keys(), np.repeat(cap[None, :], 3, axis=0))


@pytest.mark.parametrize(
    "rules",
    [
        {},
        {"recipients": "priority", "donors": "priority"},
        {"pool_by": ["fund"], "move_costs": {"program": 5}, "order": ["fair_shares", "move_costs", "transfer_costs"]},
    ],
)
def test_with_zero_uncertainty_every_objective_gives_todays_plan(rules: dict[str, Any]) -> None:
    scenario = quang_nam_2023(rules=rules)
    forecast = _zero_uncertainty(scenario)
    today = reallocate.solve(scenario)
    for objective in (Expected(), Quantile(0.2), CVaR(samples=20)):
        plan = reallocate.solve(scenario, capacity=forecast, objective=objective)
        assert plan.optimal
        assert plan.final_units is not None and today.final_units is not None
        assert np.array_equal(plan.final_units, today.final_units), objective
        assert plan.transfers.equals(today.transfers), objective


def test_with_zero_uncertainty_random_scenarios_keep_todays_amounts() -> None:
    for seed in range(30):
        rng = np.random.default_rng(seed)
        scenario = _scenario(rng, int(rng.integers(2, 12)), int(rng.integers(1, 4)))
        forecast = _zero_uncertainty(scenario)
        today = reallocate.solve(scenario)
        for objective in ("expected", "quantile", CVaR(samples=5)):
            plan = reallocate.solve(scenario, capacity=forecast, objective=objective)
            assert np.array_equal(plan.final_units, today.final_units), (seed, objective)


def _cvar_value(final: np.ndarray, draws: np.ndarray, alpha: float, omega: float) -> float:
    """(1 - omega) mean + omega mean of the worst alpha share, from the sorted outcomes."""
    outcome = np.sort(np.minimum(final[None, :], draws).sum(axis=1))
    tail = outcome[: round(alpha * outcome.shape[0])]
    return float((1 - omega) * outcome.mean() + omega * tail.mean())


def _cvar_lp(scenario: Scenario, draws: np.ndarray, alpha: float, omega: float) -> float:
    """An independent Rockafellar-Uryasev LP (scipy), every line a column: its optimum."""
    allocated, least, most = _bounds(scenario)
    pools = _pools(scenario)
    s, n = draws.shape
    # columns: f (n), y (s*n), eta, z (s)
    width = n + s * n + 1 + s
    c = np.zeros(width)
    c[n : n + s * n] = -(1 - omega) / s
    c[n + s * n] = -omega
    c[n + s * n + 1 :] = omega / (alpha * s)
    rows, lo = [], []
    for j in range(s):
        for i in range(n):
            row = np.zeros(width)
            row[n + j * n + i], row[i] = 1, -1
            rows.append(row)
            lo.append(-np.inf)
    a1 = np.array(rows)
    a2 = np.zeros((s, width))
    for j in range(s):
        a2[j, n + s * n + 1 + j] = 1
        a2[j, n + s * n] = -1
        a2[j, n + j * n : n + (j + 1) * n] = 1
    a3 = np.zeros((pools.max() + 1, width))
    for i, p in enumerate(pools):
        a3[p, i] = 1
    totals = np.bincount(pools, weights=allocated)
    lower = np.r_[least, np.zeros(s * n), -1e12, np.zeros(s)]
    upper = np.r_[most, draws.reshape(-1), 1e12, np.full(s, np.inf)]
    res = milp(
        c,
        constraints=[
            LinearConstraint(a1, -np.inf, 0),
            LinearConstraint(a2, 0, np.inf),
            LinearConstraint(a3, totals, totals),
        ],
        bounds=Bounds(lower, upper),
    )
    assert res.success, res.message
    return float(-res.fun)


@pytest.mark.parametrize("seed", range(12))
def test_the_cvar_plan_matches_an_independent_formulation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scenario = _scenario(rng, int(rng.integers(3, 8)), int(rng.integers(1, 3)))
    alpha, omega, samples = 0.2, float(rng.choice([0.0, 0.5, 1.0])), 20
    forecast = CapacityForecast.from_samples(scenario.lines.keys(), _draws(rng, scenario, 40))
    plan = reallocate.solve(
        scenario, capacity=forecast, objective=CVaR(alpha=alpha, omega=omega, samples=samples, seed=seed)
    )
    assert plan.optimal and plan.final_units is not None
    draws = forecast.sample(samples, seed=seed)  # the draws the plan was made on
    best = _cvar_lp(scenario, draws, alpha, omega)
    mine = _cvar_value(plan.final_units, draws, alpha, omega)
    # whole units: each line at most one unit from the LP's amounts, each unit worth at most 1
    assert best - len(scenario.lines) <= mine <= best + 1e-6
    allocated, least, most = _bounds(scenario)
    pools = _pools(scenario)
    assert (plan.final_units >= least).all() and (plan.final_units <= most).all()
    assert np.array_equal(np.bincount(pools, weights=plan.final_units), np.bincount(pools, weights=allocated))


def test_the_quantile_plan_moves_only_money_that_is_surely_spare_to_lines_that_surely_spend_it() -> None:
    rng = np.random.default_rng(3)
    scenario = quang_nam_2023()
    draws = _draws(rng, scenario, 2000)
    forecast = CapacityForecast.from_samples(scenario.lines.keys(), draws)
    epsilon = 0.2
    plan = reallocate.solve(scenario, capacity=forecast, objective=Quantile(epsilon))
    assert plan.optimal and plan.final_units is not None
    allocated = scenario.lines.units("allocated")
    final = plan.final_units
    took, gave = final > allocated, final < allocated
    assert took.any() and gave.any()
    # a receiver spends all it holds in at least 1 - epsilon of the draws
    assert ((draws[:, took] >= final[took]).mean(axis=0) >= 1 - epsilon).all()
    # a giver could not have spent what it gave in at least 1 - epsilon of the draws
    assert ((draws[:, gave] <= final[gave]).mean(axis=0) >= 1 - epsilon).all()


def test_the_risk_of_a_plan_is_what_a_plain_loop_over_the_draws_finds() -> None:
    rng = np.random.default_rng(11)
    scenario = quang_nam_2023()
    forecast = CapacityForecast.from_samples(scenario.lines.keys(), _draws(rng, scenario, 300))
    plan = reallocate.solve(scenario, capacity=forecast)
    risk = plan.risk(forecast, samples=700, seed=5, target=0.6)
    draws = forecast.sample(700, seed=5)
    final = [int(u) for u in plan.final_units]  # type: ignore[union-attr]
    allocated = sum(int(line.allocated) for line in scenario.lines)
    absorbed = [sum(min(f, int(c)) for f, c in zip(final, row, strict=True)) for row in draws.tolist()]
    rates = [a / allocated for a in absorbed]
    summary = risk.summary()
    assert summary["samples"] == 700
    assert summary["rate_mean"] == pytest.approx(sum(rates) / len(rates))
    assert summary["lapse_p50"] == pytest.approx(float(np.quantile([allocated - a for a in absorbed], 0.5)))
    assert summary["probability_below_target"] == pytest.approx(sum(r < 0.6 for r in rates) / 700)
    lapse = [sum(f - min(f, int(row[i])) for row in draws.tolist()) / 700 for i, f in enumerate(final)]
    top = risk.top_lines(3)
    worst = sorted(range(len(final)), key=lambda i: -lapse[i])[:3]
    assert list(top.index) == [scenario.lines.keys()[i] for i in worst]
    assert top["expected_lapse"].tolist() == pytest.approx([lapse[i] for i in worst])


def test_the_value_of_the_stochastic_solution_is_the_difference_of_two_plans_under_the_same_draws() -> None:
    rng = np.random.default_rng(2)
    scenario = quang_nam_2023()
    forecast = CapacityForecast.from_samples(scenario.lines.keys(), _draws(rng, scenario, 400))
    value = value_of_stochastic_solution(scenario, forecast, samples=500, seed=9)
    draws = forecast.sample(500, seed=9)
    expected = reallocate.solve(scenario, capacity=forecast, objective="expected").final_units
    median_plan = reallocate.solve(scenario, capacity=forecast, objective=Quantile(0.5)).final_units
    assert median_plan is not None and expected is not None
    # the median plan: receivers end at or below their median capacity, givers at or above it
    median = forecast.quantile_units(0.5)
    allocated = scenario.lines.units("allocated")
    took, gave = median_plan > allocated, median_plan < allocated
    assert took.any() and gave.any()
    assert (median_plan[took] <= median[took]).all() and (median_plan[gave] >= median[gave]).all()

    def mean_absorbed(final: np.ndarray) -> float:
        return float(np.minimum(final[None, :], draws).sum(axis=1).mean())

    assert float(value.vss) == pytest.approx(mean_absorbed(expected) - mean_absorbed(median_plan))
    assert value.expected_risk.vss == value.vss


def test_rules_that_tie_pools_together_are_refused_by_name_for_the_expected_and_cvar_objectives() -> None:
    scenario = quang_nam_2023(rules={"min_transfer": 100, "max_loss": {"share": 0.5}})
    forecast = _zero_uncertainty(scenario)
    for objective in ("expected", "cvar"):
        with pytest.raises(ScenarioError) as err:
            reallocate.solve(scenario, capacity=forecast, objective=objective)
        where = {tuple(e["loc"]) for e in err.value.errors}
        assert where == {("rules", "min_transfer"), ("rules", "max_loss")}
        assert all("quantile" in m for m in err.value.messages_in("en"))
    plan = reallocate.solve(scenario, capacity=forecast, objective="quantile")  # every rule applies
    assert plan.optimal


def test_bad_objectives_and_forecasts_are_refused() -> None:
    scenario = quang_nam_2023()
    forecast = _zero_uncertainty(scenario)
    with pytest.raises(ValueError, match="objective must be one of"):
        reallocate.solve(scenario, capacity=forecast, objective="best")
    with pytest.raises(ValueError, match="epsilon"):
        reallocate.solve(scenario, capacity=forecast, objective=Quantile(0.7))
    with pytest.raises(ValueError, match="breakpoints"):
        reallocate.solve(scenario, capacity=forecast, objective=Expected(0))
    with pytest.raises(ValueError, match="alpha"):
        reallocate.solve(scenario, capacity=forecast, objective=CVaR(alpha=0))
    keys = scenario.lines.keys()[1:]
    partial = CapacityForecast.from_samples(keys, scenario.lines.units("capacity")[None, 1:])
    with pytest.raises(ScenarioError) as err:
        reallocate.solve(scenario, capacity=partial)
    assert [tuple(e["loc"]) for e in err.value.errors] == [("lines", 0)]
    assert Decimal(1) == scenario.precision
