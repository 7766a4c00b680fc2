"""The forecast for people: tables, the text the command line prints, the CSV files it writes.

Every header and title comes from the catalogue (:mod:`reallocate.labels`, area ``forecast``),
in English or Vietnamese; amounts are exact multiples of the precision, written as decimals.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..labels import amount_text, percent_text, phrase
from ..lines import decimals, fmt
from ..rules import LINE_KEYS
from .backtest import Backtest
from .capacity import CapacityForecast
from .forecast import ForecastInputs

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["backtest_text", "forecast_frame", "forecast_text", "write_table_csv"]

_QUANTILES = (0.1, 0.5, 0.9)


_AMOUNTS = ("disbursed", "allocated", "low", "mean", "p10", "p50", "p90", "high")


def forecast_frame(fc: CapacityForecast, inputs: ForecastInputs) -> pd.DataFrame:
    """One row per line: its keys, disbursed and allocated at the as-of month, the forecast's
    bounds, mean (rounded to whole units) and P10 / P50 / P90; amounts as exact decimals."""
    import pandas as pd

    p = fc.precision
    q = fc.quantile_units(list(_QUANTILES))
    keys = np.array(fc.keys, dtype=object).reshape(-1, 4)
    units = {
        "disbursed": inputs.disbursed,
        "allocated": inputs.allocated,
        "low": fc.low,
        "mean": np.floor(fc.expected_units + 0.5).astype(np.int64),
        "p10": q[0],
        "p50": q[1],
        "p90": q[2],
        "high": fc.high,
    }
    data: dict[str, object] = {k: keys[:, j] for j, k in enumerate(LINE_KEYS)}
    data.update({k: decimals(np.asarray(v, dtype=np.int64), p) for k, v in units.items()})
    return pd.DataFrame(data)


def _cell(value: object, lang: str) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:.1%}" if lang == "en" else percent_text(value, lang)
    return str(value)


def _grid(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[k]) for r in rows)) if rows else len(h) for k, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if k else c.ljust(w) for k, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def forecast_text(fc: CapacityForecast, inputs: ForecastInputs, lang: str = "en") -> str:
    """The forecast as a readable table, with the totals of the lines."""
    frame = forecast_frame(fc, inputs)
    title = phrase(
        "forecast",
        "title",
        lang,
        as_of=inputs.as_of,
        deadline=inputs.deadline,
        method=phrase("forecast", f"method_{fc.method}", lang),
        n=len(fc.keys),
        unit=_unit(fc.unit, lang),
    )
    header = [phrase("forecast", "line", lang), *(phrase("forecast", k, lang) for k in _AMOUNTS)]
    rows = []
    for r in frame.itertuples(index=False):
        name = "/".join(str(getattr(r, k)) for k in LINE_KEYS if getattr(r, k))
        rows.append([name, *(amount_text(getattr(r, k), lang) for k in _AMOUNTS)])
    totals = [phrase("forecast", "total", lang)]
    for k in _AMOUNTS:
        totals.append(amount_text(sum(frame[k]), lang) if k not in ("p10", "p50", "p90", "mean") else "")
    # the quantiles of the total come from the joint draws (a sum of P10s is not the total's P10)
    ref = fc.reference.sum(axis=1)
    tq = np.quantile(ref, list(_QUANTILES), method="inverted_cdf")
    p = fc.precision
    totals[1 + _AMOUNTS.index("mean")] = amount_text(decimals(np.array([round(float(ref.mean()))]), p)[0], lang)
    for k, v in zip(("p10", "p50", "p90"), tq, strict=True):
        totals[1 + _AMOUNTS.index(k)] = amount_text(decimals(np.array([int(v)]), p)[0], lang)
    rows.append(totals)
    return f"{title}\n{_grid(header, rows)}\n{phrase('forecast', 'note', lang)}\n"


def _unit(unit: str, lang: str) -> str:
    from ..labels import unit_text

    return unit_text(unit, lang)


_BT_COLUMNS = ("method", "as_of_month", "years", "line_years", "mape", "mape_total", "coverage80")


def backtest_text(bt: Backtest, lang: str = "en") -> str:
    """The backtest table: per method and as-of month, MAPE (lines, total) and 80% coverage."""
    header = [phrase("forecast", f"bt_{c}", lang) for c in _BT_COLUMNS]
    rows = []
    for r in bt.table.to_dict(orient="records"):
        rows.append(
            [
                phrase("forecast", f"method_{r['method']}", lang),
                str(r["as_of_month"]),
                str(r["years"]),
                amount_text(int(r["line_years"]), lang),
                _cell(float(r["mape"]), lang),
                _cell(float(r["mape_total"]), lang),
                _cell(float(r["coverage80"]), lang),
            ]
        )
    return f"{phrase('forecast', 'bt_title', lang)}\n{_grid(header, rows)}\n"


def write_table_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """A table as CSV (UTF-8 with a byte-order mark, for Excel), written whole or not at all."""
    from ..atomic import atomic_file

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(list(frame.columns))
    for row in frame.itertuples(index=False):
        w.writerow([fmt(v) if hasattr(v, "as_tuple") else "" if v is None else v for v in row])
    target = Path(path)
    with atomic_file(target) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8-sig")
    return target
