"""plan.verify(): a valid plan passes; every kind of tampering is caught and named.

A plan's exact result is what each line holds (``final_units``) and its transfers (line positions and
whole units); the verifier re-checks it from the scenario alone. Tampered plans are copies
(``dataclasses.replace``); the original plan is never changed. For the tiny scenario, tampered plans
are rebuilt consistently by :func:`rebuild` (lines and summary recomputed from the transfers,
independently of the library), so that each test breaks exactly one rule and the verifier must find
that rule, not a side effect.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

import reallocate
from reallocate import Plan, PlanVerificationError, Scenario

# Bound at import (calling reallocate.datasets.quang_nam_2023() replaces that attribute by the data
# sub-package; test_scenario.py has a test for it).
from reallocate.datasets import quang_nam_2023

KEYS = ("locality", "program", "fund", "component")

# Pool (p, f): a can spend nothing of its 1,000; b and c can each absorb 600 more.
# Pool (q, f): d holds 400 it cannot spend; e can absorb 300 more, g 50 more.
TINY: dict[str, Any] = {
    "name": "tiny",
    "lines": [
        {"locality": "a", "program": "p", "fund": "f", "allocated": 1000, "capacity": 0},
        {"locality": "b", "program": "p", "fund": "f", "allocated": 100, "capacity": 700},
        {"locality": "c", "program": "p", "fund": "f", "allocated": 100, "capacity": 700},
        {"locality": "d", "program": "q", "fund": "f", "allocated": 500, "capacity": 100},
        {"locality": "e", "program": "q", "fund": "f", "allocated": 0, "capacity": 300},
        {"locality": "g", "program": "q", "fund": "f", "allocated": 0, "capacity": 50},
    ],
}
A, B, C, D, E, G = range(6)
# The best plan by hand: all 1,000 of a's surplus into b and c (equal room, so 500 each); d fills
# both rooms of its pool (300 + 50) and keeps the remaining 50, which lapses.
BEST = [(A, B, 500), (A, C, 500), (D, E, 300), (D, G, 50)]


def tiny_scenario(**changes: Any) -> Scenario:
    d = {**TINY, **changes}
    return Scenario.from_dict(d)


@pytest.fixture(scope="module")
def tiny_plan() -> Plan:
    return reallocate.solve(tiny_scenario())


@pytest.fixture(scope="module")
def qn_plan() -> Plan:
    return reallocate.solve(quang_nam_2023())


def rebuild(plan: Plan, moves: list[tuple[int, int, Any]], scenario: Scenario | None = None) -> Plan:
    """A copy of ``plan`` whose result and summary follow ``moves`` exactly (computed here, from the
    scenario's own fields), so only the rules the moves break are broken. Amounts are in the
    scenario unit; the plan holds them in whole units of precision."""
    sc = scenario or plan.scenario
    lines = sc.lines
    change = [Decimal(0)] * len(lines)
    for i, j, amount in moves:
        amount = Decimal(amount)
        change[i] -= amount
        change[j] += amount
    allocated = sum((ln.allocated for ln in lines), Decimal(0))
    before = sum((min(ln.allocated, ln.capacity) for ln in lines), Decimal(0))
    after = sum((min(ln.allocated + ch, ln.capacity) for ln, ch in zip(lines, change, strict=True)), Decimal(0))
    summary = reallocate.Summary(
        allocated=allocated,
        disbursed=sum((ln.disbursed for ln in lines), Decimal(0)),
        absorbable_before=before,
        absorbable_after=after,
        lapse_before=allocated - before,
        lapse_after=allocated - after,
        moved=sum((Decimal(a) for _, _, a in moves), Decimal(0)),
        transfer_count=len(moves),
        transfer_cost=Decimal(0),
        rate_before=float(before / allocated),
        rate_after=float(after / allocated),
    )
    return with_result(
        plan,
        [ln.allocated + ch for ln, ch in zip(lines, change, strict=True)],
        moves,
        scenario=sc,
        summary=summary,
    )


def units(amounts: list[Any], precision: Decimal) -> np.ndarray:
    """Amounts in the scenario unit as whole units of precision; a non-whole amount makes a float
    array (which a plan must not hold)."""
    q = [Decimal(a) / precision for a in amounts]
    if all(v == v.to_integral_value() for v in q):
        return np.array([int(v) for v in q], dtype=np.int64)
    return np.array([float(v) for v in q])


def with_result(
    plan: Plan, final: list[Any], moves: list[tuple[int, int, Any]], *, scenario: Scenario | None = None, **changes: Any
) -> Plan:
    """A copy of ``plan`` holding ``final`` (amounts per line) and ``moves`` as its exact result."""
    sc = scenario or plan.scenario
    p = sc.precision
    return dataclasses.replace(
        plan,
        scenario=sc,
        final_units=units(final, p),
        transfer_from=np.array([i for i, _, _ in moves], dtype=np.int64),
        transfer_to=np.array([j for _, j, _ in moves], dtype=np.int64),
        transfer_units=units([a for _, _, a in moves], p),
        **changes,
    )


def moves_of(plan: Plan) -> list[tuple[int, int, Decimal]]:
    p = plan.scenario.precision
    return [
        (int(i), int(j), Decimal(int(u)) * p)
        for i, j, u in zip(plan.transfer_from, plan.transfer_to, plan.transfer_units, strict=True)
    ]


def finals_of(plan: Plan) -> list[Decimal]:
    assert plan.final_units is not None
    return [Decimal(int(u)) * plan.scenario.precision for u in plan.final_units]


def breaches(plan: Plan) -> list[str]:
    with pytest.raises(PlanVerificationError) as info:
        plan.verify()
    err = info.value
    assert err.breaches, "PlanVerificationError without breaches"
    assert isinstance(err, AssertionError) and isinstance(err, reallocate.ReallocateError)
    assert str(len(err.breaches)) in str(err).splitlines()[0]
    return err.breaches


def assert_breach(found: list[str], *parts: str) -> None:
    assert any(all(p in b for p in parts) for b in found), f"no breach with {parts}; got:\n" + "\n".join(found)


def snapshot(plan: Plan) -> tuple[Any, ...]:
    return (plan.summary, plan.lines.to_dict(orient="records"), plan.transfers.to_dict(orient="records"))


# ------------------------------------------------------------------------ the tiny scenario


def test_tiny_plan_is_the_plan_worked_out_by_hand(tiny_plan: Plan) -> None:
    assert tiny_plan.status == "optimal"
    keys = [ln.key for ln in tiny_plan.scenario.lines]
    got = sorted(
        (keys.index(tuple(r[f"from_{k}"] for k in KEYS)), keys.index(tuple(r[f"to_{k}"] for k in KEYS)), r["amount"])
        for r in tiny_plan.transfers.to_dict(orient="records")
    )
    assert got == sorted(BEST)
    assert tiny_plan.verify() is tiny_plan


def test_rebuilt_best_plan_verifies_and_matches_the_solver(tiny_plan: Plan) -> None:
    # checks the helper: rebuilt from the hand-made moves, the plan is valid and equals the solver's
    plan = rebuild(tiny_plan, BEST)
    plan.verify()
    assert plan.summary == tiny_plan.summary
    assert plan.lines.to_dict(orient="records") == tiny_plan.lines.to_dict(orient="records")
    assert plan.transfers.to_dict(orient="records") == tiny_plan.transfers.to_dict(orient="records")


def test_tiny_change_a_transfer_amount(tiny_plan: Plan) -> None:
    before = snapshot(tiny_plan)
    moves = [(i, j, Decimal(600) if (i, j) == (A, B) else a) for i, j, a in moves_of(tiny_plan)]
    found = breaches(with_result(tiny_plan, finals_of(tiny_plan), moves))
    assert_breach(found, "lines[0]", "gives 1100", "surplus 1000")
    assert_breach(found, "lines[1]", "final")  # the lines table no longer follows the transfers
    assert_breach(found, "summary.moved")
    assert snapshot(tiny_plan) == before
    tiny_plan.verify()


def test_tiny_receive_more_than_room(tiny_plan: Plan) -> None:
    found = breaches(rebuild(tiny_plan, [(A, B, 700), (A, C, 300), (D, E, 300), (D, G, 50)]))
    assert len(found) == 1
    assert_breach(found, "lines[1]", "receives 700", "room 600")


def test_tiny_give_more_than_surplus(tiny_plan: Plan) -> None:
    # a can now spend 100 of its 1,000: its surplus is 900, yet the moves take all 1,000
    sc = tiny_scenario(lines=[{**TINY["lines"][0], "capacity": 100}, *TINY["lines"][1:]])
    found = breaches(rebuild(tiny_plan, BEST, sc))
    assert found == [found[0]]
    assert_breach(found, "lines[0]", "gives 1000", "surplus 900")


def test_tiny_transfer_across_pools(tiny_plan: Plan) -> None:
    found = breaches(rebuild(tiny_plan, [(A, B, 500), (A, C, 400), (A, E, 100), (D, E, 200), (D, G, 50)]))
    assert_breach(found, "transfers[2]", "between pools")
    assert_breach(found, "pool", "differs")


def test_tiny_line_gives_and_receives(tiny_plan: Plan) -> None:
    found = breaches(rebuild(tiny_plan, [(A, B, 500), (A, C, 500), (B, C, 50), (D, E, 300), (D, G, 50)]))
    assert_breach(found, "lines[1]", "both gives 50", "receives 500")


@pytest.mark.parametrize(
    ("field", "delta"),
    [
        ("allocated", Decimal(1)),
        ("disbursed", Decimal(1)),
        ("absorbable_before", Decimal(-1)),
        ("absorbable_after", Decimal(1)),
        ("lapse_before", Decimal(1)),
        ("lapse_after", Decimal(-1)),
        ("moved", Decimal(1)),
        ("transfer_count", 1),
        ("transfer_cost", Decimal(1)),
    ],
)
def test_tiny_summary_figure_broken(tiny_plan: Plan, field: str, delta: Any) -> None:
    assert tiny_plan.summary is not None
    summary = dataclasses.replace(tiny_plan.summary, **{field: getattr(tiny_plan.summary, field) + delta})
    found = breaches(dataclasses.replace(tiny_plan, summary=summary))
    assert found == [found[0]] and found[0].startswith(f"summary.{field} ")


@pytest.mark.parametrize("field", ["rate_before", "rate_after"])
def test_tiny_summary_rate_broken(tiny_plan: Plan, field: str) -> None:
    assert tiny_plan.summary is not None
    summary = dataclasses.replace(tiny_plan.summary, **{field: getattr(tiny_plan.summary, field) - 0.01})
    found = breaches(dataclasses.replace(tiny_plan, summary=summary))
    assert_breach(found, f"summary.{field}")


def test_tiny_amount_not_multiple_of_precision(tiny_plan: Plan) -> None:
    # a plan holds whole units of precision: half a unit cannot be an exact plan amount
    found = breaches(rebuild(tiny_plan, [(A, B, Decimal("500.5")), (A, C, Decimal("499.5")), (D, E, 300), (D, G, 50)]))
    assert_breach(found, "whole")


def test_tiny_amount_not_multiple_of_fractional_precision() -> None:
    sc = tiny_scenario(precision="0.5")
    plan = reallocate.solve(sc)
    plan.verify()
    found = breaches(rebuild(plan, [(A, B, Decimal("500.25")), (A, C, Decimal("499.75")), (D, E, 300), (D, G, 50)]))
    assert_breach(found, "whole")


def test_tiny_transfer_below_min_transfer(tiny_plan: Plan) -> None:
    strict = tiny_scenario(rules={"min_transfer": 100})
    # the plan without min_transfer moves 50 from d to g: illegal once transfers must be >= 100
    found = breaches(dataclasses.replace(tiny_plan, scenario=strict))
    assert found == [found[0]]
    assert_breach(found, "transfers[3]", "amount 50 is below min_transfer 100")
    # and the solver's own plan under that rule drops the small transfer and verifies
    plan = reallocate.solve(strict).verify()
    assert all(a >= 100 for a in plan.transfers["amount"])


def test_tiny_final_below_floor() -> None:
    lines = [{**TINY["lines"][0], "floor": 800}, *TINY["lines"][1:]]  # a must keep 800: surplus 200
    sc = tiny_scenario(lines=lines)
    plan = reallocate.solve(sc).verify()
    found = breaches(rebuild(plan, BEST, sc))
    assert_breach(found, "lines[0]", "final 0", "below its floor 800")


def test_tiny_final_above_ceiling() -> None:
    lines = [TINY["lines"][0], {**TINY["lines"][1], "ceiling": 300}, *TINY["lines"][2:]]  # b holds at most 300
    sc = tiny_scenario(lines=lines)
    plan = reallocate.solve(sc).verify()
    found = breaches(rebuild(plan, BEST, sc))
    assert_breach(found, "lines[1]", "final 600", "above its ceiling 300")


def test_tiny_unknown_line_in_transfer(tiny_plan: Plan) -> None:
    moves = moves_of(tiny_plan)
    moves[0] = (moves[0][0], 17, moves[0][2])  # the scenario has 6 lines
    found = breaches(with_result(tiny_plan, finals_of(tiny_plan), moves))
    assert_breach(found, "transfers[0]", "not in the scenario")


def test_tiny_transfer_to_itself(tiny_plan: Plan) -> None:
    found = breaches(rebuild(tiny_plan, [*BEST, (B, B, 10)]))
    assert_breach(found, "transfers[4]", "from a line to itself")


def test_tiny_two_transfers_between_the_same_lines(tiny_plan: Plan) -> None:
    found = breaches(rebuild(tiny_plan, [(A, B, 300), (A, B, 200), (A, C, 500), (D, E, 300), (D, G, 50)]))
    assert_breach(found, "transfers[1]", "second transfer between the same two lines")


def test_tiny_zero_transfer(tiny_plan: Plan) -> None:
    found = breaches(rebuild(tiny_plan, [*BEST, (B, C, 0)]))
    assert_breach(found, "transfers[4]", "not positive")


def test_tiny_float_amount(tiny_plan: Plan) -> None:
    plan = dataclasses.replace(tiny_plan, transfer_units=tiny_plan.transfer_units.astype(np.float64))
    found = breaches(plan)
    # a float is not an exact amount, even when its value is whole
    assert_breach(found, "transfers", "whole")


def test_tiny_lines_table_edited(tiny_plan: Plan) -> None:
    final = finals_of(tiny_plan)
    final[4] = Decimal(299)
    found = breaches(with_result(tiny_plan, final, moves_of(tiny_plan)))
    assert_breach(found, "lines[4]", "final is 299", "300")


def test_tiny_line_missing_from_plan(tiny_plan: Plan) -> None:
    found = breaches(with_result(tiny_plan, finals_of(tiny_plan)[:-1], moves_of(tiny_plan)))
    assert_breach(found, "5 lines", "6")


def test_tiny_plan_checked_against_another_scenario(tiny_plan: Plan) -> None:
    # verify() re-derives everything from the scenario: a plan of other figures does not pass
    other = tiny_scenario(lines=[*TINY["lines"][:4], {**TINY["lines"][4], "capacity": 250}, TINY["lines"][5]])
    found = breaches(dataclasses.replace(tiny_plan, scenario=other))
    assert_breach(found, "lines[4]", "receives 300", "room 250")
    assert_breach(found, "summary.absorbable_after")


def test_plan_without_summary_but_with_transfers(tiny_plan: Plan) -> None:
    found = breaches(dataclasses.replace(tiny_plan, summary=None))
    assert_breach(found, "without summary")


def test_several_breaches_are_all_listed(tiny_plan: Plan) -> None:
    assert tiny_plan.summary is not None
    plan = rebuild(tiny_plan, [(A, B, 700), (A, C, 300), (A, E, 10), (D, E, 290), (D, G, 50)])
    plan = dataclasses.replace(plan, summary=dataclasses.replace(plan.summary, moved=Decimal(1)))  # type: ignore[arg-type]
    found = breaches(plan)
    assert_breach(found, "lines[1]", "receives 700", "room 600")
    assert_breach(found, "between pools")
    assert_breach(found, "summary.moved")


# ------------------------------------------------------------------------- the bundled dataset


def test_dataset_plan_verifies(qn_plan: Plan) -> None:
    assert qn_plan.status == "optimal"
    assert qn_plan.verify() is qn_plan


def test_dataset_change_a_transfer_amount(qn_plan: Plan) -> None:
    before = snapshot(qn_plan)
    moves = moves_of(qn_plan)
    moves[0] = (moves[0][0], moves[0][1], moves[0][2] + 1)
    found = breaches(with_result(qn_plan, finals_of(qn_plan), moves))
    assert_breach(found, "summary.moved")
    assert_breach(found, "final is")
    assert snapshot(qn_plan) == before
    qn_plan.verify()


def test_dataset_receive_beyond_room(qn_plan: Plan) -> None:
    lines = qn_plan.lines
    filled = [
        i for i in range(len(lines)) if lines["room"].iloc[i] > 0 and lines["change"].iloc[i] == lines["room"].iloc[i]
    ]
    assert filled, "the dataset plan fills at least one recipient's room"
    i = filled[0]
    moves = moves_of(qn_plan)
    into = next(n for n, (_, j, _) in enumerate(moves) if j == i)
    moves[into] = (moves[into][0], i, moves[into][2] + 1)
    final = finals_of(qn_plan)
    final[i] += 1
    final[moves[into][0]] -= 1
    found = breaches(with_result(qn_plan, final, moves))
    assert_breach(found, f"lines[{i}]", "more than its room")


def test_dataset_transfer_across_pools(qn_plan: Plan) -> None:
    keys = [ln.key for ln in qn_plan.scenario.lines]
    moves = moves_of(qn_plan)
    i, j, _ = moves[0]
    loc, program, fund, component = keys[j]
    other = next(p for p in ("ntm", "gnbv", "dtts") if p != program and (loc, p, fund, component) in keys)
    moves.append((i, keys.index((loc, other, fund, component)), Decimal(1)))
    found = breaches(with_result(qn_plan, finals_of(qn_plan), moves))
    assert_breach(found, f"transfers[{len(moves) - 1}]", "between pools")


def test_dataset_line_gives_and_receives(qn_plan: Plan) -> None:
    keys = [ln.key for ln in qn_plan.scenario.lines]
    moves = moves_of(qn_plan)
    # a recipient gives to another recipient of its pool
    j, other = next((j, r) for _, j, _ in moves for _, r, _ in moves if r != j and keys[r][1:3] == keys[j][1:3])
    moves.append((j, other, Decimal(1)))
    found = breaches(with_result(qn_plan, finals_of(qn_plan), moves))
    assert_breach(found, "both gives")


@pytest.mark.parametrize("field", ["absorbable_after", "lapse_after", "moved", "allocated"])
def test_dataset_summary_figure_broken(qn_plan: Plan, field: str) -> None:
    assert qn_plan.summary is not None
    summary = dataclasses.replace(qn_plan.summary, **{field: getattr(qn_plan.summary, field) + 1})
    found = breaches(dataclasses.replace(qn_plan, summary=summary))
    assert_breach(found, f"summary.{field}")


def test_dataset_amount_not_multiple_of_precision(qn_plan: Plan) -> None:
    moves = [(i, j, a + Decimal("0.5") if n == 3 else a) for n, (i, j, a) in enumerate(moves_of(qn_plan))]
    found = breaches(with_result(qn_plan, finals_of(qn_plan), moves))
    assert_breach(found, "whole")


def test_dataset_transfers_below_min_transfer(qn_plan: Plan) -> None:
    threshold = Decimal(1000)
    small = [n for n, a in enumerate(qn_plan.transfers["amount"]) if a < threshold]
    assert small, "the dataset plan has transfers below 1,000"
    strict = quang_nam_2023(rules={"min_transfer": int(threshold)})
    with pytest.raises(PlanVerificationError) as info:
        dataclasses.replace(qn_plan, scenario=strict).verify()
    found = info.value.breaches
    assert all(f"below min_transfer {threshold}" in b for b in found)
    assert sorted(int(b.split("]")[0].split("[")[1]) for b in found) == small


def test_breaches_state_amounts_in_the_scenario_unit() -> None:
    # with precision 0.5 the breach must speak of the plan's amounts (700, 600), not of 1,400 / 1,200
    # "units" of precision, which a planner would read as the scenario unit
    sc = tiny_scenario(precision="0.5")
    plan = reallocate.solve(sc).verify()
    found = breaches(rebuild(plan, [(A, B, 700), (A, C, 300), (D, E, 300), (D, G, 50)]))
    assert len(found) == 1
    assert_breach(found, "lines[1]", "700", "600")
    assert "1400" not in found[0] and "1200" not in found[0]
