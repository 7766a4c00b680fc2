"""Capacity as a forecast: its distribution, plans that allow for it, and the risk of lapse.

* :class:`CapacityForecast` — a joint distribution of every line's capacity (``capacity``);
* :class:`History`, :func:`load_history` — monthly disbursement history (``history``);
* :func:`forecast` — capacity forecast from the history (``forecast``: ratio-to-date or logistic);
* :func:`backtest` — leave-one-year-out MAPE and interval coverage (``backtest``);
* :class:`Expected`, :class:`Quantile`, :class:`CVaR` — how ``solve(..., capacity=forecast)``
  plans for it (``planning``); :class:`Risk` — ``Plan.risk`` (``risk``);
* :func:`value_of_stochastic_solution` (``value``; imported on first use, as it needs the solver,
  which itself reads this package).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .backtest import Backtest, backtest
from .capacity import CapacityForecast
from .forecast import forecast, scenario_high
from .history import History, HistoryRow, load_history
from .planning import CVaR, Expected, PlanningBasis, Quantile
from .risk import Risk

if TYPE_CHECKING:
    from .value import StochasticValue, value_of_stochastic_solution

__all__ = [
    "Backtest",
    "CVaR",
    "CapacityForecast",
    "Expected",
    "History",
    "HistoryRow",
    "PlanningBasis",
    "Quantile",
    "Risk",
    "StochasticValue",
    "backtest",
    "forecast",
    "load_history",
    "scenario_high",
    "value_of_stochastic_solution",
]

_LAZY = {"value_of_stochastic_solution": ".value", "StochasticValue": ".value"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'reallocate.uncertainty' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
