"""Capacity forecast at national scale: 10^5 synthetic lines, 5 budget years of monthly reports.

    .venv/bin/python benchmarks/bench_forecast.py            # 100,000 lines
    .venv/bin/python benchmarks/bench_forecast.py --lines 20000

Prints the time to build the history from arrays (validation included), to make the forecast
(both methods: fit the residual model, and for the logistic method the S-curve), and to draw
10,000 joint samples of every line in blocks (``CapacityForecast.samples``: blocks of ~32 MB, the
whole draw is never held at once). Figures go in the closing note; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from reallocate.datasets.make_history import synthetic_history
from reallocate.uncertainty import forecast


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--draws", type=int, default=10_000)
    args = ap.parse_args()
    t = time.perf_counter()
    history = synthetic_history(args.lines, args.years, seed=1, programs=6)
    print(
        f"history: {args.lines:,} lines x {args.years} years, {history.n_rows:,} rows "
        f"in {time.perf_counter() - t:.2f} s"
    )
    as_of = f"{2000 + args.years - 1}-09"
    for method in ("ratio", "logistic"):
        t = time.perf_counter()
        fc = forecast(history, as_of, method=method)
        made = time.perf_counter() - t
        t = time.perf_counter()
        total = np.zeros(0)
        for block in fc.samples(args.draws, seed=1):
            total = np.append(total, block.sum(axis=1))
        drawn = time.perf_counter() - t
        print(
            f"{method:9s} forecast {made:6.2f} s   {args.draws:,} draws x {fc.n_lines:,} lines {drawn:6.2f} s "
            f"({fc.block_rows} draws per block)   total P10/P50/P90 "
            + " / ".join(f"{v:,.0f}" for v in np.quantile(total, [0.1, 0.5, 0.9]))
        )


if __name__ == "__main__":
    main()
