"""Hand-checked plans, the formulation's shape, exact rounding and honest solver statuses."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reallocate
from reallocate import backend, pulp_backend, solve
from reallocate.exact import _apportion_values, _dependent_rounding
from reallocate.formulation import Formulation
from reallocate.scenario import Scenario
from reallocate.sharing import apportion, derive_transfers

SOLVERS = ("highs", "cbc")


def line(locality: str, allocated: int, capacity: int, **extra: Any) -> dict[str, Any]:
    return {"locality": locality, "program": "p", "fund": "f", "allocated": allocated, "capacity": capacity, **extra}


def scenario(*lines: dict[str, Any], **extra: Any) -> Scenario:
    return Scenario.from_dict({"name": "t", "lines": list(lines), **extra})


def changes(plan: reallocate.Plan) -> dict[str, Decimal]:
    exact = plan.exact_lines()
    return dict(zip(exact["locality"], exact["change"], strict=True))


# --------------------------------------------------------------------------- hand-checked plans
@pytest.mark.parametrize("solver", SOLVERS)
def test_proportional_recipients_share_the_surplus_by_room(solver: str) -> None:
    # surplus 60 (a); rooms 100 (b) and 50 (c): each recipient gets 60/150 = 40% of its room
    plan = solve(scenario(line("a", 100, 40), line("b", 0, 100), line("c", 0, 50)), solver=solver)
    assert plan.status == "optimal"
    assert changes(plan) == {"a": -60, "b": 40, "c": 20}
    assert plan.summary is not None
    assert plan.summary.absorbable_after - plan.summary.absorbable_before == 60
    plan.verify()


@pytest.mark.parametrize("solver", SOLVERS)
def test_proportional_donors_give_the_same_share_of_surplus(solver: str) -> None:
    # surpluses 30 (a) and 90 (b); room 60 (c): each donor gives half its surplus
    plan = solve(scenario(line("a", 50, 20), line("b", 100, 10), line("c", 0, 60)), solver=solver)
    assert changes(plan) == {"a": -15, "b": -45, "c": 60}


@pytest.mark.parametrize("solver", SOLVERS)
def test_priority_fills_the_highest_weight_first_and_takes_from_the_lowest(solver: str) -> None:
    localities = [
        {"id": "a", "weight": 1},
        {"id": "b", "weight": 5},
        {"id": "c", "weight": 2},
        {"id": "d", "weight": 0},
        {"id": "e", "weight": 3},
    ]
    s = scenario(
        line("a", 0, 30),  # room 30, weight 1
        line("b", 0, 30),  # room 30, weight 5 -> filled first
        line("c", 0, 30),  # room 30, weight 2 -> gets the rest
        line("d", 50, 10),  # surplus 40, weight 0 -> gives first
        line("e", 50, 10),  # surplus 40, weight 3
        localities=localities,
        rules={"recipients": "priority", "donors": "priority"},
    )
    plan = solve(s, solver=solver)
    # room 90 > surplus 80: b full (30), c full (30), a gets 20; d gives all 40, e gives 40
    assert changes(plan) == {"a": 20, "b": 30, "c": 30, "d": -40, "e": -40}
    s2 = s.model_copy()  # same data, recipients priority only: donors give pro rata
    plan2 = solve(
        Scenario.from_dict(
            {
                **s2.model_dump(by_alias=True),
                "lines": [line("a", 0, 30), line("b", 0, 30), line("d", 100, 10), line("e", 50, 10)],
            }
        ),
        solver=solver,
    )
    # room 60 < surplus 130: d (weight 0) gives first: all 60 from d
    assert changes(plan2) == {"a": 30, "b": 30, "d": -60, "e": 0}


@pytest.mark.parametrize("solver", SOLVERS)
def test_floor_and_ceiling_bound_what_moves(solver: str) -> None:
    # a: allocated 100, capacity 20, floor 70 -> surplus only 30; b: capacity 100 but ceiling 40 -> room 40
    s = scenario(line("a", 100, 20, floor=70), line("b", 0, 100, ceiling=40), line("c", 0, 100))
    plan = solve(s, solver=solver)
    ch = changes(plan)
    assert ch["a"] == -30
    assert ch["b"] + ch["c"] == 30
    assert ch["b"] <= 40
    plan.verify()


@pytest.mark.parametrize("solver", SOLVERS)
def test_pools_never_mix(solver: str) -> None:
    s = scenario(
        line("a", 100, 0),
        {"locality": "b", "program": "p", "fund": "other", "allocated": 0, "capacity": 100},
    )
    plan = solve(s, solver=solver)
    assert plan.summary is not None and plan.summary.moved == 0
    assert plan.transfers.empty
    assert "nothing can move" in plan.message


@pytest.mark.parametrize("solver", SOLVERS)
def test_min_transfer_leaves_out_recipients_too_small_to_reach_it(solver: str) -> None:
    # surplus 100; rooms 80 and 15: with min_transfer 20 the room of 15 cannot be used at all
    s = scenario(line("a", 100, 0), line("b", 0, 80), line("c", 0, 15), rules={"min_transfer": 20})
    plan = solve(s, solver=solver)
    assert changes(plan) == {"a": -80, "b": 80, "c": 0}
    assert all(a >= 20 for a in plan.transfers["amount"])
    plan.verify()


@pytest.mark.parametrize("solver", SOLVERS)
def test_transfer_costs_choose_the_cheap_route(solver: str) -> None:
    # two donors, two recipients, each 50; crossing is expensive
    s = scenario(
        line("a", 50, 0),
        line("b", 50, 0),
        line("c", 0, 50),
        line("d", 0, 50),
        transfer_costs=[
            {"from": "a", "to": "c", "cost": 1},
            {"from": "a", "to": "d", "cost": 9},
            {"from": "b", "to": "c", "cost": 9},
            {"from": "b", "to": "d", "cost": 2},
        ],
    )
    plan = solve(s, solver=solver)
    routes = {(r.from_locality, r.to_locality): r.amount for r in plan.transfers.itertuples()}
    assert routes == {("a", "c"): 50, ("b", "d"): 50}
    assert plan.summary is not None and plan.summary.transfer_cost == 50 * 1 + 50 * 2


@pytest.mark.parametrize("solver", SOLVERS)
def test_fractional_precision_stays_exact(solver: str) -> None:
    s = Scenario.from_dict(
        {
            "name": "t",
            "precision": "0.01",
            "lines": [
                line("a", "10.00", "0.00"),
                line("b", "0", "3.33"),
                line("c", "0", "3.33"),
                line("d", "0", "3.34"),
            ],
        }
    )
    plan = solve(s, solver=solver)
    assert plan.summary is not None and plan.summary.moved == Decimal("10.00")
    assert changes(plan) == {"a": Decimal("-10.00"), "b": Decimal("3.33"), "c": Decimal("3.33"), "d": Decimal("3.34")}


def test_highs_and_cbc_agree_on_the_bundled_dataset() -> None:
    s = reallocate.datasets.quang_nam_2023()
    a, b = solve(s, solver="highs"), solve(s, solver="cbc")
    assert a.summary == b.summary
    assert a.lines.equals(b.lines)
    assert a.transfers.equals(b.transfers)


# --------------------------------------------------------------------------- formulation shape
def _pool_only(n_donors: int, n_recipients: int) -> Scenario:
    lines = [line(f"d{i}", 100 + i, 10) for i in range(n_donors)]
    lines += [line(f"r{j}", 10, 100 + j) for j in range(n_recipients)]
    return scenario(*lines)


def test_pool_only_rules_create_no_pair_variables() -> None:
    form = Formulation(_pool_only(300, 400))
    assert not form.uses_pairs and form.n_pairs == 0
    # independent pools: absorb and share have a closed form, no LP stage is left
    assert form.closed_money and form.stages() == []
    # and as LPs (method="lp"), lines only, never donors x recipients
    absorb = form.program("absorb", [])
    assert absorb.num_cols == 700 and absorb.num_rows == 1  # one column per line, one pool row
    form.set_targets(np.array([float(sum(90 + i for i in range(300)))]))
    share = form.program("share", [("absorb", -1.0)])
    assert not share.has("pair")
    assert share.num_cols <= 2 * 700
    assert share.num_rows == 2  # the pool row and the kept absorb row


def test_costs_create_pairs_inside_pools_only() -> None:
    lines = [
        line("a", 100, 0),
        line("b", 0, 100),
        {"locality": "a", "program": "q", "fund": "f", "allocated": 100, "capacity": 0},
        {"locality": "b", "program": "q", "fund": "f", "allocated": 0, "capacity": 100},
    ]
    form = Formulation(scenario(*lines, transfer_costs=[{"from": "a", "to": "b", "cost": 1}]))
    assert form.uses_pairs and form.n_pairs == 2  # (a,b) in pool p and in pool q, not across
    # absorb and share in closed form; the solver orders the transfers
    assert form.closed_money and form.stages() == ["cost", "count", "canonical"]


# --------------------------------------------------------------------------- exact rounding
@given(st.integers(0, 10**6), st.lists(st.integers(0, 10**5), min_size=1, max_size=30))
def test_apportion_is_exact_bounded_and_within_one_unit(total: int, caps: list[int]) -> None:
    total = min(total, sum(caps))
    shares = apportion(total, np.array(caps))
    assert int(shares.sum()) == total
    assert all(0 <= s <= c for s, c in zip(shares.tolist(), caps, strict=True))
    if sum(caps):
        for s, c in zip(shares.tolist(), caps, strict=True):
            assert abs(Fraction(c * total, sum(caps)) - s) < 1


@given(st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=20), st.data())
def test_apportion_values_sums_exactly_and_respects_bounds(values: list[float], data: st.DataObject) -> None:
    bounds = [int(np.ceil(v)) + data.draw(st.integers(0, 5)) for v in values]
    total = data.draw(st.integers(0, sum(bounds)))
    shares = _apportion_values(total, np.array(values), np.array(bounds))
    assert int(shares.sum()) == total
    assert all(0 <= s <= b for s, b in zip(shares.tolist(), bounds, strict=True))


class _Pairs:
    """A stand-in with the attributes dependent rounding reads."""

    def __init__(self, donors: list[int], recipients: list[int]) -> None:
        self.pair_donor = np.array(donors)
        self.pair_recipient = np.array(recipients)


@settings(max_examples=200)
@given(st.data())
def test_dependent_rounding_keeps_each_line_total_within_its_floor_and_ceiling(data: st.DataObject) -> None:
    n_d, n_r = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    pairs = [(d, n_d + r) for d in range(n_d) for r in range(n_r)]
    chosen = data.draw(st.lists(st.sampled_from(range(len(pairs))), unique=True, min_size=1))
    frac = {k: Fraction(data.draw(st.integers(1, 99)), 100) for k in chosen}
    form = _Pairs([p[0] for p in pairs], [p[1] for p in pairs])
    before: dict[int, Fraction] = {}
    for k, f in frac.items():
        for node in pairs[k]:
            before[node] = before.get(node, Fraction(0)) + f
    _dependent_rounding(lambda k: (int(form.pair_donor[k]), int(form.pair_recipient[k])), frac)
    assert all(f in (0, 1) for f in frac.values())
    after: dict[int, Fraction] = {}
    for k, f in frac.items():
        for node in pairs[k]:
            after[node] = after.get(node, Fraction(0)) + f
    for node, total in before.items():
        assert int(total) <= after.get(node, 0) <= -(-total.numerator // total.denominator)


def test_derived_transfers_balance_and_stay_short() -> None:
    s = _pool_only(7, 5)
    form = Formulation(s)
    rng = np.random.default_rng(3)
    is_rec = form.is_recipient
    amount = np.zeros(form.n, dtype=np.int64)
    donors, recips = np.flatnonzero(~is_rec), np.flatnonzero(is_rec)
    amount[donors] = rng.integers(1, 80, donors.shape[0])
    total = int(amount[donors].sum())
    amount[recips] = apportion(total, np.full(recips.shape[0], 1000))
    src, dst, units = derive_transfers(form.pool, form.is_recipient, amount, form.n_pools)
    moves = list(zip(src.tolist(), dst.tolist(), units.tolist(), strict=True))
    out = np.zeros(form.n, dtype=np.int64)
    for d, r, a in moves:
        assert a > 0 and not is_rec[d] and is_rec[r]
        out[d] += a
        out[r] += a
    assert np.array_equal(out, amount)
    assert len(moves) <= donors.shape[0] + recips.shape[0] - 1


def test_equal_amounts_are_paired_directly() -> None:
    form = Formulation(_pool_only(3, 3))
    amount = np.zeros(form.n, dtype=np.int64)
    donors, recips = np.flatnonzero(~form.is_recipient), np.flatnonzero(form.is_recipient)
    amount[donors] = [10, 20, 30]
    amount[recips] = [30, 10, 20]
    assert len(derive_transfers(form.pool, form.is_recipient, amount, form.n_pools)[2]) == 3


# --------------------------------------------------------------------------- honest statuses
def _min_transfer_scenario(n: int = 12) -> Scenario:
    rng = np.random.default_rng(7)
    lines = [line(f"d{i}", int(rng.integers(100, 1000)), 10) for i in range(n)]
    lines += [line(f"r{i}", 10, int(rng.integers(100, 1000))) for i in range(n)]
    return scenario(*lines, rules={"min_transfer": 37})


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_time_limit_is_never_reported_optimal(solver: str) -> None:
    form = Formulation(_min_transfer_scenario())
    program = form.program("absorb", [])
    outcome = pulp_backend.run(program, solver, 1e-6)  # stops before proving anything
    assert outcome.status in ("time_limit", "optimal")
    if outcome.status == "time_limit" and outcome.values is not None:
        assert backend.check_point(program, outcome.values) is None
    # and through solve(): a limit reached anywhere makes the whole plan "time_limit"
    plan = solve(_min_transfer_scenario(), solver=solver, time_limit=1e-6)
    assert plan.status == "time_limit"
    assert "time limit" in plan.message
    if plan.found:
        plan.verify()


def test_solve_maps_a_stage_time_limit_to_a_verified_best_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    real_run = pulp_backend.run

    def limited(program: Any, solver: Any, time_limit: Any, node_limit: Any = None) -> backend.StageOutcome:
        out = real_run(program, solver, time_limit, node_limit)
        if program.stage == "share":  # pretend the share stage ran out of time with no point
            return backend.StageOutcome("share", "time_limit", None, None, out.seconds, "time limit reached")
        return out

    monkeypatch.setattr("reallocate.solving.run", limited)
    plan = solve(reallocate.datasets.quang_nam_2023(), method="pulp")
    assert plan.status == "time_limit"
    assert plan.found  # the absorb stage's plan: every rule holds, sharing not proven fair
    plan.verify()
    assert plan.summary is not None and plan.summary.moved == 143_334


def test_solve_reports_a_solver_error_without_a_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(program: Any, solver: Any, time_limit: Any, node_limit: Any = None) -> backend.StageOutcome:
        return backend.StageOutcome(program.stage, "error", None, None, 0.0, "solver crashed")

    monkeypatch.setattr("reallocate.solving.run", broken)
    monkeypatch.setattr("reallocate.solving.run_highs", lambda program, *args, **kw: broken(program, "highs", None))
    plan = solve(reallocate.datasets.quang_nam_2023(), method="lp")
    assert plan.status == "error" and not plan.found
    assert "solver crashed" in plan.message
    with pytest.raises(reallocate.OptimizationError):
        plan.raise_for_status()


def test_check_point_rejects_a_point_that_breaks_a_row() -> None:
    form = Formulation(_pool_only(2, 2))
    program = form.program("absorb", [])
    x = program.upper.copy()  # everything at its bound: received != given
    x[program.block("lo")][~form.is_recipient] = 0.0
    assert backend.check_point(program, x) is not None


def test_bad_arguments_are_refused() -> None:
    s = _pool_only(1, 1)
    with pytest.raises(ValueError, match="solver"):
        solve(s, solver="gurobi")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="time_limit"):
        solve(s, time_limit=0)
    with pytest.raises(TypeError):
        solve({"name": "x"})  # type: ignore[arg-type]


# --------------------------------------------------------------------------- huge amounts
@pytest.mark.parametrize("solver", SOLVERS)
def test_amounts_of_10_to_the_15_dong_stay_exact(solver: str) -> None:
    e = 10**15
    s = Scenario.from_dict(
        {
            "name": "big",
            "unit": "VND",
            "lines": [
                line("a", 3 * e + 7, e + 1),
                line("b", e + 3, 3 * e + 11),
                line("c", e, 2 * e + 1),
                line("d", 2 * e + 13, e),
            ],
        }
    )
    plan = solve(s, solver=solver)
    plan.verify()
    surplus = (3 * e + 7 - (e + 1)) + (2 * e + 13 - e)
    room = (3 * e + 11 - (e + 3)) + (2 * e + 1 - e)
    assert plan.summary is not None and plan.summary.moved == min(surplus, room)
    ch = changes(plan)
    assert sum(ch.values()) == 0
    # donors give surplus * room / surplus_total, within one đồng
    assert abs(Fraction(-int(ch["a"])) - Fraction(2 * e + 6) * room / surplus) < 1
    assert abs(Fraction(-int(ch["d"])) - Fraction(e + 13) * room / surplus) < 1
