"""The sweep notebook runs from top to bottom, on every ``make test``."""

from __future__ import annotations

from notebook_run import run_notebook


def test_the_sweep_notebook_runs_and_shows_its_results() -> None:
    outputs, text = run_notebook("sweep_quang_nam.ipynb")
    # the published baseline, the grid's size, the row that equals its own solve
    assert "57.9% → 63.7%" in text
    assert "10 variants: 10 with a plan, 0 without" in text
    assert "0.8 yes 54.7% True" in text
    assert "40 variants: 40 with a plan, 0 without" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the tornado chart in English and in Vietnamese
