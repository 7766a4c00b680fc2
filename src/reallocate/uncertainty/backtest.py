"""Leave-one-year-out backtest of the capacity forecast: how far, and how well covered.

For every budget year whose deadline report is known, every as-of month and every method, the
forecast is made from the *other* years (before and after: leave-one-year-out) and compared
with what each line really disbursed by the deadline:

* ``mape``: mean over line-years of ``|P50 - actual| / actual`` (lines that disbursed nothing are
  left out: their percentage error is undefined);
* ``mape_total``: mean over years of the same error of the total of the lines (the median of the
  total of the joint draws);
* ``coverage80``: the share of line-years whose actual lies inside [P10, P90].
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .capacity import REFERENCE_DRAWS, CapacityForecast
from .forecast import METHODS, _core, _refuse
from .history import History

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Backtest", "backtest"]

#: draws x lines of one backtest forecast (quantiles of a backtest need fewer draws than a plan)
_CELLS = 10_000_000


@dataclass
class Backtest:
    """``table``: one row per (method, as-of month): years, line_years, mape, mape_total,
    coverage80. ``detail``: one row per (method, month, year, line): p10, p50, p90, actual (units)."""

    table: pd.DataFrame
    detail: pd.DataFrame
    deadline: int


def backtest(
    history: History,
    *,
    months: Iterable[int] = range(4, 12),
    methods: Sequence[str] = METHODS,
    deadline: int = 13,
    years: Sequence[int] | None = None,
    draws: int | None = None,
    seed: int = 20240131,
) -> Backtest:
    """Leave-one-year-out backtest over ``years`` (default: every budget year with a deadline
    report and another year to learn from), for as-of ``months`` (1..deadline-1) and
    ``methods``. ``deadline`` is the report month counted from the budget year's start (13:
    January of the next year). ``draws`` per forecast default to the forecast's own
    (:data:`~reallocate.uncertainty.capacity.REFERENCE_DRAWS`) up to 2,500 lines, fewer above so
    that one forecast's draws stay near 10^7 cells (at least 200 draws)."""
    import pandas as pd

    if draws is None:
        draws = max(200, min(REFERENCE_DRAWS, _CELLS // max(1, len(history.keys))))

    months = list(months)
    for m in months:
        if not 1 <= m < deadline:
            raise _refuse(("months",), "an as-of month must come before the deadline", m)
    all_years = history.budget_years
    d, _ = history.cube(all_years, deadline)
    end = d[:, :, deadline - 1]
    tested = [y for y in (all_years if years is None else years) if np.any(end[:, all_years.index(y)] >= 0)]
    rows, parts = [], []
    for method in methods:
        for m in months:
            lines = 0
            errors: list[float] = []
            total_errors: list[float] = []
            inside = 0
            used_years = 0
            for y in tested:
                train = [t for t in all_years if t != y]
                if not train:
                    continue
                yi = all_years.index(y)
                sel, low, high, sampler = _core(history, y, m, deadline, train, method)
                actual = end[sel, yi]
                known = actual >= 0
                fc = CapacityForecast(
                    [history.keys[int(i)] for i in sel], low=low, high=high, sampler=sampler, method=method
                )
                sample = fc.sample(draws, seed=seed)
                q = np.quantile(sample, [0.1, 0.5, 0.9], axis=0, method="inverted_cdf")
                ok = known & (actual > 0)
                errors += (np.abs(q[1][ok] - actual[ok]) / actual[ok]).tolist()
                inside += int(np.sum(known & (q[0] <= actual) & (actual <= q[2])))
                lines += int(known.sum())
                total = float(actual[known].sum())
                if total > 0:
                    med = float(np.quantile(sample[:, known].sum(axis=1), 0.5, method="inverted_cdf"))
                    total_errors.append(abs(med - total) / total)
                used_years += 1
                parts.append(
                    pd.DataFrame(
                        {
                            "method": method,
                            "as_of_month": m,
                            "year": y,
                            "line": sel[known],
                            "p10": q[0][known],
                            "p50": q[1][known],
                            "p90": q[2][known],
                            "actual": actual[known],
                        }
                    )
                )
            rows.append(
                {
                    "method": method,
                    "as_of_month": m,
                    "years": used_years,
                    "line_years": lines,
                    "mape": float(np.mean(errors)) if errors else float("nan"),
                    "mape_total": float(np.mean(total_errors)) if total_errors else float("nan"),
                    "coverage80": inside / lines if lines else float("nan"),
                }
            )
    detail = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return Backtest(pd.DataFrame(rows), detail, deadline)
