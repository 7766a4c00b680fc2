"""Sweeps on this machine: every row equals a sequential ``solve``, failures are rows, an
interrupted sweep resumes without redoing finished chunks, bad variants are refused by path."""

from __future__ import annotations

import concurrent.futures as cf
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import reallocate
from reallocate import Scenario, ScenarioError, solve
from reallocate.datasets import quang_nam_2023
from reallocate.messages import untranslated
from reallocate.sweep import SweepOutputError, forecast_samples, load_variants, output_folder
from reallocate.uncertainty import CapacityForecast
from sweep_reference import (
    COUNCIL,
    FREEZE,
    MOUNTAIN,
    TARGET,
    assert_rows_match,
    grid_changes,
    reference_rows,
    with_capacity,
)


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return quang_nam_2023()


AXES = {"mountain": MOUNTAIN, "council": COUNCIL, "target": TARGET, "freeze": FREEZE}


def test_a_grid_on_the_local_pool_equals_sequential_solves(baseline: Scenario) -> None:
    result = reallocate.sweep(baseline, reallocate.grid(**AXES), workers=2, chunk_size=3, progress=False)
    cases = grid_changes(AXES)
    assert len(result) == len(cases) == 16
    assert_rows_match(result.frame, reference_rows(baseline, [c for _, c in cases]))
    for k, (axes, _) in enumerate(cases):
        for name, value in axes.items():
            assert result.frame.loc[k, name] == value
    # every kind of row is there: plans, no plan, changes that cannot be applied
    assert set(result.frame["status"]) == {"optimal", "infeasible", "invalid"}
    assert result.chunks_solved == 6 and result.chunks_skipped == 0
    assert 1 <= len(result.worker_pids) <= 2


def test_a_list_of_change_sets_and_named_variants(baseline: Scenario) -> None:
    sets: list[Any] = [
        [],
        {"kind": "scale_capacity", "where": {"program": "ntm"}, "factor": 1.3},
        {"name": "frozen hoi-an", "changes": [{"kind": "freeze", "where": {"locality": "hoi-an"}}], "axes": {"x": 1}},
        [{"kind": "set_line", "where": {"locality": "hoi-an", "program": "ntm"}, "values": {"capacity": 7}}],
    ]
    result = reallocate.sweep(baseline, sets, workers=1, progress=False)
    plain = [[], [sets[1]], sets[2]["changes"], sets[3]]
    assert_rows_match(result.frame, reference_rows(baseline, plain))
    assert list(result.frame["name"]) == ["variant 0", "variant 1", "frozen hoi-an", "variant 3"]
    assert result.frame["x"].isna().tolist() == [True, True, False, True]


def _forecast(baseline: Scenario, draws: int, seed: int) -> tuple[CapacityForecast, np.ndarray]:
    rng = np.random.default_rng(seed)
    keys = list(reversed(baseline.lines.keys()))  # not the scenario's order: alignment is needed
    low = np.array([int(baseline.lines.units("disbursed")[baseline.lines.keys().index(k)]) for k in keys])
    samples = low + rng.integers(0, 30_000, size=(draws, len(keys)))
    return CapacityForecast.from_samples(keys, samples, low=low, high=low + 30_000), np.asarray(keys, dtype=object)


def test_forecast_samples_replace_every_capacity(baseline: Scenario) -> None:
    forecast, _ = _forecast(baseline, 40, seed=3)
    result = reallocate.sweep(baseline, forecast, samples=7, seed=11, workers=2, chunk_size=3, progress=False)
    draws = forecast.sample(7, seed=11)  # the same draws, read here
    expected = []
    for row in draws:
        capacity = {key: int(v) for key, v in zip(forecast.keys, row, strict=True)}
        plan = solve(with_capacity(baseline, capacity))
        expected.append({"status": plan.status, "message": plan.message, **plan.summary.as_dict()})
    assert_rows_match(result.frame, expected)
    assert list(result.frame["sample"]) == list(range(7))
    with pytest.raises(ValueError, match="the sweep has no axes"):
        result.sensitivity()  # a sample's number is not a what-if axis
    # and through forecast_samples: the same rows
    again = reallocate.sweep(baseline, forecast_samples(forecast, 7, seed=11), workers=1, progress=False)
    assert again.frame["rate_after"].tolist() == result.frame["rate_after"].tolist()


def test_a_forecast_that_lacks_a_line_is_refused_by_its_path(baseline: Scenario) -> None:
    forecast, _ = _forecast(baseline, 5, seed=1)
    short = CapacityForecast.from_samples(forecast.keys[1:], forecast.sample(5, seed=0)[:, 1:])
    with pytest.raises(ScenarioError) as info:
        reallocate.sweep(baseline, short, samples=3, seed=1, progress=False)
    assert any(m.startswith("lines[") and "the forecast has no such line" in m for m in info.value.messages)


class _Recording(cf.Executor):
    """A thread pool that records which chunks it ran, and can make chunks fail."""

    def __init__(self, fail: Callable[[int], bool] = lambda _chunk: False) -> None:
        self.inner = cf.ThreadPoolExecutor(max_workers=1)
        self.chunks: list[int] = []
        self.fail = fail
        self.lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        chunk = args[2]

        def run() -> Any:
            if self.fail(chunk):
                raise RuntimeError(f"chunk {chunk} lost")
            with self.lock:
                self.chunks.append(chunk)
            return fn(*args)

        return self.inner.submit(run)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)


def test_an_interrupted_sweep_resumes_without_redoing_finished_chunks(baseline: Scenario, tmp_path: Path) -> None:
    axes = {"mountain": MOUNTAIN, "council": COUNCIL, "target": TARGET}
    out = tmp_path / "results.parquet"
    broken = _Recording(fail=lambda chunk: chunk >= 2)
    with pytest.raises(RuntimeError, match="lost"):
        reallocate.sweep(baseline, reallocate.grid(**axes), executor=broken, chunk_size=2, out=out, progress=False)
    broken.shutdown()
    folder = output_folder(out)
    assert not out.exists()
    assert sorted(p.name for p in (folder / "rows").iterdir()) == ["chunk-000000.parquet", "chunk-000001.parquet"]
    # not resumed by accident, nor over another sweep
    with pytest.raises(SweepOutputError, match="unfinished sweep"):
        reallocate.sweep(baseline, reallocate.grid(**axes), chunk_size=2, out=out, progress=False)
    with pytest.raises(SweepOutputError, match="different sweep"):
        reallocate.sweep(baseline, reallocate.grid(**axes), chunk_size=3, out=out, resume=True, progress=False)
    again = _Recording()  # the chunk size is the interrupted sweep's, whatever the new executor
    result = reallocate.sweep(baseline, reallocate.grid(**axes), executor=again, out=out, resume=True, progress=False)
    again.shutdown()
    assert sorted(set(again.chunks)) == [2, 3]
    # chunks ran in this process's threads: its own solver keeps its threads (no one-thread limit here)
    from reallocate.sweep import worker

    assert not worker._SINGLE_THREAD
    assert result.chunks_skipped == 2 and result.chunks_solved == 2
    assert_rows_match(result.frame, reference_rows(baseline, [c for _, c in grid_changes(axes)]))
    written = pd.read_parquet(out)
    pd.testing.assert_frame_equal(written, result.frame, check_dtype=False)
    # a finished sweep is not written over without force
    with pytest.raises(SweepOutputError, match="already exists"):
        reallocate.sweep(baseline, reallocate.grid(**axes), chunk_size=2, out=out, resume=True, progress=False)


def test_kept_plans_are_the_plans_of_each_variant(baseline: Scenario, tmp_path: Path) -> None:
    axes = {"mountain": MOUNTAIN, "target": TARGET}
    result = reallocate.sweep(
        baseline, reallocate.grid(**axes), workers=2, chunk_size=1, keep_plans=True, out=tmp_path / "r.parquet",
        progress=False,
    )  # fmt: skip
    lines, transfers = result.plan_lines(), result.plan_transfers()
    for k, (_, changes) in enumerate(grid_changes(axes)):
        plan = solve(reallocate.whatif.apply_changes(baseline, changes))
        mine = lines[lines["variant"] == k]
        if not plan.found:
            assert mine.empty
            continue
        assert mine["final"].tolist() == plan.lines["final"].tolist()
        assert mine["locality"].tolist() == plan.lines["locality"].tolist()
        moved = transfers[transfers["variant"] == k]
        assert sorted(moved["amount"].tolist()) == sorted(plan.transfers["amount"].tolist())


def test_sensitivity_is_the_spread_of_the_axis_means(baseline: Scenario) -> None:
    axes = {"mountain": {"values": [0.5, 0.8, 1.2], "changes": MOUNTAIN["changes"]}, "council": COUNCIL}
    result = reallocate.sweep(baseline, reallocate.grid(**axes), workers=1, progress=False)
    cases = grid_changes(axes)
    rates = [solve(reallocate.whatif.apply_changes(baseline, c)).summary.rate_after for _, c in cases]
    table = result.sensitivity("rate_after")
    for axis in axes:
        means: dict[Any, list[float]] = {}
        for (values, _), rate in zip(cases, rates, strict=True):
            means.setdefault(values[axis], []).append(rate)
        avg = {k: sum(v) / len(v) for k, v in means.items()}
        row = table[table["axis"] == axis].iloc[0]
        assert row["high"] == pytest.approx(max(avg.values()), abs=1e-12)
        assert row["low"] == pytest.approx(min(avg.values()), abs=1e-12)
        assert row["swing"] == pytest.approx(max(avg.values()) - min(avg.values()), abs=1e-12)
    assert table["axis"].tolist()[0] == "mountain"  # capacity moves the rate; the council does not here
    assert table.loc[0, "low_value"] == 0.5 and table.loc[0, "high_value"] == 1.2
    vi = result.sensitivity("rate_after", lang="vi")
    assert list(vi.columns) == ["Trục", "Giá trị cho mức thấp", "Thấp", "Giá trị cho mức cao", "Cao", "Biên độ"]
    for lang, title in (("en", "What moves"), ("vi", "Yếu tố tác động")):
        fig = result.tornado(lang=lang)
        assert fig.texts[0].get_text().startswith(title)
        assert len(fig.axes[0].patches) == 2  # one bar per axis


def test_bad_variants_are_refused_with_the_path_and_value(tmp_path: Path, baseline: Scenario) -> None:
    def problems(data: Any, suffix: str = ".json") -> list[str]:
        path = tmp_path / f"v{suffix}"
        path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
        with pytest.raises(ScenarioError) as info:
            load_variants(path)
        # every sentence is in the catalogue: a planner reads it in Vietnamese too
        for err in info.value.errors:
            assert not untranslated(str(err["msg"])), err["msg"]
        assert not untranslated(info.value.title)
        return info.value.messages

    scale = {"kind": "scale_capacity", "where": {}, "factor": "$value"}
    got = problems({"grid": {"mountain": {"values": [0.8, -1], "changes": [scale]}}})
    assert got == ["grid.mountain.values[1][0].factor: Input should be greater than or equal to 0 (got -1)"]
    assert problems({"grid": {"status": {"a": []}}}) == [
        "grid.status: an axis name may not be blank nor a result column (got 'status')"
    ]
    assert problems({"grid": {"m": {"values": [1, 1], "changes": [scale]}}}) == [
        "grid.m.values[1]: the axis has this value twice (got '1')"
    ]
    assert problems([[{"kind": "freeze"}]]) == ["variants[0][0].where: Field required"]
    assert problems([{"name": "a", "changes": [{"kind": "scale_capacity", "where": {}, "factor": "abc"}]}]) == [
        "variants[0].changes[0].factor: Input should be a valid decimal (got 'abc')"
    ]
    assert problems({"grid": {}, "variants": []}) == [
        "variants: a variants file holds either grid or variants (got 'variants')"
    ]
    csv_bad = 'axis,value,kind,where,factor\nm,0.8,scale_capacity,"{""tag"": {}}",x\nm,1,scale_capacity,{oops,1\n'
    assert problems(csv_bad, ".csv") == [
        "rows[0].factor: Input should be a valid number (got 'x')",
        "rows[1].where: not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 "
        "(char 1) (got '{oops')",
    ]
    assert problems("axis,value,colour\nm,1,red\n", ".csv") == [
        "colour: unknown column colour; the columns are axis, value, kind, where, factor, flag, weight, values, "
        "rate, rules (got 'colour')"
    ]
    with pytest.raises(ScenarioError) as info:
        reallocate.sweep(baseline, [[], "scale"], progress=False)
    assert info.value.messages == ["variants[1]: give a list of changes"]


def test_a_csv_grid_is_the_json_grid(tmp_path: Path, baseline: Scenario) -> None:
    path = tmp_path / "grid.csv"
    path.write_text(
        "axis,value,kind,where,factor,rules\n"
        'mountain,0.7,scale_capacity,"{""tag"": {""mountainous"": true}}",0.7,\n'
        "mountain,1,,,,\n"
        "council,off,,,,\n"
        'council,on,set_rules,,,"{""pool_by"": [""fund""], ""move_costs"": {""program"": 5}}"\n',
        encoding="utf-8",
    )
    from_csv = reallocate.sweep(baseline, load_variants(path), workers=1, progress=False)
    axes = {"mountain": MOUNTAIN, "council": COUNCIL}
    assert_rows_match(from_csv.frame, reference_rows(baseline, [c for _, c in grid_changes(axes)]))
    assert from_csv.frame["mountain"].tolist() == [0.7, 0.7, 1, 1]


def test_any_executor_gets_the_baseline_when_a_worker_asks(baseline: Scenario) -> None:
    # a pool the sweep did not make: its workers start without the baseline and are sent it once
    import multiprocessing
    import os

    axes = {"mountain": MOUNTAIN, "council": COUNCIL}
    with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver")) as pool:
        result = reallocate.sweep(baseline, reallocate.grid(**axes), executor=pool, chunk_size=1, progress=False)
    assert_rows_match(result.frame, reference_rows(baseline, [c for _, c in grid_changes(axes)]))
    assert os.getpid() not in result.worker_pids


@pytest.mark.parametrize(
    "options, message",
    [
        ({"samples": 3}, "samples and seed are for a CapacityForecast given as variants"),
        ({"solver": "glpk"}, "solver must be one of highs, cbc; got 'glpk'"),
        ({"keep_plans": True}, "keep_plans needs out (the plans are written as Parquet beside it)"),
        ({"workers": 0}, "workers must be a whole number of at least 1; got 0"),
        ({"chunk_size": 2.5}, "chunk_size must be a whole number of at least 1; got 2.5"),
    ],
)
def test_options_that_do_not_fit_are_refused(baseline: Scenario, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as info:
        reallocate.sweep(baseline, [[]], progress=False, **options)
    assert str(info.value) == message
    assert not untranslated(message)


def test_force_never_removes_files_that_are_not_the_sweeps(baseline: Scenario, tmp_path: Path) -> None:
    out = tmp_path / "results.parquet"
    folder = output_folder(out)
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SweepOutputError, match="holds files that are not a sweep's"):
        reallocate.sweep(baseline, [[]], out=out, force=True, progress=False)
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"
    (folder / "notes.txt").unlink()
    result = reallocate.sweep(baseline, [[]], out=out, force=True, progress=False, workers=1)
    assert out.exists() and len(result) == 1


def test_a_template_may_be_a_function_of_the_value() -> None:
    def scale(v: float) -> list[dict[str, Any]]:
        return [{"kind": "scale_capacity", "where": {"tag": {"mountainous": True}}, "factor": v}]

    by_function = list(reallocate.grid(mountain={"values": [0.7, 1], "changes": scale}))
    by_template = list(reallocate.grid(mountain=MOUNTAIN))
    assert [v.changes for v in by_function] == [v.changes for v in by_template]
    assert [dict(v.axes) for v in by_function] == [{"mountain": 0.7}, {"mountain": 1}]


def test_a_variant_whose_factor_overflows_is_a_row_and_the_sweep_goes_on(baseline: Scenario) -> None:
    scale = {"kind": "scale_capacity", "where": {"program": "ntm"}}
    variants = [[], [{**scale, "factor": "1e30"}], [{**scale, "factor": "1e-30"}]]
    result = reallocate.sweep(baseline, variants, progress=False, workers=1)
    assert result.frame["status"].tolist()[0] == "optimal" and result.frame["status"].tolist()[1] == "invalid"
    assert "changes[0].factor" in result.frame["message"][1] and "2^62" in result.frame["message"][1]
    assert_rows_match(result.frame, reference_rows(baseline, variants))


def test_an_interrupted_forced_run_leaves_no_old_results_and_resumes(baseline: Scenario, tmp_path: Path) -> None:
    axes = {"mountain": MOUNTAIN, "council": COUNCIL}
    out = tmp_path / "results.parquet"
    reallocate.sweep(baseline, reallocate.grid(mountain=MOUNTAIN), out=out, progress=False, workers=1)
    broken = _Recording(fail=lambda chunk: chunk >= 1)
    with pytest.raises(RuntimeError, match="lost"):
        reallocate.sweep(
            baseline, reallocate.grid(**axes), executor=broken, chunk_size=2, out=out, force=True, progress=False
        )
    broken.shutdown()
    assert not out.exists()  # the first sweep's results are not left beside the second's chunks
    # a killed write's temporary file is the sweep's own: --force may still start over
    (output_folder(out) / "rows" / ".chunk-000001.parquet.0a1b2c.part").write_bytes(b"half")
    again = _Recording()
    result = reallocate.sweep(baseline, reallocate.grid(**axes), executor=again, out=out, resume=True, progress=False)
    again.shutdown()
    assert result.chunks_skipped == 1
    assert_rows_match(result.frame, reference_rows(baseline, [c for _, c in grid_changes(axes)]))
    reallocate.sweep(baseline, reallocate.grid(**axes), out=out, force=True, progress=False, workers=1)


def test_the_result_columns_are_every_figure_of_a_plans_summary() -> None:
    import dataclasses

    from reallocate.plan import Summary
    from reallocate.sweep.variants import SUMMARY_FIELDS

    assert tuple(f.name for f in dataclasses.fields(Summary)) == SUMMARY_FIELDS
