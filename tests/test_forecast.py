"""The capacity forecast: monotone quantiles inside their bounds, joint draws, calibrated 80%
intervals on histories whose true process is known, the backtest's figures recomputed by a plain
loop, the scenario's bounds, and the command line."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reallocate
from reallocate import ScenarioError
from reallocate.cli import main
from reallocate.datasets import quang_nam_2023, quang_nam_history
from reallocate.datasets.make_history import synthetic_history
from reallocate.messages import untranslated
from reallocate.uncertainty import backtest, forecast, scenario_high


@pytest.fixture(scope="module")
def history() -> reallocate.History:
    return quang_nam_history()


@pytest.mark.parametrize("method", ["ratio", "logistic"])
@pytest.mark.parametrize("as_of", ["2023-02", "2023-06", "2023-09", "2023-12"])
def test_quantiles_are_monotone_and_inside_the_bounds(history: reallocate.History, method: str, as_of: str) -> None:
    fc = forecast(history, as_of, method=method)
    q = fc.quantile_units([0.0, 0.1, 0.5, 0.9, 1.0])
    assert np.all(np.diff(q, axis=0) >= 0)
    assert np.all(q[0] >= fc.low) and np.all(q[-1] <= fc.high)
    s = fc.sample(500, seed=3)
    assert np.all(s >= fc.low) and np.all(s <= fc.high)
    assert np.all(fc.low <= fc.expected_units) and np.all(fc.expected_units <= fc.high)
    # low is what was disbursed by the as-of month, high the allocation then
    year, month = int(as_of[:4]), int(as_of[5:])
    at = (history.budget_year == year) & (history.year == year) & (history.month == month)
    assert sorted(history.disbursed[at].tolist()) == sorted(fc.low.tolist())
    assert sorted(history.allocated[at].tolist()) == sorted(fc.high.tolist())


def test_a_file_or_a_table_is_read_first(history: reallocate.History, tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(history.csv_text(), encoding="utf-8")
    want = forecast(history, "2023-08").quantile_units([0.1, 0.9])
    for source in (path, str(path), history.to_frame()):
        got = reallocate.forecast(source, as_of="2023-08")
        assert (got.quantile_units([0.1, 0.9]) == want).all()


def test_draws_are_joint_and_reproducible(history: reallocate.History) -> None:
    fc = forecast(history, "2023-06")
    a, b = fc.sample(300, seed=7), fc.sample(300, seed=7)
    assert (a == b).all()
    assert (fc.sample(100, seed=7) == a[:100]).all()
    # a shared year effect: the lines' draws move together (independent lines would sum to a
    # total whose variance is the sum of the lines' variances)
    big = fc.sample(3000, seed=1).astype(float)
    assert big.sum(axis=1).var() > 1.5 * big.var(axis=0).sum()


@pytest.mark.parametrize("method", ["ratio", "logistic"])
@pytest.mark.parametrize("jitter", [None, 20.0])
def test_the_80_percent_interval_covers_70_to_90_percent_of_held_out_years(method: str, jitter: float | None) -> None:
    h = synthetic_history(150, 10, seed=11, jitter=jitter)
    bt = backtest(h, months=[4, 7, 10], methods=[method], draws=1000)
    cov = bt.table["coverage80"].to_numpy()
    assert np.all((cov >= 0.7) & (cov <= 0.9)), bt.table


def test_the_coverage_check_can_fail() -> None:
    # the same check on a history whose later years are much more erratic than the earlier ones:
    # the intervals learnt from calm years are too narrow for wild ones
    calm = synthetic_history(150, 6, seed=2, year_sd=0.05, line_sd=0.05)
    wild = synthetic_history(150, 1, seed=3, year_sd=1.5, line_sd=1.0)
    from reallocate.uncertainty.history import History

    rows = np.concatenate([calm.line, wild.line])
    h = History.from_arrays(
        calm.keys,
        rows,
        np.concatenate([calm.budget_year, wild.budget_year + 6]),
        np.concatenate([calm.year, wild.year + 6]),
        np.concatenate([calm.month, wild.month]),
        np.concatenate([calm.disbursed, wild.disbursed]),
        np.concatenate([calm.allocated, wild.allocated]),
    )
    bt = backtest(h, months=[7], years=[2006], draws=500)
    assert float(bt.table["coverage80"].iloc[0]) < 0.7


def test_backtest_figures_match_a_plain_loop(history: reallocate.History) -> None:
    bt = backtest(history, months=[5, 9], draws=500)
    for row in bt.table.to_dict("records"):
        part = bt.detail[(bt.detail.method == row["method"]) & (bt.detail.as_of_month == row["as_of_month"])]
        errors, inside = [], 0
        for p10, p50, p90, actual in zip(part.p10, part.p50, part.p90, part.actual, strict=True):
            if actual > 0:
                errors.append(abs(int(p50) - int(actual)) / int(actual))
            inside += int(p10) <= int(actual) <= int(p90)
        assert row["mape"] == pytest.approx(sum(errors) / len(errors))
        assert row["coverage80"] == pytest.approx(inside / len(part))
        assert row["line_years"] == len(part) == 92 * 5 and row["years"] == 5
        # every held-out year's actual is its deadline report
        for y in set(part.year):
            at = (history.budget_year == y) & (history.year == y + 1) & (history.month == 1)
            assert sorted(part[part.year == y].actual) == sorted(history.disbursed[at].tolist())


def test_a_scenario_bounds_the_forecast_by_what_each_line_may_hold(history: reallocate.History) -> None:
    scenario = quang_nam_2023()
    fc = forecast(history, "2023-09", scenario=scenario)
    assert fc.keys == scenario.lines.keys()
    lines = list(scenario.lines)
    for i, line in enumerate(lines):
        spare = sum(
            max(o.allocated - o.disbursed, 0)
            for j, o in enumerate(lines)
            if j != i and (o.program, o.fund) == (line.program, line.fund)
        )
        assert fc.high[i] == int(line.allocated + spare)
        assert fc.low[i] >= int(line.disbursed)
    assert (fc.positions(scenario) == np.arange(len(lines))).all()
    capped = scenario.with_changes(
        {"kind": "set_line", "where": {"locality": "nam-tra-my", "program": "ntm"}, "values": {"ceiling": 20000}}
    )
    high = scenario_high(capped)
    hit = [i for i, k in enumerate(capped.lines.keys()) if k[:2] == ("nam-tra-my", "ntm")]
    assert len(hit) == 2 and all(int(high[i]) == 20000 for i in hit)


def test_a_scenario_line_missing_from_the_history_is_named(history: reallocate.History) -> None:
    scenario = reallocate.Scenario.from_dict(
        {
            "name": "x",
            "lines": [{"locality": "nowhere", "program": "ntm", "fund": "investment", "allocated": 1, "capacity": 1}],
        }
    )
    with pytest.raises(ScenarioError) as info:
        forecast(history, "2023-09", scenario=scenario)
    assert info.value.messages == ["lines[0]: the history has no such line (got 'nowhere/ntm/investment')"]


@pytest.mark.parametrize(
    "kw, text",
    [
        ({"as_of": "2023-9x"}, "as_of: write the month as YYYY-MM"),
        ({"as_of": "2023-13"}, "as_of: the month must be 1 to 12"),
        ({"as_of": "2019-09"}, "as_of: the history has no earlier year to learn from"),
        ({"as_of": "2023-09", "method": "magic"}, "method: the method must be one of ratio, logistic"),
        ({"as_of": "2023-09", "deadline": "2023-08"}, "as_of: the as-of month must come before the deadline"),
        ({"as_of": "2023-09", "deadline": "2026-01"}, "deadline: the deadline must fall in the as-of year or the next"),
    ],
)
def test_bad_requests_are_refused_with_their_field(history: reallocate.History, kw: dict[str, str], text: str) -> None:
    with pytest.raises(ScenarioError) as info:
        forecast(history, **kw)  # type: ignore[arg-type]
    assert info.value.messages[0].startswith(text), info.value.messages
    assert not untranslated(str(info.value.errors[0]["msg"]))


def test_a_line_with_nothing_disbursed_yet_is_forecast_from_its_rate(history: reallocate.History) -> None:
    from reallocate.uncertainty.history import History

    d = history.disbursed.copy()
    first = (history.line == 0) & (history.budget_year == 2023) & (history.period <= 6)
    d[first] = 0
    h = History.from_arrays(
        history.keys, history.line, history.budget_year, history.year, history.month, d, history.allocated
    )
    fc = forecast(h, "2023-06")
    assert fc.low[0] == 0 and fc.quantile_units(0.5)[0] > 0.2 * fc.high[0]


def test_the_command_line_prints_and_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "history.csv"
    src.write_text(quang_nam_history().csv_text(), encoding="utf-8")
    out, bt = tmp_path / "forecast.csv", tmp_path / "backtest.csv"
    args = ["forecast", str(src), "--as-of", "2023-09", "--out", str(out), "--backtest-out", str(bt)]
    assert main(args) == 0
    printed = capsys.readouterr()
    assert "Capacity forecast as of 2023-09 (deadline 2024-01)" in printed.out and "80% coverage" in printed.out
    assert out.read_text("utf-8-sig").splitlines()[0].startswith("locality,program,fund,component,disbursed")
    assert len(bt.read_text("utf-8-sig").splitlines()) == 1 + 2 * 12
    assert main(args) == 2 and "add --force" in capsys.readouterr().err
    assert main([*args, "--force", "--lang", "vi", "--method", "logistic"]) == 0
    vi = capsys.readouterr()
    assert "Dự báo khả năng giải ngân tại 2023-09" in vi.out and "đã ghi dự báo vào" in vi.err
    # every word of the Vietnamese output is Vietnamese (or a code such as P10, MAPE, a line id)
    from reallocate.labels import _PHRASES

    english = {w for en, _ in _PHRASES["forecast"].values() for w in re.findall(r"[A-Za-z]{3,}", en)}
    english -= {w for _, vi in _PHRASES["forecast"].values() for w in re.findall(r"[A-Za-z]{3,}", vi)}
    assert {"forecast", "Total", "coverage"} <= english
    assert not english & set(re.findall(r"[A-Za-z]{3,}", vi.out)), english & set(re.findall(r"[A-Za-z]{3,}", vi.out))
    same = [*args[:-1], str(out), "--force"]
    assert main(same) == 2 and "name the same file" in capsys.readouterr().err
    assert (
        main(["forecast", str(src), "--as-of", "2023-09", "--precision", "0.5", "--unit", "tỷ", "--no-backtest"]) == 0
    )
    assert "in tỷ" in capsys.readouterr().out
    assert main(["forecast", str(src), "--as-of", "2023-09", "--precision", "2", "--no-backtest"]) == 2
    assert "not a multiple of the precision 2" in capsys.readouterr().err
    assert main(["forecast", str(src), "--as-of", "2023-99", "--lang", "vi"]) == 2
    err = capsys.readouterr().err
    assert "as_of: tháng phải từ 1 đến 12" in err and "Traceback" not in err


def _with_rows(history: reallocate.History, keep: np.ndarray, **extra: np.ndarray) -> reallocate.History:
    from reallocate.uncertainty.history import History

    cols = {c: getattr(history, c)[keep] for c in ("line", "budget_year", "year", "month", "disbursed", "allocated")}
    for c, v in extra.items():
        cols[c] = np.concatenate([cols[c], v])
    return History(history.keys, **cols)


def test_lines_the_history_cannot_forecast_are_named(history: reallocate.History) -> None:
    scenario = quang_nam_2023()
    # line 5 has no September 2023 report
    gone = (history.line == 5) & (history.budget_year == 2023) & (history.month == 9) & (history.year == 2023)
    with pytest.raises(ScenarioError) as info:
        forecast(_with_rows(history, ~gone), "2023-09", scenario=scenario)
    assert info.value.messages[0].startswith("lines[5]: the history has no report for this line at the as-of month")
    # a program and fund with no earlier year at all: nothing to learn from
    group = np.array([k[1:3] == ("ntm", "recurrent") for k in history.keys])[history.line]
    with pytest.raises(ScenarioError) as info:
        forecast(_with_rows(history, ~group | (history.budget_year == 2023)), "2023-09")
    assert "no earlier year of this line's program and fund has a report at the deadline" in str(info.value)


def test_a_program_that_never_started_by_the_as_of_month_is_forecast_from_its_rate(
    history: reallocate.History,
) -> None:
    d = history.disbursed.copy()
    early = (history.budget_year < 2023) & (history.period <= 3)
    d[early] = 0
    h = reallocate.History(
        history.keys, history.line, history.budget_year, history.year, history.month, d, history.allocated
    )
    fc = forecast(h, "2023-03")
    q = fc.quantile_units([0.1, 0.5, 0.9])
    assert np.all(q[0] <= q[1]) and np.all(q[1] <= q[2]) and np.all(q[1] > fc.low)


def test_the_printed_table_is_the_forecast(history: reallocate.History) -> None:
    from reallocate.uncertainty.forecast import forecast_inputs
    from reallocate.uncertainty.output import forecast_frame

    fc, inputs = forecast_inputs(history, "2023-07", method="logistic")
    frame = forecast_frame(fc, inputs)
    q = fc.quantile_units([0.1, 0.5, 0.9])
    for k, name in enumerate(("p10", "p50", "p90")):
        assert [int(v) for v in frame[name]] == q[k].tolist()
    assert [int(v) for v in frame["low"]] == fc.low.tolist() and [int(v) for v in frame["high"]] == fc.high.tolist()
    assert np.allclose([float(v) for v in frame["mean"]], fc.expected_units, atol=0.5)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    lines=st.integers(1, 30),
    years=st.integers(2, 6),
    month=st.integers(1, 12),
    method=st.sampled_from(["ratio", "logistic"]),
    spread=st.floats(0.0, 2.0),
)
def test_any_history_gives_ordered_quantiles_inside_the_bounds(
    seed: int, lines: int, years: int, month: int, method: str, spread: float
) -> None:
    h = synthetic_history(lines, years, seed=seed, year_sd=spread, line_sd=spread / 2, jitter=5.0, allocation=300)
    fc = forecast(h, f"{2000 + years - 1}-{month:02d}", method=method)
    q = fc.quantile_units([0.0, 0.1, 0.5, 0.9, 1.0])
    assert np.all(np.diff(q, axis=0) >= 0)
    assert np.all(fc.low <= q[0]) and np.all(q[-1] <= fc.high)
    s = fc.sample(64, seed=seed)
    assert np.all((s >= fc.low) & (s <= fc.high))
