"""reallocate — move allocated public capital from localities that cannot disburse it to
localities that can absorb more, so that as little money as possible lapses.

    >>> import reallocate
    >>> scenario = reallocate.datasets.quang_nam_2023()
    >>> plan = reallocate.solve(scenario)
    >>> plan.summary.rate_after  # doctest: +SKIP
"""

from __future__ import annotations

from . import datasets, files, whatif
from .comparison import Comparison, PlanData, compare, load_plan
from .errors import (
    OptimizationError,
    PlanVerificationError,
    ReallocateError,
    ScenarioError,
)
from .plan import Plan, StageReport, Summary
from .scenario import Line, Locality, Rules, Scenario, TransferCost, load
from .solving import SOLVERS, solve

__version__ = "0.1.0"

__all__ = [
    "SOLVERS",
    "Comparison",
    "Line",
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
    "TransferCost",
    "__version__",
    "compare",
    "datasets",
    "files",
    "load",
    "load_plan",
    "solve",
    "whatif",
]
