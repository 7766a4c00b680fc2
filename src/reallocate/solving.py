"""``solve``: scenario -> formulation -> staged solves -> exact plan -> verified Plan."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd

from .backend import SolverName, StageOutcome, irreducible_conflict, run, validate_time_limit
from .exact import Moves, exact_moves
from .explain import Explanation, diagnose, explain_plan, name_conflict
from .formulation import SOLVER_DIGITS, Formulation, Program
from .plan import Plan, StageReport
from .scenario import Scenario
from .verify import plan_breaches

__all__ = ["SOLVERS", "solve"]

SOLVERS: tuple[str, ...] = ("highs", "cbc")


def _report(o: StageOutcome) -> StageReport:
    return StageReport(
        o.stage, o.status, o.objective, round(o.seconds, 6), o.rows, o.cols, o.mip, o.detail, round(o.model_seconds, 6)
    )


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a solve allocates ~10^6 short-lived objects.

    Reference counting still frees them; the collector's full passes over a large heap would
    otherwise cost about a third of the solve time at 10^5 lines. The previous state is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


#: Branch-and-bound nodes the "fewest transfers" stage may use. Finding the fewest transfers is
#: NP-hard (subset sum); the cap keeps the effort deterministic, so both solvers stay in step.
COUNT_NODE_LIMIT = 200

#: The "fewest transfers" MILP is attempted only up to this many candidate pairs: beyond it the
#: search rarely closes within the node limit and only costs time.
COUNT_MAX_PAIRS = 150

#: Factor on the kept-optimum tolerance when a later stage is retried after a numerical failure.
RETRY_SLACK = 100.0


def _explanation(
    scenario: Scenario,
    form: Formulation,
    moves: Moves,
    solver: SolverName,
    absorb_duals: tuple[Program, np.ndarray] | None,
) -> Explanation:
    """Reasons, shadow prices, lapse and gap for a found plan.

    The absorb stage's duals price pools directly when it is the aggregated LP (pool rules only);
    otherwise one more LP, the absorb stage per line as a maximisation, is solved for its duals.
    """
    change = np.zeros(scenario.table.size, dtype=np.int64)
    if form.n:
        change[form.line] = np.where(form.is_recipient, moves.amount, -moves.amount)
    program: Program | None = None
    duals: np.ndarray | None = None
    if absorb_duals is not None and absorb_duals[0].has("pool_in"):
        # that LP minimised -received: its duals are the maximisation's, negated
        program, duals = absorb_duals[0], -absorb_duals[1]
    elif form.n:
        program = form.explain_program()
        outcome = run(program, solver, None)
        duals = outcome.duals if outcome.status == "optimal" else None
    return explain_plan(scenario, form, change, program, duals)


def _diagnosis(scenario: Scenario, form: Formulation, solver: SolverName) -> Explanation:
    """What an infeasible scenario would need: targets' missing money; the conflicting rules."""
    t = scenario.table
    shortfall: dict[int, float] = {}
    final = t.allocated.copy()
    conflict: list[str] | None = None
    if form.n == 0:  # nothing can move: the targets fall short by what they lack as things stand
        shortfall = {k: float(short) for k, _, _, short in form.target_shortfalls() if short > 0}
    else:
        absorb = form.program("absorb", [])
        if form.goals:
            elastic = form.program("absorb", [], elastic=True)
            outcome = run(elastic, solver, None)
            if outcome.values is not None:
                x = outcome.values
                if elastic.has("slack"):
                    slack = x[elastic.block("slack")] * form.scale
                    shortfall = dict(zip(elastic.index["slack"].tolist(), slack.tolist(), strict=True))
                amounts = np.rint(form.amounts(elastic, x)).astype(np.int64)
                final[form.line] += np.where(form.is_recipient, amounts, -amounts)
        # HiGHS's IIS works on the LP; with integer rules, name the conflict of the relaxation
        relaxed = dataclasses.replace(absorb, integer=np.zeros_like(absorb.integer))
        found = irreducible_conflict(relaxed)
        if found is not None:
            conflict = name_conflict(scenario, form, relaxed, *found)
        elif absorb.is_mip:
            conflict = ["min_transfer / max_transfers_per_line: every plan the other rules allow breaks them"]
    empty = pd.DataFrame()
    return Explanation(
        lines=empty,
        shadow_prices=empty,
        pools=empty,
        lapse=empty,
        gap={},
        diagnosis=diagnose(scenario, form, shortfall, final, conflict),
    )


def solve(scenario: Scenario, *, solver: SolverName = "highs", time_limit: float | None = None) -> Plan:
    """Find the best legal reallocation of ``scenario``.

    Stages (see docs/concepts.md, "best plan"): maximise absorbable money; then share fairly (proportional or
    priority, per ``rules``); then least transfer cost; then fewest transfers. ``solver`` is
    "highs" (in-process, default) or "cbc" (PuLP's bundled CBC); both give the same plan.
    ``time_limit`` (seconds) bounds the whole solve: when it runs out, the best plan found so far
    is returned with status "time_limit" — never called optimal.

    "Fewest transfers" is exact when its branch-and-bound proves it within ``COUNT_NODE_LIMIT``
    nodes; otherwise the plan keeps transfers that are optimal for every earlier stage (without
    ``min_transfer`` a vertex: at most donors + recipients - 1 per pool), and ``plan.stages`` /
    ``plan.message`` say so. The money stages (absorbable, fair shares, cost) are always proven
    when the status is "optimal". Without costs or ``min_transfer`` no pairs are modelled: the
    transfer list is derived from the exact line amounts (see ``exact.derive_transfers``).

    The plan is verified against the scenario before it is returned; a plan that fails the check
    comes back with status "error" (and no amounts), never silently.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"solve() needs a Scenario, got {type(scenario).__name__}")
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}; got {solver!r}")
    limit = validate_time_limit(time_limit)
    with _gc_paused():
        return _solve(scenario, solver, limit)


def _solve(scenario: Scenario, solver: SolverName, limit: float | None) -> Plan:
    began = time.perf_counter()
    deadline = None if limit is None else began + limit
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    form = Formulation(scenario)
    form.digits = SOLVER_DIGITS[solver]
    timings["formulate"] = time.perf_counter() - t0

    reports: list[StageReport] = []
    kept: list[tuple[str, float]] = []
    absorb_duals: tuple[Program, np.ndarray] | None = None
    best: tuple[Program, np.ndarray] | None = None
    status = "optimal"
    notes: list[str] = []
    build_seconds = 0.0

    if form.n == 0:
        notes.append("no pool has both surplus and room: nothing can move")
        if any(short > 0 for *_, short in form.target_shortfalls()):
            status = "infeasible"  # nothing can move, and a target is not met as things stand
    for stage in form.stages() if form.n else []:
        if stage == "canonical" and not form.uses_pairs and best is not None and form.on_targets(*best, solver):
            # Without pairs the plan is unique once every line sits on its fair target. (Judged on
            # the values, not on the share objective: CBC prints that with 8 digits only.)
            continue
        if stage == "count" and form.n_pairs > COUNT_MAX_PAIRS:
            notes.append(
                f"fewest transfers not searched ({form.n_pairs} candidate pairs > {COUNT_MAX_PAIRS}); "
                "the transfers kept are optimal for every earlier stage"
            )
            continue
        remaining = None
        if deadline is not None:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                status = "time_limit"
                notes.append(f"time limit reached before stage {stage!r}; the best plan found is kept")
                break
        t0 = time.perf_counter()
        program = form.program(stage, kept)
        build_seconds += time.perf_counter() - t0
        nodes = COUNT_NODE_LIMIT if stage == "count" else None
        outcome = run(program, solver, remaining, nodes)
        if outcome.status == "infeasible" and stage != "absorb":
            # Earlier optima are kept within a tight tolerance; a solver may find that sliver
            # infeasible numerically. Retry once with a hundredfold tolerance.
            reports.append(_report(outcome))
            program = form.program(stage, kept, slack=RETRY_SLACK)
            outcome = run(program, solver, None if deadline is None else deadline - time.perf_counter(), nodes)
        reports.append(_report(outcome))
        if outcome.status == "optimal":
            assert outcome.values is not None and outcome.objective is not None
            best = (program, outcome.values)
            if stage != "settle":  # settle only chooses where the targets come from
                kept.append((stage, outcome.objective))
            if stage in ("absorb", "settle"):
                form.set_targets(form.pool_moved(program, outcome.values), SOLVER_DIGITS[solver])
            if stage == "absorb" and outcome.duals is not None:
                absorb_duals = (program, outcome.duals)
            continue
        if outcome.status == "node_limit" and stage == "count":
            notes.append(
                f"fewest transfers not proven within {COUNT_NODE_LIMIT} branch-and-bound nodes; "
                "the transfers kept are optimal for every earlier stage"
            )
            continue
        if outcome.status in ("time_limit", "node_limit"):
            status = "time_limit"
            if outcome.values is not None:
                best = (program, outcome.values)  # a checked feasible point of this stage
            notes.append(
                f"time limit reached in stage {stage!r}; "
                + ("the best plan found is kept (not proven optimal)" if best is not None else "no plan found")
            )
            break
        if outcome.status == "infeasible" and stage == "absorb":
            status, best = "infeasible", None
            notes.append("no plan satisfies the rules")
            break
        status, best = "error", None
        notes.append(f"stage {stage!r}: {outcome.detail}")
        break
    timings["build"] = build_seconds
    timings["solve"] = sum(r.seconds for r in reports)
    message = "; ".join(notes)

    t0 = time.perf_counter()
    if form.n == 0 and status == "optimal":
        moves = Moves(np.zeros(0, dtype=np.int64), [])
    elif best is None:
        plan = Plan.empty(scenario, status, message, solver, reports)
        if status == "infeasible":
            plan.explain = _diagnosis(scenario, form, solver)
            if plan.explain.diagnosis:
                texts = [d["text"] for d in plan.explain.diagnosis["targets"]]
                conflict = plan.explain.diagnosis["conflict"]
                if conflict:
                    texts.append("conflicting rules: " + "; ".join(conflict))
                plan.message = "; ".join([message, *texts])
        plan.timings.update(timings)
        return plan
    else:
        program, values = best
        try:
            moves = exact_moves(form, program, values, SOLVER_DIGITS[solver])
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
        hint = ""
        if solver == "cbc" and form.n and int(form.bound.max()) >= 10**7:
            hint = " (CBC writes its solution with 8 significant digits; for amounts this large use solver='highs')"
        plan = Plan.empty(
            scenario,
            "error",
            "the solver's plan failed verification: " + "; ".join(breaches[:5]) + hint,
            solver,
            reports,
        )
    if not plan.message and plan.status == "optimal":
        plan.message = "optimal plan"
    if plan.found:
        t0 = time.perf_counter()
        plan.explain = _explanation(scenario, form, moves, solver, absorb_duals)
        timings["explain"] = time.perf_counter() - t0
    plan.timings.update(timings)
    plan.timings["total"] = time.perf_counter() - began
    return plan
