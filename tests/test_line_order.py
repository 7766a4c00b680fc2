"""A plan is a function of the scenario's content, not of the order its lines are listed in: ties
(equal shares, equal costs, min_transfer choices) are broken on line keys, so shuffled lines give
the same amounts per line and the same transfers."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reallocate
from reallocate import Scenario, solve
from reallocate.datasets import quang_nam_2023
from test_independent import SETTINGS, small_scenarios


def _by_key(plan: reallocate.Plan) -> tuple[dict[Any, Any], list[Any]]:
    data = plan.to_dict()
    keys = ("locality", "program", "fund", "component")
    finals = {tuple(r[k] for k in keys): r["final"] for r in data["lines"]}
    transfers = sorted(
        (tuple(t[f"from_{k}"] for k in keys), tuple(t[f"to_{k}"] for k in keys), t["amount"]) for t in data["transfers"]
    )
    return finals, transfers


def _shuffled(data: dict[str, Any], seed: int) -> dict[str, Any]:
    lines = list(data["lines"])
    random.Random(seed).shuffle(lines)
    return {**data, "lines": lines}


def _check_shuffled(data: dict[str, Any], seed: int) -> None:
    plan = solve(Scenario.from_dict(data))
    again = solve(Scenario.from_dict(_shuffled(data, seed)))
    assert plan.status == again.status
    if plan.found:
        assert _by_key(plan) == _by_key(again)


@settings(max_examples=30, **SETTINGS)
@given(small_scenarios(max_pools=3, min_transfer=True), st.integers(0, 2**32 - 1))
def test_shuffled_lines_give_the_same_plan(data: dict[str, Any], seed: int) -> None:
    _check_shuffled(data, seed)


@settings(max_examples=25, **SETTINGS)
@given(small_scenarios(max_pools=3, costs=True), st.integers(0, 2**32 - 1))
def test_shuffled_lines_give_the_same_plan_with_costs(data: dict[str, Any], seed: int) -> None:
    _check_shuffled(data, seed)


def test_the_province_shuffled_six_ways_gives_one_plan() -> None:
    base = reallocate.datasets.quang_nam_2023()
    data = base.model_dump(by_alias=True, exclude_none=True)
    data["rules"] = {**data["rules"], "pool_by": ["fund"], "move_costs": {"program": 5}, "min_transfer": 50}
    reference = _by_key(solve(Scenario.from_dict(data)))
    for seed in range(6):
        shuffled = Scenario.from_dict(_shuffled(data, seed))
        plan = solve(shuffled)
        assert _by_key(plan) == reference
        # the explanation follows the lines as listed
        assert plan.explain is not None
        assert plan.explain.lines["locality"].tolist() == [ln.locality for ln in shuffled.lines]


def test_sentences_of_lines_listed_out_of_order_are_written_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # lines listed in reverse key order: the plan is solved in key order and mapped back
    import reallocate.explain.reasons as reasons

    calls = []
    real = reasons._reason_texts

    def counting(*args: Any, **kwargs: Any) -> list[str]:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(reasons, "_reason_texts", counting)
    data = json.loads(quang_nam_2023().to_json())
    data["lines"] = data["lines"][::-1]
    plan = reallocate.solve(reallocate.Scenario.from_dict(data))
    assert plan.explain is not None
    texts = plan.explain.lines["text"].tolist()
    assert len(texts) == 92 and all(texts)
    assert len(calls) == 1  # not once per line (92 times)
