"""``reallocate forecast``: read a history, forecast, backtest, print and write (the command line's
work, kept out of :mod:`reallocate.cli` so that its start stays light)."""

from __future__ import annotations

from pathlib import Path

from .backtest import backtest
from .forecast import forecast_inputs, parse_month
from .history import load_history
from .output import backtest_text, forecast_frame, forecast_text, write_table_csv

__all__ = ["run_forecast"]


def run_forecast(
    path: str | Path,
    *,
    as_of: str,
    deadline: str | None = None,
    method: str = "ratio",
    out: str | Path | None = None,
    backtest_out: str | Path | None = None,
    with_backtest: bool = True,
    lang: str = "en",
    unit: str | None = None,
    precision: str | None = None,
) -> tuple[str, list[tuple[str, Path]]]:
    """The text to print and the files written (what, path). Both methods are backtested, at
    every as-of month before the deadline."""
    history = load_history(path, unit=unit, precision=precision)
    fc, inputs = forecast_inputs(history, as_of, method=method, deadline=deadline)
    text = forecast_text(fc, inputs, lang)
    written: list[tuple[str, Path]] = []
    if out:
        written.append(("forecast", write_table_csv(forecast_frame(fc, inputs), out)))
    if with_backtest:
        year, _ = parse_month(as_of)
        dy, dm = parse_month(inputs.deadline, "deadline")
        offset = (dy - year) * 12 + dm
        bt = backtest(history, months=range(1, min(offset, 13)), deadline=offset)
        text += "\n" + backtest_text(bt, lang)
        if backtest_out:
            written.append(("backtest", write_table_csv(bt.table, backtest_out)))
    return text, written
