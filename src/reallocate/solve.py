"""``solve``: scenario -> formulation -> staged solves -> exact plan -> verified Plan."""

from __future__ import annotations

import time

import numpy as np

from .backend import SolverName, StageOutcome, run, validate_time_limit
from .exact import Moves, exact_moves
from .formulation import Formulation, Program, stage_tolerance
from .plan import Plan, StageReport
from .scenario import Scenario
from .verify import plan_breaches

__all__ = ["SOLVERS", "solve"]

SOLVERS: tuple[str, ...] = ("highs", "cbc")


def _report(o: StageOutcome) -> StageReport:
    return StageReport(
        o.stage, o.status, o.objective, round(o.seconds, 6), o.rows, o.cols, o.mip, o.detail, round(o.model_seconds, 6)
    )


def solve(scenario: Scenario, *, solver: SolverName = "highs", time_limit: float | None = None) -> Plan:
    """Find the best legal reallocation of ``scenario``.

    Stages (DOMAIN.md, "best plan"): maximise absorbable money; then share fairly (proportional or
    priority, per ``rules``); then least transfer cost; then fewest transfers. ``solver`` is
    "highs" (in-process, default) or "cbc" (PuLP's bundled CBC); both give the same plan.
    ``time_limit`` (seconds) bounds the whole solve: when it runs out, the best plan found so far
    is returned with status "time_limit" — never called optimal.

    The plan is verified against the scenario before it is returned; a plan that fails the check
    comes back with status "error" (and no amounts), never silently.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"solve() needs a Scenario, got {type(scenario).__name__}")
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}; got {solver!r}")
    limit = validate_time_limit(time_limit)
    began = time.perf_counter()
    deadline = None if limit is None else began + limit
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    form = Formulation(scenario)
    timings["formulate"] = time.perf_counter() - t0

    reports: list[StageReport] = []
    kept: list[tuple[str, float]] = []
    best: tuple[Program, np.ndarray] | None = None
    status = "optimal"
    message = ""
    build_seconds = 0.0
    solve_seconds = 0.0

    if form.n == 0:
        message = "no pool has both surplus and room: nothing can move"
    for stage in form.stages() if form.n else []:
        if stage == "canonical" and not form.uses_pairs and best is not None:
            # Without pairs the plan is unique once every line sits on its fair target.
            share = dict(kept).get("share")
            if share is not None and share + float(form.targets.sum()) / form.scale <= stage_tolerance(share):  # type: ignore[union-attr]
                continue
        remaining = None
        if deadline is not None:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                status, message = "time_limit", f"time limit reached before stage {stage!r}"
                break
        t0 = time.perf_counter()
        program = form.program(stage, kept)
        build_seconds += time.perf_counter() - t0
        outcome = run(program, solver, remaining)
        solve_seconds += outcome.seconds
        reports.append(_report(outcome))
        if outcome.status == "optimal":
            assert outcome.values is not None and outcome.objective is not None
            best = (program, outcome.values)
            kept.append((stage, outcome.objective))
            if stage == "absorb":
                form.set_targets(form.pool_moved(program, outcome.values))
            continue
        if outcome.status == "time_limit":
            status = "time_limit"
            if outcome.values is not None:
                best = (program, outcome.values)  # a checked feasible point of this stage
            message = f"time limit reached in stage {stage!r}; " + (
                "the best plan found is kept (not proven optimal)" if best is not None else "no plan found"
            )
            break
        if outcome.status == "infeasible" and stage == "absorb":
            status, message, best = "infeasible", "no plan satisfies the rules", None
            break
        status = "error"
        message = f"stage {stage!r}: {outcome.detail}"
        best = None
        break
    timings["build"] = build_seconds
    timings["solve"] = solve_seconds

    t0 = time.perf_counter()
    if form.n == 0:
        moves = Moves(np.zeros(0, dtype=np.int64), [])
    elif best is None:
        plan = Plan.empty(scenario, status, message, solver, reports)
        plan.timings.update(timings)
        return plan
    else:
        program, values = best
        try:
            moves = exact_moves(form, program, values)
        except ValueError as exc:
            plan = Plan.empty(scenario, "error", f"could not round the solution exactly: {exc}", solver, reports)
            plan.timings.update(timings)
            return plan
    plan = Plan.from_moves(scenario, form, moves, status=status, message=message, solver=solver, stages=reports)
    timings["round"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    breaches = plan_breaches(scenario, plan)
    timings["verify"] = time.perf_counter() - t0
    if breaches:
        plan = Plan.empty(
            scenario, "error", "the solver's plan failed verification: " + "; ".join(breaches[:5]), solver, reports
        )
    if not plan.message and plan.status == "optimal":
        plan.message = "optimal plan"
    plan.timings.update(timings)
    plan.timings["total"] = time.perf_counter() - began
    return plan
