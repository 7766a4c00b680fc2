"""Capacity as a forecast: its distribution, plans that allow for it, and the risk of lapse.

The names below are imported on first use (``reallocate.plan`` reads this package for
``Plan.risk``; nothing here may pull in the solver at import).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "CVaR": ".planning",
    "CapacityForecast": ".capacity",
    "Expected": ".planning",
    "PlanningBasis": ".planning",
    "Quantile": ".planning",
    "Risk": ".risk",
    "value_of_stochastic_solution": ".value",
}

__all__ = [
    "CVaR",
    "CapacityForecast",
    "Expected",
    "PlanningBasis",
    "Quantile",
    "Risk",
    "value_of_stochastic_solution",
]

if TYPE_CHECKING:
    from .capacity import CapacityForecast
    from .planning import CVaR, Expected, PlanningBasis, Quantile
    from .risk import Risk
    from .value import value_of_stochastic_solution


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'reallocate.uncertainty' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
