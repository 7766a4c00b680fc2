"""The sweep notebook runs from top to bottom, on every ``make test``."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "sweep_quang_nam.ipynb"


def test_the_sweep_notebook_runs_and_shows_its_results() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    # the published baseline, the grid's size, the row that equals its own solve
    assert "57.9% → 63.7%" in text
    assert "10 variants: 10 with a plan, 0 without" in text
    assert "0.8 yes 54.7% True" in text
    assert "40 variants: 40 with a plan, 0 without" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the tornado chart in English and in Vietnamese
