"""The command line with files, what-ifs and comparisons, run as a subprocess exactly as a user runs it.

Excel/CSV input and output, ``template``, ``--lang vi``, HTML and ``--charts``, ``--changes``,
``compare`` and ``schema --changes``, and a reader that goes away (``| head``). Expected figures
are worked out from the inputs (by hand for the small scenarios, or from the baseline plan),
never copied from the output under test.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

# Like a user's shell: no PYTHONUNBUFFERED (the test environment may set it; users' shells do not),
# so stdout is block-buffered when it is a pipe, as it is for a user who pipes the command on.
ENV = {k: v for k, v in os.environ.items() if k not in ("REALLOCATE_DEBUG", "PYTHONUNBUFFERED")}
ENV["PYTHONIOENCODING"] = "utf-8"

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
UTF8_BOM = b"\xef\xbb\xbf"

# The bundled demo: 92 lines; its best plan moves 143,334 million VND (published in the README).
DEMO_LINES = 92
DEMO_MOVED = 143_334


def cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "reallocate", *args]


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd(*args), capture_output=True, text=True, encoding="utf-8", env=ENV, cwd=cwd, timeout=120)


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    return proc


def clean_failure(proc: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """The stderr of a run that failed with ``code``, briefly and without a traceback."""
    assert proc.returncode == code, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert "internal error" not in proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.strip()
    return proc.stderr


def write_json(path: Path, obj: Any) -> Path:
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return path


def header(ws: Any) -> list[Any]:
    return [c.value for c in ws[1]]


def column_of(ws: Any, name: str) -> int:
    """1-based column of ``name`` in the header row (the template documents its own layout)."""
    return header(ws).index(name) + 1


def fill_lines(ws: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Append ``rows`` below the header of the lines sheet, each value under its header; return the rows used."""
    cols = {name: i for i, name in enumerate(header(ws), start=1) if name}
    used = []
    for r, values in enumerate(rows, start=ws.max_row + 1):
        for key, value in values.items():
            ws.cell(row=r, column=cols[key], value=value)
        used.append(r)
    return used


def sheet_rows(ws: Any) -> list[dict[str, Any]]:
    head = header(ws)
    return [dict(zip(head, row, strict=True)) for row in ws.iter_rows(min_row=2, values_only=True)]


# ------------------------------------------------------------------------- template / Excel in

# Two lines in one pool: "a" holds 1,500 but can spend 500 (surplus 1,000); "b" holds 1,000 and
# can spend 1,700 (room 700). Only 700 can move: b ends at 1,700, a at 800; lapse 1,000 -> 300.
TEMPLATE_ROWS = [
    {"locality": "a", "program": "p", "fund": "investment", "allocated": 1500, "capacity": 500},
    {"locality": "b", "program": "p", "fund": "investment", "allocated": 1000, "capacity": 1700},
]


def test_template_validate_fill_and_solve(tmp_path: Path) -> None:
    ok(run(tmp_path, "template", "t.xlsx"))
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert {"lines", "rules"} <= set(wb.sheetnames)
    lines = wb["lines"]
    assert lines.max_row == 1, "the template has a header and no data rows"
    assert {"locality", "program", "fund", "allocated", "capacity"} <= set(header(lines))

    # the untouched template is not a scenario yet: exit 2, naming the lines sheet
    err = clean_failure(run(tmp_path, "validate", "t.xlsx"))
    assert "t.xlsx" in err
    assert re.search(r"\blines\b", err), err

    fill_lines(lines, TEMPLATE_ROWS)
    wb.save(tmp_path / "t.xlsx")
    proc = ok(run(tmp_path, "solve", "t.xlsx", "--format", "json"))
    plan = json.loads(proc.stdout, parse_float=Decimal)
    assert plan["status"] == "optimal"
    s = plan["summary"]
    assert s["allocated"] == 2500
    assert s["moved"] == 700
    assert (s["lapse_before"], s["lapse_after"]) == (1000, 300)
    assert (s["absorbable_before"], s["absorbable_after"]) == (1500, 2200)
    assert [(t["from_locality"], t["to_locality"], t["amount"]) for t in plan["transfers"]] == [("a", "b", 700)]
    assert {ln["locality"]: ln["final"] for ln in plan["lines"]} == {"a": 800, "b": 1700}


def test_template_in_vietnamese(tmp_path: Path) -> None:
    ok(run(tmp_path, "template", "en.xlsx"))
    ok(run(tmp_path, "template", "vi.xlsx", "--lang", "vi"))
    en = openpyxl.load_workbook(tmp_path / "en.xlsx")
    vi = openpyxl.load_workbook(tmp_path / "vi.xlsx")
    # the sheets and their column keys are the same (a filled vi template reads like an en one) ...
    assert vi.sheetnames == en.sheetnames
    assert {"lines", "rules"} <= set(vi.sheetnames)
    assert header(vi["lines"]) == header(en["lines"])

    # ... but the explanations people read are in Vietnamese
    def texts(wb: Any) -> str:
        return " ".join(str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row if v is not None)

    vi_text, en_text = texts(vi), texts(en)
    assert vi_text != en_text
    assert re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", vi_text)
    assert "Bắt buộc" in vi_text  # "Required" in the notes
    assert "Bắt buộc" not in en_text


def test_bad_excel_cells_are_named(tmp_path: Path) -> None:
    ok(run(tmp_path, "template", "bad.xlsx"))
    wb = openpyxl.load_workbook(tmp_path / "bad.xlsx")
    ws = wb["lines"]
    used = fill_lines(
        ws,
        [
            {"locality": "a", "program": "p", "fund": "investment", "allocated": 1500, "capacity": 500},
            {"locality": "b", "program": "p", "fund": "investment", "allocated": 1000, "capacity": -2200},
            {"locality": "c", "program": "p", "fund": "investment", "allocated": "abc", "capacity": 100},
        ],
    )
    wb.save(tmp_path / "bad.xlsx")
    capacity_cell = f"{get_column_letter(column_of(ws, 'capacity'))}{used[1]}"
    allocated_cell = f"{get_column_letter(column_of(ws, 'allocated'))}{used[2]}"

    err = clean_failure(run(tmp_path, "solve", "bad.xlsx"))
    assert f"lines!{capacity_cell}" in err, err
    assert "-2200" in err and "negative" in err
    # every problem is listed, not only the first
    assert f"lines!{allocated_cell}" in err, err
    assert "2 problems" in err


# -------------------------------------------------------------------------- demo: files out


def test_demo_excel_in_vietnamese(tmp_path: Path) -> None:
    proc = ok(run(tmp_path, "demo", "--out", "plan.xlsx", "--lang", "vi"))
    assert proc.stdout == ""
    wb = openpyxl.load_workbook(tmp_path / "plan.xlsx")
    assert {"summary", "lines", "transfers"} <= set(wb.sheetnames)

    lines_head = header(wb["lines"])
    assert "Địa phương" in lines_head and "Vốn giao" in lines_head and "Thay đổi" in lines_head
    assert "Locality" not in lines_head
    lines = sheet_rows(wb["lines"])
    assert len(lines) == DEMO_LINES
    assert any(r["Tên"] == "Nam Trà My" for r in lines)

    transfers = sheet_rows(wb["transfers"])
    assert "Số tiền" in header(wb["transfers"])
    summary = {row[0]: row[1] for row in wb["summary"].iter_rows(min_row=2, values_only=True)}
    moved = summary["Vốn điều chuyển"]  # "moved"
    assert moved == DEMO_MOVED
    # the summary agrees with the other sheets: what moved is what the transfers carry and
    # what the receiving lines gained
    assert sum(t["Số tiền"] for t in transfers) == moved
    assert sum(r["Thay đổi"] for r in lines if r["Thay đổi"] > 0) == moved
    assert summary["Số lần điều chuyển"] == len(transfers)


def test_demo_csv_folder(tmp_path: Path) -> None:
    proc = ok(run(tmp_path, "demo", "--format", "csv", "--out", "dir"))
    assert proc.stdout == ""
    out = tmp_path / "dir"
    for name in ("summary.csv", "lines.csv", "transfers.csv"):
        assert (out / name).is_file(), sorted(p.name for p in out.iterdir())
    for path in out.glob("*.csv"):
        assert path.read_bytes().startswith(UTF8_BOM), path.name  # Excel opens it as UTF-8

    def rows(name: str) -> list[dict[str, str]]:
        with (out / name).open(encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(f))

    lines = rows("lines.csv")
    assert len(lines) == DEMO_LINES
    assert "Nam Trà My" in {r["Name"] for r in lines}
    transfers = rows("transfers.csv")
    assert sum(int(t["Amount"]) for t in transfers) == DEMO_MOVED
    assert sum(int(r["Change"]) for r in lines) == 0  # money is conserved


def test_demo_html_with_charts(tmp_path: Path) -> None:
    proc = ok(run(tmp_path, "demo", "--out", "plan.html", "--charts", "charts"))
    assert proc.stdout == ""
    html = (tmp_path / "plan.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "Nam Trà My" in html
    # self-contained: nothing fetched from elsewhere
    external = re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, flags=re.IGNORECASE)
    assert external == []
    assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//", html, flags=re.IGNORECASE)
    assert not re.search(r"<link\b[^>]*\bhref", html, flags=re.IGNORECASE)
    assert "data:image/png;base64," in html

    pngs = sorted((tmp_path / "charts").glob("*.png"))
    assert len(pngs) == 3, pngs
    for png in pngs:
        assert png.read_bytes()[:8] == PNG_SIGNATURE, png.name
    assert "charts" in proc.stderr


@pytest.mark.parametrize("fmt", ["html", "excel", "csv"])
def test_file_formats_need_out(tmp_path: Path, fmt: str) -> None:
    err = clean_failure(run(tmp_path, "demo", "--format", fmt))
    assert f"--format {fmt}" in err and "--out" in err
    assert list(tmp_path.iterdir()) == []


# -------------------------------------------------------------- plans, changes and compare


MOUNTAINOUS_UP = [{"kind": "scale_capacity", "where": {"tag": {"mountainous": True}}, "factor": 1.2}]


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a.json (the demo plan) and b.json (the demo with mountainous capacity +20%)."""
    d = tmp_path_factory.mktemp("plans")
    write_json(d / "ch.json", MOUNTAINOUS_UP)
    ok(run(d, "demo", "--format", "json", "--out", "a.json"))
    ok(run(d, "demo", "--changes", "ch.json", "--format", "json", "--out", "b.json"))
    return d


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def test_changes_raise_capacity(plans: Path) -> None:
    from reallocate.datasets import quang_nam_2023

    mountainous = {loc.id for loc in quang_nam_2023().localities if loc.tags.get("mountainous") is True}
    assert mountainous
    a, b = load(plans / "a.json"), load(plans / "b.json")
    assert a["summary"]["moved"] == DEMO_MOVED
    assert b["status"] == "optimal"
    assert b["summary"]["absorbable_after"] > a["summary"]["absorbable_after"]
    assert b["summary"]["lapse_after"] < a["summary"]["lapse_after"]
    assert b["summary"]["allocated"] == a["summary"]["allocated"]
    # exactly the mountainous lines' capacity changed, to floor(1.2 x capacity) (precision 1)
    assert len(a["lines"]) == len(b["lines"]) == DEMO_LINES
    for la, lb in zip(a["lines"], b["lines"], strict=True):
        assert (la["locality"], la["program"], la["fund"]) == (lb["locality"], lb["program"], lb["fund"])
        want = math.floor(Decimal(la["capacity"]) * Decimal("1.2")) if la["locality"] in mountainous else la["capacity"]
        assert lb["capacity"] == want, la


def test_compare_plans_text(plans: Path) -> None:
    a, b = load(plans / "a.json")["summary"], load(plans / "b.json")["summary"]
    out = ok(run(plans, "compare", "a.json", "b.json", "--names", "x,y")).stdout
    for name, s in (("x", a), ("y", b)):
        rates = f"{name}: {float(s['rate_before']) * 100:.1f}% → {float(s['rate_after']) * 100:.1f}%"
        assert rates in out, out[:1500]
        assert f"moved {s['moved']:,}" in out
    assert "y vs x" in out
    assert "A:" not in out and "B:" not in out  # the names given replace the default ones


def test_compare_plans_json(plans: Path) -> None:
    a, b = load(plans / "a.json")["summary"], load(plans / "b.json")["summary"]
    proc = ok(run(plans, "compare", "a.json", "b.json", "--names", "x,y", "--format", "json"))
    comparison = json.loads(proc.stdout, parse_float=Decimal)
    assert comparison["names"] == ["x", "y"]
    rows = {r["figure"]: r for r in comparison["summary"]}
    assert {"allocated", "absorbable_after", "lapse_after", "moved", "transfer_count"} <= set(rows)
    for figure in ("allocated", "absorbable_before", "absorbable_after", "lapse_after", "moved", "transfer_count"):
        assert rows[figure]["x"] == a[figure], figure
        assert rows[figure]["y"] == b[figure], figure
        assert rows[figure]["y - x"] == b[figure] - a[figure], figure
    assert rows["absorbable_after"]["y - x"] > 0
    assert comparison["lines"], "the lines that changed are listed"


def test_compare_scenario_files(tmp_path: Path) -> None:
    # s1: "a" has surplus 1,000 and "b" room 1,200, so 1,000 moves (absorbable 1,500 -> 2,500);
    # s2: the same but b can spend only 1,300 (room 300), so 300 moves (1,500 -> 1,800).
    def scenario(name: str, b_capacity: int) -> dict[str, Any]:
        return {
            "name": name,
            "lines": [
                {"locality": "a", "program": "p", "fund": "investment", "allocated": 1500, "capacity": 500},
                {"locality": "b", "program": "p", "fund": "investment", "allocated": 1000, "capacity": b_capacity},
            ],
        }

    write_json(tmp_path / "s1.json", scenario("s1", 2200))
    write_json(tmp_path / "s2.json", scenario("s2", 1300))
    proc = ok(run(tmp_path, "compare", "s1.json", "s2.json", "--names", "wide,narrow", "--format", "json"))
    comparison = json.loads(proc.stdout)
    assert comparison["names"] == ["wide", "narrow"]
    assert [p["scenario"] for p in comparison["plans"]] == ["s1", "s2"]
    rows = {r["figure"]: r for r in comparison["summary"]}
    assert (rows["moved"]["wide"], rows["moved"]["narrow"]) == (1000, 300)
    assert (rows["absorbable_after"]["wide"], rows["absorbable_after"]["narrow"]) == (2500, 1800)
    assert rows["lapse_after"]["narrow - wide"] == 700


def test_compare_needs_two_plans(plans: Path) -> None:
    err = clean_failure(run(plans, "compare", "a.json"))
    assert "two" in err or "2" in err


@pytest.mark.parametrize("names", ["x", "x,y,z"])
def test_compare_names_must_match_the_files(plans: Path, names: str) -> None:
    err = clean_failure(run(plans, "compare", "a.json", "b.json", "--names", names))
    assert "names" in err


def test_infeasible_target_writes_html_and_exits_1(plans: Path, tmp_path: Path) -> None:
    # every line must disburse all it holds: impossible, short by what the best plan still lets
    # lapse (the baseline's lapse_after, the least lapse any plan can reach)
    shortfall = load(plans / "a.json")["summary"]["lapse_after"]
    write_json(tmp_path / "ch.json", [{"kind": "set_target", "rate": 1.0}])
    proc = run(tmp_path, "demo", "--changes", "ch.json", "--out", "plan.html")
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    assert "infeasible" in proc.stderr
    html = (tmp_path / "plan.html").read_text(encoding="utf-8")
    assert "infeasible" in html
    assert f"{shortfall:,}" in html, "the HTML says how much is missing"


# --------------------------------------------------------------------------------- schema


def test_schema_of_changes(tmp_path: Path) -> None:
    schema = json.loads(ok(run(tmp_path, "schema", "--changes")).stdout)
    assert isinstance(schema, dict)
    text = json.dumps(schema)
    for kind in ("scale_capacity", "set_target", "freeze", "set_rules"):
        assert kind in text
    assert schema != json.loads(ok(run(tmp_path, "schema")).stdout)


def schema_into_head(cwd: Path) -> tuple[int, bytes, str]:
    """``reallocate schema | head -c 10``: the exit status of reallocate, what head printed, reallocate's stderr."""
    producer = subprocess.Popen(cmd("schema"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, cwd=cwd)
    head = subprocess.Popen(["head", "-c", "10"], stdin=producer.stdout, stdout=subprocess.PIPE)
    assert producer.stdout is not None and producer.stderr is not None
    producer.stdout.close()  # only head holds the read end now
    first, _ = head.communicate(timeout=60)
    err = producer.stderr.read().decode("utf-8")
    producer.stderr.close()
    return producer.wait(timeout=60), first, err


def test_schema_into_head(tmp_path: Path) -> None:
    # Whether reallocate still has output to write when head has gone depends on timing, so try a
    # few times: a run that is quiet once but not always is not quiet.
    for _ in range(3):
        code, first, err = schema_into_head(tmp_path)
        assert len(first) == 10 and first.startswith(b"{")  # the start of a JSON object
        assert "Broken pipe" not in err and "BrokenPipeError" not in err and "Traceback" not in err, err
        assert code == 0, err


def closed_pipe_run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run with stdout a pipe whose reader has already gone (what `| head` leaves behind)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            cmd(*args), stdout=write_end, stderr=subprocess.PIPE, text=True, env=ENV, cwd=cwd, timeout=120
        )
    finally:
        os.close(write_end)


def test_schema_to_a_closed_pipe(tmp_path: Path) -> None:
    proc = closed_pipe_run(tmp_path, "schema")
    assert proc.returncode == 0, proc.stderr
    assert "Broken pipe" not in proc.stderr and "BrokenPipeError" not in proc.stderr


def test_short_output_to_a_closed_pipe(tmp_path: Path) -> None:
    # The same, for a command whose output fits in stdout's buffer: it is written only when the
    # interpreter exits, after main() and its BrokenPipeError handler have returned.
    path = write_json(
        tmp_path / "s.json",
        {"name": "s", "lines": [{"locality": "a", "program": "p", "fund": "f", "allocated": 10, "capacity": 10}]},
    )
    proc = closed_pipe_run(tmp_path, "validate", path.name)
    assert proc.returncode == 0, proc.stderr
    assert "Broken pipe" not in proc.stderr and "BrokenPipeError" not in proc.stderr
