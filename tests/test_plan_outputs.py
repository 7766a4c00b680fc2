"""Plan outputs at national scale: the streamed JSON, its compact form, Parquet in and out, atomic files.

Each output is checked against an independent reading of the same plan: the streamed JSON against
``plan.to_dict()`` (the plan's public shape built without the streaming writer), compact transfers
against the full ones through the lines they point at, Parquet files read back with plain pandas
against the plan's exact units.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings

import reallocate
from reallocate import Scenario, ScenarioError, solve
from reallocate.comparison import load_plan
from reallocate.io import json as plan_json_io
from reallocate.io import read_scenario
from reallocate.io.parquet import write_plan_parquet
from test_independent import SETTINGS, small_scenarios
from test_large_amounts import big_scenarios

KEYS = ("locality", "program", "fund", "component")


def _same(a: Any, b: Any, where: str = "") -> None:
    """Equal as JSON values: numbers by exact value (a float by the decimal it prints)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, (int, float, Decimal)) and not isinstance(a, bool):
        assert isinstance(b, (int, float, Decimal)) and not isinstance(b, bool), f"{where}: {a!r} vs {b!r}"
        assert Decimal(repr(a) if isinstance(a, float) else a) == Decimal(repr(b) if isinstance(b, float) else b), (
            f"{where}: {a!r} != {b!r}"
        )
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _plans() -> list[reallocate.Plan]:
    cases = Path(__file__).parent / "data"  # copies of the shared reproduction cases
    plans = [solve(reallocate.datasets.quang_nam_2023())]
    plans += [solve(reallocate.load(cases / name)) for name in ("rules-frac-target.json", "big-money-share.json")]
    return plans


@pytest.fixture(scope="module")
def plans() -> list[reallocate.Plan]:
    return _plans()


def _without_texts(data: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    for rec in (out.get("explain") or {}).get("lines", []):
        rec.pop("text", None)
    return out


def test_streamed_json_is_the_plans_dict(plans: list[reallocate.Plan]) -> None:
    for plan in plans:
        expected = plan.to_dict()
        for indent in (2, None):
            streamed = json.loads(plan.to_json(indent=indent, texts=True), parse_float=Decimal)
            _same(expected, streamed, plan.scenario.name)
            # without texts (the default), only the sentences are left out
            plain = json.loads(plan.to_json(indent=indent), parse_float=Decimal)
            _same(_without_texts(expected), _without_texts(plain), plan.scenario.name)
            assert all("text" not in r for r in plain["explain"]["lines"])


@settings(max_examples=25, **SETTINGS)
@given(small_scenarios(max_pools=3))
def test_streamed_json_is_the_plans_dict_on_random_scenarios(data: dict[str, Any]) -> None:
    plan = solve(Scenario.from_dict(data))
    _same(plan.to_dict(), json.loads(plan.to_json(texts=True), parse_float=Decimal))


@settings(max_examples=10, **SETTINGS)
@given(big_scenarios())
def test_streamed_json_keeps_amounts_to_1e15_exact(data: dict[str, Any]) -> None:
    plan = solve(Scenario.from_dict(data))
    assert plan.final_units is not None
    read = json.loads(plan.to_json(compact=True), parse_float=Decimal)
    finals = [Decimal(str(r["final"])) for r in read["lines"]]
    assert finals == [Decimal(int(u)) * plan.scenario.precision for u in plan.final_units.tolist()]
    assert sum(finals) == sum(Decimal(str(r["allocated"])) for r in read["lines"])


def test_json_file_is_the_same_text_as_to_json(plans: list[reallocate.Plan], tmp_path: Path) -> None:
    for k, plan in enumerate(plans):
        for compact in (False, True):
            target = tmp_path / f"plan-{k}-{compact}.json"
            plan_json_io.write_plan_json(plan, target, compact=compact, indent=None if compact else 2)
            text = plan.to_json(compact=compact, indent=None if compact else 2)
            assert target.read_text(encoding="utf-8") == text + "\n"


def test_compact_transfers_point_at_the_lines_the_full_ones_name(plans: list[reallocate.Plan]) -> None:
    for plan in plans:
        full = json.loads(plan.to_json())
        compact = json.loads(plan.to_json(compact=True, indent=None))
        assert "\n" not in plan.to_json(compact=True, indent=None)
        assert compact["lines"] == full["lines"]
        assert len(compact["transfers"]) == len(full["transfers"])
        for short, long in zip(compact["transfers"], full["transfers"], strict=True):
            for end in ("from", "to"):
                line = compact["lines"][short[end]]
                assert {k: line[k] for k in KEYS} == {k: long[f"{end}_{k}"] for k in KEYS}
            assert {k: v for k, v in short.items() if k not in ("from", "to")} == {
                k: v for k, v in long.items() if not k.startswith(("from_", "to_"))
            }


def test_explanation_sentences_only_when_asked(plans: list[reallocate.Plan]) -> None:
    plan = plans[0]
    plain = json.loads(plan.to_json())["explain"]["lines"]
    texts = json.loads(plan.to_json(texts=True))["explain"]["lines"]
    assert len(plain) == len(texts) == len(plan.scenario.lines)
    assert all("text" not in r for r in plain)
    assert all(isinstance(r["text"], str) and r["text"] for r in texts)
    assert [r["reason"] for r in plain] == [r["reason"] for r in texts]


def test_load_plan_reads_full_and_compact_plans_alike(plans: list[reallocate.Plan], tmp_path: Path) -> None:
    for k, plan in enumerate(plans):
        full, short = tmp_path / f"full-{k}.json", tmp_path / f"compact-{k}.json"
        full.write_text(plan.to_json(), encoding="utf-8")
        short.write_text(plan.to_json(compact=True, indent=None), encoding="utf-8")
        a, b = load_plan(full), load_plan(short)
        pd.testing.assert_frame_equal(a.lines, b.lines)
        pd.testing.assert_frame_equal(a.transfers, b.transfers)
        assert a.summary == b.summary
        assert len(a.transfers) == len(plan.transfer_units)


def test_load_plan_refuses_a_transfer_pointing_past_the_lines(plans: list[reallocate.Plan]) -> None:
    data = json.loads(plans[0].to_json(compact=True))
    assert data["transfers"]
    data["transfers"][0]["to"] = len(data["lines"])
    with pytest.raises(ScenarioError) as err:
        reallocate.comparison.PlanData.from_dict(data)
    assert err.value.errors[0]["loc"] == ("transfers", 0, "to")
    data["version"] = 2
    with pytest.raises(ScenarioError) as err:
        reallocate.comparison.PlanData.from_dict(data)
    assert err.value.errors[0]["loc"] == ("version",)


# ----------------------------------------------------------------------------------------- Parquet
def _write_scenario_folder(data: dict[str, Any], folder: Path, lines_types: dict[str, pa.DataType]) -> None:
    """A scenario folder written with plain pyarrow, as another tool would."""
    folder.mkdir()
    lines = data["lines"]
    names = sorted({k for ln in lines for k in ln})
    columns = {}
    for name in names:
        values = [ln.get(name) for ln in lines]
        typ = lines_types.get(name)
        if typ is None:  # keys as text, flags as booleans: pyarrow's own inference
            columns[name] = pa.array(values)
            continue
        if pa.types.is_decimal(typ):
            values = [None if v is None else Decimal(v) for v in values]
        elif pa.types.is_integer(typ):
            values = [None if v is None else int(v) for v in values]
        columns[name] = pa.array(values, type=typ)
    pq.write_table(pa.table(columns), folder / "lines.parquet")
    envelope = {k: v for k, v in data.items() if k not in ("lines", "transfer_costs")}
    (folder / "scenario.json").write_text(json.dumps(envelope, default=str), encoding="utf-8")
    if data.get("transfer_costs"):
        costs = pd.DataFrame(data["transfer_costs"]).astype({"cost": float})
        costs.to_parquet(folder / "transfer_costs.parquet")


def _plan_of(data: dict[str, Any]) -> reallocate.Plan:
    return solve(Scenario.from_dict(json.loads(json.dumps(data, default=str))))


@settings(max_examples=15, **SETTINGS)
@given(small_scenarios(max_pools=3))
def test_parquet_scenario_solves_as_its_json(data: dict[str, Any]) -> None:
    import tempfile

    amount_type = pa.decimal128(20, 2)
    types = {k: amount_type for k in ("allocated", "disbursed", "capacity", "floor", "ceiling")}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp, "scenario")
        _write_scenario_folder(data, folder, types)
        from_parquet = solve(read_scenario(folder))
        if from_parquet.final_units is not None:
            out = write_plan_parquet(from_parquet, Path(tmp, "plan"))
            _check_plan_files(from_parquet, *out)
    from_json = _plan_of(data)
    assert from_parquet.status == from_json.status
    assert np.array_equal(from_parquet.final_units, from_json.final_units)
    _same(json.loads(from_json.to_json())["transfers"], json.loads(from_parquet.to_json())["transfers"])


def test_parquet_scenario_with_integer_columns_and_bad_rows_named(tmp_path: Path) -> None:
    data = {
        "name": "ints",
        "unit": "million VND",
        "lines": [
            {"locality": "a", "program": "p", "fund": "f", "allocated": 100, "capacity": 40},
            {"locality": "b", "program": "p", "fund": "f", "allocated": 50, "capacity": 90},
            {"locality": "c", "program": "p", "fund": "f", "allocated": 10, "capacity": -1},
        ],
    }
    ints = {k: pa.int64() for k in ("allocated", "capacity")}
    _write_scenario_folder(data, tmp_path / "bad", ints)
    with pytest.raises(ScenarioError) as err:
        read_scenario(tmp_path / "bad")
    assert [e["loc"] for e in err.value.errors] == [("lines", 2, "capacity")]
    data["lines"][2]["capacity"] = 10
    _write_scenario_folder(data, tmp_path / "good", ints)
    plan = solve(read_scenario(tmp_path / "good"))
    assert plan.status == "optimal" and plan.summary is not None
    assert plan.summary.moved == 40


def _check_plan_files(plan: reallocate.Plan, lines_file: Path, transfers_file: Path, meta_file: Path) -> None:
    lines = pd.read_parquet(lines_file)
    transfers = pd.read_parquet(transfers_file)
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    full = json.loads(plan.to_json(), parse_float=Decimal)
    assert len(lines) == len(full["lines"])
    for column in ("allocated", "final", "change", "absorbable_after"):
        assert [Decimal(str(v)) for v in lines[column].tolist()] == [Decimal(str(r[column])) for r in full["lines"]]
    assert [tuple(str(v) for v in row) for row in lines[list(KEYS)].itertuples(index=False)] == [
        tuple(r[k] for k in KEYS) for r in full["lines"]
    ]
    assert lines["reason"].astype(str).tolist() == [r["reason"] for r in full["explain"]["lines"]]
    assert len(transfers) == len(full["transfers"])
    for got, want in zip(transfers.to_dict("records"), full["transfers"], strict=True):
        for k in KEYS:
            assert str(got[f"from_{k}"]) == want[f"from_{k}"] and str(got[f"to_{k}"]) == want[f"to_{k}"]
        assert Decimal(str(got["amount"])) == Decimal(str(want["amount"]))
        assert got["unit_cost"] == float(want["unit_cost"])
        assert got["cost"] == pytest.approx(float(want["cost"]), rel=1e-15, abs=0)
        assert got["approval"] == want["approval"]
    _same(full["summary"], meta["summary"])
    assert meta["status"] == full["status"]


def test_plan_parquet_folder_and_file_layouts_read_by_pandas(plans: list[reallocate.Plan], tmp_path: Path) -> None:
    for k, plan in enumerate(plans):
        folder = tmp_path / f"plan-{k}"
        written = write_plan_parquet(plan, folder)
        assert sorted(p.name for p in folder.iterdir()) == ["lines.parquet", "plan.json", "transfers.parquet"]
        _check_plan_files(plan, *written)
        single = tmp_path / f"single-{k}.parquet"
        written = write_plan_parquet(plan, single)
        assert [p.name for p in written] == [f"single-{k}.parquet", f"single-{k}.transfers.parquet", f"single-{k}.json"]
        _check_plan_files(plan, *written)


def test_plan_parquet_amounts_are_exact_decimals_for_fractional_precision(tmp_path: Path) -> None:
    data = {
        "name": "cents",
        "unit": "VND",
        "precision": "0.01",
        "lines": [
            {"locality": "a", "program": "p", "fund": "f", "allocated": "100.05", "capacity": "40.01"},
            {"locality": "b", "program": "p", "fund": "f", "allocated": "50.10", "capacity": "90.33"},
        ],
    }
    plan = solve(Scenario.from_dict(data))
    lines_file = write_plan_parquet(plan, tmp_path / "plan")[0]
    schema = pq.read_schema(lines_file)
    assert pa.types.is_decimal(schema.field("final").type)
    final = pd.read_parquet(lines_file)["final"].tolist()
    room = Decimal("90.33") - Decimal("50.10")  # b takes all its room; a has more surplus than that
    assert final == [Decimal("100.05") - room, Decimal("50.10") + room]


def test_cli_reads_a_parquet_folder_and_writes_parquet(tmp_path: Path) -> None:
    data = json.loads(reallocate.datasets.quang_nam_2023().to_json())
    types = {k: pa.decimal128(20, 0) for k in ("allocated", "disbursed", "capacity", "floor", "ceiling")}
    _write_scenario_folder(data, tmp_path / "qn", types)
    out = tmp_path / "plan.parquet"
    done = subprocess.run(
        [sys.executable, "-m", "reallocate", "solve", str(tmp_path / "qn"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    plan = solve(reallocate.datasets.quang_nam_2023())
    _check_plan_files(plan, out, tmp_path / "plan.transfers.parquet", tmp_path / "plan.json")


# ------------------------------------------------------------------------------------ atomic files
def test_a_failed_json_write_leaves_the_old_file_and_no_debris(
    plans: list[reallocate.Plan], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old plan\n", encoding="utf-8")
    real = plan_json_io.plan_json_chunks

    def failing(*args: Any, **kwargs: Any) -> Any:
        chunks = real(*args, **kwargs)
        yield next(chunks)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(plan_json_io, "plan_json_chunks", failing)
    with pytest.raises(OSError, match="No space"):
        plan_json_io.write_plan_json(plans[0], target)
    assert target.read_text(encoding="utf-8") == "old plan\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


def test_a_failed_parquet_folder_write_leaves_the_old_folder(
    plans: list[reallocate.Plan], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "plan"
    write_plan_parquet(plans[1], folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def failing(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", failing)
    with pytest.raises(OSError, match="No space"):
        write_plan_parquet(plans[0], folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]
