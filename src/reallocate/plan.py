"""Plan: the result of a solve — status, summary, lines, transfers — exact and verifiable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._json import dumps, number
from .errors import OptimizationError, PlanVerificationError
from .scenario import LINE_KEYS, Scenario

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .exact import Moves
    from .explain import Explanation
    from .formulation import Formulation

__all__ = ["LINE_AMOUNT_COLUMNS", "LINE_COLUMNS", "PLAN_STATUSES", "TRANSFER_COLUMNS", "Plan", "StageReport", "Summary"]

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

#: Who must approve a transfer, by what it changes (DOMAIN.md, "Rules that the law gives").
APPROVALS = {
    "people_committee": "routine: same program and fund, between localities or components "
    "(provincial People's Committee)",
    "people_council": "changes program: needs the provincial People's Council (Resolution 111/2024/QH15)",
    "capital_structure": "changes fund (investment/recurrent): changes the program's capital structure "
    "(Decision 39/2021/QĐ-TTg)",
}


def approval(src: tuple[str, ...], dst: tuple[str, ...]) -> str:
    """The approval a move from line key ``src`` to ``dst`` needs (a key of ``APPROVALS``)."""
    if src[2] != dst[2]:
        return "capital_structure"
    if src[1] != dst[1]:
        return "people_council"
    return "people_committee"


def unit_costs(scenario: Scenario) -> Callable[[tuple[str, ...], tuple[str, ...]], Decimal]:
    """Cost per unit of a move between two line keys: the locality pair's transfer cost plus a
    move cost for each attribute the move changes."""
    by_pair = {(c.from_, c.to): Decimal(repr(c.cost)) for c in scenario.transfer_costs or ()}
    per_attr = [(LINE_KEYS.index(a), Decimal(repr(c))) for a, c in scenario.rules.move_costs.items() if c]
    zero = Decimal(0)

    def cost(src: tuple[str, ...], dst: tuple[str, ...]) -> Decimal:
        total = by_pair.get((src[0], dst[0]), zero)
        for pos, c in per_attr:
            if src[pos] != dst[pos]:
                total += c
        return total

    return cost


#: The amount columns of ``plan.lines`` (every column after the line keys).
LINE_AMOUNT_COLUMNS = LINE_COLUMNS[len(LINE_KEYS) :]


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


@dataclass(frozen=True)
class StageReport:
    """One solver call: which stage, how it ended, its objective (LP units) and size.

    ``seconds`` is the whole call; ``model_seconds`` the part spent building the PuLP model.
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


def _json_records(frame: pd.DataFrame, precision: Decimal) -> list[dict[str, Any]]:
    """Rows as dicts of JSON-ready values, converting Decimal columns in one pass each."""
    whole = precision == precision.to_integral_value()
    names = [str(c) for c in frame.columns]
    columns = []
    for c in frame.columns:
        values = frame[c].tolist()
        if values and isinstance(values[0], Decimal):
            # amounts are multiples of precision: whole numbers when precision is whole
            values = (
                [int(v) for v in values] if whole and c != "unit_cost" and c != "cost" else [number(v) for v in values]
            )
        columns.append(values)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _decimals(units: np.ndarray, precision: Decimal) -> list[Decimal]:
    ints = units.tolist()
    if precision == 1:
        return [Decimal(u) for u in ints]
    exp = precision.as_tuple().exponent
    if isinstance(exp, int) and precision == Decimal(1).scaleb(exp):
        return [Decimal(u).scaleb(exp) for u in ints]
    return [Decimal(u) * precision for u in ints]


@dataclass
class Plan:
    """The outcome of [`solve`][reallocate.solve].

    ``status`` is one of "optimal", "time_limit" (best plan found, not proven optimal),
    "infeasible" or "error"; ``found`` says whether ``lines``/``transfers``/``summary`` hold a plan.
    Amounts are exact ``Decimal`` values in the scenario unit.
    """

    scenario: Scenario = field(repr=False)
    status: str
    message: str
    solver: str
    summary: Summary | None
    lines: pd.DataFrame = field(repr=False)
    transfers: pd.DataFrame = field(repr=False)
    stages: list[StageReport] = field(default_factory=list, repr=False)
    timings: dict[str, float] = field(default_factory=dict, repr=False)
    #: why the plan is what it is (reasons, shadow prices, lapse, gap; diagnosis when no plan)
    explain: Explanation | None = field(default=None, repr=False)

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

    # ------------------------------------------------------------------------------ export
    def to_dict(self) -> dict[str, Any]:
        """The plan's public JSON shape (amounts stay exact ``Decimal`` values)."""
        return self._payload(records(self.lines), records(self.transfers))

    def _payload(self, lines: list[dict[str, Any]], transfers: list[dict[str, Any]]) -> dict[str, Any]:
        return {
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
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """JSON text: amounts as exact JSON numbers, rates as fractions.

        With ``indent`` (default 2) the layout is for people and diffs: one line per plan line and
        per transfer. ``indent=None`` gives one compact line.
        """
        precision = self.scenario.precision
        payload = self._payload(_json_records(self.lines, precision), _json_records(self.transfers, precision))
        return dumps(payload, indent=indent)

    def verify(self) -> Plan:
        """Re-check every rule from the scenario alone; raise
        [`PlanVerificationError`][reallocate.PlanVerificationError] listing
        every breach. Returns self, so ``solve(s).verify()`` chains."""
        from .verify import plan_breaches

        breaches = plan_breaches(self.scenario, self)
        if breaches:
            raise PlanVerificationError(breaches)
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
        return cls(
            scenario=scenario,
            status=status,
            message=message,
            solver=solver,
            summary=None,
            lines=pd.DataFrame(columns=list(LINE_COLUMNS)),
            transfers=pd.DataFrame(columns=list(TRANSFER_COLUMNS)),
            stages=stages,
        )

    @classmethod
    def from_moves(
        cls,
        scenario: Scenario,
        form: Formulation,
        moves: Moves,
        *,
        status: str,
        message: str,
        solver: str,
        stages: list[StageReport],
    ) -> Plan:
        t = scenario.table
        precision = scenario.precision
        change = np.zeros(t.size, dtype=np.int64)
        signed = np.where(form.is_recipient, moves.amount, -moves.amount)
        change[form.line] = signed
        final = t.allocated + change
        before = t.absorbable
        after = np.minimum(final, t.capacity)

        columns: dict[str, Any] = {k: [getattr(line, k) for line in scenario.lines] for k in LINE_KEYS}
        for name, units in (
            ("allocated", t.allocated),
            ("disbursed", t.disbursed),
            ("capacity", t.capacity),
            ("surplus", t.surplus),
            ("room", t.room),
            ("final", final),
            ("change", change),
            ("absorbable_before", before),
            ("absorbable_after", after),
        ):
            columns[name] = _decimals(units, precision)
        lines = pd.DataFrame(columns, columns=list(LINE_COLUMNS))
        lines.index.name = "line"

        keys = [line.key for line in scenario.lines]
        cost_of = unit_costs(scenario)
        rows = []
        for d, r, units_moved in moves.transfers:
            src, dst = keys[int(form.line[d])], keys[int(form.line[r])]
            amount = scenario.to_amount(units_moved)
            unit_cost = cost_of(src, dst)
            rows.append((*src, *dst, amount, unit_cost, amount * unit_cost, approval(src, dst)))
        transfers = pd.DataFrame(rows, columns=list(TRANSFER_COLUMNS))

        def total(units: np.ndarray) -> Decimal:
            return scenario.to_amount(int(np.sum(units, dtype=object)))

        allocated = total(t.allocated)
        ab_before, ab_after = total(before), total(after)
        summary = Summary(
            allocated=allocated,
            disbursed=total(t.disbursed),
            absorbable_before=ab_before,
            absorbable_after=ab_after,
            lapse_before=allocated - ab_before,
            lapse_after=allocated - ab_after,
            moved=scenario.to_amount(sum(u for _, _, u in moves.transfers)),
            transfer_count=len(moves.transfers),
            transfer_cost=sum((row[-2] for row in rows), Decimal(0)),
            rate_before=float(ab_before / allocated) if allocated else None,
            rate_after=float(ab_after / allocated) if allocated else None,
        )
        return cls(
            scenario=scenario,
            status=status,
            message=message,
            solver=solver,
            summary=summary,
            lines=lines,
            transfers=transfers,
            stages=stages,
        )
