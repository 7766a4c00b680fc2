"""What-if changes applied to a baseline (reallocate.whatif) and plan comparison (reallocate.compare).

Expectations are derived from the inputs: hand-made scenarios small enough to work out by hand,
and the bundled Quảng Nam scenario whose locality tags say which lines a selector must touch.
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reallocate import Scenario, ScenarioError, solve
from reallocate.comparison import SUMMARY_FIELDS, Comparison, PlanData, compare, load_plan
from reallocate.datasets import quang_nam_2023
from reallocate.plan import Plan
from reallocate.whatif import (
    Freeze,
    ScaleCapacity,
    SetLine,
    SetRules,
    Where,
    apply_changes,
    changes_schema,
    describe,
    load_changes,
    parse_changes,
    scale_amount,
)

# ----------------------------------------------------------------------------------- helpers


def line(
    locality: str, allocated: Any, capacity: Any, program: str = "p", fund: str = "f", **kw: Any
) -> dict[str, Any]:
    return {"locality": locality, "program": program, "fund": fund, "allocated": allocated, "capacity": capacity} | kw


def scenario(*lines: dict[str, Any], **top: Any) -> Scenario:
    return Scenario.from_dict({"name": "t", "lines": list(lines), **top})


def problems(exc: ScenarioError) -> dict[tuple[Any, ...], str]:
    return {tuple(e["loc"]): m for e, m in zip(exc.errors, exc.messages, strict=True)}


def fails(base: Scenario, *changes: Any) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        base.with_changes(*changes)
    return info.value


def by_key(sc: Scenario) -> dict[tuple[str, str, str, str], Any]:
    return {ln.key: ln for ln in sc.lines}


TAGGED = scenario(
    line("hill", 100, 40, disbursed=10),
    line("hill", 50, 80, fund="g"),
    line("plain", 60, 100),
    line("plain", 70, 30, fund="g"),
    line("town", 30, 30),
    localities=[
        {"id": "hill", "tags": {"mountainous": True, "poverty": 40}},
        {"id": "plain", "tags": {"mountainous": False, "poverty": 20}},
        {"id": "town", "tags": {"mountainous": 1}},  # 1 is not true: a boolean tag matches only a boolean
    ],
)

QN = quang_nam_2023()
MOUNTAINOUS = {loc.id for loc in QN.localities or () if loc.tags.get("mountainous") is True}


@pytest.fixture(scope="module")
def qn_plan() -> Plan:
    return solve(QN)


@pytest.fixture(scope="module")
def qn_mountain_plan() -> Plan:
    return solve(QN.with_changes({"kind": "scale_capacity", "where": {"tag": {"mountainous": True}}, "factor": 1.2}))


@pytest.fixture(scope="module")
def qn_infeasible_plan() -> Plan:
    return solve(QN.with_changes({"kind": "set_target", "rate": 1.0}))


# -------------------------------------------------------------------------------- set_rules


def test_set_rules_merges_partial_rules_into_the_baseline() -> None:
    base = scenario(line("a", 10, 5), line("b", 0, 5), rules={"recipients": "priority", "min_transfer": 2})
    new = base.with_changes({"kind": "set_rules", "rules": {"pool_by": ["fund"], "move_costs": {"program": 5}}})
    assert new.rules.pool_by == ("fund",)
    assert new.rules.move_costs == {"program": 5}
    # rules not named keep the baseline's values
    assert new.rules.recipients == "priority"
    assert new.rules.min_transfer == 2
    # null resets a rule to its default
    reset = new.with_changes(SetRules(rules={"recipients": None, "move_costs": None}))
    assert reset.rules.recipients == "proportional"
    assert reset.rules.move_costs == {}
    assert reset.rules.pool_by == ("fund",)


def test_set_rules_errors_name_the_change() -> None:
    exc = fails(TAGGED, {"kind": "freeze", "where": {}}, {"kind": "set_rules", "rules": {"bogus": 1}})
    assert list(problems(exc)) == [("changes", 1, "rules", "bogus")]
    assert "unknown rule 'bogus'" in str(exc)

    exc = fails(TAGGED, {"kind": "set_rules", "rules": {"pool_by": ["nowhere"]}})
    ((loc, msg),) = problems(exc).items()
    assert loc[:4] == ("changes", 0, "rules", "pool_by")
    assert msg.startswith("changes[0].rules.pool_by")

    # a cross-field problem of the merged rules is blamed on the change that last set the rules
    exc = fails(
        TAGGED,
        {"kind": "set_rules", "rules": {"move_costs": {"fund": 1}}},
        {"kind": "set_rules", "rules": {"pool_by": ["fund"]}},
    )
    assert list(problems(exc)) == [("changes", 1, "rules", "move_costs", "fund")]


def test_cross_program_moves_only_after_pool_by_fund() -> None:
    # program p1 has surplus and no room, p2 room and no surplus: nothing can move by program
    base = scenario(line("a", 100, 0, program="p1"), line("b", 0, 100, program="p2"))
    before = solve(base).verify()
    assert before.summary is not None and before.summary.moved == 0
    cross = base.with_changes(
        {"kind": "set_rules", "rules": {"pool_by": ["fund"], "move_costs": {"program": 5}}}, name="cross"
    )
    plan = solve(cross).verify()
    assert plan.summary is not None
    assert plan.summary.absorbable_after == before.summary.absorbable_after + 100
    assert len(plan.transfers) == 1
    t = plan.transfers.iloc[0]
    assert (t["from_program"], t["to_program"], t["amount"]) == ("p1", "p2", 100)
    assert t["approval"] == "people_council"
    assert plan.summary.transfer_cost == 500  # 100 moved x cost 5 per unit changing program


def test_pool_by_fund_keeps_moves_inside_programs_when_they_can() -> None:
    # each program can balance itself; the move cost makes crossing programs worse, never better
    base = scenario(
        line("a", 50, 0, program="p1"),
        line("b", 0, 50, program="p1"),
        line("c", 30, 0, program="p2"),
        line("d", 0, 30, program="p2"),
    )
    plan = solve(base.with_changes({"kind": "set_rules", "rules": {"pool_by": ["fund"], "move_costs": {"program": 5}}}))
    assert plan.found and plan.summary is not None
    assert set(plan.transfers["approval"]) == {"people_committee"}
    assert plan.summary.transfer_cost == 0 and plan.summary.moved == 80


def test_pool_by_fund_on_quang_nam_crosses_programs_only_when_fair_shares_come_first(qn_plan: Plan) -> None:
    rules = {"pool_by": ["fund"], "move_costs": {"program": 5}}
    plan = solve(QN.with_changes({"kind": "set_rules", "rules": rules}))
    plan.verify()
    assert plan.summary is not None and qn_plan.summary is not None
    # each program absorbs all its own money in Quang Nam: no move needs the People's Council
    assert plan.summary.absorbable_after == qn_plan.summary.absorbable_after
    assert (plan.transfers["from_program"] == plan.transfers["to_program"]).all()
    # sharing fairly across the fund first sends money across programs for nothing
    shares_first = solve(
        QN.with_changes(
            {"kind": "set_rules", "rules": {**rules, "order": ["fair_shares", "move_costs", "transfer_costs"]}}
        )
    )
    shares_first.verify()
    crossing = shares_first.transfers[shares_first.transfers["from_program"] != shares_first.transfers["to_program"]]
    assert len(crossing) > 0 and set(crossing["approval"]) == {"people_council"}
    assert (crossing["from_fund"] == crossing["to_fund"]).all()
    assert shares_first.summary is not None
    assert shares_first.summary.absorbable_after == qn_plan.summary.absorbable_after


# --------------------------------------------------------------------------- scale_capacity


def test_scale_capacity_by_tag_on_quang_nam() -> None:
    new = QN.with_changes({"kind": "scale_capacity", "where": {"tag": {"mountainous": True}}, "factor": 1.2})
    old = by_key(QN)
    touched = 0
    assert len(MOUNTAINOUS) == 9
    for key, ln in by_key(new).items():
        before = old[key]
        if key[0] in MOUNTAINOUS:
            touched += 1
            # precision 1: +20% rounded down to a whole million VND, never below disbursed
            assert ln.capacity == max(before.capacity * 12 // 10, before.disbursed)
        else:
            assert ln.capacity == before.capacity
        assert ln.allocated == before.allocated and ln.disbursed == before.disbursed
    assert touched == sum(1 for ln in QN.lines if ln.locality in MOUNTAINOUS) > 0


def test_scale_capacity_rounds_down_to_the_precision() -> None:
    base = scenario(
        line("a", "10.00", "10.07"),
        line("b", "5.00", "3.33"),
        line("c", "10.00", "10.00", disbursed="8.00"),
        precision="0.01",
    )
    s15 = base.with_changes(ScaleCapacity(where=Where(locality="a"), factor=Decimal("1.15")))
    assert by_key(s15)[("a", "p", "f", "")].capacity == Decimal("11.58")  # 11.5805 rounded down
    s15 = base.with_changes({"kind": "scale_capacity", "where": {"locality": "b"}, "factor": 1.5})
    assert by_key(s15)[("b", "p", "f", "")].capacity == Decimal("4.99")  # 4.995: down, not half-up
    half = base.with_changes({"kind": "scale_capacity", "where": {"locality": "c"}, "factor": "0.5"})
    assert by_key(half)[("c", "p", "f", "")].capacity == Decimal("8.00")  # 5.00 is below disbursed 8.00
    zero = base.with_changes({"kind": "scale_capacity", "where": {}, "factor": 0})
    assert [ln.capacity for ln in zero.lines] == [0, 0, Decimal("8")]


@given(
    units=st.integers(min_value=0, max_value=10**15),
    disbursed_share=st.fractions(min_value=0, max_value=1),
    factor=st.decimals(min_value=0, max_value=5, places=4),
    exp=st.integers(min_value=-4, max_value=3),
)
def test_scaled_capacity_is_an_exact_multiple_never_above_the_product(
    units: int, disbursed_share: Any, factor: Decimal, exp: int
) -> None:
    precision = Decimal(1).scaleb(exp) * 5  # 5e-4 ... 5000
    capacity = units * precision
    disbursed = int(units * disbursed_share) * precision
    base = scenario(line("a", capacity, capacity, disbursed=disbursed), precision=precision)
    got = base.with_changes({"kind": "scale_capacity", "where": {}, "factor": factor}).lines[0].capacity
    exact = capacity * factor  # Decimal arithmetic: exact for these sizes (28 digits)
    assert (got / precision) == (got / precision).to_integral_value()
    assert got >= disbursed
    if got > disbursed:
        assert exact - precision < got <= exact
    assert got == max(scale_amount(capacity, factor, precision), disbursed)


# -------------------------------------------------------------------------- selectors, flags


def test_selectors_match_attributes_lists_and_tags() -> None:
    hit = TAGGED.with_changes({"kind": "freeze", "where": {"tag": {"mountainous": True}}})
    assert [ln.frozen for ln in hit.lines] == [True, True, False, False, False]  # not town (tag 1)
    hit = TAGGED.with_changes({"kind": "freeze", "where": {"tag": {"poverty": [20, 40]}, "fund": "g"}})
    assert [ln.frozen for ln in hit.lines] == [False, True, False, True, False]
    hit = TAGGED.with_changes({"kind": "freeze", "where": {"locality": ["town", "plain"], "fund": ["f"]}})
    assert [ln.frozen for ln in hit.lines] == [False, False, True, False, True]
    hit = TAGGED.with_changes({"kind": "freeze", "where": {}})
    assert all(ln.frozen for ln in hit.lines)


def test_freeze_and_set_flag_leave_one_flag() -> None:
    base = scenario(line("a", 10, 5, give_only=True), line("b", 0, 5), line("c", 0, 5, receive_only=True))
    frozen = base.with_changes(Freeze(where=Where(locality="a")))
    a = frozen.lines[0]
    assert (a.frozen, a.give_only, a.receive_only) == (True, False, False)
    assert frozen.lines[1:] == base.lines[1:]
    plan = solve(frozen)
    assert plan.summary is not None and plan.summary.moved == 0  # the only donor is frozen

    flagged = base.with_changes({"kind": "set_flag", "where": {"locality": ["a", "b"]}, "flag": "receive_only"})
    assert [(ln.give_only, ln.receive_only) for ln in flagged.lines] == [(False, True), (False, True), (False, True)]
    cleared = base.with_changes({"kind": "set_flag", "where": {}, "flag": "none"})
    assert not any(ln.frozen or ln.give_only or ln.receive_only for ln in cleared.lines)
    exc = fails(base, {"kind": "set_flag", "where": {}, "flag": "stuck"})
    assert list(problems(exc)) == [("changes", 0, "flag")]


def test_freeze_on_quang_nam_changes_nothing_on_frozen_lines(qn_plan: Plan) -> None:
    new = QN.with_changes({"kind": "freeze", "where": {"locality": "nam-tra-my"}})
    plan = solve(new).verify()
    lines = plan.lines
    assert (lines[lines["locality"] == "nam-tra-my"]["change"] == 0).all()
    assert (qn_plan.lines[qn_plan.lines["locality"] == "nam-tra-my"]["change"] != 0).any()  # it did move before


# ------------------------------------------------------------------------- weights, lines, targets


def test_set_weight_by_tag_and_without_localities() -> None:
    new = QN.with_changes({"kind": "set_weight", "where": {"tag": {"mountainous": False}}, "weight": 0.05})
    for old, loc in zip(QN.localities or (), new.localities or (), strict=True):
        assert loc.weight == (0.05 if loc.id not in MOUNTAINOUS else old.weight)
        assert loc.tags == old.tags and loc.name == old.name
    plain = scenario(line("a", 10, 5), line("b", 0, 5), line("a", 0, 5, fund="g"))
    new = plain.with_changes({"kind": "set_weight", "where": {"locality": "b"}, "weight": 3})
    assert [(loc.id, loc.weight) for loc in new.localities or ()] == [("a", 1.0), ("b", 3.0)]
    # the line table (locality order, weights per line) follows
    assert new.table.locality_ids == plain.table.locality_ids
    assert new.table.weight.tolist() == [1.0, 3.0, 1.0]


def test_set_weight_selects_localities_only() -> None:
    exc = fails(QN, {"kind": "set_weight", "where": {"program": "ntm"}, "weight": 1})
    assert list(problems(exc)) == [("changes", 0, "where", "program")]
    exc = fails(QN, {"kind": "set_weight", "where": {"locality": "atlantis"}, "weight": 1})
    assert list(problems(exc)) == [("changes", 0, "where")]
    assert "matches no locality" in str(exc)
    exc = fails(QN, {"kind": "set_weight", "where": {}, "weight": -1})
    assert list(problems(exc)) == [("changes", 0, "weight")]


def test_set_line_sets_amounts_in_order() -> None:
    base = scenario(line("a", 100, 40, disbursed=10, floor=20, ceiling=150), line("b", 50, 80))
    new = base.with_changes(
        SetLine(where=Where(locality="a"), values={"capacity": Decimal(60), "ceiling": None}),
        {"kind": "scale_capacity", "where": {"locality": "a"}, "factor": "1.5"},  # applies to the new 60
    )
    a, b = new.lines
    assert (a.capacity, a.ceiling, a.floor, a.allocated) == (90, None, 20, 100)
    assert b == base.lines[1]
    exc = fails(base, {"kind": "set_line", "where": {}, "values": {"allocated": None}})
    assert list(problems(exc)) == [("changes", 0, "values", "allocated")]
    exc = fails(base, {"kind": "set_line", "where": {}, "values": {"height": 3}})
    assert ("changes", 0, "values", "height", "[key]") in problems(exc)


def test_invalid_result_is_blamed_on_the_change_and_line() -> None:
    base = scenario(line("a", 100, 40, disbursed=10), line("b", 50, 80), precision=10)
    exc = fails(
        base,
        {"kind": "set_line", "where": {"locality": "b"}, "values": {"capacity": 90}},
        {"kind": "set_line", "where": {"locality": "a"}, "values": {"capacity": 0}},
    )
    found = problems(exc)
    assert list(found) == [("changes", 1, "lines", 0, "capacity")]
    assert "line a/p/f: capacity 0 is below disbursed 10" in found["changes", 1, "lines", 0, "capacity"]
    assert exc.title == "changes make an invalid scenario"
    exc = fails(base, {"kind": "set_line", "where": {"locality": "b"}, "values": {"capacity": 95}})
    assert list(problems(exc)) == [("changes", 0, "lines", 1, "capacity")]
    assert "multiple of precision 10" in str(exc)


def test_set_target_sets_overall_and_per_selector_targets() -> None:
    new = QN.with_changes({"kind": "set_target", "rate": 1.0})
    assert new.rules.target_rate == 1.0 and new.rules.targets == ()
    per = QN.with_changes(
        {"kind": "set_target", "rate": 0.7, "where": {"program": "ntm"}},
        {"kind": "set_target", "rate": 0.6, "where": {"program": "gnbv"}},
        {"kind": "set_target", "rate": 0.65, "where": {"program": "ntm"}},  # replaces the first
    )
    assert [(t.program, t.rate) for t in per.rules.targets] == [("gnbv", 0.6), ("ntm", 0.65)]
    gone = per.with_changes({"kind": "set_target", "rate": None, "where": {"program": "gnbv"}})
    assert [(t.program, t.rate) for t in gone.rules.targets] == [("ntm", 0.65)]
    exc = fails(QN, {"kind": "freeze", "where": {}}, {"kind": "set_target", "rate": 0.5, "where": {"program": "zz"}})
    assert list(problems(exc)) == [("changes", 1, "rules", "targets", 0)]


# --------------------------------------------------------------------- errors, baseline, names


def test_selector_matching_nothing_names_the_change() -> None:
    exc = fails(
        TAGGED,
        {"kind": "freeze", "where": {"locality": "hill"}},
        {"kind": "scale_capacity", "where": {"tag": {"coastal": True}}, "factor": 1.2},
        {"kind": "freeze", "where": {"program": "p", "fund": "nope"}},
    )
    found = problems(exc)
    assert list(found) == [("changes", 1, "where"), ("changes", 2, "where")]
    assert found["changes", 1, "where"] == "changes[1].where: tag coastal=true matches no line"
    assert found["changes", 2, "where"] == "changes[2].where: program p, fund nope matches no line"


def test_malformed_changes_are_listed_with_paths() -> None:
    exc = fails(
        TAGGED,
        {"kind": "scale_capacity", "where": {}, "factor": 1.2},
        {"kind": "scale_capacity", "where": {}, "factor": -1},
        {"kind": "teleport"},
        {"kind": "freeze", "where": {"colour": "red"}},
        {"kind": "scale_capacity", "where": {}, "factor": "1.1", "extra": 1},
        {"kind": "scale_capacity", "where": {}},
    )
    assert list(problems(exc)) == [
        ("changes", 1, "factor"),
        ("changes", 2, "kind"),
        ("changes", 3, "where", "colour"),
        ("changes", 4, "extra"),
        ("changes", 5, "factor"),
    ]
    assert exc.title == "invalid changes"
    with pytest.raises(ScenarioError):
        apply_changes(TAGGED, {"kind": "freeze", "where": {}})  # type: ignore[arg-type]  # a dict, not a list


def test_baseline_is_never_mutated() -> None:
    before = QN.model_dump()
    table = {f: getattr(QN.table, f).copy() for f in ("allocated", "capacity", "floor", "weight", "frozen", "pool")}
    changes: list[dict[str, Any]] = [
        {"kind": "set_rules", "rules": {"pool_by": ["fund"], "move_costs": {"program": 5}}},
        {"kind": "scale_capacity", "where": {"tag": {"mountainous": True}}, "factor": 1.2},
        {"kind": "freeze", "where": {"locality": "hoi-an"}},
        {"kind": "set_flag", "where": {"locality": "tam-ky"}, "flag": "give_only"},
        {"kind": "set_weight", "where": {"locality": "nam-tra-my"}, "weight": 0.9},
        {"kind": "set_line", "where": {"locality": "dai-loc", "program": "ntm"}, "values": {"ceiling": 99999}},
        {"kind": "set_target", "rate": 0.6, "where": {"program": "ntm"}},
    ]
    new = QN.with_changes(*changes)
    assert QN.model_dump() == before
    for f, arr in table.items():
        assert np.array_equal(getattr(QN.table, f), arr)
    assert new != QN
    # every kind changed something
    diff = new.model_dump()
    assert diff["rules"] != before["rules"] and diff["lines"] != before["lines"]
    assert diff["localities"] != before["localities"]
    # the same changes as JSON text give the same scenario
    again = QN.with_changes(json.loads(json.dumps(changes)))
    assert again == new


def test_names_describe_the_changes() -> None:
    new = QN.with_changes({"kind": "scale_capacity", "where": {"tag": {"mountainous": True}}, "factor": 1.2})
    assert new.name == f"{QN.name} [capacity ×1.2 for tag mountainous=true]"
    named = QN.with_changes([{"kind": "freeze", "where": {"locality": "hoi-an"}}], name="Hội An frozen")
    assert named.name == "Hội An frozen"
    assert QN.with_changes() == QN
    text = describe([{"kind": "set_rules", "rules": {"pool_by": ["fund"]}}, {"kind": "set_target", "rate": 1}])
    assert text == 'rules pool_by=["fund"]; target 100% for all lines'


def test_changes_are_json_data(tmp_path: Path) -> None:
    models = parse_changes(
        [
            {"kind": "scale_capacity", "where": {"tag": {"mountainous": True}}, "factor": 1.1},
            {"kind": "set_line", "where": {"locality": "hoi-an"}, "values": {"capacity": "123.45"}},
        ]
    )
    dumped = [m.model_dump(mode="json") for m in models]
    assert parse_changes(dumped) == models
    assert parse_changes(json.loads(json.dumps(dumped))) == models
    kinds = {d["properties"]["kind"]["const"] for d in changes_schema()["$defs"].values() if "kind" in d["properties"]}
    assert kinds == {"set_rules", "scale_capacity", "freeze", "set_flag", "set_weight", "set_line", "set_target"}
    path = tmp_path / "what-if.json"
    path.write_text('{"changes": [{"kind": "scale_capacity", "where": {}, "factor": 1.1000000000000000001}]}')
    (change,) = load_changes(path)
    assert change.factor == Decimal("1.1000000000000000001")  # read exactly, never through a float
    path.write_text('{"kind": "freeze"}')
    with pytest.raises(ScenarioError):
        load_changes(path)


# ---------------------------------------------------------------------------------- compare


def test_summary_differences_are_the_differences_of_the_summaries(qn_plan: Plan, qn_mountain_plan: Plan) -> None:
    cmp = compare(qn_plan, qn_mountain_plan)
    a, b = qn_plan.summary, qn_mountain_plan.summary
    assert a is not None and b is not None
    assert list(cmp.summary.index) == ["status", *SUMMARY_FIELDS]
    for f in SUMMARY_FIELDS:
        assert cmp.summary.loc[f, "A"] == getattr(a, f)
        assert cmp.summary.loc[f, "B"] == getattr(b, f)
        assert cmp.summary.loc[f, "B - A"] == getattr(b, f) - getattr(a, f)
    assert cmp.summary.loc["absorbable_after", "B - A"] > 0
    assert list(cmp.summary.loc["status"]) == ["optimal", "optimal", None]


def _pool_sums(frame: Any, column: str, by: list[str]) -> dict[Any, Decimal]:
    sums: dict[Any, Decimal] = defaultdict(Decimal)
    for rec in frame.to_dict(orient="records"):
        sums[tuple(rec[k] for k in by)] += rec[column]
    return dict(sums)


def test_line_differences_balance_within_unchanged_pools(qn_plan: Plan, qn_mountain_plan: Plan) -> None:
    cmp = compare(qn_plan, qn_mountain_plan)
    assert len(cmp.lines) == len(QN.lines)
    sums = _pool_sums(cmp.lines, "final B - A", ["program", "fund"])
    assert set(sums.values()) == {Decimal(0)}
    # capacity changed exactly on mountainous lines
    cap = cmp.lines[cmp.lines["capacity B - A"] != 0]
    assert set(cap["locality"]) == MOUNTAINOUS
    for rec in cmp.lines.to_dict(orient="records"):
        assert rec["final B - A"] == rec["final B"] - rec["final A"]
        differs = any(rec[f"{f} B"] != rec[f"{f} A"] for f in ("allocated", "capacity", "final", "absorbable_after"))
        assert rec["changed"] == differs
    assert len(cmp.changed_lines()) == int(cmp.lines["changed"].sum()) > 0


def test_line_differences_move_between_programs_when_pools_change(qn_plan: Plan) -> None:
    rules = {
        "pool_by": ["fund"],
        "move_costs": {"program": 5},
        "order": ["fair_shares", "move_costs", "transfer_costs"],
    }
    cross = solve(QN.with_changes({"kind": "set_rules", "rules": rules}))
    cmp = compare(qn_plan, cross, names=["by program", "by fund"])
    col = "final by fund - by program"
    by_old_pool = _pool_sums(cmp.lines, col, ["program", "fund"])
    assert any(v != 0 for v in by_old_pool.values())  # money crossed programs
    assert set(_pool_sums(cmp.lines, col, ["fund"]).values()) == {Decimal(0)}  # but never funds
    t = cmp.transfers
    crossing = t[t["from_program"] != t["to_program"]]
    assert (crossing["amount by program"] == 0).all() and (crossing["amount by fund"] > 0).any()
    assert set(crossing["approval"]) == {"people_council"}


def test_transfers_per_pair(qn_plan: Plan, qn_mountain_plan: Plan) -> None:
    cmp = compare(qn_plan, qn_mountain_plan)
    t = cmp.transfers
    for name, plan in (("A", qn_plan), ("B", qn_mountain_plan)):
        assert plan.summary is not None
        assert sum(t[f"amount {name}"], Decimal(0)) == plan.summary.moved
        assert int((t[f"amount {name}"] > 0).sum()) == plan.summary.transfer_count
    assert ((t["amount B"] - t["amount A"]) == t["amount B - A"]).all()
    assert (t["changed"] == (t["amount B - A"] != 0)).all()
    assert len(cmp.changed_transfers()) == int(t["changed"].sum())
    pairs = {tuple(r) for r in t[["from_locality", "from_program", "to_locality", "to_program"]].to_numpy()}
    assert len(pairs) == len(t)  # one row per (from line, to line)


def test_plans_of_different_scenarios_align_on_line_keys() -> None:
    a = scenario(line("x", 10, 5), line("y", 0, 5))
    b = scenario(line("y", 0, 5), line("x", 10, 5), line("z", 0, 3), name="more")
    cmp = compare(solve(a), solve(b))
    rows = {r["locality"]: r for r in cmp.lines.to_dict(orient="records")}
    assert list(rows) == ["x", "y", "z"]
    assert rows["z"]["final A"] is None and rows["z"]["final B"] == 2 and rows["z"]["final B - A"] is None
    assert rows["z"]["changed"]
    assert rows["x"]["final A"] == 5 and rows["x"]["final B"] == 5  # x gives 5 in both: y and z share it
    assert rows["y"]["final B - A"] == -2  # y: 5 of 5 alone, 3 of 5 when z (room 3) shares pro rata


def test_compare_with_an_infeasible_plan(qn_plan: Plan, qn_infeasible_plan: Plan) -> None:
    assert qn_infeasible_plan.status == "infeasible"
    cmp = compare(qn_plan, qn_infeasible_plan, names=["now", "100%"])
    assert cmp.summary.loc["status", "100%"] == "infeasible"
    assert cmp.summary["100%"].iloc[1:].isna().all() and cmp.summary["100% - now"].isna().all()
    assert cmp.lines["final 100%"].isna().all() and len(cmp.lines) == len(QN.lines)
    assert cmp.transfers["amount 100%"].isna().all()
    assert not cmp.lines["changed"].any()  # a plan that was not found is not compared line by line
    text = cmp.text()
    assert "100%: no plan (infeasible)" in text
    data = json.loads(cmp.to_json())
    assert data["plans"][1]["status"] == "infeasible"
    assert data["summary"][1] == {"figure": "allocated", "now": 2489000, "100%": None, "100% - now": None}


def test_text_headlines(qn_plan: Plan, qn_mountain_plan: Plan) -> None:
    a, b = qn_plan.summary, qn_mountain_plan.summary
    assert a is not None and b is not None
    text = compare(qn_plan, qn_mountain_plan).text()
    pct = f"{a.rate_before * 100:.1f}% → {a.rate_after * 100:.1f}%"
    assert text.splitlines()[2].startswith(f"A: {pct}")
    assert pct == "57.9% → 63.7%"
    gain = b.absorbable_after - a.absorbable_after
    assert f"B vs A: Absorbable after +{gain:,}" in text
    vi = compare(qn_plan, qn_mountain_plan).text("vi")
    assert "A: 57,9% → 63,7%" in vi and "so với" in vi and "Nam Trà My" in vi
    with pytest.raises(ValueError):
        compare(qn_plan, qn_mountain_plan).text("fr")


def test_compare_to_json_is_exact() -> None:
    base = scenario(line("a", "10.05", "3.01"), line("b", "0.00", "7.77"), precision="0.01")
    more = base.with_changes({"kind": "scale_capacity", "where": {"locality": "b"}, "factor": "1.3"})
    cmp = compare(solve(base), solve(more))
    data = json.loads(cmp.to_json(), parse_float=Decimal)
    rows = {r["locality"]: r for r in data["lines"]}
    assert rows["b"]["capacity B"] == Decimal("10.10")  # 7.77 x 1.3 = 10.101, rounded down
    assert rows["b"]["final A"] == Decimal("7.04") and rows["b"]["final B"] == Decimal("7.04")
    summary = {r["figure"]: r for r in data["summary"]}
    assert summary["allocated"]["A"] == Decimal("10.05")
    assert summary["moved"]["B - A"] == 0
    assert cmp.to_dict()["names"] == ["A", "B"]


def test_compare_arguments() -> None:
    p = solve(scenario(line("a", 10, 5), line("b", 0, 5)))
    with pytest.raises(ValueError, match="at least two"):
        compare(p)
    with pytest.raises(ValueError, match="names"):
        compare(p, p, names=["only one"])
    with pytest.raises(ValueError, match="distinct"):
        compare(p, p, names=["x", "x"])
    other = solve(scenario(line("a", 10, 5), line("b", 0, 5), unit="VND"))
    with pytest.raises(ValueError, match="different units"):
        compare(p, other)
    assert compare(p, p, p).names == ["A", "B", "C"]


# --------------------------------------------------------------------------------- load_plan


def _same_plan(loaded: PlanData, plan: Plan) -> None:
    assert loaded.summary == plan.summary
    assert loaded.status == plan.status and loaded.message == plan.message
    assert loaded.name == plan.scenario.name and loaded.precision == plan.scenario.precision
    assert loaded.lines.equals(plan.exact_lines())
    assert loaded.transfers.equals(plan.exact_transfers())


def test_load_plan_round_trip_is_exact(tmp_path: Path, qn_plan: Plan, qn_infeasible_plan: Plan) -> None:
    decimals = scenario(
        line("a", "1000000000000.05", "3.01", disbursed="1.01"),
        line("b", "0.00", "7.77"),
        line("c", "0.00", "999999999999.99"),
        precision="0.01",
        transfer_costs=[{"from": "a", "to": "b", "cost": 0.1}],
    )
    for plan in (qn_plan, qn_infeasible_plan, solve(decimals)):
        path = tmp_path / "plan.json"
        path.write_text(plan.to_json(), encoding="utf-8")
        _same_plan(load_plan(path), plan)
        _same_plan(PlanData.from_json(plan.to_json(indent=None)), plan)


def test_compare_of_loaded_plans_equals_compare_of_plans(tmp_path: Path, qn_plan: Plan, qn_mountain_plan: Plan) -> None:
    paths = []
    for name, plan in (("a", qn_plan), ("b", qn_mountain_plan)):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(plan.to_json(), encoding="utf-8")
    loaded: Comparison = compare(*(load_plan(p) for p in paths))
    direct = compare(qn_plan, qn_mountain_plan)
    assert loaded.summary.equals(direct.summary)
    assert loaded.lines.equals(direct.lines)
    assert loaded.transfers.equals(direct.transfers)
    assert loaded.to_json() == direct.to_json()


def test_load_plan_rejects_what_is_not_a_plan(tmp_path: Path, qn_plan: Plan) -> None:
    path = tmp_path / "x.json"
    path.write_text(QN.to_json(), encoding="utf-8")
    with pytest.raises(ScenarioError, match="not a plan: missing status"):
        load_plan(path)
    broken = json.loads(qn_plan.to_json())
    broken["summary"]["moved"] = "lots"
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_plan(path)
    assert [tuple(e["loc"]) for e in info.value.errors] == [("summary", "moved")]
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid JSON"):
        load_plan(path)
