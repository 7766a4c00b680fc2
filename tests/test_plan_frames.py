"""``plan.lines`` and ``plan.transfers`` as pandas users expect: numbers pandas computes with,
locality names and the reason of each line; exact amounts in ``exact_lines`` / ``exact_transfers``."""

from __future__ import annotations

from decimal import Decimal

import matplotlib
import numpy as np
import pandas as pd
import pytest

from reallocate import Plan, Scenario, solve
from reallocate.datasets import quang_nam_2023

matplotlib.use("Agg")

AMOUNTS = [
    "allocated",
    "disbursed",
    "capacity",
    "surplus",
    "room",
    "final",
    "change",
    "absorbable_before",
    "absorbable_after",
]


@pytest.fixture(scope="module")
def plan() -> Plan:
    return solve(quang_nam_2023())


def test_amounts_are_numbers_pandas_can_plot_and_describe(plan: Plan) -> None:
    lines = plan.lines
    for col in AMOUNTS:
        assert pd.api.types.is_integer_dtype(lines[col]), (col, lines[col].dtype)
    stats = lines.describe()
    assert set(AMOUNTS) <= set(stats.columns)
    ax = lines.head(10).plot.bar(x="name", y="final")
    assert len(ax.patches) == 10
    matplotlib.pyplot.close("all")
    # the numbers are the exact amounts (precision 1: whole million VND)
    exact = plan.exact_lines()
    for col in AMOUNTS:
        assert [Decimal(int(v)) for v in lines[col]] == list(exact[col]), col
    assert int(lines["change"].sum()) == 0
    assert plan.transfers["amount"].dtype == np.int64 and plan.transfers["cost"].dtype == np.float64
    assert int(plan.transfers["amount"].sum()) == int(plan.summary.moved)


def test_lines_carry_the_locality_name_and_the_reason(plan: Plan) -> None:
    lines = plan.lines
    assert list(lines.columns[:2]) == ["locality", "name"] and lines.columns[-1] == "reason"
    names = plan.scenario.locality_labels()
    assert list(lines["name"]) == [names[x] for x in lines["locality"]]
    assert "Nam Trà My" in set(lines["name"])
    assert plan.explain is not None
    assert list(lines["reason"]) == list(plan.explain.lines["reason"])
    by_reason = lines.groupby("reason")["change"].sum()
    # lines that gave, gave; lines that received, received
    assert by_reason["kept_surplus"] < 0 < by_reason["received_all_room"]
    assert by_reason.get("no_room_in_pool", 0) == 0


def _two_lines(precision: str, allocated: str, capacity: str) -> Scenario:
    return Scenario.from_dict(
        {
            "name": "p",
            "precision": precision,
            "lines": [
                {"locality": "a", "program": "p", "fund": "f", "allocated": allocated, "capacity": "0"},
                {"locality": "b", "program": "p", "fund": "f", "allocated": "0", "capacity": capacity},
            ],
        }
    )


def test_fractional_precision_gives_floats_close_to_the_exact_amounts() -> None:
    plan = solve(_two_lines("0.01", "10.05", "3.33"))
    lines = plan.lines
    assert lines["final"].dtype == np.float64
    exact = plan.exact_lines()
    assert list(exact["final"]) == [Decimal("6.72"), Decimal("3.33")]
    assert lines["final"].tolist() == [6.72, 3.33]


def test_amounts_beyond_int64_fall_back_to_floats() -> None:
    # 4 * 10^15 units of precision 10^4: 4 * 10^19 does not fit an int64
    plan = solve(_two_lines("10000", "40000000000000000000", "20000000000000000000"))
    lines = plan.lines
    assert lines["final"].dtype == np.float64
    assert lines["final"].tolist() == [2e19, 2e19]
    assert list(plan.exact_lines()["final"]) == [Decimal("20000000000000000000")] * 2


def test_a_plan_without_lines_has_the_same_columns() -> None:
    plan = solve(quang_nam_2023(rules={"target_rate": 1.0}))
    assert not plan.found
    assert list(plan.lines.columns) == ["locality", "name", *[c for c in plan.exact_lines().columns][1:], "reason"]


def test_fractional_amounts_are_the_nearest_double() -> None:
    # 3 units of 0.1 is 0.3, not 3 * 0.1 = 0.30000000000000004
    plan = solve(_two_lines("0.1", "0.3", "0.2"))
    assert plan.lines["allocated"].tolist() == [0.3, 0.0]
    plan = solve(_two_lines("0.01", "1.15", "1.15"))
    assert plan.lines["allocated"].tolist()[0] == 1.15 and plan.transfers["amount"].tolist() == [1.15]


def test_empty_tables_keep_numeric_dtypes() -> None:
    no_moves = solve(
        Scenario.from_dict(
            {"name": "p", "lines": [{"locality": "a", "program": "p", "fund": "f", "allocated": 3, "capacity": 3}]}
        )
    )
    assert len(no_moves.transfers) == 0
    assert no_moves.transfers["amount"].dtype == np.int64 and no_moves.transfers["cost"].dtype == np.float64
    infeasible = solve(quang_nam_2023(rules={"target_rate": 1.0}))
    assert len(infeasible.lines) == 0 and infeasible.lines["final"].dtype == np.int64
