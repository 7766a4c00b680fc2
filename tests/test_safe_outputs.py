"""Outputs that cannot hurt: no live formulas in CSV, files complete or not there at all, devices
written in place (never replaced), honest exit codes when the reader goes away or Ctrl-C comes."""

from __future__ import annotations

import csv
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import reallocate
from reallocate import Scenario, cli, solve
from reallocate.io import read_csv_folder, write_csv, write_scenario_csv

FORMULAS = ['=HYPERLINK("http://evil","click")', "@SUM(1+1)", "+1+1", "-2+3", "=cmd|' /C calc'!A0"]


def _scenario(names: list[str]) -> dict[str, Any]:
    return {
        "name": "=1+1",
        "unit": "million VND",
        "localities": [{"id": f"l{k}", "name": n} for k, n in enumerate(names)],
        "lines": [
            {"locality": f"l{k}", "program": names[0], "fund": "f", "allocated": 100 if k % 2 else 10, "capacity": 50}
            for k in range(len(names))
        ],
    }


def _cells(folder: Path) -> list[str]:
    out = []
    for f in sorted(folder.glob("*.csv")):
        with open(f, encoding="utf-8-sig", newline="") as fh:
            out += [cell for row in csv.reader(fh) for cell in row]
    return out


def test_plan_csv_cells_never_start_a_formula_and_numbers_stay_numbers(tmp_path: Path) -> None:
    plan = solve(Scenario.from_dict(_scenario(FORMULAS)))
    write_csv(plan, tmp_path / "plan")
    cells = _cells(tmp_path / "plan")
    for name in FORMULAS:
        assert "'" + name in cells  # neutralised with an apostrophe, as OWASP advises
        assert name not in cells
    live = [c for c in cells if c.startswith(("=", "+", "@")) or (c.startswith("-") and not c[1:].isdigit())]
    assert live == []
    negative = [c for c in cells if c.startswith("-")]
    assert negative and all(c[1:].isdigit() for c in negative)  # changes such as -40 stay numbers


def test_scenario_csv_with_formula_like_ids_reads_back_equal(tmp_path: Path) -> None:
    scenario = Scenario.from_dict(_scenario(FORMULAS))
    write_scenario_csv(scenario, tmp_path / "s")
    assert "'=1+1" in _cells(tmp_path / "s")
    back = read_csv_folder(tmp_path / "s")
    assert back.lines == scenario.lines
    assert [loc.name for loc in back.localities or ()] == FORMULAS


def test_a_csv_plan_folder_is_replaced_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "plan"
    lapsing = solve(reallocate.datasets.quang_nam_2023())
    write_csv(lapsing, folder)
    assert (folder / "lapse_by_locality.csv").exists()
    lines = [
        {"locality": "a", "program": "p", "fund": "f", "allocated": 100, "capacity": 50},
        {"locality": "b", "program": "p", "fund": "f", "allocated": 10, "capacity": 60},
    ]
    done = solve(Scenario.from_dict({"name": "all moves", "lines": lines}))
    assert done.summary is not None and done.summary.lapse_after == 0
    write_csv(done, folder)
    assert not (folder / "lapse_by_locality.csv").exists()  # no file of the earlier plan is left
    before = {f.name: f.read_bytes() for f in folder.iterdir()}

    import reallocate.io.csv as csv_io

    real = csv_io._write_csv_file
    calls = {"n": 0}

    def failing(sheet: Any, path: Path) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # Ctrl-C half way through the folder
        real(sheet, path)

    monkeypatch.setattr(csv_io, "_write_csv_file", failing)
    with pytest.raises(KeyboardInterrupt):
        write_csv(lapsing, folder)
    assert {f.name: f.read_bytes() for f in folder.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


@pytest.mark.parametrize("fmt", ["json", "text", "html", "excel", "csv", "parquet"])
def test_a_full_disk_is_an_error_that_names_the_target_and_replaces_nothing(fmt: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reallocate", "demo", "--format", fmt, "--out", "/dev/full"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert "cannot read or write /dev/full" in done.stderr
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # still the device, never replaced


def test_exit_code_says_no_plan_even_when_the_reader_goes_away(tmp_path: Path) -> None:
    infeasible = tmp_path / "infeasible.json"
    data = {"name": "x", "lines": _scenario(["a", "b"])["lines"], "rules": {"target_rate": 1.0}}
    data["lines"][1]["capacity"] = 1
    infeasible.write_text(json.dumps(data), encoding="utf-8")
    for args, code in ((["solve", str(infeasible)], 1), (["demo"], 0)):
        proc = subprocess.Popen(
            [sys.executable, "-m", "reallocate", *args, "--format", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(10)
        proc.stdout.close()  # the reader goes away, as `| head -c 10` does
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == code, err
        assert "Traceback" not in err


def test_ctrl_c_before_the_output_is_complete_leaves_the_file_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan.json"
    out.write_text("previous plan\n", encoding="utf-8")

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_emit", interrupted)
    assert cli.main(["demo", "--format", "json", "--out", str(out), "--force"]) == 130
    assert out.read_text(encoding="utf-8") == "previous plan\n"
    assert "interrupted" in capsys.readouterr().err


def test_ctrl_c_after_the_output_is_complete_keeps_the_runs_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reallocate.charts

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(reallocate.charts, "save_all", interrupted)
    out = tmp_path / "plan.json"
    code = cli.main(["demo", "--format", "json", "--out", str(out), "--charts", str(tmp_path / "charts")])
    assert code == 0
    assert json.loads(out.read_text(encoding="utf-8"))["status"] == "optimal"


def test_a_killed_run_leaves_no_truncated_plan(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from synthetic import synthetic_scenario

    src = tmp_path / "big.json"
    src.write_text(json.dumps(synthetic_scenario(60_000, 3)), encoding="utf-8")
    out = tmp_path / "plan.json"
    for delay in (0.3, 0.8, 1.3):
        proc = subprocess.Popen([sys.executable, "-m", "reallocate", "solve", str(src), "--out", str(out)])
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        if out.exists():  # whenever it was killed, the plan is either absent or complete
            assert json.loads(out.read_bytes())["status"] == "optimal"
            out.unlink()


def test_a_folder_of_other_files_is_never_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n", encoding="utf-8")
    (folder / "lines.csv").write_text("old\n", encoding="utf-8")
    plan = solve(reallocate.datasets.quang_nam_2023())
    with pytest.raises(FileExistsError, match="holds other files"):
        write_csv(plan, folder)
    with pytest.raises(FileExistsError):
        write_scenario_csv(plan.scenario, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["lines.csv", "notes.txt"]
    done = subprocess.run(
        [sys.executable, "-m", "reallocate", "demo", "--format", "parquet", "--out", str(folder), "--force"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "holds other files" in done.stderr
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine\n"
