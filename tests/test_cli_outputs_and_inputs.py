"""The CLI never writes over an input, never over an existing file without --force, and reads and
writes '-' as standard input and output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import reallocate
from reallocate.io import write_scenario_excel


def _cli(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run([sys.executable, "-m", "reallocate", *map(str, args)], input=stdin, capture_output=True)
    assert b"Traceback" not in done.stderr and b"internal error" not in done.stderr, done.stderr
    return done


@pytest.fixture()
def scenario_json(tmp_path: Path) -> Path:
    path = tmp_path / "s.json"
    path.write_text(reallocate.datasets.quang_nam_2023().to_json(), encoding="utf-8")
    return path


def test_an_input_is_never_written_over_even_with_force(tmp_path: Path) -> None:
    book = tmp_path / "k.xlsx"
    write_scenario_excel(reallocate.datasets.quang_nam_2023(), book)
    before = book.read_bytes()
    for extra in ([], ["--force"]):
        done = _cli("solve", book, "--out", book, *extra)
        assert done.returncode == 2
        assert b"is an input of this run" in done.stderr
        assert book.read_bytes() == before
    # the Parquet layout writes <name>.json beside <name>.parquet: never over the JSON input
    src = tmp_path / "plan.json"
    src.write_text(reallocate.datasets.quang_nam_2023().to_json(), encoding="utf-8")
    done = _cli("solve", src, "--out", tmp_path / "plan.parquet", "--force")
    assert done.returncode == 2 and b"plan.json is an input" in done.stderr


def test_an_existing_output_needs_force(tmp_path: Path, scenario_json: Path) -> None:
    out = tmp_path / "plan.json"
    out.write_text("keep\n", encoding="utf-8")
    done = _cli("solve", scenario_json, "--out", out)
    assert done.returncode == 2 and b"already exists: add --force" in done.stderr
    assert out.read_text(encoding="utf-8") == "keep\n"
    assert _cli("solve", scenario_json, "--out", out, "--force").returncode == 0
    assert json.loads(out.read_text(encoding="utf-8"))["status"] == "optimal"

    filled = tmp_path / "filled.xlsx"
    write_scenario_excel(reallocate.datasets.quang_nam_2023(), filled)
    before = filled.read_bytes()
    done = _cli("template", filled)
    assert done.returncode == 2 and filled.read_bytes() == before
    assert _cli("template", filled, "--force").returncode == 0 and filled.read_bytes() != before

    charts = tmp_path / "charts"
    charts.mkdir()
    (charts / "flows.png").write_bytes(b"old")
    done = _cli("demo", "--out", tmp_path / "new.json", "--charts", charts)
    assert done.returncode == 2 and (charts / "flows.png").read_bytes() == b"old"
    assert not (tmp_path / "new.json").exists()  # refused before any work, nothing half written


def test_dash_reads_standard_input_and_writes_standard_output(scenario_json: Path) -> None:
    done = _cli("solve", "-", "--format", "json", "--out", "-", stdin=scenario_json.read_bytes())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "optimal"
    assert not Path("-").exists()
    bad = _cli("solve", "-", stdin=b'{"name": "x", "lines": []}')
    assert bad.returncode == 2 and b"lines" in bad.stderr
