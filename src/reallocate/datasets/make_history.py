"""Make the synthetic disbursement history of the Quảng Nam lines, 2019-2023 (deterministic).

    python -m reallocate.datasets.make_history           # rewrite data/quang-nam-history/history.csv
    python -m reallocate.datasets.make_history --check   # exit 1 if the shipped file differs

What is real and what is assumed is stated in ``data/quang-nam-history/SOURCES.md``; the numbers
below are those assumptions. In short: the *shape* of a year is the national public-investment
S-curve of 2023 (14.7% of the plan disbursed by the end of April, 41.3% by the end of July, 93.1%
by 31 January 2024 of which 2.6% in January), as a share of the year's final disbursement; each
line is ahead or behind it by a shift in logit space; 2023 is calibrated line by line to the
bundled dataset (disbursed by the October report, and min(allocated, capacity) by the deadline),
and the years 2019-2022 are drawn around it with stated spreads.

:func:`synthetic_history` draws histories of any size from the same kind of process with known
parameters: the tests check the forecast's intervals on it, the benchmark times 10^5 lines.
"""

from __future__ import annotations

import csv
import sys
from decimal import Decimal
from importlib import resources
from pathlib import Path

import numpy as np

from ..uncertainty.history import History

__all__ = ["BASE_SHARE", "SEED", "generate", "synthetic_history", "year_paths"]

SEED = 20231031
YEARS = (2019, 2020, 2021, 2022, 2023)
#: the month of the dataset's "disbursed" (the October report)
CALIBRATION_MONTH = 10

# --- real: national public investment, share of the year's plan disbursed (2023 plan year)
_NATIONAL = {4: 0.147, 7: 0.413, 12: 0.931 - 0.026, 13: 0.931}
# --- assumed: 1% of the year's disbursement is reached by the end of January
_ANCHORS = {1: 0.01, **{t: v / _NATIONAL[13] for t, v in _NATIONAL.items()}}


def _base_share() -> np.ndarray:
    """Share of the year-end disbursement reached at months 1..12 (13 = the deadline: 1),
    interpolated linearly in logit between the anchors."""
    ts = sorted(t for t in _ANCHORS if t <= 12)
    lg = [np.log(_ANCHORS[t] / (1 - _ANCHORS[t])) for t in ts]
    inner = np.interp(np.arange(1, 13), ts, lg)
    return np.append(1 / (1 + np.exp(-inner)), 1.0)


BASE_SHARE = _base_share()

# --- assumed spreads (logit scale) and allocations of the earlier years
#: the year effect on timing shared by every line: 2022 a little ahead of 2023 (national: 18.5%
#: vs 14.7% at April, 39.7% vs 41.3% at July), the others drawn with this spread
TIMING_YEAR = {2022: 0.1, 2023: 0.0}
TIMING_YEAR_SD = 0.25
TIMING_LINE_SD = 0.3  # a line's own timing, year to year
RATE_YEAR_SD = 0.2  # the year effect on the year-end rate of allocation
RATE_LINE_SD = 0.3
#: each year's allocation relative to 2023 (the 2021-2025 programmes started slowly)
ALLOCATION_SCALE = {2019: 0.8, 2020: 0.85, 2021: 0.7, 2022: 0.9, 2023: 1.0}
ALLOCATION_SD = 0.1
#: monthly increments vary by this Gamma shape (larger: closer to the smooth curve)
JITTER_SHAPE = 20.0


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(q / (1 - q))


def _shares(shift: np.ndarray, rng: np.random.Generator | None, jitter: float) -> np.ndarray:
    """Share of the year-end reached at months 1..13: ``expit(logit(BASE_SHARE) + shift)``, its
    monthly increments jittered (Gamma, shape ``jitter``) when ``rng`` is given."""
    lg = _logit(BASE_SHARE[:12])[None, :] + shift[:, None]
    share = np.hstack([1 / (1 + np.exp(-lg)), np.ones((shift.shape[0], 1))])
    if rng is not None:
        steps = np.diff(share, axis=1, prepend=0.0) * rng.gamma(jitter, 1 / jitter, size=share.shape)
        share = np.cumsum(steps, axis=1) / np.maximum(steps.sum(axis=1, keepdims=True), 1e-12)
    return share


def year_paths(
    end: np.ndarray, shift: np.ndarray, rng: np.random.Generator | None = None, jitter: float = JITTER_SHAPE
) -> np.ndarray:
    """Cumulative disbursement at months 1..13 for lines with year-end ``end`` (units) and timing
    ``shift`` (logit; + is ahead): whole units, never decreasing, ending at ``end``."""
    share = _shares(shift, rng, jitter)
    return np.maximum.accumulate(np.floor(end[:, None] * share + 0.5).astype(np.int64), axis=1).clip(max=end[:, None])


def _calibrated_paths(end: np.ndarray, at_m: np.ndarray, shift: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Like :func:`year_paths`, but through ``at_m`` exactly at :data:`CALIBRATION_MONTH` (the
    jittered shape is scaled to it before and after that month)."""
    m = CALIBRATION_MONTH - 1
    share = _shares(shift, rng, JITTER_SHAPE)
    before = share[:, : m + 1] / np.maximum(share[:, m : m + 1], 1e-12)
    after = (share[:, m + 1 :] - share[:, m : m + 1]) / np.maximum(1 - share[:, m : m + 1], 1e-12)
    path = np.hstack([at_m[:, None] * before, at_m[:, None] + (end - at_m)[:, None] * after])
    path = np.floor(path + 0.5).astype(np.int64)
    path[:, m], path[:, -1] = at_m, end
    return np.maximum.accumulate(path, axis=1).clip(max=end[:, None])


def _rows(path: Path | None = None) -> list[dict[str, str]]:
    if path is None:
        text = resources.files("reallocate.datasets").joinpath("data", "quang-nam-2023", "lines.csv").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def generate() -> History:
    """The Quảng Nam history, 2019-2023: 92 lines x 5 budget years x 13 reports (January to the
    next January)."""
    rows = _rows()
    rng = np.random.default_rng(SEED)
    keys = [(r["locality"], r["program"], r["fund"], "") for r in rows]
    n = len(keys)
    alloc23 = np.array([int(r["allocated"]) for r in rows], dtype=np.int64)
    disb23 = np.array([int(r["disbursed"]) for r in rows], dtype=np.int64)
    end23 = np.minimum(alloc23, np.array([int(r["capacity"]) for r in rows], dtype=np.int64))
    # the line's own timing: what puts its October share exactly where the dataset says
    m = CALIBRATION_MONTH - 1
    shift23 = _logit(disb23 / end23) - _logit(BASE_SHARE[m : m + 1])
    rate23 = _logit(end23 / alloc23)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("line", "budget_year", "year", "month", "d", "a")}
    timing = {y: TIMING_YEAR.get(y, float(rng.normal(0, TIMING_YEAR_SD))) for y in YEARS}
    rate_year = {y: 0.0 if y == 2023 else float(rng.normal(0, RATE_YEAR_SD)) for y in YEARS}
    for y in YEARS:
        if y == 2023:
            alloc, end = alloc23, end23
            path = _calibrated_paths(end, disb23, shift23, rng)
        else:
            alloc = np.floor(alloc23 * ALLOCATION_SCALE[y] * np.exp(rng.normal(0, ALLOCATION_SD, n)) + 0.5)
            alloc = alloc.astype(np.int64)
            rate = 1 / (1 + np.exp(-(rate23 + rate_year[y] + rng.normal(0, RATE_LINE_SD, n))))
            end = np.floor(alloc * rate + 0.5).astype(np.int64)
            shift = shift23 + timing[y] + rng.normal(0, TIMING_LINE_SD, n)
            path = year_paths(end, shift, rng)
        for t in range(13):
            cols["line"].append(np.arange(n))
            cols["budget_year"].append(np.full(n, y))
            cols["year"].append(np.full(n, y + t // 12))
            cols["month"].append(np.full(n, t % 12 + 1))
            cols["d"].append(path[:, t])
            cols["a"].append(alloc)
    c = {k: np.concatenate(v) for k, v in cols.items()}
    return History.from_arrays(
        keys, c["line"], c["budget_year"], c["year"], c["month"], c["d"], c["a"], unit="million VND", precision=1
    )


def synthetic_history(
    n_lines: int = 200,
    years: int = 10,
    *,
    seed: int = 0,
    programs: int = 3,
    year_sd: float = 0.35,
    line_sd: float = 0.25,
    level_sd: float = 0.4,
    jitter: float | None = None,
    allocation: int = 10_000,
) -> History:
    """A history from a known process: each line's timing shift is ``level[line] + year[program,
    year] + noise`` (normal, sd ``level_sd``, ``year_sd``, ``line_sd``) around :data:`BASE_SHARE`;
    year-end rates ~ 60% of allocation with the same structure. ``jitter`` (Gamma shape) adds
    monthly noise that the forecast's model does not have."""
    rng = np.random.default_rng(seed)
    program = rng.integers(0, programs, n_lines)
    keys = [(f"loc-{i}", f"ct{program[i]}", "investment", "") for i in range(n_lines)]
    level = rng.normal(0, level_sd, n_lines)
    rate_level = rng.normal(0.4, 0.5, n_lines)
    alloc = np.full(n_lines, allocation, dtype=np.int64)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("line", "budget_year", "year", "month", "d", "a")}
    for k in range(years):
        y = 2000 + k
        shock = rng.normal(0, year_sd, programs)[program]
        rate_shock = rng.normal(0, year_sd, programs)[program]
        rate = 1 / (1 + np.exp(-(rate_level + rate_shock + rng.normal(0, line_sd, n_lines))))
        end = np.floor(alloc * rate + 0.5).astype(np.int64)
        path = year_paths(end, level + shock + rng.normal(0, line_sd, n_lines), rng if jitter else None, jitter or 1.0)
        for t in range(13):
            cols["line"].append(np.arange(n_lines))
            cols["budget_year"].append(np.full(n_lines, y))
            cols["year"].append(np.full(n_lines, y + t // 12))
            cols["month"].append(np.full(n_lines, t % 12 + 1))
            cols["d"].append(path[:, t])
            cols["a"].append(alloc)
    c = {k: np.concatenate(v) for k, v in cols.items()}
    return History.from_arrays(keys, c["line"], c["budget_year"], c["year"], c["month"], c["d"], c["a"])


_TARGET = Path(__file__).parent / "data" / "quang-nam-history" / "history.csv"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = generate().csv_text()
    if "--check" in args:
        same = _TARGET.exists() and _TARGET.read_text("utf-8") == text
        print("the shipped history is what the script makes" if same else f"{_TARGET} differs from the script's")
        return 0 if same else 1
    _TARGET.parent.mkdir(parents=True, exist_ok=True)
    _TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {_TARGET} ({Decimal(len(text)) / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
