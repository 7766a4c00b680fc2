"""The example notebook runs from top to bottom, on every ``make test``."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "what_if_quang_nam.ipynb"


def test_the_what_if_notebook_runs_and_shows_its_results() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    # figures from the published totals, and the what-ifs' own results
    assert "57.9% → 63.7%" in text
    assert "infeasible" in text and "short by 904,161" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3  # the three charts
