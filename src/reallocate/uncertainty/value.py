"""The value of the stochastic solution (VSS): what planning for the forecast gains over planning
on its median capacities, in expected absorbed money under the same draws."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from ..backend import SolverName
from ..plan import Plan
from ..solving import solve
from .capacity import CapacityForecast
from .planning import Expected, Quantile
from .risk import Risk

if TYPE_CHECKING:
    from ..scenario import Scenario

__all__ = ["StochasticValue", "value_of_stochastic_solution"]


@dataclass(frozen=True)
class StochasticValue:
    """Expected absorbed money (in the scenario's unit) of the plan made for the expectation and
    of the plan made on median (P50) capacities, under the same draws; ``vss`` is the difference."""

    expected_plan: Decimal
    median_plan: Decimal
    expected_risk: Risk
    median_risk: Risk

    @property
    def vss(self) -> Decimal:
        return self.expected_plan - self.median_plan


def value_of_stochastic_solution(
    scenario: Scenario,
    forecast: CapacityForecast,
    *,
    objective: Expected | None = None,
    samples: int = 10_000,
    seed: int | None = 0,
    target: float | None = None,
    solver: SolverName = "highs",
    time_limit: float | None = None,
    expected_plan: Plan | None = None,
) -> StochasticValue:
    """Solve ``scenario`` for the forecast's expectation and on its median capacities, and weigh
    both plans under the same ``samples`` draws (``seed``). ``expected_plan``, when already
    made (``solve(scenario, capacity=forecast, objective=Expected(...))``), is not made again."""
    expected = expected_plan or solve(
        scenario, capacity=forecast, objective=objective or Expected(), solver=solver, time_limit=time_limit
    )
    # the median plan: every line planned on its P50 (the quantile plan at epsilon = 1/2)
    median = solve(scenario, capacity=forecast, objective=Quantile(0.5), solver=solver, time_limit=time_limit)
    risks = [p.risk(forecast, samples=samples, seed=seed, target=target) for p in (expected, median)]
    p = scenario.precision
    means = [Decimal(repr(float(r.absorbed.mean()))) * p for r in risks]
    vss = means[0] - means[1]
    risks = [
        replace(r, vss=vss)  # the same draws, the VSS shown with each
        for r in risks
    ]
    return StochasticValue(means[0], means[1], risks[0], risks[1])
