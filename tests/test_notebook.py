"""The example notebook runs from top to bottom, on every ``make test``."""

from __future__ import annotations

from pathlib import Path

import pytest

from notebook_run import run_notebook

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "what_if_quang_nam.ipynb"


def test_the_what_if_notebook_runs_and_shows_its_results() -> None:
    outputs, text = run_notebook(NOTEBOOK.name)
    # figures from the published totals, and the what-ifs' own results
    assert "57.9% → 63.7%" in text
    assert "infeasible" in text and "short by 904,161" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3  # the three charts


UNCERTAIN = NOTEBOOK.parent / "uncertain_capacity.ipynb"


def test_the_uncertain_capacity_notebook_runs_and_its_figures_hold() -> None:
    import json
    from decimal import Decimal

    import numpy as np

    import reallocate
    from reallocate.labels import amount_text
    from reallocate.uncertainty import Quantile

    outputs, text = run_notebook(UNCERTAIN.name)
    shown = {}
    for line in text.splitlines():
        if line.startswith("{"):
            shown.update(json.loads(line))
    assert [o for o in outputs if "image/png" in o.get("data", {})], "the risk chart"

    # the same figures, computed here from the forecast's draws with a plain minimum per line
    scenario = reallocate.datasets.quang_nam_2023()
    forecast = reallocate.forecast(reallocate.datasets.quang_nam_history(), as_of="2023-09", scenario=scenario)
    draws = forecast.sample(10_000, seed=1)[:, forecast.positions(scenario)]
    allocated = scenario.lines.units("allocated").astype(np.int64)

    def absorbed(plan: reallocate.Plan) -> np.ndarray:
        final = np.array([int(v) for v in plan.exact_lines()["final"]], dtype=np.int64)  # precision 1
        return np.minimum(final[None, :], draws).sum(axis=1)

    pools = scenario.table.pool
    for name in ("expected", "quantile", "cvar"):
        plan = reallocate.solve(scenario, capacity=forecast, objective=name)
        final = np.array([int(v) for v in plan.exact_lines()["final"]], dtype=np.int64)
        # each plan keeps every pool's money and breaks no rule
        assert np.array_equal(np.bincount(pools, final), np.bincount(pools, allocated))
        assert not plan.breaches()
        got = shown["objectives"][name]
        rate = absorbed(plan) / allocated.sum()
        assert got["expected absorbed (million VND)"] == pytest.approx(absorbed(plan).mean(), rel=1e-12)
        assert got["P10 rate"] == pytest.approx(np.quantile(rate, 0.1), rel=1e-12)
        assert got["probability below 90%"] == pytest.approx(np.mean(rate < 0.9))
        assert got["moved (million VND)"] == int(np.maximum(final - allocated, 0).sum())
    moved = {k: v["moved (million VND)"] for k, v in shown["objectives"].items()}
    assert moved["quantile"] < moved["expected"]  # the cautious objective moves least
    # the VSS: the plan for the expectation against the plan on the medians, same draws
    expected = absorbed(reallocate.solve(scenario, capacity=forecast, objective="expected")).mean()
    median = absorbed(reallocate.solve(scenario, capacity=forecast, objective=Quantile(0.5))).mean()
    assert shown["vss"] == pytest.approx(expected - median, rel=1e-9)
    assert expected - median >= 0
    assert f"(VSS): {amount_text(Decimal(round(expected - median)), 'vi')} triệu đồng" in text
