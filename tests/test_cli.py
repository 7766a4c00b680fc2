"""The ``reallocate`` command, run as a subprocess exactly as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}
ENV.pop("REALLOCATE_DEBUG", None)

# A tiny scenario whose best plan is obvious by hand: Nam Trà My holds 1,000 it cannot spend
# (allocated 1,500, capacity 500); Tây Giang can absorb 1,200 more (allocated 1,000, capacity 2,200).
# So 1,000 moves; expected disbursement 500 + 1,000 -> 500 + 2,000 of 2,500 allocated: 60.0% -> 100.0%.
TINY: dict[str, Any] = {
    "name": "tiny",
    "localities": [{"id": "ntm", "name": "Nam Trà My"}, {"id": "tg", "name": "Tây Giang"}],
    "lines": [
        {"locality": "ntm", "program": "p", "fund": "investment", "allocated": 1500, "capacity": 500},
        {"locality": "tg", "program": "p", "fund": "investment", "allocated": 1000, "capacity": 2200},
    ],
}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reallocate", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=ENV,
        cwd=cwd,
        timeout=300,
    )


def write(path: Path, obj: Any) -> Path:
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write(tmp_path / "tiny.json", TINY)


def assert_clean_failure(proc: subprocess.CompletedProcess[str], code: int = 2) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert proc.stdout == ""


def parse_exact(text: str) -> Any:
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


# ------------------------------------------------------------------------------------ demo


@pytest.fixture(scope="module")
def demo_text() -> subprocess.CompletedProcess[str]:
    return run("demo")


@pytest.fixture(scope="module")
def demo_json() -> subprocess.CompletedProcess[str]:
    return run("demo", "--format", "json")


def test_demo_text_report(demo_text: subprocess.CompletedProcess[str]) -> None:
    assert demo_text.returncode == 0, demo_text.stderr
    out = demo_text.stdout
    assert "Quảng Nam" in out
    # published for this dataset in SOURCES.md / README
    assert "expected disbursement 57.9% → 63.7% (+143,334 million VND)" in out
    assert "lapse 1,047,495 → 904,161" in out
    assert "Transfers" in out
    # Vietnamese locality names, not ids
    for name in ("Nam Trà My", "Tây Giang", "Phước Sơn", "Điện Bàn"):
        assert name in out
    assert "nam-tra-my" not in out


def test_demo_text_lists_every_transfer_once(demo_text: subprocess.CompletedProcess[str], demo_json: Any) -> None:
    plan = parse_exact(demo_json.stdout)
    transfers_part = demo_text.stdout.split("Transfers (million VND)", 1)[1]
    table = transfers_part.strip().split("\n\n", 1)[0]  # the table ends at the next blank line
    rows = [r for r in table.splitlines()[2:] if r.strip()]
    assert len(rows) == len(plan["transfers"]) > 0
    # amounts appear with thousands separators
    for row, t in zip(rows, plan["transfers"], strict=True):
        assert row.rstrip().endswith(f"{int(t['amount']):,}")


def test_demo_json_is_a_consistent_plan(demo_json: subprocess.CompletedProcess[str]) -> None:
    assert demo_json.returncode == 0, demo_json.stderr
    plan = parse_exact(demo_json.stdout)
    assert {"status", "summary", "lines", "transfers"} <= set(plan)
    assert plan["status"] == "optimal"
    assert plan["unit"] == "million VND"
    lines, transfers, summary = plan["lines"], plan["transfers"], plan["summary"]
    assert len(lines) == 92
    assert summary["allocated"] == sum(ln["allocated"] for ln in lines) == Decimal(2_489_000)
    assert summary["lapse_before"] == Decimal(1_047_495) and summary["lapse_after"] == Decimal(904_161)
    assert summary["moved"] == sum(t["amount"] for t in transfers)
    assert summary["transfer_count"] == len(transfers)
    # money stays inside its (program, fund) pool and is conserved there
    before: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    after: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for ln in lines:
        before[ln["program"], ln["fund"]] += ln["allocated"]
        after[ln["program"], ln["fund"]] += ln["final"]
    assert before == after
    for t in transfers:
        assert (t["from_program"], t["from_fund"]) == (t["to_program"], t["to_fund"])


# ----------------------------------------------------------------------------------- solve


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_solve_json_tiny(tiny: Path, solver: str) -> None:
    proc = run("solve", str(tiny), "--format", "json", "--solver", solver)
    assert proc.returncode == 0, proc.stderr
    plan = parse_exact(proc.stdout)  # stdout is nothing but the JSON: no solver banner
    assert plan["status"] == "optimal"
    assert plan["solver"] == solver
    s = plan["summary"]
    assert s["allocated"] == 2500
    assert s["absorbable_before"] == 1500 and s["absorbable_after"] == 2500
    assert s["lapse_before"] == 1000 and s["lapse_after"] == 0
    assert s["moved"] == 1000 and s["transfer_count"] == 1
    assert float(s["rate_before"]) == pytest.approx(0.6) and float(s["rate_after"]) == pytest.approx(1.0)
    (t,) = plan["transfers"]
    assert (t["from_locality"], t["to_locality"], t["amount"]) == ("ntm", "tg", 1000)
    finals = {ln["locality"]: ln["final"] for ln in plan["lines"]}
    assert finals == {"ntm": 500, "tg": 2000}


def test_solve_text_tiny(tiny: Path) -> None:
    proc = run("solve", str(tiny))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "tiny" in out and "optimal" in out
    assert "expected disbursement 60.0% → 100.0% (+1,000 million VND)" in out
    assert "lapse 1,000 → 0" in out
    assert "2,500" in out  # pool allocated, with separator
    transfers = out.split("Transfers", 1)[1]
    row = next(r for r in transfers.splitlines() if "Nam Trà My" in r)
    assert "Tây Giang" in row and row.rstrip().endswith("1,000")
    assert row.index("Nam Trà My") < row.index("Tây Giang")  # from, then to


def test_solve_nothing_to_move(tmp_path: Path) -> None:
    # every line can spend what it holds: an optimal plan with no transfers
    d = {"name": "calm", "lines": [{"locality": "a", "program": "p", "fund": "f", "allocated": 10, "capacity": 10}]}
    proc = run("solve", str(write(tmp_path / "calm.json", d)), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    plan = parse_exact(proc.stdout)
    assert plan["transfers"] == [] and plan["summary"]["moved"] == 0


def test_solve_json_keeps_exact_decimals(tmp_path: Path) -> None:
    text = (
        '{"name": "big", "precision": 0.01, "lines": ['
        '{"locality": "a", "program": "p", "fund": "f", "allocated": 12345678901234567.25, '
        '"capacity": 12345678901234000.00},'
        '{"locality": "b", "program": "p", "fund": "f", "allocated": 0.75, "capacity": "1000.10"}]}'
    )
    proc = run("solve", str(write(tmp_path / "big.json", text)), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert "12345678901234567.25" in proc.stdout
    plan = parse_exact(proc.stdout)
    a, b = plan["lines"]
    # a's surplus is 567.25, b's room is 999.35: all of a's surplus moves
    assert a["final"] == Decimal("12345678901234000.00")
    assert b["final"] == Decimal("568.00")
    assert a["final"] + b["final"] == Decimal("12345678901234567.25") + Decimal("0.75")
    assert plan["transfers"][0]["amount"] == Decimal("567.25")


def test_solve_out_writes_the_file(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    proc = run("solve", str(tiny), "--format", "json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert str(out) in proc.stderr
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert plan["status"] == "optimal" and plan["summary"]["moved"] == 1000

    text_out = tmp_path / "plan.txt"
    proc = run("solve", str(tiny), "--out", str(text_out))
    assert proc.returncode == 0 and proc.stdout == ""
    assert "Nam Trà My" in text_out.read_text(encoding="utf-8")


def test_solve_with_time_limit(tiny: Path) -> None:
    proc = run("solve", str(tiny), "--format", "json", "--time-limit", "60")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["moved"] == 1000


def test_time_limit_with_a_plan_exits_0(tmp_path: Path) -> None:
    # min_transfer makes the dataset a MIP that does not finish in 2 s: the best plan so far comes back
    from reallocate.datasets import quang_nam_2023

    path = write(tmp_path / "mip.json", quang_nam_2023(rules={"min_transfer": 500}).to_json())
    proc = run("solve", str(path), "--format", "json", "--time-limit", "2")
    plan = json.loads(proc.stdout)
    if plan["status"] == "optimal":
        pytest.skip("solved to optimality within the limit on this machine")
    assert plan["status"] == "time_limit"
    assert proc.returncode == 0, proc.stderr
    assert plan["summary"] is not None
    assert all(t["amount"] >= 500 for t in plan["transfers"])


def test_demo_out(tmp_path: Path) -> None:
    out = tmp_path / "demo.json"
    proc = run("demo", "--format", "json", "--out", str(out))
    assert proc.returncode == 0 and proc.stdout == ""
    assert len(json.loads(out.read_text(encoding="utf-8"))["lines"]) == 92


# -------------------------------------------------------------------------- validate, schema


def test_validate_ok(tiny: Path) -> None:
    proc = run("validate", str(tiny))
    assert proc.returncode == 0, proc.stderr
    assert "valid" in proc.stdout and "2 lines" in proc.stdout and "2 localities" in proc.stdout
    # surplus and room computed from the input: 1,500 - 500 and 2,200 - 1,000
    assert "surplus 1,000 million VND" in proc.stdout and "room 1,200 million VND" in proc.stdout


def test_validate_lists_several_cross_field_problems(tmp_path: Path) -> None:
    d = json.loads(json.dumps(TINY))
    d["lines"][1]["disbursed"] = 1001  # above allocated 1000
    d["lines"].append(dict(d["lines"][0], capacity=400))  # duplicate key of lines[0]
    proc = run("validate", str(write(tmp_path / "bad.json", d)))
    assert_clean_failure(proc)
    assert "lines[1].disbursed" in proc.stderr and "1001" in proc.stderr
    assert "lines[2]" in proc.stderr
    assert "2 problems" in proc.stderr


def test_schema_is_valid_json() -> None:
    proc = run("schema")
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    assert {"name", "lines", "rules", "localities", "transfer_costs", "precision", "unit"} <= set(schema["properties"])
    assert set(schema["$defs"]["TransferCost"]["properties"]) == {"from", "to", "cost"}


def test_version() -> None:
    import reallocate

    proc = run("--version")
    assert proc.returncode == 0
    assert reallocate.__version__ in proc.stdout


def test_console_script_is_installed(tiny: Path) -> None:
    script = Path(sys.executable).parent / "reallocate"
    if not script.exists():
        pytest.skip("console script not installed next to this interpreter")
    proc = subprocess.run(
        [str(script), "solve", str(tiny), "--format", "json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=ENV,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["moved"] == 1000


# ------------------------------------------------------------------------------ bad input


def test_missing_file(tmp_path: Path) -> None:
    proc = run("solve", str(tmp_path / "nope.json"))
    assert_clean_failure(proc)
    assert "nope.json" in proc.stderr


def test_directory_instead_of_file(tmp_path: Path) -> None:
    proc = run("solve", str(tmp_path))
    assert_clean_failure(proc)


def test_invalid_json(tmp_path: Path) -> None:
    proc = run("solve", str(write(tmp_path / "broken.json", '{"name": "x", "lines": [')))
    assert_clean_failure(proc)
    assert "broken.json" in proc.stderr and "JSON" in proc.stderr


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"name": "Quảng"}'.encode("utf-16"))
    proc = run("validate", str(path))
    assert_clean_failure(proc)


def test_json_array_instead_of_object(tmp_path: Path) -> None:
    proc = run("solve", str(write(tmp_path / "list.json", "[1, 2]")))
    assert_clean_failure(proc)


@pytest.mark.parametrize("command", ["solve", "validate"])
def test_negative_capacity(tmp_path: Path, command: str) -> None:
    d = json.loads(json.dumps(TINY))
    d["lines"][1]["capacity"] = -5
    proc = run(command, str(write(tmp_path / "neg.json", d)))
    assert_clean_failure(proc)
    assert "lines[1].capacity" in proc.stderr and "-5" in proc.stderr


@pytest.mark.parametrize(
    ("where", "path"),
    [("top", "colour"), ("line", "lines[0].colour"), ("rules", "rules.colour"), ("locality", "localities[1].colour")],
)
def test_unknown_field(tmp_path: Path, where: str, path: str) -> None:
    d = json.loads(json.dumps(TINY))
    target = {"top": d, "line": d["lines"][0], "rules": d.setdefault("rules", {}), "locality": d["localities"][1]}
    target[where]["colour"] = "blue"
    proc = run("solve", str(write(tmp_path / "unknown.json", d)))
    assert_clean_failure(proc)
    assert path in proc.stderr


def test_not_a_multiple_of_precision(tmp_path: Path) -> None:
    d = json.loads(json.dumps(TINY))
    d["precision"] = 10
    d["lines"][0]["allocated"] = 1505
    proc = run("solve", str(write(tmp_path / "prec.json", d)))
    assert_clean_failure(proc)
    assert "lines[0].allocated" in proc.stderr and "1505" in proc.stderr


@pytest.mark.parametrize("value", ["abc", "0", "-1", "nan", "inf", ""])
def test_bad_time_limit(tiny: Path, value: str) -> None:
    proc = run("solve", str(tiny), "--time-limit", value)
    assert_clean_failure(proc)
    assert "--time-limit" in proc.stderr


def test_unknown_solver(tiny: Path) -> None:
    proc = run("solve", str(tiny), "--solver", "glpk")
    assert_clean_failure(proc)
    assert "--solver" in proc.stderr and "glpk" in proc.stderr


def test_unknown_format(tiny: Path) -> None:
    proc = run("solve", str(tiny), "--format", "xml")
    assert_clean_failure(proc)
    assert "--format" in proc.stderr


@pytest.mark.parametrize("args", [(), ("bogus",), ("solve",), ("validate",)])
def test_usage_errors(args: tuple[str, ...]) -> None:
    proc = run(*args)
    assert_clean_failure(proc)
    assert "usage" in proc.stderr


def test_out_to_unwritable_place(tiny: Path, tmp_path: Path) -> None:
    proc = run("solve", str(tiny), "--out", str(tmp_path / "no" / "such" / "dir" / "plan.txt"))
    assert_clean_failure(proc)


# ------------------------------------------------------------------------- nothing on stdout


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_library_solve_prints_nothing(solver: str) -> None:
    code = (
        "import reallocate\n"
        "from reallocate.datasets import quang_nam_2023\n"
        f"plan = reallocate.solve(quang_nam_2023(), solver={solver!r})\n"
        f"plan = reallocate.solve(quang_nam_2023(rules={{'min_transfer': 500}}), solver={solver!r}, time_limit=3)\n"
        "assert plan.found\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8", env=ENV, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
