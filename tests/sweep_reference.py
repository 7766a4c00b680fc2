"""The independent side of the sweep tests: every variant solved by a plain sequential loop of
``apply_changes`` (or a scenario rebuilt from its JSON) and ``solve``, and compared row by row."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from reallocate import Scenario, ScenarioError, solve
from reallocate.whatif import apply_changes

SUMMARY = (
    "allocated",
    "disbursed",
    "absorbable_before",
    "absorbable_after",
    "lapse_before",
    "lapse_after",
    "moved",
    "transfer_count",
    "transfer_cost",
    "rate_before",
    "rate_after",
)

#: a grid over Quảng Nam: mountain capacity (closed form), a council cost (LP stages), a target
#: that no plan meets (infeasible) and a freeze of a locality that does not exist (invalid)
MOUNTAIN = {
    "values": [0.7, 1],
    "changes": [{"kind": "scale_capacity", "where": {"tag": {"mountainous": True}}, "factor": "$value"}],
}
COUNCIL = {
    "off": [],
    "on": [{"kind": "set_rules", "rules": {"pool_by": ["fund"], "move_costs": {"program": 5}}}],
}
TARGET = {"none": [], "all": [{"kind": "set_target", "rate": 1}]}
FREEZE = {"none": [], "nowhere": [{"kind": "freeze", "where": {"locality": "nowhere"}}]}


def grid_changes(axes: dict[str, dict[str, Any]]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The grid's variants written out by hand: (axis values, changes), first axis slowest."""
    out: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [({}, [])]
    for name, spec in axes.items():
        if "values" in spec:
            pairs = [
                (v, [json.loads(json.dumps(c).replace('"$value"', json.dumps(v))) for c in spec["changes"]])
                for v in spec["values"]
            ]
        else:
            pairs = list(spec.items())
        out = [({**a, name: v}, c + list(more)) for a, c in out for v, more in pairs]
    return out


def reference_row(scenario: Scenario | None, error: ScenarioError | None) -> dict[str, Any]:
    if scenario is None:
        assert error is not None
        return {"status": "invalid", "message": "; ".join([error.title, *error.messages])}
    plan = solve(scenario)
    row: dict[str, Any] = {"status": plan.status, "message": plan.message}
    if plan.summary is not None:
        row.update(plan.summary.as_dict())
    return row


def reference_rows(baseline: Scenario, change_sets: list[list[Any]]) -> list[dict[str, Any]]:
    rows = []
    for changes in change_sets:
        try:
            scenario, error = apply_changes(baseline, changes), None
        except ScenarioError as exc:
            scenario, error = None, exc
        rows.append(reference_row(scenario, error))
    return rows


def with_capacity(baseline: Scenario, capacity: dict[tuple[str, str, str, str], int]) -> Scenario:
    """The baseline rebuilt from its JSON with each line's capacity set (precision 1)."""
    data = json.loads(baseline.to_json())
    for line in data["lines"]:
        key = (line["locality"], line["program"], line["fund"], line.get("component", ""))
        line["capacity"] = capacity[key]
    return Scenario.from_dict(data)


def assert_rows_match(frame: pd.DataFrame, expected: list[dict[str, Any]]) -> None:
    """Every row of the sweep equals the sequential solve's: status, message, every figure."""
    assert len(frame) == len(expected)
    assert list(frame["variant"]) == list(range(len(expected)))
    for k, want in enumerate(expected):
        got = frame.iloc[k]
        assert got["status"] == want["status"], (k, got["status"], want)
        assert got["message"] == want["message"], (k, got["message"], want["message"])
        for name in SUMMARY:
            value = got[name]
            if name not in want:
                assert pd.isna(value), (k, name, value)
            elif isinstance(want[name], Decimal) and name != "transfer_cost":
                assert Decimal(int(value)) == want[name], (k, name, value, want[name])
            else:
                assert float(value) == float(want[name]), (k, name, value, want[name])
        assert np.isfinite(got["seconds"]) and got["seconds"] >= 0
