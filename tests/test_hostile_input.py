"""Hostile input is refused at once, with exit code 2 and the path of the problem, never a hang,
an internal error or a traceback: deep JSON, huge exponents, compression bombs, giant CSV fields,
crafted plan files."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

import reallocate
import reallocate.limits
from reallocate import Scenario, ScenarioError
from reallocate.comparison import PlanData
from reallocate.io import ScenarioFileError, read_csv_folder, read_excel, write_scenario_csv, write_scenario_excel

LINES = [
    {"locality": "a", "program": "p", "fund": "f", "allocated": 100, "capacity": 40},
    {"locality": "b", "program": "p", "fund": "f", "allocated": 50, "capacity": 90},
]


def _cli(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "reallocate", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return done


def _scenario_text(**extra: Any) -> str:
    return json.dumps({"name": "hostile", "lines": LINES, **extra})


# ------------------------------------------------------------------------------------------ JSON
def test_deeply_nested_json_is_refused_everywhere(tmp_path: Path) -> None:
    deep = "[" * 5000 + "]" * 5000
    scenario = tmp_path / "deep.json"
    scenario.write_text(_scenario_text()[:-1] + ', "x": ' + deep + "}", encoding="utf-8")
    lines_deep = tmp_path / "lines-deep.json"
    lines_deep.write_text(_scenario_text().replace('"lines": [', '"lines": [' + deep + ", "), encoding="utf-8")
    good = tmp_path / "good.json"
    good.write_text(_scenario_text(), encoding="utf-8")
    changes = tmp_path / "changes.json"
    changes.write_text(deep, encoding="utf-8")
    for args in (("solve", scenario), ("validate", lines_deep), ("solve", good, "--changes", changes)):
        done = _cli(*args)
        assert done.returncode == 2, done.stderr
        assert "nested deeper than 64 levels" in done.stderr
    with pytest.raises(ScenarioError, match="nested deeper"):
        Scenario.from_json(scenario.read_text(encoding="utf-8"))
    with pytest.raises(ScenarioError, match="nested deeper"):
        PlanData.from_json(deep)


@pytest.mark.parametrize("exponent", ["1e999999999", "1e1000000", "-1e400000000"])
def test_huge_exponents_are_refused_before_any_arithmetic(tmp_path: Path, exponent: str) -> None:
    text = _scenario_text().replace('"allocated": 100', f'"allocated": {exponent}')
    began = time.perf_counter()
    with pytest.raises(ScenarioError) as err:
        Scenario.from_json(text)
    assert time.perf_counter() - began < 30  # a hang, not a benchmark: the refusal takes milliseconds
    assert err.value.errors[0]["loc"] == ("lines", 0, "allocated")
    path = tmp_path / "s.json"
    path.write_text(text, encoding="utf-8")
    assert _cli("validate", path).returncode == 2


def test_huge_exponents_in_csv_and_excel_cells(tmp_path: Path) -> None:
    s = Scenario.from_dict({"name": "x", "lines": LINES})
    write_scenario_csv(s, tmp_path / "csv")
    lines = tmp_path / "csv" / "lines.csv"
    lines.write_text(lines.read_text(encoding="utf-8-sig").replace("100", "1e999999999", 1), encoding="utf-8")
    with pytest.raises(ScenarioFileError, match=r"lines\.csv:2 allocated"):
        read_csv_folder(tmp_path / "csv")
    import openpyxl

    write_scenario_excel(s, tmp_path / "s.xlsx")
    book = openpyxl.load_workbook(tmp_path / "s.xlsx")
    cell = next(c for row in book["lines"].iter_rows() for c in row if c.value == 100)
    cell.value = "1e999999999"  # typed as text
    book.save(tmp_path / "s.xlsx")
    with pytest.raises(ScenarioFileError, match="too large"):
        read_excel(tmp_path / "s.xlsx")


# ------------------------------------------------------------------------------------------- CSV
def test_a_giant_csv_field_is_refused_by_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    rows = [["locality", "program", "fund", "allocated", "capacity"], ["a", "p", "f", "100", "40"]]
    rows.append(["b" * 200_000, "p", "f", "50", "90"])
    with open(folder / "lines.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    done = _cli("validate", folder)
    assert done.returncode == 2
    assert "lines.csv:3: a field is longer than 131,072 characters" in done.stderr
    with reallocate.limits.override(max_csv_field=1_000), pytest.raises(ScenarioFileError, match="1,000 characters"):
        rows[2][0] = "b" * 1_001
        with open(folder / "lines.csv", "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(rows)
        read_csv_folder(folder)


# ----------------------------------------------------------------------------------------- Excel
def _workbook(tmp_path: Path, lines: list[dict[str, Any]] = LINES) -> Path:
    path = tmp_path / "s.xlsx"
    write_scenario_excel(Scenario.from_dict({"name": "x", "lines": lines}), path)
    return path


def _with_entry(src: Path, dst: Path, data: bytes, method: int) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename), compress_type=zipfile.ZIP_DEFLATED)
        zout.writestr("xl/media/extra.bin", data, compress_type=method)
    return dst


def test_compression_bombs_are_refused_before_reading(tmp_path: Path) -> None:
    src = _workbook(tmp_path)
    bz2 = _with_entry(src, tmp_path / "bz2.xlsx", b"\0" * 1000, zipfile.ZIP_BZIP2)
    with pytest.raises(ScenarioFileError, match="compression Excel never writes"):
        read_excel(bz2)
    ratio = _with_entry(src, tmp_path / "ratio.xlsx", b"\0" * (4 * 1024**2), zipfile.ZIP_DEFLATED)
    done = _cli("validate", ratio)
    assert done.returncode == 2 and "would expand" in done.stderr
    with reallocate.limits.override(max_xlsx_expanded_bytes=1_000), pytest.raises(ScenarioFileError, match="MiB"):
        read_excel(src)
    read_excel(src)  # the same workbook within the limits


def test_sheets_past_the_row_or_cell_limit_are_refused(tmp_path: Path) -> None:
    lines = [{"locality": f"l{k}", "program": "p", "fund": "f", "allocated": 10, "capacity": 5 + k} for k in range(10)]
    path = _workbook(tmp_path, lines)
    assert len(read_excel(path).lines) == 10
    with reallocate.limits.override(max_sheet_rows=5), pytest.raises(ScenarioFileError, match="more than 5 rows"):
        read_excel(path)
    with reallocate.limits.override(max_sheet_cells=20), pytest.raises(ScenarioFileError, match="more than 20 cells"):
        read_excel(path)


def test_the_bundled_template_and_dataset_pass_the_archive_checks(tmp_path: Path) -> None:
    path = tmp_path / "qn.xlsx"
    write_scenario_excel(reallocate.datasets.quang_nam_2023(), path)
    assert read_excel(path).lines == reallocate.datasets.quang_nam_2023().lines
    assert _cli("template", tmp_path / "t.xlsx").returncode == 0


# ------------------------------------------------------------------------------------ plan files
def _plan_data() -> dict[str, Any]:
    return json.loads(reallocate.solve(reallocate.datasets.quang_nam_2023()).to_json())


def _broken(**how: Any) -> dict[str, Any]:
    data = _plan_data()
    for path, value in how.items():
        where, index, field = path.split(".")
        data[where][int(index)][field] = value
    return data


@pytest.mark.parametrize(
    ("how", "loc", "kind"),
    [
        ({"lines.0.final": 10**300}, ("lines", 0, "final"), "too_large"),
        ({"lines.0.final": "x"}, ("lines", 0, "final"), "decimal_parsing"),
        ({"lines.0.final": [1]}, ("lines", 0, "final"), "decimal_type"),
        ({"lines.1.locality": None}, ("lines", 1, "locality"), "string_type"),
        ({"transfers.0.amount": -5}, ("transfers", 0, "amount"), "greater_than"),
        ({"transfers.0.from_locality": "nowhere"}, ("transfers", 0, "from_locality"), "unknown_line"),
    ],
)
def test_crafted_plan_files_are_refused_as_plans(how: dict[str, Any], loc: tuple[Any, ...], kind: str) -> None:
    with pytest.raises(ScenarioError) as err:
        PlanData.from_dict(_broken(**how))
    assert err.value.title == "invalid plan"
    assert [(e["loc"], e["type"]) for e in err.value.errors] == [(loc, kind)]


def test_a_duplicate_line_in_a_plan_is_refused() -> None:
    data = _plan_data()
    data["lines"].append(dict(data["lines"][3]))
    with pytest.raises(ScenarioError) as err:
        PlanData.from_dict(data)
    assert [(e["loc"], e["type"]) for e in err.value.errors] == [(("lines", len(data["lines"]) - 1), "duplicate")]


def test_cli_compare_names_plan_problems_not_scenario_problems(tmp_path: Path) -> None:
    good = tmp_path / "plan.json"
    good.write_text(json.dumps(_plan_data()), encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_broken(**{"lines.0.final": 10**300, "lines.4.final": "x"})), encoding="utf-8")
    done = _cli("compare", good, bad)
    assert done.returncode == 2
    assert "bad.json: invalid plan: 2 problems" in done.stderr
    assert "lines[0].final" in done.stderr and "lines[4].final" in done.stderr
    assert "(303 characters)" in done.stderr  # the refused value is shown by its start
    assert _cli("compare", good, good).returncode == 0


# ------------------------------------------------------------------------------ honest statuses
def test_cbc_plans_absorb_as_much_as_highs_or_do_not_say_optimal() -> None:
    # amounts ~2.3e6 units with min_transfer: CBC's 8-digit solution rounded to one unit more lapse
    data = json.loads((Path(__file__).parent / "data" / "cbc-lapse.json").read_text(encoding="utf-8"))
    scenario = Scenario.from_dict(data)
    highs = reallocate.solve(scenario)
    cbc = reallocate.solve(scenario, solver="cbc")
    assert highs.status == "optimal" and highs.summary is not None and cbc.summary is not None
    if cbc.status == "optimal":
        assert cbc.summary.absorbable_after == highs.summary.absorbable_after
        assert cbc.summary.lapse_after == highs.summary.lapse_after
    from reallocate.verify import plan_breaches

    assert plan_breaches(scenario, cbc) == []


def test_a_time_limit_too_short_for_any_plan_says_so(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from synthetic import synthetic_scenario

    path = tmp_path / "coupled.json"
    path.write_text(json.dumps(synthetic_scenario(30_000, 2, limits=True, target_rate=0.8)), encoding="utf-8")
    for solver in ("highs", "cbc"):
        done = _cli("solve", path, "--time-limit", "0.001", "--solver", solver, "--format", "json")
        plan = json.loads(done.stdout)
        assert plan["status"] == "time_limit"
        if plan["summary"] is None:  # nothing found in time: said plainly, exit 1
            assert done.returncode == 1
            assert "no plan found" in plan["message"] and "kept" not in plan["message"]
        else:  # a plan found in time is kept, and never called optimal
            assert done.returncode == 0 and "not proven optimal" in plan["message"]
