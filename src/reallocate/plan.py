"""Plan: the result of a solve — status, summary, lines, transfers — exact and verifiable.

A plan holds its result as arrays in whole units of the scenario's precision: what each line holds
after the moves (``final_units``) and every transfer (line from, line to, units). The tables people
read (``plan.lines``, ``plan.transfers``) are built from them when first asked for; the writers
(JSON, Parquet) and the verifier read the arrays directly, so a national plan never pays for one
Python object per line unless someone asks for a table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import OptimizationError, PlanVerificationError
from .lines import decimals, to_decimal
from .plan_json import PLAN_FORMAT_VERSION
from .rules import LINE_KEYS
from .scenario import Scenario
from .transfers import APPROVAL_NAMES, APPROVALS, approval, approval_codes, transfer_unit_costs

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from .explain import Explanation
    from .uncertainty.capacity import CapacityForecast
    from .uncertainty.planning import PlanningBasis
    from .uncertainty.risk import Risk

__all__ = [
    "APPROVALS",
    "LINE_AMOUNT_COLUMNS",
    "LINE_COLUMNS",
    "PLAN_STATUSES",
    "TRANSFER_COLUMNS",
    "Plan",
    "StageReport",
    "Summary",
    "approval",
    "records",
]

#: Statuses a plan can have. Only "optimal" and "time_limit" carry a plan.
PLAN_STATUSES = ("optimal", "time_limit", "infeasible", "error")

LINE_COLUMNS = (
    *LINE_KEYS,
    "allocated",
    "disbursed",
    "capacity",
    "surplus",
    "room",
    "final",
    "change",
    "absorbable_before",
    "absorbable_after",
)
TRANSFER_COLUMNS = (
    *(f"from_{k}" for k in LINE_KEYS),
    *(f"to_{k}" for k in LINE_KEYS),
    "amount",
    "unit_cost",
    "cost",
    "approval",
)
#: The amount columns of ``plan.lines`` (every column after the line keys).
LINE_AMOUNT_COLUMNS = LINE_COLUMNS[len(LINE_KEYS) :]


#: the figures of a plan's summary that are amounts in the scenario unit
SUMMARY_AMOUNTS: tuple[str, ...] = (
    "allocated",
    "disbursed",
    "absorbable_before",
    "absorbable_after",
    "lapse_before",
    "lapse_after",
    "moved",
)


@dataclass(frozen=True)
class Summary:
    """Plan totals in the scenario unit; rates are fractions of ``allocated`` (None if it is 0)."""

    allocated: Decimal
    disbursed: Decimal
    absorbable_before: Decimal
    absorbable_after: Decimal
    lapse_before: Decimal
    lapse_after: Decimal
    moved: Decimal
    transfer_count: int
    transfer_cost: Decimal
    rate_before: float | None
    rate_after: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __repr__(self) -> str:
        rates = " → ".join("n/a" if r is None else f"{r:.1%}" for r in (self.rate_before, self.rate_after))
        return (
            f"Summary(rate {rates}, moved {self.moved:,}, lapse {self.lapse_before:,} → {self.lapse_after:,}, "
            f"{self.transfer_count} transfers)"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{name}</th><td style='text-align:right'>{_html_value(value)}</td></tr>"
            for name, value in self.as_dict().items()
        )
        return f"<table>{rows}</table>"


def _html_value(value: Any) -> str:
    import html

    if isinstance(value, float):
        return f"{value:.1%}"
    if isinstance(value, Decimal):
        return f"{value:,}"
    return html.escape(str(value))


@dataclass(frozen=True)
class StageReport:
    """One solver call: which stage, how it ended, its objective (LP units) and size.

    ``seconds`` is the whole call; ``model_seconds`` the part spent building the solver's model.
    """

    stage: str
    status: str
    objective: float | None
    seconds: float
    rows: int
    cols: int
    mip: bool
    detail: str = ""
    model_seconds: float = 0.0


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts, built from whole columns (pandas' own to_dict boxes every cell: 10x slower)."""
    names = [str(c) for c in frame.columns]
    columns = [frame[c].tolist() for c in frame.columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


_EMPTY = np.zeros(0, dtype=np.int64)


def _numbers(units: np.ndarray, precision: Decimal) -> np.ndarray:
    """Whole units as amounts pandas computes with: int64 when the precision is a whole number and
    every amount fits, else float64 (the nearest double)."""
    units = np.asarray(units, dtype=np.int64)
    if precision == precision.to_integral_value():
        step = int(precision)
        top = int(np.abs(units).max(initial=0))
        if top * step < 2**63:
            return units * step
    inverse = 1 / precision
    if inverse == inverse.to_integral_value():
        # 0.3 is 3 / 10 (the nearest double), not 3 * 0.1 (0.30000000000000004)
        return units.astype(np.float64) / float(inverse)
    return units.astype(np.float64) * float(precision)


def _amount_dtype(precision: Decimal) -> str:
    """The dtype ``_numbers`` gives for ordinary amounts at this precision (for empty tables)."""
    return "int64" if precision == precision.to_integral_value() else "float64"


@dataclass(eq=False)
class Plan:
    """The outcome of [`solve`][reallocate.solve].

    ``status`` is one of "optimal", "time_limit" (best plan found, not proven optimal),
    "infeasible" or "error"; ``found`` says whether ``lines``/``transfers``/``summary`` hold a plan.
    The exact result is ``final_units`` (what each line holds after the moves) and the transfers
    (``transfer_from`` -> ``transfer_to``, line positions, ``transfer_units``), in whole units of
    the scenario's precision; ``lines`` and ``transfers`` show them as tables of exact ``Decimal``
    amounts in the scenario unit.
    """

    scenario: Scenario = field(repr=False)
    status: str
    message: str
    solver: str
    summary: Summary | None
    final_units: np.ndarray | None = field(default=None, repr=False)
    transfer_from: np.ndarray = field(default_factory=lambda: _EMPTY, repr=False)
    transfer_to: np.ndarray = field(default_factory=lambda: _EMPTY, repr=False)
    transfer_units: np.ndarray = field(default_factory=lambda: _EMPTY, repr=False)
    stages: list[StageReport] = field(default_factory=list, repr=False)
    timings: dict[str, float] = field(default_factory=dict, repr=False)
    #: why the plan is what it is (reasons, shadow prices, lapse, gap; diagnosis when no plan)
    explain: Explanation | None = field(default=None, repr=False)
    #: for a plan made for a capacity forecast: the objective and each line's planning capacity
    #: (the scenario's capacities are then those planning capacities)
    basis: PlanningBasis | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        if self.summary is None:
            return f"Plan({self.status}: {self.message})"
        return f"Plan({self.status}: {self.headline}; {self.summary.transfer_count} transfers)"

    def _repr_html_(self) -> str:
        import html

        head = f"<p><b>{html.escape(self.scenario.name)}</b> — {html.escape(self.status)}: "
        if self.summary is None:
            return head + f"{html.escape(self.message)}</p>"
        return head + f"{html.escape(self.headline)}</p>" + self.summary._repr_html_()

    @property
    def headline(self) -> str:
        """The one sentence a planner needs, in English (``headline_in("vi")`` in Vietnamese), e.g.
        "expected disbursement 57.9% → 63.7% (+143,334 million VND); lapse 1,047,495 → 904,161
        million VND"."""
        return self.headline_in("en")

    def headline_in(self, lang: str) -> str:
        """The headline in ``lang`` ("en" or "vi": ``57,9%`` and ``143.334`` in Vietnamese)."""
        from .labels import amount_text, check_lang, label, percent_text, phrase, unit_text
        from .messages import translate

        check_lang(lang)
        s = self.summary
        if s is None:
            return f"{phrase('report', 'no_plan', lang)}: {label(self.status, lang)} — {translate(self.message, lang)}"
        unit = unit_text(self.scenario.unit, lang)
        gain = s.absorbable_after - s.absorbable_before
        # a plan made for a forecast is measured against its planning capacities: it says so, so
        # that "100%" is never read as what the forecast expects (Plan.risk says that)
        against = f" ({phrase('report', 'against_planning', lang)})" if self.basis is not None else ""
        return (
            f"{label('headline', lang)} {percent_text(s.rate_before, lang)} → {percent_text(s.rate_after, lang)} "
            f"(+{amount_text(gain, lang)} {unit}); {label('lapse', lang).lower()} "
            f"{amount_text(s.lapse_before, lang)} → {amount_text(s.lapse_after, lang)} {unit}{against}"
        )

    def risk(
        self,
        forecast: CapacityForecast,
        *,
        samples: int = 10_000,
        seed: int | None = None,
        target: float | None = None,
        vss: Decimal | None = None,
    ) -> Risk:
        """The risk of lapse of this plan under ``forecast``: over ``samples`` joint draws of the
        capacities, the lapse and the disbursement rate (mean, P10, P50, P90), the probability that
        the rate stays below ``target``, and the lines carrying most of the expected lapse. Whole
        arrays, no LP per draw. ``vss`` (from :func:`reallocate.uncertainty.value_of_stochastic_solution`)
        is shown with it."""
        from .uncertainty.risk import plan_risk

        return plan_risk(self, forecast, samples=samples, seed=seed, target=target, vss=vss)

    @property
    def found(self) -> bool:
        """True when the plan holds lines and transfers (status optimal, or time_limit when a plan was
        found in time)."""
        return self.summary is not None

    @property
    def optimal(self) -> bool:
        """True when the status is "optimal" and a plan was found."""
        return self.status == "optimal" and self.found

    def raise_for_status(self) -> Plan:
        """Return self when a plan was found, else raise
        [`OptimizationError`][reallocate.OptimizationError] with the message."""
        if not self.found:
            raise OptimizationError(f"{self.status}: {self.message}")
        return self

    def in_order_of(self, scenario: Scenario, order: np.ndarray) -> Plan:
        """This plan, solved on ``scenario`` with its lines in the order ``order``, for
        ``scenario`` as listed: line ``order[k]`` of ``scenario`` is line ``k`` of the solved one."""
        inverse = np.empty_like(order)
        inverse[order] = np.arange(order.shape[0])
        return Plan(
            scenario=scenario,
            status=self.status,
            message=self.message,
            solver=self.solver,
            summary=self.summary,
            final_units=None if self.final_units is None else self.final_units[inverse],
            transfer_from=order[self.transfer_from],
            transfer_to=order[self.transfer_to],
            transfer_units=self.transfer_units,
            stages=self.stages,
            timings=self.timings,
            explain=None if self.explain is None else self.explain.in_order(order, inverse, scenario.lines),
        )

    # ------------------------------------------------------------------------------ tables
    @cached_property
    def lines(self) -> pd.DataFrame:
        """One row per scenario line, for pandas: its keys, the locality's ``name``, amounts before
        and after, absorbable before and after, and the ``reason`` of what the plan did with it.
        Amounts are numbers pandas computes with (``int64`` when the precision is a whole number
        and they fit, else ``float64``, in the scenario unit); the exact amounts are
        :meth:`exact_lines` (``Decimal``), ``final_units`` (whole units) and the JSON."""
        import pandas as pd

        if self.final_units is None:
            dtype = _amount_dtype(self.scenario.precision)
            empty: dict[str, Any] = {c: pd.Series(dtype=object) for c in ("locality", "name", *LINE_KEYS[1:])}
            empty.update({c: pd.Series(dtype=dtype) for c in LINE_AMOUNT_COLUMNS})
            empty["reason"] = pd.Series(dtype=object)
            return pd.DataFrame(empty)
        sc = self.scenario
        columns: dict[str, Any] = {}
        for k in LINE_KEYS:
            columns[k] = sc.lines.values(k)
            if k == "locality":
                labels = sc.locality_labels()
                columns["name"] = [labels.get(v, v) for v in columns[k]]
        for name, units in self.line_units().items():
            columns[name] = _numbers(units, sc.precision)
        if self.explain is not None:
            columns["reason"] = self.explain.lines["reason"].tolist()
        frame = pd.DataFrame(columns)
        frame.index.name = "line"
        return frame

    def line_units(self) -> dict[str, np.ndarray]:
        """The amount columns of ``lines`` in whole units of precision (int64), exactly."""
        t = self.scenario.table
        final = self.final_units
        assert final is not None, "a plan without lines has no line amounts"
        return {
            "allocated": t.allocated,
            "disbursed": t.disbursed,
            "capacity": t.capacity,
            "surplus": t.surplus,
            "room": t.room,
            "final": final,
            "change": final - t.allocated,
            "absorbable_before": t.absorbable,
            "absorbable_after": np.minimum(final, t.capacity),
        }

    def exact_lines(self) -> pd.DataFrame:
        """``lines`` with exact ``Decimal`` amounts (no name or reason column): for sums that
        must balance to the last unit."""
        import pandas as pd

        if self.final_units is None:
            return pd.DataFrame(columns=list(LINE_COLUMNS))
        sc = self.scenario
        p = sc.precision
        columns: dict[str, Any] = {k: sc.lines.values(k) for k in LINE_KEYS}
        for name, units in self.line_units().items():
            columns[name] = decimals(units, p)
        frame = pd.DataFrame(columns, columns=list(LINE_COLUMNS))
        frame.index.name = "line"
        return frame

    @cached_property
    def transfers(self) -> pd.DataFrame:
        """One row per transfer, for pandas: the keys of both lines, the amount, its unit cost and
        cost, and the approval it needs. Amounts are numbers as in ``lines``; the exact ones are
        :meth:`exact_transfers`."""
        frame = self.exact_transfers()
        if len(frame):
            frame["amount"] = _numbers(self.transfer_units, self.scenario.precision)
        else:
            frame["amount"] = frame["amount"].astype(np.dtype(_amount_dtype(self.scenario.precision)))
        frame["unit_cost"] = frame["unit_cost"].astype("float64")
        frame["cost"] = frame["cost"].astype("float64")
        return frame

    def exact_transfers(self) -> pd.DataFrame:
        """``transfers`` with exact ``Decimal`` amounts and costs."""
        import pandas as pd

        n = self.transfer_units.shape[0]
        if self.final_units is None or n == 0:
            return pd.DataFrame(columns=list(TRANSFER_COLUMNS))
        sc = self.scenario
        src, dst = self.transfer_from, self.transfer_to
        columns: dict[str, Any] = {}
        for side, at in (("from", src), ("to", dst)):
            for k in LINE_KEYS:
                cats = sc.lines.categories(k)
                columns[f"{side}_{k}"] = [cats[c] for c in sc.lines.codes(k)[at].tolist()]
        amounts = decimals(self.transfer_units, sc.precision)
        cost_index, costs = transfer_unit_costs(sc, src, dst)
        unit_cost = [costs[i] for i in cost_index.tolist()]
        columns["amount"] = amounts
        columns["unit_cost"] = unit_cost
        columns["cost"] = [a * c for a, c in zip(amounts, unit_cost, strict=True)]
        columns["approval"] = [APPROVAL_NAMES[i] for i in approval_codes(sc, src, dst).tolist()]
        return pd.DataFrame(columns, columns=list(TRANSFER_COLUMNS))

    # ------------------------------------------------------------------------------ export
    def to_dict(self) -> dict[str, Any]:
        """The plan's public JSON shape (amounts stay exact ``Decimal`` values)."""
        return self._payload(records(self.exact_lines()), records(self.exact_transfers()))

    def _payload(self, lines: list[dict[str, Any]], transfers: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "version": PLAN_FORMAT_VERSION,
            "name": self.scenario.name,
            "unit": self.scenario.unit,
            "precision": self.scenario.precision,
            "status": self.status,
            "message": self.message,
            "solver": self.solver,
            "summary": self.summary.as_dict() if self.summary is not None else None,
            "lines": lines,
            "transfers": transfers,
            "stages": [asdict(s) for s in self.stages],
            "explain": self.explain.to_dict() if self.explain is not None else None,
            # a plan made for a capacity forecast: how (its capacities are planning capacities)
            **({"basis": self.basis.as_dict()} if self.basis is not None else {}),
        }

    def to_json(self, *, indent: int | None = 2, compact: bool = False, texts: bool = False) -> str:
        """JSON text: amounts as exact JSON numbers, rates as fractions.

        With ``indent`` (default 2) the layout is for people and diffs: one line per plan line and
        per transfer. ``indent=None`` gives one compact line. ``compact=True`` writes one line without
        spaces, per-line explanations without their sentences (reason codes stay), and names the
        two lines of a transfer by their position in ``lines`` instead of by their keys. To write a large
        plan to a file without holding the text in memory, use ``reallocate.io.write_plan_json``.
        """
        from .plan_json import plan_json_chunks

        return b"".join(plan_json_chunks(self, indent=indent, compact=compact, texts=texts)).decode("utf-8")

    def breaches(self) -> list[str]:
        """Every rule the plan breaks, re-checked from the scenario alone (empty when valid)."""
        from .verify import plan_breaches

        return plan_breaches(self.scenario, self)

    def verify(self) -> Plan:
        """Re-check every rule from the scenario alone; raise
        [`PlanVerificationError`][reallocate.PlanVerificationError] listing
        every breach. Returns self, so ``solve(s).verify()`` chains."""
        found = self.breaches()
        if found:
            raise PlanVerificationError(found)
        return self

    def plot(self, kind: str = "absorbable", lang: str = "en") -> Figure:
        """A chart of the plan as a matplotlib figure (no display needed): ``"absorbable"``
        (before/after by locality), ``"flows"`` (transfers as a from/to heatmap) or ``"lapse"``
        (what still lapses by pool); labels in ``lang`` ("en" or "vi"). Raises
        :class:`OptimizationError` when there is no plan. See :mod:`reallocate.charts`."""
        from .charts import plot

        return plot(self, kind, lang)

    # ------------------------------------------------------------------------------ build
    @classmethod
    def empty(cls, scenario: Scenario, status: str, message: str, solver: str, stages: list[StageReport]) -> Plan:
        return cls(scenario=scenario, status=status, message=message, solver=solver, summary=None, stages=stages)

    @classmethod
    def from_result(
        cls,
        scenario: Scenario,
        final_units: np.ndarray,
        transfer_from: np.ndarray,
        transfer_to: np.ndarray,
        transfer_units: np.ndarray,
        *,
        status: str,
        message: str,
        solver: str,
        stages: list[StageReport],
    ) -> Plan:
        """A plan from its exact result (line positions, whole units), with its summary."""
        t = scenario.table
        final = np.asarray(final_units, dtype=np.int64)
        src = np.asarray(transfer_from, dtype=np.int64)
        dst = np.asarray(transfer_to, dtype=np.int64)
        units = np.asarray(transfer_units, dtype=np.int64)
        order = np.lexsort((dst, src))
        src, dst, units = src[order], dst[order], units[order]
        p = scenario.precision

        def total(values: np.ndarray) -> Decimal:
            return to_decimal(int(np.sum(values, dtype=np.int64)), p)

        allocated = total(t.allocated)
        ab_before, ab_after = total(t.absorbable), total(np.minimum(final, t.capacity))
        cost_index, costs = transfer_unit_costs(scenario, src, dst)
        per_cost = np.zeros(len(costs), dtype=np.int64)
        np.add.at(per_cost, cost_index, units)
        transfer_cost = sum(
            (to_decimal(int(u), p) * c for u, c in zip(per_cost.tolist(), costs, strict=True)), Decimal(0)
        )
        summary = Summary(
            allocated=allocated,
            disbursed=total(t.disbursed),
            absorbable_before=ab_before,
            absorbable_after=ab_after,
            lapse_before=allocated - ab_before,
            lapse_after=allocated - ab_after,
            moved=total(units),
            transfer_count=int(units.shape[0]),
            transfer_cost=transfer_cost,
            rate_before=float(ab_before / allocated) if allocated else None,
            rate_after=float(ab_after / allocated) if allocated else None,
        )
        return cls(
            scenario=scenario,
            status=status,
            message=message,
            solver=solver,
            summary=summary,
            final_units=final,
            transfer_from=src,
            transfer_to=dst,
            transfer_units=units,
            stages=stages,
        )
