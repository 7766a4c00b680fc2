"""An infeasible scenario's conflict names the scenario's own rules, pools and lines — never an
internal row of the model (the 4-line case below used to list "line rule" four times)."""

from __future__ import annotations

from typing import Any

import pytest

from reallocate import Scenario, solve

PREFIXES = (
    "pool ",
    "rules.",
    "max_loss of locality ",
    "max_gain of locality ",
    "each line can ",
    "whole units",
    "min_transfer / max_transfers_per_line",
)


def _lines(*rows: tuple[str, int, int]) -> list[dict[str, Any]]:
    return [{"locality": loc, "program": "p", "fund": "f", "allocated": a, "capacity": c} for loc, a, c in rows]


CASES = {
    "min_transfer and a target": {
        "lines": _lines(("a", 100, 60), ("b", 100, 70), ("c", 40, 70), ("d", 40, 60)),
        "rules": {"min_transfer": 5, "target_rate": 0.95},
    },
    "costs and a target": {
        "lines": _lines(("a", 100, 60), ("b", 100, 70), ("c", 40, 70), ("d", 40, 60)),
        "rules": {"target_rate": 0.95},
        "transfer_costs": [{"from": "a", "to": "c", "cost": 1}],
    },
    "a locality limit and a target": {
        "lines": _lines(("a", 100, 60), ("b", 10, 70)),
        "rules": {"max_loss": {"amount": 5}, "target_rate": 0.9},
    },
    "max transfers and a target": {
        "lines": _lines(("a", 100, 50), ("b", 10, 40), ("c", 10, 40)),
        "rules": {"max_transfers_per_line": 1, "target_rate": 1.0},
    },
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_conflicts_name_the_scenarios_own_rules(case: str) -> None:
    plan = solve(Scenario.from_dict({"name": case, **CASES[case]}))
    assert plan.status == "infeasible"
    assert plan.explain is not None and plan.explain.diagnosis is not None
    conflict = plan.explain.diagnosis["conflict"]
    assert conflict, plan.message
    for name in conflict:
        assert name.startswith(PREFIXES), name
        assert " rule" not in name.split(":")[0], name
    assert len(conflict) == len(set(conflict))
