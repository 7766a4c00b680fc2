"""Scenario input: every validation rule, exact decimals, from_frames, load(), schema, dataset."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

import reallocate
from reallocate import Rules, Scenario, ScenarioError

# Bound at import: calling reallocate.datasets.quang_nam_2023() replaces that attribute by the
# data sub-package (see test_dataset_function_survives_a_call), which would break later tests.
from reallocate.datasets import quang_nam_2023

# ----------------------------------------------------------------------------------- helpers


def line(**kw: Any) -> dict[str, Any]:
    """A valid line (locality a, program p, fund f) with overrides."""
    base: dict[str, Any] = {"locality": "a", "program": "p", "fund": "f", "allocated": 100, "capacity": 100}
    base.update(kw)
    return base


def data(*lines: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"name": "t", "lines": list(lines) or [line()], **top}


def invalid(d: Any) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(d)
    return info.value


def problems(exc: ScenarioError) -> dict[tuple[Any, ...], list[str]]:
    """loc -> the rendered messages (``path: msg (got ...)``) of the problems at that loc."""
    out: dict[tuple[Any, ...], list[str]] = {}
    assert len(exc.errors) == len(exc.messages)
    for err, msg in zip(exc.errors, exc.messages, strict=True):
        out.setdefault(tuple(err["loc"]), []).append(msg)
    return out


def only_problem(exc: ScenarioError) -> tuple[tuple[Any, ...], str]:
    """The single problem of ``exc`` as (loc, rendered message)."""
    found = problems(exc)
    assert len(exc.errors) == 1, f"expected exactly one problem, got:\n{exc}"
    ((loc, (msg,)),) = found.items()
    return loc, msg


def assert_problem(exc: ScenarioError, loc: tuple[Any, ...], *mentions: str) -> str:
    found = problems(exc)
    assert loc in found, f"no problem at {loc}; got:\n{exc}"
    msgs = found[loc]
    for m in mentions:
        assert any(m in msg for msg in msgs), f"{loc}: {m!r} not mentioned in {msgs}"
    return msgs[0]


# ------------------------------------------------------------------------------ valid input


def test_minimal_scenario_gets_documented_defaults() -> None:
    s = Scenario.from_dict(
        {"name": "t", "lines": [{"locality": "a", "program": "p", "fund": "f", "allocated": 5, "capacity": 3}]}
    )
    assert s.unit == "million VND"
    assert s.precision == Decimal(1)
    assert s.localities is None and s.transfer_costs is None
    ln = s.lines[0]
    assert ln.component == "" and ln.disbursed == 0 and ln.floor is None and ln.ceiling is None
    assert s.rules.pool_by == ("program", "fund")
    assert s.rules.recipients == "proportional" and s.rules.donors == "proportional"
    assert s.rules.min_transfer == 0


def test_boundary_equalities_are_valid() -> None:
    # disbursed == allocated, capacity == disbursed, floor == disbursed / allocated, ceiling == allocated
    s = Scenario.from_dict(
        data(
            line(locality="a", allocated=50, disbursed=50, capacity=50, floor=50, ceiling=50),
            line(locality="b", allocated=50, disbursed=10, capacity=10, floor=10),
            line(locality="c", allocated=0, capacity=0),
        )
    )
    assert len(s.lines) == 3


def test_same_key_but_different_component_is_not_a_duplicate() -> None:
    s = Scenario.from_dict(data(line(component="x"), line(component="y")))
    assert [ln.component for ln in s.lines] == ["x", "y"]


def test_scenario_error_is_a_value_error_and_reallocate_error() -> None:
    exc = invalid(data(line(capacity=-1)))
    assert isinstance(exc, ValueError)
    assert isinstance(exc, reallocate.ReallocateError)


def test_direct_construction_raises_pydantic_validation_error() -> None:
    with pytest.raises(ValidationError):
        Scenario.model_validate(data(line(capacity=-1)))


# ----------------------------------------------------------------- one test per validation rule


@pytest.mark.parametrize("field", ["allocated", "disbursed", "capacity", "floor", "ceiling"])
def test_negative_amount_is_rejected(field: str) -> None:
    exc = invalid(data(line(**{field: -7})))
    msg = assert_problem(exc, ("lines", 0, field), "-7")
    assert "lines[0]." + field in msg


def test_negative_min_transfer_is_rejected() -> None:
    exc = invalid(data(rules={"min_transfer": -5}))
    assert_problem(exc, ("rules", "min_transfer"), "-5")


@pytest.mark.parametrize("bad", ["NaN", "nan", "Infinity", "-Infinity", "inf", float("nan"), float("inf")])
def test_non_finite_amount_is_rejected(bad: Any) -> None:
    exc = invalid(data(line(capacity=bad)))
    assert_problem(exc, ("lines", 0, "capacity"), "finite")


@pytest.mark.parametrize("field", ["allocated", "disbursed", "capacity", "floor", "ceiling"])
@pytest.mark.parametrize("bad", [True, False])
def test_bool_amount_is_rejected(field: str, bad: bool) -> None:
    exc = invalid(data(line(**{field: bad})))
    assert_problem(exc, ("lines", 0, field), str(bad))


def test_bool_min_transfer_and_precision_are_rejected() -> None:
    exc = invalid(data(precision=True, rules={"min_transfer": True}))
    assert ("precision",) in problems(exc)
    assert ("rules", "min_transfer") in problems(exc)


def test_amount_that_is_not_a_number_is_rejected() -> None:
    exc = invalid(data(line(allocated="12abc")))
    assert_problem(exc, ("lines", 0, "allocated"), "12abc")


@pytest.mark.parametrize("precision", [0, -1, "-0.5", "NaN"])
def test_precision_must_be_positive_and_finite(precision: Any) -> None:
    exc = invalid(data(precision=precision))
    loc, _ = only_problem(exc)
    assert loc == ("precision",)


@pytest.mark.parametrize("field", ["allocated", "disbursed", "capacity", "floor", "ceiling"])
def test_amount_not_multiple_of_precision_is_rejected(field: str) -> None:
    # a valid line at precision 0.5, except the field under test (x.25 or x.75) which keeps every relation
    base = {"allocated": "1.5", "disbursed": "0.5", "capacity": "1.5", "floor": "1.0", "ceiling": "2.0"}
    bad = {"allocated": "1.75", "disbursed": "0.75", "capacity": "1.75", "floor": "0.75", "ceiling": "2.25"}
    base[field] = bad[field]
    exc = invalid(data(line(**base), precision="0.5"))
    assert_problem(exc, ("lines", 0, field), bad[field], "0.5", "precision")


def test_min_transfer_not_multiple_of_precision_is_rejected() -> None:
    exc = invalid(data(line(allocated="10.00", capacity="10.00"), precision="0.01", rules={"min_transfer": "0.005"}))
    loc, msg = only_problem(exc)
    assert loc == ("rules", "min_transfer")
    assert "0.005" in msg and "0.01" in msg


def test_precision_other_than_power_of_ten() -> None:
    s = Scenario.from_dict(data(line(allocated="1.5", capacity="0.75", disbursed="0.25"), precision="0.25"))
    assert s.table.allocated.tolist() == [6] and s.table.capacity.tolist() == [3]
    exc = invalid(data(line(allocated="1.6", capacity="0.75"), precision="0.25"))
    assert_problem(exc, ("lines", 0, "allocated"), "1.6", "0.25")


def test_disbursed_above_allocated() -> None:
    exc = invalid(data(line(allocated=40, disbursed=41, capacity=41)))
    loc, msg = only_problem(exc)
    assert loc == ("lines", 0, "disbursed")
    assert "41" in msg and "40" in msg


def test_capacity_below_disbursed() -> None:
    exc = invalid(data(line(allocated=40, disbursed=30, capacity=29)))
    loc, msg = only_problem(exc)
    assert loc == ("lines", 0, "capacity")
    assert "29" in msg and "30" in msg


def test_floor_below_disbursed() -> None:
    exc = invalid(data(line(allocated=40, disbursed=30, capacity=35, floor=29)))
    loc, msg = only_problem(exc)
    assert loc == ("lines", 0, "floor")
    assert "29" in msg and "30" in msg


def test_floor_above_allocated() -> None:
    exc = invalid(data(line(allocated=40, capacity=35, floor=41)))
    loc, msg = only_problem(exc)
    assert loc == ("lines", 0, "floor")
    assert "41" in msg and "40" in msg


def test_ceiling_below_allocated() -> None:
    exc = invalid(data(line(allocated=40, capacity=35, ceiling=39)))
    loc, msg = only_problem(exc)
    assert loc == ("lines", 0, "ceiling")
    assert "39" in msg and "40" in msg


def test_duplicate_line_key() -> None:
    exc = invalid(data(line(locality="a"), line(locality="b"), line(locality="a", allocated=7, capacity=7)))
    loc, msg = only_problem(exc)
    assert loc == ("lines", 2)
    assert "lines[0]" in msg  # points at the first occurrence
    assert "a/p/f" in msg


def test_line_locality_must_be_listed() -> None:
    exc = invalid(data(line(locality="a"), line(locality="zz"), localities=[{"id": "a"}]))
    loc, msg = only_problem(exc)
    assert loc == ("lines", 1, "locality")
    assert "zz" in msg


def test_unlisted_locality_is_fine_without_localities() -> None:
    s = Scenario.from_dict(data(line(locality="a"), line(locality="zz")))
    assert s.locality_labels() == {"a": "a", "zz": "zz"}


def test_duplicate_locality_id() -> None:
    exc = invalid(data(localities=[{"id": "a"}, {"id": "a", "name": "Again"}]))
    loc, msg = only_problem(exc)
    assert loc == ("localities", 1, "id")
    assert "'a'" in msg


def test_negative_locality_weight() -> None:
    exc = invalid(data(localities=[{"id": "a", "weight": -0.5}]))
    loc, msg = only_problem(exc)
    assert loc == ("localities", 0, "weight")
    assert "-0.5" in msg


@pytest.mark.parametrize("attr", ["allocated", "name", "weight", "district", ""])
def test_pool_by_names_only_line_attributes(attr: str) -> None:
    exc = invalid(data(rules={"pool_by": ["program", attr]}))
    loc, msg = only_problem(exc)
    assert loc == ("rules", "pool_by", 1)
    assert repr(attr) in msg


@pytest.mark.parametrize("attr", ["locality", "program", "fund", "component"])
def test_pool_by_accepts_every_line_key(attr: str) -> None:
    s = Scenario.from_dict(data(rules={"pool_by": [attr]}))
    assert s.rules.pool_by == (attr,)


def test_pool_by_empty_means_one_pool() -> None:
    s = Scenario.from_dict(data(line(program="x"), line(program="y"), rules={"pool_by": []}))
    assert len(s.table.pool_keys) == 1


def test_pool_by_duplicate_name() -> None:
    exc = invalid(data(rules={"pool_by": ["fund", "fund"]}))
    loc, msg = only_problem(exc)
    assert loc == ("rules", "pool_by", 1)
    assert "fund" in msg


@pytest.mark.parametrize("side", ["recipients", "donors"])
def test_share_rule_must_be_known(side: str) -> None:
    exc = invalid(data(rules={side: "random"}))
    loc, msg = only_problem(exc)
    assert loc == ("rules", side)
    assert "random" in msg


def test_at_least_one_line() -> None:
    exc = invalid({"name": "t", "lines": []})
    loc, _ = only_problem(exc)
    assert loc == ("lines",)


@pytest.mark.parametrize("missing", ["name", "lines"])
def test_required_top_level_fields(missing: str) -> None:
    d = data()
    del d[missing]
    exc = invalid(d)
    loc, _ = only_problem(exc)
    assert loc == (missing,)


@pytest.mark.parametrize("missing", ["locality", "program", "fund", "allocated", "capacity"])
def test_required_line_fields(missing: str) -> None:
    ln = line()
    del ln[missing]
    exc = invalid(data(ln))
    assert ("lines", 0, missing) in problems(exc)


@pytest.mark.parametrize("field", ["locality", "program", "fund"])
def test_line_key_must_not_be_empty(field: str) -> None:
    exc = invalid(data(line(**{field: ""})))
    assert ("lines", 0, field) in problems(exc)


def test_transfer_cost_negative() -> None:
    exc = invalid(data(line(locality="a"), line(locality="b"), transfer_costs=[{"from": "a", "to": "b", "cost": -2}]))
    loc, msg = only_problem(exc)
    assert loc == ("transfer_costs", 0, "cost")
    assert "-2" in msg


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_transfer_cost_not_finite(bad: float) -> None:
    exc = invalid(data(line(locality="a"), line(locality="b"), transfer_costs=[{"from": "a", "to": "b", "cost": bad}]))
    loc, _ = only_problem(exc)
    assert loc == ("transfer_costs", 0, "cost")


def test_transfer_cost_names_unknown_locality() -> None:
    exc = invalid(
        data(
            line(locality="a"),
            line(locality="b"),
            transfer_costs=[{"from": "a", "to": "b", "cost": 1}, {"from": "qq", "to": "ww", "cost": 1}],
        )
    )
    assert_problem(exc, ("transfer_costs", 1, "from"), "qq")
    assert_problem(exc, ("transfer_costs", 1, "to"), "ww")
    assert len(exc.errors) == 2


def test_transfer_cost_missing_from_is_reported_by_its_json_name() -> None:
    exc = invalid(data(line(locality="a"), line(locality="b"), transfer_costs=[{"to": "b", "cost": 1}]))
    loc, _ = only_problem(exc)
    assert loc == ("transfer_costs", 0, "from")


def test_transfer_cost_duplicate_pair() -> None:
    tc = [{"from": "a", "to": "b", "cost": 1}, {"from": "b", "to": "a", "cost": 1}, {"from": "a", "to": "b", "cost": 2}]
    exc = invalid(data(line(locality="a"), line(locality="b"), transfer_costs=tc))
    loc, msg = only_problem(exc)
    assert loc == ("transfer_costs", 2)
    assert "transfer_costs[0]" in msg


def test_amount_too_large_for_exact_integer_units() -> None:
    big = 2**62  # units of precision 1
    exc = invalid(data(line(allocated=big, capacity=big)))
    found = problems(exc)
    assert ("lines", 0, "allocated") in found and ("lines", 0, "capacity") in found
    assert str(big) in found[("lines", 0, "allocated")][0]


def test_total_too_large_for_exact_integer_units() -> None:
    half = 2**61  # each line fits, the total does not
    exc = invalid(data(line(locality="a", allocated=half, capacity=1), line(locality="b", allocated=half, capacity=1)))
    assert ("lines",) in problems(exc)


# ------------------------------------------------------------------------------ unknown fields


@pytest.mark.parametrize(
    ("where", "expected_loc"),
    [
        ("top", ("colour",)),
        ("line", ("lines", 0, "colour")),
        ("locality", ("localities", 0, "colour")),
        ("rules", ("rules", "colour")),
        ("transfer_cost", ("transfer_costs", 0, "colour")),
    ],
)
def test_unknown_field_is_rejected_at_its_path(where: str, expected_loc: tuple[Any, ...]) -> None:
    d = data(
        line(locality="a"),
        line(locality="b"),
        localities=[{"id": "a"}, {"id": "b"}],
        transfer_costs=[{"from": "a", "to": "b", "cost": 1}],
    )
    target = {
        "top": d,
        "line": d["lines"][0],
        "locality": d["localities"][0],
        "rules": d.setdefault("rules", {}),
        "transfer_cost": d["transfer_costs"][0],
    }[where]
    target["colour"] = "blue"
    exc = invalid(d)
    loc, msg = only_problem(exc)
    assert loc == expected_loc
    assert "blue" in msg


def test_python_attribute_name_from_underscore_is_not_the_public_name() -> None:
    # the public JSON name is "from"; writing "from_" is an unknown field, not a silent alias
    with pytest.raises(ScenarioError):
        Scenario.from_json(
            json.dumps(
                data(line(locality="a"), line(locality="b"), transfer_costs=[{"from_": "a", "to": "b", "cost": 1}])
            )
        )


# ------------------------------------------------------------------------- all problems at once


def test_all_cross_field_problems_are_reported_together() -> None:
    d = data(
        line(locality="a", allocated=40, disbursed=41, capacity=41),  # disbursed > allocated
        line(locality="b", allocated=40, disbursed=30, capacity=29),  # capacity < disbursed
        line(locality="c", allocated=40, capacity=40, floor=41, ceiling=39),  # floor > alloc, ceiling < alloc
        line(locality="a", allocated=1, capacity=1),  # duplicate of lines[0]
        line(locality="zz"),  # not listed
        localities=[{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "a"}],  # duplicate id
        rules={"pool_by": ["fund", "fund"]},
    )
    exc = invalid(d)
    assert set(problems(exc)) == {
        ("lines", 0, "disbursed"),
        ("lines", 1, "capacity"),
        ("lines", 2, "floor"),
        ("lines", 2, "ceiling"),
        ("lines", 3),
        ("lines", 4, "locality"),
        ("localities", 3, "id"),
        ("rules", "pool_by", 1),
    }
    text = str(exc)
    assert text.startswith("invalid scenario: 8 problems")
    for path in (
        "lines[0].disbursed",
        "lines[1].capacity",
        "lines[2].floor",
        "lines[2].ceiling",
        "lines[3]",
        "lines[4].locality",
        "localities[3].id",
        "rules.pool_by[1]",
    ):
        assert path in text


def test_all_field_problems_are_reported_together() -> None:
    d = data(
        line(locality="a", capacity=-1, colour=1),
        line(locality="b", allocated="NaN"),
        line(locality="c", disbursed=True),
        rules={"recipients": "x"},
        transfer_costs=[{"from": "a", "to": "b", "cost": -3}],
    )
    exc = invalid(d)
    assert {
        ("lines", 0, "capacity"),
        ("lines", 0, "colour"),
        ("lines", 1, "allocated"),
        ("lines", 2, "disbursed"),
        ("rules", "recipients"),
        ("transfer_costs", 0, "cost"),
    } <= set(problems(exc))


def test_invalid_line_does_not_produce_a_spurious_empty_lines_error() -> None:
    # bad fields in a non-empty list of lines: the only problems are those fields, not "lines is empty"
    exc = invalid(data(line(capacity=-1)))
    assert set(problems(exc)) == {("lines", 0, "capacity")}, str(exc)
    exc = invalid(data(line(locality="a", colour=1), line(locality="b", allocated="NaN")))
    assert set(problems(exc)) == {("lines", 0, "colour"), ("lines", 1, "allocated")}, str(exc)


def test_field_and_cross_field_problems_are_reported_together() -> None:
    # a bad amount on one line must not hide the duplicate key / unknown locality of others
    d = data(
        line(locality="a", capacity=-1),
        line(locality="b"),
        line(locality="b"),
        line(locality="zz"),
        localities=[{"id": "a"}, {"id": "b"}],
    )
    exc = invalid(d)
    found = set(problems(exc))
    assert {("lines", 0, "capacity"), ("lines", 2), ("lines", 3, "locality")} <= found, str(exc)


def test_value_not_multiple_of_precision_does_not_trigger_false_relation_errors() -> None:
    # capacity 5.5 (precision 1) is wrong only because it is not a multiple: it is above disbursed 1
    exc = invalid(data(line(allocated=10, disbursed=1, capacity="5.5")))
    loc, msg = only_problem(exc)
    assert loc == ("lines", 0, "capacity")
    assert "precision" in msg


def test_messages_carry_no_placeholder_input() -> None:
    # problems about a whole line (duplicates) have no single input value: the message must not say "got None"
    exc = invalid(data(line(), line()))
    assert all("got None" not in m for m in exc.messages), exc.messages


# ------------------------------------------------------------------------ exact decimals, JSON


def test_json_numbers_are_read_exactly() -> None:
    text = (
        '{"name": "big", "precision": 0.01, "lines": [{"locality": "a", "program": "p", "fund": "f",'
        ' "allocated": 12345678901234567.25, "capacity": 0.1, "disbursed": 0.07}]}'
    )
    s = Scenario.from_json(text)
    ln = s.lines[0]
    assert ln.allocated == Decimal("12345678901234567.25")
    assert ln.capacity == Decimal("0.1") and ln.disbursed == Decimal("0.07")
    assert s.precision == Decimal("0.01")
    assert s.table.allocated.tolist() == [1234567890123456725]
    assert s.table.capacity.tolist() == [10]
    # and written back digit for digit
    assert "12345678901234567.25" in s.to_json()
    again = Scenario.from_json(s.to_json())
    assert again.lines[0].allocated == ln.allocated


def test_model_validate_json_is_exact_too() -> None:
    text = (
        '{"name": "t", "precision": 0.01, "lines": [{"locality": "a", "program": "p", "fund": "f", '
        '"allocated": 9007199254740993.01, "capacity": 1}]}'
    )
    s = Scenario.model_validate_json(text)
    assert s.lines[0].allocated == Decimal("9007199254740993.01")


def test_json_exponent_numbers() -> None:
    s = Scenario.from_json(
        '{"name": "t", "lines": [{"locality": "a", "program": "p", "fund": "f", "allocated": 1.5e3, "capacity": 2E+2}]}'
    )
    assert s.lines[0].allocated == 1500 and s.lines[0].capacity == 200


def test_amounts_may_be_strings() -> None:
    s = Scenario.from_json(
        '{"name": "t", "precision": "0.25", "rules": {"min_transfer": "0.50"}, "lines": [{"locality": "a", '
        '"program": "p", "fund": "f", "allocated": "1500.25", "disbursed": "0.5", "capacity": "1000", '
        '"floor": "0.75", "ceiling": "2000"}]}'
    )
    ln = s.lines[0]
    assert (ln.allocated, ln.disbursed, ln.capacity, ln.floor, ln.ceiling) == (
        Decimal("1500.25"),
        Decimal("0.5"),
        Decimal("1000"),
        Decimal("0.75"),
        Decimal("2000"),
    )
    assert s.precision == Decimal("0.25") and s.rules.min_transfer == Decimal("0.5")


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_json_non_finite_constants_are_rejected_with_the_field(token: str) -> None:
    text = (
        '{"name": "t", "lines": [{"locality": "a", "program": "p", "fund": "f", "allocated": 5, '
        f'"capacity": {token}}}]}}'
    )
    with pytest.raises(ScenarioError) as info:
        Scenario.from_json(text)
    assert_problem(info.value, ("lines", 0, "capacity"), "finite")


def test_json_negative_and_bool_are_rejected() -> None:
    text = (
        '{"name": "t", "lines": [{"locality": "a", "program": "p", "fund": "f", "allocated": true, "capacity": -0.5}]}'
    )
    with pytest.raises(ScenarioError) as info:
        Scenario.from_json(text)
    found = problems(info.value)
    assert ("lines", 0, "allocated") in found
    assert_problem(info.value, ("lines", 0, "capacity"), "-0.5")


@pytest.mark.parametrize("text", ['{"name": ', "", "[1, 2", "{'name': 't'}"])
def test_invalid_json_text(text: str) -> None:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_json(text)
    assert "JSON" in str(info.value)


def test_json_that_is_not_an_object() -> None:
    with pytest.raises(ScenarioError):
        Scenario.from_json("[1, 2, 3]")


def test_json_bytes_with_bom() -> None:
    raw = (
        '\ufeff{"name": "Quảng Nam", "lines": [{"locality": "a", "program": "p", "fund": "f", '
        '"allocated": 1, "capacity": 1}]}'
    )
    s = Scenario.from_json(raw.encode("utf-8"))
    assert s.name == "Quảng Nam"
    assert Scenario.from_json(raw).name == "Quảng Nam"


# -------------------------------------------------------------------------------------- load()


def test_load_reads_a_json_file(tmp_path: Any) -> None:
    d = data(
        line(locality="nam-tra-my", allocated="10.5", capacity="3.25"),
        precision="0.25",
        localities=[{"id": "nam-tra-my", "name": "Nam Trà My", "weight": 0.52, "tags": {"mountainous": True}}],
    )
    path = tmp_path / "s.json"
    path.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    s = reallocate.load(path)
    assert s.lines[0].allocated == Decimal("10.5") and s.lines[0].capacity == Decimal("3.25")
    assert s.locality_labels() == {"nam-tra-my": "Nam Trà My"}
    assert s.localities is not None and s.localities[0].tags == {"mountainous": True}
    assert reallocate.load(str(path)).lines == s.lines


def test_load_reports_problems_of_the_file(tmp_path: Any) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data(line(capacity=-3))), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        reallocate.load(path)
    assert_problem(info.value, ("lines", 0, "capacity"), "-3")


def test_load_missing_file_raises_oserror(tmp_path: Any) -> None:
    with pytest.raises(OSError):
        reallocate.load(tmp_path / "nope.json")


def test_to_json_round_trip() -> None:
    d = data(
        line(locality="a", allocated="10.5", capacity="3", floor="1", ceiling="20", component="c1"),
        line(locality="b", allocated="1", capacity="2"),
        precision="0.5",
        localities=[{"id": "a", "name": "A", "weight": 2}, {"id": "b"}],
        rules={"pool_by": ["fund"], "recipients": "priority", "min_transfer": "1.5"},
        transfer_costs=[{"from": "a", "to": "b", "cost": 0.5}],
    )
    s = Scenario.from_dict(d)
    text = s.to_json()
    assert '"from"' in text and '"from_"' not in text
    assert Scenario.from_json(text).model_dump() == s.model_dump()


# -------------------------------------------------------------------------------- from_frames


def lines_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "locality": ["a", "b", "c"],
            "program": ["p", "p", "p"],
            "fund": ["f", "f", "f"],
            "allocated": [10, 20, 30],
            "disbursed": [1, 2, 3],
            "capacity": [5, 30, 30],
            "floor": [np.nan, 3.0, np.nan],
        }
    )


def test_from_frames_builds_the_same_scenario_as_json() -> None:
    s = Scenario.from_frames(lines_frame(), name="frames", precision=1)
    want = Scenario.from_dict(
        {
            "name": "frames",
            "lines": [
                line(locality="a", allocated=10, disbursed=1, capacity=5),
                line(locality="b", allocated=20, disbursed=2, capacity=30, floor=3),
                line(locality="c", allocated=30, disbursed=3, capacity=30),
            ],
        }
    )
    assert s.lines == want.lines
    assert s.name == "frames"


def test_from_frames_nan_floor_means_not_given() -> None:
    s = Scenario.from_frames(lines_frame())
    assert s.lines[0].floor is None and s.lines[2].floor is None
    assert s.lines[1].floor == 3
    # not given: the floor defaults to disbursed, so line a's surplus is allocated - capacity
    assert s.table.floor.tolist() == [1, 3, 3]


def test_from_frames_missing_column_is_named() -> None:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_frames(lines_frame().drop(columns=["capacity"]))
    loc, msg = only_problem(info.value)
    assert loc == ("lines",)
    assert "capacity" in msg


def test_from_frames_unknown_line_column_is_named() -> None:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_frames(lines_frame().assign(colour="blue"))
    loc, msg = only_problem(info.value)
    assert loc == ("lines",)
    assert "colour" in msg


def test_from_frames_row_errors_point_at_row_positions() -> None:
    frame = lines_frame()
    frame.index = [100, 200, 300]  # positions, not labels
    frame.loc[300, "capacity"] = -4
    with pytest.raises(ScenarioError) as info:
        Scenario.from_frames(frame)
    assert_problem(info.value, ("lines", 2, "capacity"), "-4")


def test_from_frames_localities_extra_columns_become_tags() -> None:
    localities = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "name": ["Nam Trà My", "Tây Giang", np.nan],
            "weight": [0.52, np.nan, 0.1],
            "mountainous": [True, True, False],
            "region": ["west", np.nan, "coast"],
        }
    )
    s = Scenario.from_frames(lines_frame(), localities, rules=Rules(recipients="priority"))
    assert s.localities is not None
    by_id = {loc.id: loc for loc in s.localities}
    assert by_id["a"].tags == {"mountainous": True, "region": "west"}
    assert by_id["b"].tags == {"mountainous": True}  # NaN tag is "not given"
    assert by_id["c"].tags == {"mountainous": False, "region": "coast"}
    assert by_id["a"].weight == 0.52 and by_id["b"].weight == 1.0  # NaN weight -> default
    assert by_id["c"].name is None
    assert s.locality_labels() == {"a": "Nam Trà My", "b": "Tây Giang", "c": "c"}
    assert s.rules.recipients == "priority"


def test_from_frames_localities_missing_id_column() -> None:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_frames(lines_frame(), pd.DataFrame({"name": ["A"]}))
    loc, msg = only_problem(info.value)
    assert loc == ("localities",)
    assert "id" in msg


def test_from_frames_rules_as_mapping_and_precision_and_costs() -> None:
    frame = pd.DataFrame(
        {
            "locality": ["a", "b"],
            "program": ["p", "p"],
            "fund": ["f", "f"],
            "allocated": ["1.50", "0.25"],
            "capacity": ["0.50", "2.00"],
        }
    )
    costs = pd.DataFrame({"from": ["a"], "to": ["b"], "cost": [0.5]})
    s = Scenario.from_frames(
        frame, rules={"pool_by": ["fund"], "min_transfer": "0.25"}, precision="0.25", unit="VND", transfer_costs=costs
    )
    assert s.precision == Decimal("0.25") and s.unit == "VND"
    assert s.rules.pool_by == ("fund",) and s.rules.min_transfer == Decimal("0.25")
    assert s.transfer_costs is not None and s.transfer_costs[0].from_ == "a"
    assert s.lines[0].allocated == Decimal("1.50")


def test_from_frames_validates_cross_field_rules() -> None:
    frame = lines_frame()
    frame.loc[1, "disbursed"] = 25  # above allocated 20
    with pytest.raises(ScenarioError) as info:
        Scenario.from_frames(frame)
    assert_problem(info.value, ("lines", 1, "disbursed"), "25")


# ------------------------------------------------------------------------------------- schema


def test_json_schema_has_the_public_names() -> None:
    schema = Scenario.model_json_schema(by_alias=True)
    json.dumps(schema)  # serialisable
    assert set(schema["properties"]) == {"name", "unit", "precision", "localities", "lines", "rules", "transfer_costs"}
    assert set(schema["required"]) == {"name", "lines"}
    assert schema["additionalProperties"] is False
    defs = schema["$defs"]
    # the core contract's names (later issues may add optional fields, never rename these)
    assert set(defs["Line"]["properties"]) >= {
        "locality",
        "program",
        "fund",
        "component",
        "allocated",
        "disbursed",
        "capacity",
        "floor",
        "ceiling",
    }
    assert set(defs["Line"]["required"]) == {"locality", "program", "fund", "allocated", "capacity"}
    assert set(defs["Locality"]["properties"]) >= {"id", "name", "weight", "tags"}
    assert set(defs["Rules"]["properties"]) >= {"pool_by", "recipients", "donors", "min_transfer"}
    assert set(defs["TransferCost"]["properties"]) == {"from", "to", "cost"}
    assert "from" in defs["TransferCost"]["required"]
    for name in ("Line", "Locality", "Rules", "TransferCost"):
        assert defs[name]["additionalProperties"] is False, name
    assert set(defs["Rules"]["properties"]["pool_by"]["items"]["enum"]) == {"locality", "program", "fund", "component"}
    assert set(defs["Rules"]["properties"]["recipients"]["enum"]) == {"proportional", "priority"}


def test_json_schema_amounts_accept_numbers_and_strings() -> None:
    props = Scenario.model_json_schema(by_alias=True)["$defs"]["Line"]["properties"]
    types = {alt.get("type") for alt in props["allocated"]["anyOf"]}
    assert {"number", "string"} <= types


# ------------------------------------------------------------------------------------ dataset


def _dataset_rows(name: str) -> list[dict[str, str]]:
    """The bundled CSV, read here with the csv module (wherever the package keeps it)."""
    (path,) = [p for p in Path(reallocate.datasets.__file__).parent.rglob(name) if "quang" in str(p.parent).lower()]
    return list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))


def test_dataset_loads_with_weights_from_poverty_rate() -> None:
    s = quang_nam_2023()
    rows = _dataset_rows("localities.csv")
    assert len(s.lines) == 92
    assert s.localities is not None and len(s.localities) == 18 == len(rows)
    by_id = {loc.id: loc for loc in s.localities}
    for r in rows:
        loc = by_id[r["id"]]
        assert loc.name == r["name"]
        assert loc.weight == pytest.approx(int(r["poverty_rate_pct"]) / 100)
        assert loc.tags["mountainous"] is (r["mountainous"] == "1")
    assert by_id["nam-tra-my"].name == "Nam Trà My"
    assert sum(1 for loc in s.localities if loc.tags["mountainous"]) == 9  # the 9 mountainous districts


def test_dataset_lines_match_the_csv_and_published_total() -> None:
    s = quang_nam_2023()
    rows = _dataset_rows("lines.csv")
    assert [(ln.locality, ln.program, ln.fund) for ln in s.lines] == [
        (r["locality"], r["program"], r["fund"]) for r in rows
    ]
    assert [ln.allocated for ln in s.lines] == [Decimal(r["allocated"]) for r in rows]
    # central NTP capital 2023: 2,489 bn VND = 2,489,000 million VND (SOURCES.md)
    assert sum(ln.allocated for ln in s.lines) == Decimal(2_489_000)
    assert s.unit == "million VND"
    assert {ln.fund for ln in s.lines} == {"investment", "recurrent"}
    assert {ln.program for ln in s.lines} == {"ntm", "gnbv", "dtts"}


def test_dataset_function_survives_a_call() -> None:
    quang_nam_2023()
    # the public entry point must still be the function after it has been used once
    assert callable(reallocate.datasets.quang_nam_2023)
    assert len(reallocate.datasets.quang_nam_2023().lines) == 92


def test_dataset_rules_override() -> None:
    s = quang_nam_2023(rules={"recipients": "priority", "donors": "priority"})
    assert s.rules.recipients == "priority" and s.rules.donors == "priority"
    with pytest.raises(ScenarioError):
        quang_nam_2023(rules={"pool_by": ["district"]})
