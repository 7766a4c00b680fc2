"""Planning rules and explanations: hand-checked cases, properties, duals, diagnosis."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import reallocate
from reallocate import ScenarioError, backend, pulp_backend, solve
from reallocate.formulation import Program
from reallocate.scenario import Scenario

SOLVERS = ("highs", "cbc")


def line(
    locality: str, allocated: int, capacity: int, program: str = "p", fund: str = "f", **extra: Any
) -> dict[str, Any]:
    return {
        "locality": locality,
        "program": program,
        "fund": fund,
        "allocated": allocated,
        "capacity": capacity,
        **extra,
    }


def scenario(*lines: dict[str, Any], **extra: Any) -> Scenario:
    return Scenario.from_dict({"name": "t", "lines": list(lines), **extra})


def changes(plan: reallocate.Plan) -> list[int]:
    return [int(c) for c in plan.lines["change"]]


def gain(plan: reallocate.Plan) -> Decimal:
    assert plan.summary is not None
    return plan.summary.absorbable_after - plan.summary.absorbable_before


# ------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("rules", "where"),
    [
        ({"max_loss": {"share": 0.3, "amount": 5}}, ("rules", "max_loss")),
        ({"max_loss": {}}, ("rules", "max_loss")),
        ({"max_gain": {"share": 1.5}}, ("rules", "max_gain", "share")),
        ({"target_rate": 1.2}, ("rules", "target_rate")),
        ({"targets": [{"program": "nope", "rate": 1}]}, ("rules", "targets", 0)),
        ({"targets": [{"rate": True}]}, ("rules", "targets", 0, "rate")),
        ({"max_transfers_per_line": 0}, ("rules", "max_transfers_per_line")),
        ({"max_transfers_per_line": True}, ("rules", "max_transfers_per_line")),
        ({"move_costs": {"district": 1}}, ("rules", "move_costs", "district", "[key]")),
        ({"move_costs": {"program": -1}}, ("rules", "move_costs", "program")),
        ({"max_loss": {"amount": "2.5"}}, ("rules", "max_loss", "amount")),
    ],
)
def test_bad_rules_are_refused_with_their_path(rules: dict[str, Any], where: tuple[Any, ...]) -> None:
    with pytest.raises(ScenarioError) as err:
        scenario(line("a", 10, 5), line("b", 0, 10), rules=rules)
    locs = [tuple(e["loc"]) for e in err.value.errors]
    assert where in locs, err.value


def test_a_line_has_at_most_one_flag() -> None:
    with pytest.raises(ScenarioError) as err:
        scenario(line("a", 10, 5, frozen=True, receive_only=True))
    assert ("lines", 0, "receive_only") in [tuple(e["loc"]) for e in err.value.errors]


# ------------------------------------------------------------------------------- rules, by hand
@pytest.mark.parametrize("solver", SOLVERS)
def test_move_costs_prefer_moves_inside_a_program_and_name_the_approval(solver: str) -> None:
    # a donor and a recipient in each of programs A and B; fair shares fix the amounts (50 each),
    # move costs choose the pairing: inside each program, never across
    lines = [
        line("x", 100, 50, program="A"),
        line("w", 100, 50, program="B"),
        line("v", 0, 50, program="B"),
        line("y", 0, 50, program="A"),
    ]
    rules = {"pool_by": ["fund"], "move_costs": {"program": 5, "locality": 1}}
    plan = solve(scenario(*lines, rules=rules), solver=solver)  # type: ignore[arg-type]
    assert changes(plan) == [-50, -50, 50, 50]
    pairs = {(r.from_program, r.to_program) for r in plan.transfers.itertuples()}
    assert pairs == {("A", "A"), ("B", "B")}
    assert set(plan.transfers["approval"]) == {"people_committee"}
    assert plan.summary is not None and plan.summary.transfer_cost == 100 * 1  # locality changes only
    # with room only in program B the money still moves, and that move needs the People's Council
    plan2 = solve(scenario(lines[0], lines[2], rules=rules), solver=solver)  # type: ignore[arg-type]
    assert changes(plan2) == [-50, 50]
    assert list(plan2.transfers["approval"]) == ["people_council"]
    assert plan2.summary is not None and plan2.summary.transfer_cost == 50 * (5 + 1)


@pytest.mark.parametrize("solver", SOLVERS)
def test_max_loss_as_a_share_caps_a_localitys_net_loss(solver: str) -> None:
    # x holds 200 (two lines): it may lose at most 25% = 50 in all; y's room is 150
    s = scenario(
        line("x", 100, 0),
        line("x", 100, 0, fund="g"),
        line("y", 0, 150),
        line("y", 0, 150, fund="g"),
        rules={"max_loss": {"share": 0.25}},
    )
    plan = solve(s, solver=solver)
    ch = changes(plan)
    assert -(ch[0] + ch[1]) == 50
    assert gain(plan) == 50
    assert plan.explain is not None
    held = plan.explain.lines["reason"].tolist()
    assert held[0] == held[1] == "held_by_locality_limit"


@pytest.mark.parametrize("solver", SOLVERS)
def test_max_gain_per_locality_overrides_the_rule(solver: str) -> None:
    s = scenario(
        line("x", 100, 0),
        line("y", 0, 100),
        line("z", 0, 100),
        localities=[{"id": "x"}, {"id": "y", "max_gain": {"amount": 10}}, {"id": "z"}],
        rules={"max_gain": {"amount": 1000}},
    )
    plan = solve(s, solver=solver)
    assert changes(plan) == [-100, 10, 90]


@pytest.mark.parametrize("solver", SOLVERS)
def test_flags_hold_lines_in_place(solver: str) -> None:
    s = scenario(
        line("a", 100, 0, frozen=True),
        line("b", 100, 0, receive_only=True),
        line("c", 100, 0),
        line("d", 0, 300, give_only=True),
        line("e", 0, 50),
    )
    plan = solve(s, solver=solver)
    assert changes(plan) == [0, 0, -50, 0, 50]
    assert plan.explain is not None
    assert plan.explain.lines["reason"].tolist() == [
        "frozen",
        "receive_only",
        "held_by_flags",
        "give_only",
        "received_all_room",
    ]


@pytest.mark.parametrize("solver", SOLVERS)
def test_max_transfers_per_line(solver: str) -> None:
    # one donor, four recipients: with at most 2 transfers per line only two recipients are served
    s = scenario(line("a", 100, 0), *(line(r, 0, 25) for r in "bcde"), rules={"max_transfers_per_line": 2})
    plan = solve(s, solver=solver)
    assert len(plan.transfers) == 2
    assert gain(plan) == 50
    plan.verify()


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_reachable_target_is_met(solver: str) -> None:
    # pools by fund: a (program p) has surplus 60, c (program q) surplus 20, b room 60. Fair shares
    # take 45 and 15; program q at 100% of what it holds needs c to give all its 20.
    s = scenario(
        line("a", 100, 40),
        line("b", 0, 60),
        line("c", 50, 30, program="q"),
        rules={"pool_by": ["fund"], "targets": [{"program": "q", "rate": 1.0}]},
    )
    free = solve(scenario(*(ln.model_dump() for ln in s.lines), rules={"pool_by": ["fund"]}), solver=solver)  # type: ignore[arg-type]
    assert changes(free) == [-45, 60, -15]
    plan = solve(s, solver=solver)  # type: ignore[arg-type]
    assert changes(plan) == [-40, 60, -20]
    plan.verify()


# ------------------------------------------------------------------------------- explanations
def test_reasons_on_a_hand_checked_scenario() -> None:
    s = scenario(
        line("a", 100, 40),  # surplus 60: the pool has room 150 -> gives it all
        line("b", 0, 100),  # room 100, gets 40 (pool ran out of surplus)
        line("c", 0, 50),  # room 50, gets 20
        line("d", 80, 20, floor=80),  # floor above capacity: holds
        line("e", 30, 60, ceiling=30),  # at its ceiling
        line("f", 10, 10),  # balanced
        line("g", 50, 0, fund="other"),  # surplus but its pool has no room
    )
    plan = solve(s)
    assert plan.explain is not None
    reasons = plan.explain.lines["reason"].tolist()
    assert reasons == [
        "gave_all_surplus",
        "received_share",
        "received_share",
        "held_by_floor",
        "held_by_ceiling",
        "balanced",
        "no_room_in_pool",
    ]
    texts = plan.explain.lines["text"].tolist()
    assert "40" in texts[1] and "100" in texts[1]
    lapse = plan.explain.lapse
    assert plan.summary is not None
    assert sum(lapse["lapse"]) == plan.summary.lapse_after
    assert all(r.no_room + r.blocked == r.lapse for r in lapse.itertuples())
    floor_row = lapse[lapse["locality"] == "d"].iloc[0]
    assert floor_row["blocked"] == 60 and "floor" in floor_row["blocked_by"]
    assert plan.explain.gap["amount"] == plan.summary.lapse_after


def test_lapse_names_the_locality_limit_that_blocks_it() -> None:
    s = scenario(line("x", 100, 0), line("y", 0, 100), rules={"max_loss": {"amount": 30}})
    plan = solve(s)
    assert plan.explain is not None
    row = plan.explain.lapse.iloc[0]
    assert row["locality"] == "x" and row["blocked"] == 70 and "max_loss of x" in row["blocked_by"]


def test_explanations_are_in_the_json() -> None:
    plan = solve(reallocate.datasets.quang_nam_2023())
    data = json.loads(plan.to_json())
    explain = data["explain"]
    assert len(explain["lines"]) == 92
    assert {"reason", "capacity_value", "allocation_value"} <= set(explain["lines"][0])
    assert "text" not in explain["lines"][0]  # sentences on request: they would double the JSON
    with_texts = json.loads(plan.to_json(texts=True))["explain"]["lines"]
    assert [x["text"] for x in with_texts] == plan.explain.lines["text"].tolist()
    assert [x["reason"] for x in with_texts] == [x["reason"] for x in explain["lines"]]
    assert explain["gap"]["amount"] == data["summary"]["lapse_after"]
    assert explain["shadow_prices"] and explain["lapse"]


# ------------------------------------------------------------------------------- duals
def _max_lp() -> Program:
    # maximise 3x + 2y  s.t.  x + y <= 4,  x + 3y <= 9,  0 <= x <= 3,  y >= 0  ->  x=3, y=1; duals (2, 0)
    return Program(
        stage="t",
        cost=np.array([3.0, 2.0]),
        lower=np.zeros(2),
        upper=np.array([3.0, np.inf]),
        integer=np.zeros(2, dtype=bool),
        row_start=np.array([0, 2, 4]),
        col_index=np.array([0, 1, 0, 1]),
        value=np.array([1.0, 1.0, 1.0, 3.0]),
        row_sense=np.array([-1, -1], dtype=np.int8),
        row_rhs=np.array([4.0, 9.0]),
        blocks={},
        index={},
        maximize=True,
    )


@pytest.mark.parametrize("solver", SOLVERS)
def test_duals_of_a_maximisation_have_the_textbook_sign_for_both_solvers(solver: str) -> None:
    outcome = pulp_backend.run(_max_lp(), solver, None)  # type: ignore[arg-type]
    assert outcome.status == "optimal" and outcome.objective == pytest.approx(11.0)
    assert outcome.duals is not None
    assert outcome.duals == pytest.approx([2.0, 0.0], abs=1e-9)


def test_the_pulp_highs_dual_sign_pitfall_is_what_gets_normalised() -> None:
    raw = np.array([-2.0, 0.0])  # what PuLP's HiGHS adapter reports for the maximisation above
    assert backend.normalise_duals(raw, maximize=True, solver="highs") == pytest.approx([2.0, 0.0])
    assert backend.normalise_duals(raw, maximize=False, solver="highs") == pytest.approx(raw)
    assert backend.normalise_duals(raw, maximize=True, solver="cbc") == pytest.approx(raw)


@st.composite
def _random_lps(draw: st.DrawFn) -> Program:
    """A small feasible, bounded LP with mixed <=, >= and = rows, to minimise or maximise."""
    n, m = draw(st.integers(2, 5)), draw(st.integers(1, 4))
    coef = st.integers(-4, 4)
    a = np.array([[draw(coef) for _ in range(n)] for _ in range(m)], dtype=np.float64)
    lower = np.array([draw(st.integers(-3, 0)) for _ in range(n)], dtype=np.float64)
    upper = lower + np.array([draw(st.integers(1, 6)) for _ in range(n)], dtype=np.float64)
    x0 = np.array([draw(st.integers(int(lo), int(hi))) for lo, hi in zip(lower, upper, strict=True)], dtype=np.float64)
    sense = np.array([draw(st.sampled_from([-1, 1, 0])) for _ in range(m)], dtype=np.int8)
    slack = np.array([draw(st.integers(0, 3)) for _ in range(m)], dtype=np.float64)
    rhs = a @ x0 - sense * slack  # x0 is feasible: <= rows get room above, >= rows below
    return Program(
        stage="t",
        cost=np.array([draw(coef) for _ in range(n)], dtype=np.float64),
        lower=lower,
        upper=upper,
        integer=np.zeros(n, dtype=bool),
        row_start=np.arange(0, (m + 1) * n, n),
        col_index=np.tile(np.arange(n), m),
        value=a.ravel(),
        row_sense=sense,
        row_rhs=rhs,
        blocks={},
        index={},
        maximize=draw(st.booleans()),
    )


def _check_duals(program: Program, x: np.ndarray, y: np.ndarray) -> None:
    """Optimality conditions that hold only with y = d(objective)/d(rhs) in the program's sense: a
    row that, loosened, can only help has a dual of the helping sign; slack rows have none; every
    column's reduced cost pushes it to the bound it sits at."""
    n, m = program.num_cols, program.num_rows
    a = np.zeros((m, n))
    for r in range(m):
        cols = slice(program.row_start[r], program.row_start[r + 1])
        a[r, program.col_index[cols]] = program.value[cols]
    tol = 1e-6
    sign = 1.0 if program.maximize else -1.0  # objective as "more is better"
    gy = sign * y
    # loosening a <= row (rhs up) or a >= row (rhs down) cannot make the objective worse
    assert np.all(gy[program.row_sense == -1] >= -tol), (program.row_sense, y)
    assert np.all(gy[program.row_sense == 1] <= tol), (program.row_sense, y)
    gap = a @ x - program.row_rhs
    assert np.all(np.abs(y * gap) <= 1e-6)
    reduced = sign * (program.cost - a.T @ y)
    assert np.all((reduced <= tol) | (x >= program.upper - tol)), (reduced, x)
    assert np.all((reduced >= -tol) | (x <= program.lower + tol)), (reduced, x)


def test_duals_of_the_direct_highs_path_have_the_textbook_sign() -> None:
    outcome = backend.run_highs(_max_lp(), None)
    assert outcome.status == "optimal" and outcome.objective == pytest.approx(11.0)
    assert outcome.duals is not None
    assert outcome.duals == pytest.approx([2.0, 0.0], abs=1e-9)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_random_lps())
def test_duals_are_the_objectives_derivative_for_every_path_and_sense(program: Program) -> None:
    outcomes = [backend.run_highs(program, None)] + [pulp_backend.run(program, s, None) for s in SOLVERS]  # type: ignore[arg-type]
    objectives = []
    for outcome in outcomes:
        assert outcome.status == "optimal" and outcome.values is not None and outcome.duals is not None
        _check_duals(program, np.asarray(outcome.values), np.asarray(outcome.duals))
        objectives.append(outcome.objective)
    # CBC's solution file carries 8 significant digits
    assert objectives == pytest.approx([objectives[0]] * len(objectives), rel=1e-7, abs=1e-6)


def _absorbed(s: Scenario, solver: str = "highs") -> Decimal:
    plan = solve(s, solver=solver)  # type: ignore[arg-type]
    assert plan.summary is not None
    return plan.summary.absorbable_after


def _with_capacity(s: Scenario, i: int, extra: int) -> Scenario:
    data = s.model_dump(by_alias=True, exclude_none=True)
    data["lines"][i]["capacity"] = data["lines"][i]["capacity"] + extra
    return Scenario.from_dict(data)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_locality_limit_can_make_capacity_worth_two(solver: str) -> None:
    # x gives in pool f and receives in pool g; its net loss is capped at 20. One more unit of room
    # on x's g-line lets x receive one more and so give one more: +2 absorbed.
    s = scenario(
        line("x", 100, 0),
        line("y", 0, 200),
        line("x", 0, 10, fund="g"),
        line("z", 100, 0, fund="g"),
        rules={"max_loss": {"amount": 20}},
    )
    plan = solve(s, solver=solver)  # type: ignore[arg-type]
    assert plan.explain is not None
    value = float(plan.explain.shadow_prices["capacity_value"].iloc[2])
    assert value == pytest.approx(2.0)
    assert _absorbed(_with_capacity(s, 2, 1), solver) - _absorbed(s, solver) == 2


@st.composite
def pool_only(draw: st.DrawFn) -> Scenario:
    n = draw(st.integers(3, 9))
    lines = []
    for i in range(n):
        alloc = draw(st.integers(0, 200))
        cap = draw(st.integers(0, 200))
        fund = draw(st.sampled_from(["f", "g"]))
        lines.append(line(f"l{i}", alloc, cap, fund=fund))
    return scenario(*lines)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pool_only(), st.data())
def test_capacity_shadow_prices_match_finite_differences(s: Scenario, data: st.DataObject) -> None:
    t = s.table
    pools = {}
    for p in range(len(t.pool_keys)):
        members = t.pool == p
        pools[p] = (int(t.surplus[members].sum()), int(t.room[members].sum()))
    # a unit of capacity changes surplus or room by one: away from ties the price holds
    assume(all(abs(sp - rm) >= 2 for sp, rm in pools.values()))
    i = data.draw(st.integers(0, t.size - 1))
    plan = solve(s)
    assert plan.explain is not None
    value = float(plan.explain.shadow_prices["capacity_value"].iloc[i])
    assert Decimal(repr(value)) == _absorbed(_with_capacity(s, i, 1)) - _absorbed(s)


# ------------------------------------------------------------------------------- targets: diagnosis
def _target_scenario(extra_capacity: int = 0) -> Scenario:
    return scenario(
        line("a", 100, 40 + extra_capacity), line("b", 0, 30), line("c", 50, 50), rules={"target_rate": 0.9}
    )


def test_an_unreachable_target_says_what_it_would_take_and_the_amount_is_right() -> None:
    plan = solve(_target_scenario())
    assert plan.status == "infeasible" and not plan.found
    assert plan.explain is not None and plan.explain.diagnosis is not None
    (d,) = plan.explain.diagnosis["targets"]
    # allocated 150 -> needs 135; at best a absorbs 40, b 30, c 50 = 120: 15 short
    assert d["missing"] == 15
    assert d["closest_lines"][0]["label"].startswith("a")
    assert "15" in plan.message
    # adding the missing amount of capacity where it says makes the scenario feasible ...
    assert solve(_target_scenario(15)).status == "optimal"
    # ... and one unit less does not
    assert solve(_target_scenario(14)).status == "infeasible"
    # the allocation alternative: 15 / 0.9 -> 17 less allocation on the lapsing line
    assert d["allocation_reduction"] == 17


def test_conflicting_rules_are_named_not_a_solver_code() -> None:
    # the target needs x to give 80 but its max_loss allows 10
    s = scenario(line("x", 100, 20), line("y", 0, 100), rules={"target_rate": 1.0, "max_loss": {"amount": 10}})
    plan = solve(s)
    assert plan.status == "infeasible"
    assert plan.explain is not None and plan.explain.diagnosis is not None
    conflict = " | ".join(plan.explain.diagnosis["conflict"])
    assert "target_rate" in conflict and "max_loss of locality x" in conflict


# ------------------------------------------------------------------------------- properties
@st.composite
def ruled(draw: st.DrawFn) -> tuple[Scenario, dict[str, Any]]:
    n = draw(st.integers(3, 8))
    lines = []
    for i in range(n):
        alloc = draw(st.integers(0, 300))
        lines.append(
            line(
                draw(st.sampled_from("xyz")),
                alloc,
                draw(st.integers(0, 300)),
                fund=draw(st.sampled_from("fg")),
                component=f"c{i}",
                **draw(st.sampled_from([{}, {}, {"frozen": True}, {"give_only": True}, {"receive_only": True}])),
            )
        )
    base = {"name": "t", "lines": lines}
    rules: dict[str, Any] = {}
    if draw(st.booleans()):
        rules["max_loss"] = draw(st.sampled_from([{"share": 0.1}, {"share": 0.5}, {"amount": 40}]))
    if draw(st.booleans()):
        rules["max_gain"] = draw(st.sampled_from([{"share": 0.2}, {"amount": 60}]))
    return Scenario.from_dict(base), rules


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ruled())
def test_rules_never_raise_absorbable_money_and_always_hold(case: tuple[Scenario, dict[str, Any]]) -> None:
    base, rules = case
    free = solve(base)
    ruled_plan = solve(Scenario.from_dict({**base.model_dump(by_alias=True, exclude_none=True), "rules": rules}))
    assert ruled_plan.found
    ruled_plan.verify()  # limits, flags and bounds re-checked from the scenario alone
    assert ruled_plan.summary is not None and free.summary is not None
    assert ruled_plan.summary.absorbable_after <= free.summary.absorbable_after
    for i, ln in enumerate(base.lines):
        if ln.frozen:
            assert ruled_plan.lines["change"].iloc[i] == 0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ruled())
def test_a_met_target_leaves_the_plan_unchanged(case: tuple[Scenario, dict[str, Any]]) -> None:
    base, _ = case
    plan = solve(base)
    assert plan.summary is not None
    rate = plan.summary.rate_after
    assume(rate is not None and rate > 0)
    achieved = float(Decimal(repr(rate)).quantize(Decimal("0.001"), rounding="ROUND_FLOOR"))
    targeted = Scenario.from_dict(
        {**base.model_dump(by_alias=True, exclude_none=True), "rules": {"target_rate": achieved}}
    )
    again = solve(targeted)
    assert again.status == "optimal"
    assert again.lines["final"].tolist() == plan.lines["final"].tolist()


# ------------------------------------------------------------------------------- review regressions
def test_an_unmet_target_with_nothing_to_move_is_infeasible_and_diagnosed() -> None:
    # a lapses 60, b is balanced: nothing can move; 90% of 150 = 135 but only 90 is absorbable
    plan = solve(scenario(line("a", 100, 40), line("b", 50, 50), rules={"target_rate": 0.9}))
    assert plan.status == "infeasible"
    assert plan.explain is not None and plan.explain.diagnosis is not None
    assert plan.explain.diagnosis["targets"][0]["missing"] == 45


def test_limits_that_tie_pools_give_the_same_plan_on_both_solvers() -> None:
    s = scenario(
        line("x", 100, 0),
        line("y", 0, 100),
        line("x", 100, 0, fund="g"),
        line("z", 0, 100, fund="g"),
        rules={"max_loss": {"amount": 20}},
    )
    a, b = solve(s, solver="highs"), solve(s, solver="cbc")
    assert changes(a) == changes(b)
    assert a.transfers.equals(b.transfers)
    assert gain(a) == 20


def test_a_huge_min_transfer_is_not_a_crash() -> None:
    plan = solve(scenario(line("a", 100, 0), line("b", 0, 100), rules={"min_transfer": "1e15"}))
    assert plan.status == "optimal" and gain(plan) == 0


@pytest.mark.parametrize("solver", SOLVERS)
def test_max_transfers_per_line_holds_at_large_amounts(solver: str) -> None:
    e = 10**10
    s = scenario(
        line("a", 9 * e, 4 * e),
        line("b", 7 * e, 2 * e),
        line("c", 0, 3 * e + 7),
        line("d", 0, 6 * e),
        line("e", e, 5 * e),
        rules={"max_transfers_per_line": 1},
    )
    plan = solve(s, solver=solver)  # type: ignore[arg-type]
    assert plan.found
    plan.verify()
    per_line: dict[str, int] = {}
    for r in plan.transfers.itertuples():
        per_line[r.from_locality] = per_line.get(r.from_locality, 0) + 1
        per_line[r.to_locality] = per_line.get(r.to_locality, 0) + 1
    assert max(per_line.values()) <= 1


def test_up_to_respects_the_locality_limit_that_caps_it() -> None:
    base = scenario(line("x", 100, 0), line("y", 0, 10), rules={"max_loss": {"amount": 15}})
    plan = solve(base)
    assert plan.explain is not None
    y = plan.explain.shadow_prices.iloc[1]
    assert y["capacity_value"] == 1.0 and y["up_to"] == 5
    assert _absorbed(_with_capacity(base, 1, 5)) - _absorbed(base) == 5
    assert _absorbed(_with_capacity(base, 1, 6)) - _absorbed(base) == 5


def _with_allocation(s: Scenario, i: int, extra: int) -> Scenario:
    data = s.model_dump(by_alias=True, exclude_none=True)
    data["lines"][i]["allocated"] = data["lines"][i]["allocated"] + extra
    return Scenario.from_dict(data)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pool_only(), st.data())
def test_allocation_shadow_prices_match_finite_differences(s: Scenario, data: st.DataObject) -> None:
    t = s.table
    pools = {p: (int(t.surplus[t.pool == p].sum()), int(t.room[t.pool == p].sum())) for p in range(len(t.pool_keys))}
    assume(all(abs(sp - rm) >= 2 for sp, rm in pools.values()))
    i = data.draw(st.integers(0, t.size - 1))
    plan = solve(s)
    assert plan.explain is not None
    value = float(plan.explain.shadow_prices["allocation_value"].iloc[i])
    assert Decimal(repr(value)) == _absorbed(_with_allocation(s, i, 1)) - _absorbed(s)


def test_flags_that_hold_the_room_are_named_not_no_room() -> None:
    plan = solve(scenario(line("d", 100, 0), line("g", 0, 100, give_only=True)))
    assert plan.explain is not None
    assert plan.explain.lines["reason"].tolist() == ["held_by_flags", "give_only"]
    row = plan.explain.lapse.iloc[0]
    assert row["no_room"] == 0 and row["blocked"] == 100 and "give_only" in row["blocked_by"]


def test_the_verifier_checks_the_approval_a_move_needs() -> None:
    s = scenario(line("x", 100, 50, program="A"), line("v", 0, 50, program="B"), rules={"pool_by": ["fund"]})
    plan = solve(s)
    plan.verify()
    # the approval is read off the two lines a transfer joins: a change of program needs the council
    (row,) = plan.transfers.to_dict(orient="records")
    assert (row["from_program"], row["to_program"]) == ("A", "B")
    assert row["approval"] == "people_council"


@pytest.mark.parametrize(
    ("patch", "where"),
    [
        ({"name": ""}, ("name",)),
        ({"unit": ""}, ("unit",)),
        ({"localities": [{"id": "  "}]}, ("localities", 0, "id")),
        ({"rules": {"targets": [{"rate": 0.5}, {"rate": 0.7}]}}, ("rules", "targets", 1)),
        ({"rules": {"move_costs": {"program": 1}}}, ("rules", "move_costs", "program")),
    ],
)
def test_more_bad_input_is_refused(patch: dict[str, Any], where: tuple[Any, ...]) -> None:
    data = {"name": "t", "lines": [line("a", 10, 5)], **patch}
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict(data)
    assert where in [tuple(e["loc"]) for e in err.value.errors], err.value


def test_conflicts_are_named_with_integer_rules_too() -> None:
    s = scenario(
        line("x", 100, 20), line("y", 0, 100), rules={"target_rate": 1.0, "max_loss": {"amount": 10}, "min_transfer": 5}
    )
    plan = solve(s)
    assert plan.status == "infeasible"
    assert plan.explain is not None and plan.explain.diagnosis is not None
    conflict = " | ".join(plan.explain.diagnosis["conflict"])
    assert "target_rate" in conflict and "max_loss of locality x" in conflict


@st.composite
def with_target(draw: st.DrawFn) -> Scenario:
    n = draw(st.integers(3, 7))
    lines = [
        line(
            f"l{i}",
            draw(st.integers(0, 200)),
            draw(st.integers(0, 200)),
            program="A" if i == 0 else draw(st.sampled_from("AB")),
        )
        for i in range(n)
    ]
    share = draw(st.sampled_from([0.5, 0.8, 0.95]))
    return scenario(*lines, rules={"pool_by": ["fund"], "targets": [{"program": "A", "rate": share}]})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(with_target(), st.data())
def test_capacity_prices_with_targets_match_finite_differences_where_linear(s: Scenario, data: st.DataObject) -> None:
    plan = solve(s)
    assume(plan.found)
    i = data.draw(st.integers(0, s.table.size - 1))
    up = solve(_with_capacity(s, i, 1))
    assume(up.found and s.lines[i].capacity >= 1)
    down = solve(_with_capacity(s, i, -1)) if s.lines[i].capacity - 1 >= s.lines[i].disbursed else None
    assume(down is not None and down.found)
    assert plan.summary is not None and up.summary is not None and down.summary is not None
    gain_up = up.summary.absorbable_after - plan.summary.absorbable_after
    gain_down = plan.summary.absorbable_after - down.summary.absorbable_after
    assume(gain_up == gain_down)  # away from kinks the price is the slope
    assert plan.explain is not None
    value = float(plan.explain.shadow_prices["capacity_value"].iloc[i])
    assert Decimal(repr(value)) == gain_up


def test_target_duals_weigh_received_money_by_one_minus_rate_and_given_money_by_rate() -> None:
    # The explain LP's target row is (1 - r) received + r given >= ...; with a dual y on it, one more
    # unit of room is worth 1 - (1 - r) y and one more unit of surplus 0 - r y (docs/model.md).
    from reallocate.explain import explain_plan
    from reallocate.formulation import Formulation

    s = scenario(
        line("d", 100, 0, program="A"),
        line("r", 0, 150, program="A"),
        line("b", 0, 150, program="B"),
        rules={"pool_by": ["fund"], "targets": [{"program": "A", "rate": 0.6}]},
    )
    plan = solve(s)
    form = Formulation(s)
    program = form.explain_program()
    duals = np.zeros(program.num_rows)
    (start,) = [start for kind, start, _, _ in program.row_groups if kind == "target"]
    duals[start] = -0.5  # a ">=" row of a maximisation: dual <= 0
    change = np.array([int(c) for c in plan.lines["change"]], dtype=np.int64)
    prices = explain_plan(s, form, change, program, duals).shadow_prices
    rate, y = 0.6, -0.5
    assert prices["capacity_value"].iloc[1] == pytest.approx(1 - (1 - rate) * y)  # r: room in A
    assert prices["capacity_value"].iloc[2] == pytest.approx(1.0)  # b: not covered by the target
    surplus_value = -rate * y
    assert prices["capacity_value"].iloc[0] == pytest.approx(1 - y - surplus_value)  # d: its own lapse and less surplus
    assert prices["allocation_value"].iloc[0] == pytest.approx(surplus_value + rate * y)
