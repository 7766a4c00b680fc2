"""Fuzzing every reader through the CLI's own entry point: mutated scenario JSON, CSV folders and
workbooks end in exit 2 with named problems, or in a plan that verifies (exit 0), or in an honest
"no plan" (exit 1, infeasible) — never an internal error, a traceback or a hang (each example
has a deadline)."""

from __future__ import annotations

import json
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reallocate
from reallocate import cli
from reallocate.io import write_scenario_csv, write_scenario_excel
from reallocate.verify import plan_breaches


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=timedelta(seconds=20),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


BASE: dict[str, Any] = {
    "name": "fuzz",
    "unit": "million VND",
    "localities": [{"id": "a", "name": "A", "weight": 1.0}, {"id": "b", "name": "B", "weight": 2.0}],
    "lines": [
        {"locality": "a", "program": "ntm", "fund": "investment", "allocated": 100, "capacity": 40},
        {"locality": "b", "program": "ntm", "fund": "investment", "allocated": 50, "capacity": 90, "floor": 10},
        {"locality": "a", "program": "gnbv", "fund": "recurrent", "allocated": 70, "capacity": 75},
        {"locality": "b", "program": "gnbv", "fund": "recurrent", "allocated": 30, "disbursed": 5, "capacity": 10},
    ],
    "rules": {"pool_by": ["program", "fund"], "min_transfer": 5},
    "transfer_costs": [{"from": "a", "to": "b", "cost": 0.5}],
}

NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "a\x00b",
        "\x1b[2J",
        "=HYPERLINK(1)",
        "x" * 5000,
        "Nam Tra\u0300 My",
        "\ud800",
        "\u202e",
        "9.900",
        "1e999999999",
    ]
)
NASTY_NUMBER = st.sampled_from(
    [0, -1, 10**30, 2**62, 1e308, -0.0, 0.1, 1e-30, float("nan"), float("inf"), 10**400, 0.30000000000000004]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | NASTY_NUMBER | NASTY_TEXT | st.integers(-(10**20), 10**20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NASTY_TEXT, inner, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [at]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*at, i))
    return out


@st.composite
def mutated_json(draw: st.DrawFn) -> bytes:
    data = json.loads(json.dumps(BASE))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "duplicate"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(json.loads(json.dumps(parent[path[-1]])))
        else:
            parent[path[-1]] = draw(JSON_VALUES)
    text = json.dumps(data, allow_nan=True).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):  # byte-level damage too: a cut, or a flipped byte
        k = draw(st.integers(0, len(text) - 1))
        text = text[:k] if draw(st.booleans()) else text[:k] + bytes([draw(st.integers(0, 255))]) + text[k + 1 :]
    return text


def _run(path: Path, tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp / "plan.json"
    code = cli.main(["solve", str(path), "--format", "json", "--out", str(out), "--time-limit", "20"])
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err, err
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        assert err.startswith("reallocate: ") and not out.exists()
        return
    plan = json.loads(out.read_text(encoding="utf-8"))
    if code == 1:
        assert plan["status"] in ("infeasible", "time_limit"), plan["message"]
        return
    assert plan["status"] in ("optimal", "time_limit")
    scenario = reallocate.io.read_scenario(path)
    assert plan_breaches(scenario, reallocate.solve(scenario)) == []


@fuzz(100)
@given(text=mutated_json())
def test_mutated_json_scenarios(text: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "s.json")
        path.write_bytes(text)
        _run(path, Path(tmp), capsys)


@fuzz(40)
@given(data=st.data())
def test_mutated_csv_folders(data: st.DataObject, capsys: pytest.CaptureFixture[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp, "s")
        write_scenario_csv(reallocate.Scenario.from_dict(BASE), folder)
        name = data.draw(st.sampled_from(sorted(p.name for p in folder.iterdir())))
        raw = (folder / name).read_bytes()
        for _ in range(data.draw(st.integers(1, 4))):
            k = data.draw(st.integers(0, len(raw)))
            insert = data.draw(st.sampled_from([b",", b"\n", b'"', b"\xff", b"=1+1", b";", b"1e999999999", b"\x00"]))
            raw = raw[:k] + insert + raw[k + data.draw(st.integers(0, 3)) :]
        (folder / name).write_bytes(raw)
        _run(folder, Path(tmp), capsys)


@fuzz(25)
@given(data=st.data())
def test_mutated_workbooks(data: st.DataObject, capsys: pytest.CaptureFixture[str]) -> None:
    import openpyxl

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "s.xlsx")
        write_scenario_excel(reallocate.Scenario.from_dict(BASE), path)
        book = openpyxl.load_workbook(path)
        for _ in range(data.draw(st.integers(1, 4))):
            sheet = book[data.draw(st.sampled_from(book.sheetnames))]
            row = data.draw(st.integers(1, max(2, sheet.max_row + 1)))
            col = data.draw(st.integers(1, max(1, sheet.max_column)))
            value = data.draw(
                st.none()
                | st.booleans()
                | NASTY_TEXT.filter(lambda t: not any(c in t for c in "\ud800\x00\x1b"))  # openpyxl refuses those
                | st.sampled_from([0, -1, 10**30, 1e308, 0.1, 12.5, 2**62])
            )
            sheet.cell(row=row, column=col, value=value)
        book.save(path)
        _run(path, Path(tmp), capsys)
