"""The CLI as a backend for other programs: refusals as JSON documents with --format json, and a
published JSON Schema of plans that every written plan satisfies (checked by jsonschema)."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings

import reallocate
from reallocate import Scenario, ScenarioError, solve
from reallocate.plan_schema import plan_schema
from test_independent import SETTINGS, small_scenarios


def _cli(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reallocate", *map(str, args)],
        input=None if stdin is None else stdin.decode(),
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_refused_scenario_is_a_json_document_with_every_problem(tmp_path: Path) -> None:
    data = {
        "name": "bad",
        "precision": "0.01",
        "lines": [
            {"locality": "a", "program": "p", "fund": "f", "allocated": "100.005", "capacity": 40},
            {"locality": "b\x1b", "program": "p", "fund": "f", "allocated": 50, "capacity": -1},
        ],
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    done = _cli("solve", path, "--format", "json")
    assert done.returncode == 2
    doc = json.loads(done.stdout)
    assert doc["status"] == "invalid" and doc["file"] == str(path)
    paths = {p["path"]: p for p in doc["problems"]}
    assert set(paths) == {"lines[0].allocated", "lines[1].locality", "lines[1].capacity"}
    assert paths["lines[0].allocated"]["value"] == "100.005"  # exact, as text
    assert paths["lines[1].locality"]["loc"] == ["lines", 1, "locality"]
    assert "lines[0].allocated" in done.stderr  # the sentence for people is still there


def test_usage_and_file_errors_are_json_documents_too(tmp_path: Path) -> None:
    done = _cli("demo", "--format", "json", "--out", tmp_path / "missing" / "deeper" / "plan.json")
    assert done.returncode == 2 and json.loads(done.stdout)["status"] == "io_error"
    out = tmp_path / "exists.json"
    out.write_text("{}", encoding="utf-8")
    done = _cli("demo", "--format", "json", "--out", out)
    assert done.returncode == 2 and json.loads(done.stdout)["status"] == "usage_error"


def test_scenario_errors_serialise_any_refused_value() -> None:
    err = ScenarioError(
        [
            {"loc": ("lines", 0, "allocated"), "msg": "m", "type": "t", "input": Decimal("1E+999999999")},
            {"loc": ("x",), "msg": "m", "type": "t", "input": float("nan")},
            {"loc": ("y",), "msg": "m", "type": "t", "input": "District \ud800"},
            {"loc": ("z",), "msg": "m", "type": "t", "input": 10**300},
            {"loc": ("w",), "msg": "m", "type": "t", "input": object()},
        ]
    )
    text = json.dumps(err.to_dict(), ensure_ascii=False, allow_nan=False)
    values = [p["value"] for p in json.loads(text)["problems"]]
    assert values[0] == "1E+999999999" and values[3] == str(10**300)


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = plan_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_cli_prints_the_plan_schema(validator: Any) -> None:
    done = _cli("schema", "--plan")
    assert done.returncode == 0
    assert json.loads(done.stdout) == json.loads(json.dumps(plan_schema()))
    assert "](" not in done.stdout  # no MkDocs link markup in descriptions


def test_written_plans_satisfy_the_schema(validator: Any) -> None:
    plan = solve(reallocate.datasets.quang_nam_2023())
    infeasible = solve(
        reallocate.datasets.quang_nam_2023().with_changes({"kind": "set_rules", "rules": {"target_rate": 1.0}})
    )
    for p in (plan, infeasible):
        for options in ({}, {"compact": True}, {"texts": True}, {"indent": None}):
            validator.validate(json.loads(p.to_json(**options)))
    broken = json.loads(plan.to_json())
    broken["status"] = "great"
    broken["lines"][0]["final"] = "12"
    assert len(list(validator.iter_errors(broken))) == 2


@settings(max_examples=25, **SETTINGS)
@given(small_scenarios(max_pools=3))
def test_plans_of_random_scenarios_satisfy_the_schema(data: dict[str, Any]) -> None:
    schema = jsonschema.Draft202012Validator(plan_schema())
    plan = solve(Scenario.from_dict(data))
    schema.validate(json.loads(plan.to_json(compact=True)))
