"""The forecast object every uncertainty feature reads: bounds, quantiles, reproducible draws."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from reallocate import ScenarioError
from reallocate.datasets import quang_nam_2023
from reallocate.uncertainty import CapacityForecast

KEYS = [("a", "p", "f", ""), ("b", "p", "f", ""), ("c", "q", "f", "x")]


def _normal(rng: np.random.Generator, n: int) -> np.ndarray:
    year = rng.normal(0, 1, size=(n, 1))  # one shock shared by every line: draws are joint
    return 50 + 20 * year + rng.normal(0, 5, size=(n, 3))


def test_draws_stay_inside_the_bounds_in_whole_units() -> None:
    f = CapacityForecast(KEYS, low=np.array([10, 0, 40]), high=np.array([60, 200, 55]), sampler=_normal)
    draws = f.sample(3000, seed=4)
    assert draws.dtype == np.int64 and draws.shape == (3000, 3)
    assert (draws >= f.low).all() and (draws <= f.high).all()
    # the bounds bind: some draws were below 10 / above 55 before they were kept inside
    assert (draws[:, 0] == 10).any() and (draws[:, 2] == 55).any()


def test_the_same_seed_gives_the_same_draws_however_they_are_read() -> None:
    f = CapacityForecast(KEYS, low=np.zeros(3), high=np.full(3, 999), sampler=_normal)
    whole = f.sample(2500, seed=7)
    assert np.array_equal(np.concatenate(list(f.samples(2500, seed=7))), whole)
    assert np.array_equal(f.sample(1200, seed=7), whole[:1200])
    assert not np.array_equal(f.sample(2500, seed=8), whole)


def test_quantiles_are_monotone_values_of_the_draws() -> None:
    f = CapacityForecast(KEYS, low=np.zeros(3), high=np.full(3, 999), sampler=_normal)
    q = f.quantile_units([0.1, 0.2, 0.5, 0.8, 0.9])
    assert (np.diff(q, axis=0) >= 0).all()
    # independent check: the share of reference draws at or below the P20 is at least 20%
    below = (f.reference <= q[1]).mean(axis=0)
    assert (below >= 0.2).all() and (below < 0.25).all()
    table = f.quantiles()
    assert list(table.columns) == ["low", "mean", "p10", "p50", "p90", "high"]
    assert table.loc[("b", "p", "f", ""), "p50"] == q[2, 1]


def test_an_empirical_forecast_keeps_its_draws_and_their_dependence() -> None:
    draws = np.array([[1, 10, 5], [2, 20, 5], [3, 30, 5], [4, 40, 5]])
    f = CapacityForecast.from_samples(KEYS, draws)
    assert f.expected_units.tolist() == [2.5, 25.0, 5.0]
    assert f.quantile_units(0.5).tolist() == [2, 20, 5]
    again = f.sample(100, seed=1)
    assert np.array_equal(again[:, 1], again[:, 0] * 10)  # rows are resampled whole
    with pytest.raises(ValueError, match="whole units"):
        CapacityForecast.from_samples(KEYS, draws + 0.5)


def test_a_forecast_must_cover_every_line_of_the_scenario() -> None:
    scenario = quang_nam_2023()
    keys = scenario.lines.keys()
    cap = scenario.lines.units("capacity")
    full = CapacityForecast.from_samples(keys[::-1], cap[::-1][None, :])
    assert np.array_equal(np.asarray(full.keys)[full.positions(scenario)], np.asarray(keys))
    partial = CapacityForecast.from_samples(keys[1:], cap[None, 1:], precision=Decimal("0.1"))
    with pytest.raises(ScenarioError) as err:
        partial.positions(scenario)
    where = {tuple(e["loc"]) for e in err.value.errors}
    assert ("lines", 0) in where and ("precision",) in where


def test_quantiles_are_numpys_inverse_cdf_of_the_reference_draws() -> None:
    rng = np.random.default_rng(0)
    draws = rng.integers(0, 1000, size=(4000, 7))
    keys = [(f"l{i}", "p", "f", "") for i in range(7)]
    f = CapacityForecast.from_samples(keys, draws)
    qs = [0.0, 0.1, 0.25, 0.5, 0.7, 0.9, 0.999, 1.0]
    assert np.array_equal(f.quantile_units(qs), np.quantile(draws, qs, axis=0, method="inverted_cdf"))
    assert np.array_equal(f.quantile_units(0.3), np.quantile(draws, 0.3, axis=0, method="inverted_cdf"))
