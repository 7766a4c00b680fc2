"""``reallocate forecast``: read a history, forecast, backtest, print and write; and
``reallocate solve --history``: forecast, plan for the forecast, weigh the plan's risk (the command
line's work, kept out of :mod:`reallocate.cli` so that its start stays light)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .backtest import backtest
from .forecast import forecast_inputs, parse_month
from .history import load_history
from .output import backtest_text, forecast_frame, forecast_text, write_table_csv

if TYPE_CHECKING:
    from ..backend import SolverName
    from ..plan import Plan
    from ..scenario import Scenario
    from .risk import Risk

__all__ = ["plan_for_history", "run_forecast"]


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


def plan_for_history(
    scenario: Scenario,
    history: str | Path,
    *,
    as_of: str,
    method: str = "ratio",
    objective: str = "expected",
    samples: int = 10_000,
    seed: int = 0,
    target: float | None = 0.9,
    solver: SolverName = "highs",
    time_limit: float | None = None,
) -> tuple[Plan, Risk | None, list[str]]:
    """Forecast the capacities of ``scenario``'s lines from ``history`` as of ``as_of``, solve
    for the forecast under ``objective``, and weigh the plan over ``samples`` joint draws
    (``seed``) with the VSS. Returns the plan, its risk (None without a plan) and notes for the
    reader (English sentences of the catalogue). A history without its own unit (CSV, Excel,
    Parquet) is read in the scenario's unit and precision."""
    from ..errors import ScenarioError
    from ..solving import solve
    from .forecast import forecast
    from .value import value_of_stochastic_solution

    own_unit = Path(history).suffix.lower() == ".json"
    try:
        loaded = load_history(
            history,
            unit=None if own_unit else scenario.unit,
            precision=None if own_unit else scenario.precision,
        )
        fc = forecast(loaded, as_of, scenario=scenario, method=method)
    except ScenarioError as exc:
        exc.source = str(history)  # type: ignore[attr-defined]
        raise
    plan = solve(scenario, solver=solver, time_limit=time_limit, capacity=fc, objective=objective)
    if not plan.found:
        return plan, None, []
    notes: list[str] = []
    vss = None
    try:
        vss = value_of_stochastic_solution(
            scenario,
            fc,
            samples=samples,
            seed=seed,
            target=target,
            solver=solver,
            time_limit=time_limit,
            expected_plan=plan if objective == "expected" else None,
        ).vss
    except ScenarioError:  # the scenario's rules need the objective 'quantile': no expected plan to compare
        notes.append("the VSS is not computed: the scenario's rules do not fit the objective 'expected'")
    return plan, plan.risk(fc, samples=samples, seed=seed, target=target, vss=vss), notes
