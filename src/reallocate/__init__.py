"""reallocate — move allocated public capital from localities that cannot disburse it to
localities that can absorb more, so that as little money as possible lapses.

    >>> import reallocate
    >>> scenario = reallocate.datasets.quang_nam_2023()
    >>> plan = reallocate.solve(scenario)
    >>> plan.summary.rate_after  # doctest: +SKIP

The names below are imported on first use: ``import reallocate`` (and the command line's start)
does not pay for pandas, pydantic, numpy or a solver until something needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

# public name -> module that defines it
_EXPORTS = {
    "SOLVERS": ".solving",
    "Comparison": ".comparison",
    "Line": ".lines",
    "Lines": ".lines",
    "Locality": ".rules",
    "OptimizationError": ".errors",
    "Plan": ".plan",
    "PlanData": ".comparison",
    "PlanVerificationError": ".errors",
    "ReallocateError": ".errors",
    "Rules": ".rules",
    "Scenario": ".scenario",
    "ScenarioError": ".errors",
    "StageReport": ".plan",
    "SweepResult": ".sweep",
    "Summary": ".plan",
    "TransferCost": ".rules",
    "compare": ".comparison",
    "grid": ".sweep",
    "CapacityForecast": ".uncertainty",
    "History": ".uncertainty",
    "backtest": ".uncertainty",
    "forecast": ".uncertainty",
    "load_history": ".uncertainty",
    "load": ".scenario",
    "load_plan": ".comparison",
    "solve": ".solving",
}
# ``sweep`` is a package that can be called: reallocate.sweep(baseline, variants) runs a sweep
_SUBMODULES = ("datasets", "io", "sweep", "whatif")

__all__ = [
    "SOLVERS",
    "CapacityForecast",
    "Comparison",
    "History",
    "Line",
    "Lines",
    "Locality",
    "OptimizationError",
    "Plan",
    "PlanData",
    "PlanVerificationError",
    "ReallocateError",
    "Rules",
    "Scenario",
    "ScenarioError",
    "StageReport",
    "Summary",
    "SweepResult",
    "TransferCost",
    "__version__",
    "backtest",
    "compare",
    "datasets",
    "forecast",
    "grid",
    "io",
    "load",
    "load_history",
    "load_plan",
    "solve",
    "sweep",
    "whatif",
]

if TYPE_CHECKING:
    from . import datasets, io, sweep, whatif
    from .comparison import Comparison, PlanData, compare, load_plan
    from .errors import OptimizationError, PlanVerificationError, ReallocateError, ScenarioError
    from .lines import Line, Lines
    from .plan import Plan, StageReport, Summary
    from .rules import Locality, Rules, TransferCost
    from .scenario import Scenario, load
    from .solving import SOLVERS, solve
    from .sweep import SweepResult, grid
    from .uncertainty.backtest import backtest
    from .uncertainty.capacity import CapacityForecast
    from .uncertainty.forecast import forecast
    from .uncertainty.history import History, load_history


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'reallocate' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
