"""The risk of lapse of a plan under a capacity forecast: no LP per sample, whole arrays.

For every joint draw of the capacities, a line disburses ``min(holding, capacity)``: so the
absorbed total, the lapse (allocated − absorbed) and the disbursement rate of each draw come from
one ``minimum`` and one sum per block of draws. Each line's expected lapse,
``E[(holding − capacity)+]``, says where the risk sits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import OptimizationError
from .capacity import CapacityForecast

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from ..plan import Plan

__all__ = ["Risk", "plan_risk"]


@dataclass(frozen=True, eq=False)
class Risk:
    """A plan's lapse and disbursement rate over ``samples`` joint draws of the forecast.

    ``absorbed`` holds each draw's absorbed total in whole units; ``line_lapse`` each line's
    expected lapse (units, float). Amounts from the methods are in the scenario's ``unit``.
    ``vss``, when known, is the value of the stochastic solution: expected absorbed of the plan
    made for the forecast's expectation minus that of the plan made on its median capacities.
    """

    scenario_name: str
    unit: str
    precision: Decimal
    allocated_units: int
    absorbed: np.ndarray = field(repr=False)
    line_lapse: np.ndarray = field(repr=False)
    keys: list[tuple[str, str, str, str]] = field(repr=False)
    names: list[str] = field(repr=False)
    seed: int | None
    target: float | None = None
    vss: Decimal | None = None

    @property
    def samples(self) -> int:
        return int(self.absorbed.shape[0])

    @property
    def lapse(self) -> np.ndarray:
        """Each draw's lapse, in the scenario's unit."""
        return (self.allocated_units - self.absorbed) * float(self.precision)

    @property
    def rate(self) -> np.ndarray:
        """Each draw's disbursement rate (absorbed / allocated)."""
        return self.absorbed / self.allocated_units if self.allocated_units else np.zeros(self.samples)

    def below(self, target: float) -> float:
        """The probability that the rate stays below ``target`` (share of draws)."""
        return float(np.mean(self.rate < target))

    def summary(self) -> dict[str, Any]:
        """Mean, P10, P50, P90 of the lapse (in ``unit``) and of the rate; the probability that
        the rate stays below ``target``; the expected absorbed total and the VSS."""
        lapse, rate = self.lapse, self.rate
        out: dict[str, Any] = {"samples": self.samples, "seed": self.seed}
        for name, values in (("lapse", lapse), ("rate", rate)):
            out[f"{name}_mean"] = float(values.mean())
            for q in (10, 50, 90):
                out[f"{name}_p{q}"] = float(np.quantile(values, q / 100))
        out["absorbed_mean"] = float(self.absorbed.mean()) * float(self.precision)
        if self.target is not None:
            out["target"] = self.target
            out["probability_below_target"] = self.below(self.target)
        if self.vss is not None:
            out["vss"] = float(self.vss)
        return out

    def top_lines(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` lines that carry most of the expected lapse, largest first (with their share
        of the total expected lapse)."""
        import pandas as pd

        from ..rules import LINE_KEYS

        order = np.argsort(-self.line_lapse, kind="stable")[:n]
        order = order[self.line_lapse[order] > 0]
        total = float(self.line_lapse.sum())
        p = float(self.precision)
        index = pd.MultiIndex.from_tuples([self.keys[i] for i in order], names=list(LINE_KEYS))
        return pd.DataFrame(
            {
                "name": [self.names[i] for i in order],
                "expected_lapse": self.line_lapse[order] * p,
                "share": self.line_lapse[order] / total if total else 0.0,
            },
            index=index,
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per draw: absorbed, lapse (in ``unit``) and rate."""
        import pandas as pd

        return pd.DataFrame({"absorbed": self.absorbed * float(self.precision), "lapse": self.lapse, "rate": self.rate})

    def plot(self, lang: str = "en") -> Figure:
        """A histogram of the disbursement rate over the draws, with P10, P50, P90 and the target."""
        from ..charts import risk_chart

        return risk_chart(self, lang)


def plan_risk(
    plan: Plan,
    forecast: CapacityForecast,
    *,
    samples: int = 10_000,
    seed: int | None = None,
    target: float | None = None,
    vss: Decimal | None = None,
) -> Risk:
    """The risk of lapse of ``plan`` under ``forecast``: see :class:`Risk`."""
    if plan.final_units is None:
        raise OptimizationError(f"the plan has no amounts ({plan.status}): there is no risk to assess")
    if samples < 1:
        raise ValueError(f"samples must be at least 1; got {samples}")
    if target is not None and not 0 <= target <= 1:
        raise ValueError(f"target must be a rate between 0 and 1; got {target}")
    scenario = plan.scenario
    at = forecast.positions(scenario)
    held = plan.final_units.astype(np.int64)
    absorbed = np.empty(samples, dtype=np.int64)
    lapse_sum = np.zeros(held.shape[0], dtype=np.float64)
    done = 0
    identity = bool(np.array_equal(at, np.arange(at.shape[0])))
    for block in forecast.samples(samples, seed=seed):
        use = block if identity else block[:, at]
        np.minimum(use, held[None, :], out=use)  # the block is ours: no second array
        rows = use.shape[0]
        absorbed[done : done + rows] = use.sum(axis=1, dtype=np.int64)
        lapse_sum += held * rows - use.sum(axis=0, dtype=np.int64)
        done += rows
    labels = scenario.locality_labels()
    keys = scenario.lines.keys()
    return Risk(
        scenario_name=scenario.name,
        unit=scenario.unit,
        precision=scenario.precision,
        allocated_units=int(np.sum(scenario.lines.units("allocated"), dtype=np.int64)),
        absorbed=absorbed,
        line_lapse=lapse_sum / samples,
        keys=keys,
        names=[labels.get(k[0], k[0]) for k in keys],
        seed=seed,
        target=target,
        vss=vss,
    )
