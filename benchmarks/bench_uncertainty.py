"""Plans for a capacity forecast and their risk at national scale (10^5 lines by default).

    .venv/bin/python benchmarks/bench_uncertainty.py               # 100,000 lines
    .venv/bin/python benchmarks/bench_uncertainty.py --lines 20000 --samples 2000

The forecast is a joint lognormal around each line's capacity (a year effect shared by every line
and each line's own noise), bounded by what the line has disbursed. Prints, measured in this run:
today's deterministic solve (the floor), the forecast's quantiles (its reference draws), the
"expected" plan with K = 5 breakpoints, the "quantile" plan, a CVaR plan on a province-sized
scenario, and the 10,000-draw risk of the expected plan. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import reallocate
from reallocate.datasets import quang_nam_2023
from reallocate.uncertainty import CapacityForecast, CVaR, Expected, Quantile
from synthetic import synthetic_scenario


def lognormal_forecast(scenario: reallocate.Scenario, spread: float = 0.25) -> CapacityForecast:
    cap = np.maximum(scenario.lines.units("capacity"), 1).astype(np.float64)
    disbursed = scenario.lines.units("disbursed")

    def sampler(rng: np.random.Generator, n: int) -> np.ndarray:
        year = rng.normal(0, spread / 2, size=(n, 1))
        return cap * np.exp(year + rng.normal(0, spread, size=(n, cap.shape[0])))

    high = np.maximum(scenario.lines.units("allocated"), cap.astype(np.int64)) * 3
    return CapacityForecast(scenario.lines.keys(), low=disbursed, high=high, sampler=sampler, unit=scenario.unit)


def timed(what: str, fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    print(f"{what:58s} {time.perf_counter() - t0:8.2f} s")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=10_000)
    args = ap.parse_args()
    scenario = timed(
        f"build the scenario ({args.lines:,} lines)",
        lambda: reallocate.Scenario.model_validate(synthetic_scenario(args.lines, seed=3)),
    )
    fc = lognormal_forecast(scenario)
    today = timed("today's solve (one capacity per line): the floor", lambda: reallocate.solve(scenario))
    timed(f"forecast quantiles ({fc.reference.shape[0]} reference draws)", lambda: fc.quantile_units(0.5))
    expected = timed(
        "expected plan, K = 5 breakpoints", lambda: reallocate.solve(scenario, capacity=fc, objective=Expected(5))
    )
    timed("quantile plan, epsilon = 0.2", lambda: reallocate.solve(scenario, capacity=fc, objective=Quantile(0.2)))
    risk = timed(
        f"risk of the expected plan, {args.samples:,} draws",
        lambda: expected.risk(fc, samples=args.samples, seed=1, target=0.9),
    )
    s = risk.summary()
    print(
        f"  rate mean {s['rate_mean']:.4f}, P10 {s['rate_p10']:.4f}, P90 {s['rate_p90']:.4f}; "
        f"today's plan's deterministic rate {today.summary.rate_after:.4f}; "
        f"expected plan moved {expected.summary.moved:,} of {expected.summary.allocated:,}"
    )
    qn = quang_nam_2023()
    qfc = lognormal_forecast(qn)
    timed("CVaR plan, Quảng Nam (92 lines), 500 draws", lambda: reallocate.solve(qn, capacity=qfc, objective=CVaR()))


if __name__ == "__main__":
    main()
