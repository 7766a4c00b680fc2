"""Capacity as a forecast: its distribution, plans that allow for it, and the risk of lapse.

* :class:`CapacityForecast` — a joint distribution of every line's capacity (``capacity``);
* :class:`History`, :func:`load_history` — monthly disbursement history (``history``);
* :func:`forecast` — capacity forecast from the history (``forecast``: ratio-to-date or logistic);
* :func:`backtest` — leave-one-year-out MAPE and interval coverage (``backtest``).
"""

from __future__ import annotations

from .backtest import Backtest, backtest
from .capacity import CapacityForecast
from .forecast import forecast, scenario_high
from .history import History, HistoryRow, load_history

__all__ = [
    "Backtest",
    "CapacityForecast",
    "History",
    "HistoryRow",
    "backtest",
    "forecast",
    "load_history",
    "scenario_high",
]
