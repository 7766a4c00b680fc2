"""``solve``: scenario -> formulation -> staged solves -> exact plan -> verified Plan.

Three ways to the same plan, chosen per scenario (``method="auto"``):

* **closed form** — when no rule ties pools together (no locality limits, targets, or binaries),
  the absorb and share optima are computed exactly in integers (``Formulation.closed_form``); a
  solver is needed only to order transfers by cost (flows) and to break ties among them;
* **HiGHS** — the stages as LPs handed to HiGHS from arrays in one call each, each later stage
  restricted to the earlier optimal face (``Formulation.face_after``);
* **PuLP** — every stage built as a PuLP model, earlier optima kept as rows: the reference path
  that the tests compare the others against, and the path CBC takes.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .backend import HighsSession, SolverName, StageOutcome, irreducible_conflict, run_highs, validate_time_limit
from .exact import Moves, RoundingError, exact_moves
from .explain import Explanation, diagnose, explain_plan, name_conflict
from .formulation import COUNT_MAX_PAIRS, SOLVER_DIGITS, Formulation, Program, replace_program
from .formulation.rules import RuleRows
from .plan import Plan, StageReport
from .refine import refine_flows, settle_groups
from .scenario import Scenario
from .sharing import derive_transfers, group_sums
from .uncertainty.capacity import CapacityForecast
from .uncertainty.planning import CVaR, Expected, Quantile

__all__ = ["METHODS", "SOLVERS", "solve"]

SOLVERS: tuple[str, ...] = ("highs", "cbc")
Method = Literal["auto", "lp", "pulp"]
METHODS: tuple[str, ...] = ("auto", "lp", "pulp")

#: Branch-and-bound nodes the "fewest transfers" stage may use. Finding the fewest transfers is
#: NP-hard (subset sum); the cap keeps the effort deterministic, so both solvers stay in step.
COUNT_NODE_LIMIT = 200

#: Factor on the kept-optimum tolerance when a later stage is retried after a numerical failure.
RETRY_SLACK = 100.0


def run(program: Program, solver: SolverName, time_limit: float | None, node_limit: int | None = None) -> StageOutcome:
    """One stage through PuLP (the reference path; CBC always takes it). PuLP is imported only here."""
    from .pulp_backend import run as run_pulp

    return run_pulp(program, solver, time_limit, node_limit)


def _report(o: StageOutcome) -> StageReport:
    return StageReport(
        o.stage, o.status, o.objective, round(o.seconds, 6), o.rows, o.cols, o.mip, o.detail, round(o.model_seconds, 6)
    )


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a solve allocates many short-lived objects.

    Reference counting still frees them; the collector's full passes over a large heap would
    otherwise cost a noticeable share of the solve time at 10^5 lines. The previous state is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _explanation(
    scenario: Scenario,
    form: Formulation,
    moves: Moves,
    solver: SolverName,
    absorb_duals: tuple[Program, np.ndarray] | None,
    direct: bool,
) -> Explanation:
    """Reasons, shadow prices, lapse and gap for a found plan.

    Independent pools are priced exactly from their totals; otherwise the absorb stage's duals
    price rows directly when it was solved per line without pairs, else one more LP (the absorb
    stage per line, as a maximisation) is solved for its duals.
    """
    change = np.zeros(scenario.table.size, dtype=np.int64)
    if form.n:
        change[form.line] = np.where(form.is_recipient, moves.amount, -moves.amount)
    program: Program | None = None
    duals: np.ndarray | None = None
    if form.closed_money or form.n == 0:
        return explain_plan(scenario, form, change, None, None, exact_pools=True)
    if absorb_duals is not None and not absorb_duals[0].has("pair") and not _caps_bind(form, *absorb_duals):
        # that LP minimised -received: its duals are the maximisation's, negated
        program, duals = absorb_duals[0], -absorb_duals[1]
    else:
        program = form.explain_program()
        outcome = run_highs(program, None) if direct else run(program, solver, None)
        duals = outcome.duals if outcome.status == "optimal" else None
    return explain_plan(scenario, form, change, program, duals)


def _caps_bind(form: Formulation, program: Program, duals: np.ndarray) -> bool:
    """Whether a group's derived cap (tighter than its own bound) could carry part of the absorb
    stage's duals: then the rules are priced by the explain program instead."""
    del duals
    up = program.upper[program.block("lo")] * form.scale
    return bool(np.any(form.g_cap[program.index["lo"]] < form.g_bound[program.index["lo"]]) and np.any(up > 0))


def _diagnosis(
    scenario: Scenario, form: Formulation, solver: SolverName, direct: bool, *, integer: bool = False
) -> Explanation:
    """What an infeasible scenario would need: targets' missing money; the conflicting rules."""
    t = scenario.table
    shortfall: dict[int, float] = {}
    final = t.allocated.copy()
    conflict: list[str] | None = None
    if form.n == 0:  # nothing can move: the targets fall short by what they lack as things stand
        shortfall = {k: float(short) for k, _, _, short in form.target_shortfalls() if short > 0}
    else:
        absorb = form.program("absorb", [], own_bounds=True)
        if form.goals:
            # in whole units when the rules bind at fractions of a unit (the LP would need no money)
            elastic = form.program("absorb", [], elastic=True, integer=integer, own_bounds=True)
            outcome = run_highs(elastic, None) if direct or integer else run(elastic, solver, None)
            if outcome.values is not None:
                x = outcome.values
                if elastic.has("slack"):
                    slack = x[elastic.block("slack")] * form.scale
                    shortfall = dict(zip(elastic.index["slack"].tolist(), slack.tolist(), strict=True))
                amounts = np.rint(form.line_values(form.amounts(elastic, x))).astype(np.int64)
                final[form.line] += np.where(form.is_recipient, amounts, -amounts)
        # HiGHS's IIS works on the LP; with integer rules, name the conflict of the relaxation
        relaxed = replace_program(absorb, integer=np.zeros_like(absorb.integer))
        found = irreducible_conflict(relaxed)
        if found is not None:
            conflict = name_conflict(scenario, form, relaxed, *found)
        elif absorb.is_mip:
            conflict = ["min_transfer / max_transfers_per_line: every plan the other rules allow breaks them"]
        elif integer:
            conflict = ["whole units: the rules can be met only with fractions of a unit of precision"]
    return Explanation.empty(diagnose(scenario, form, shortfall, final, conflict))


def solve(
    scenario: Scenario,
    *,
    solver: SolverName = "highs",
    time_limit: float | None = None,
    method: Method = "auto",
    capacity: CapacityForecast | None = None,
    objective: str | Expected | Quantile | CVaR = "expected",
) -> Plan:
    """Find the best legal reallocation of ``scenario``.

    With ``capacity`` (a [`CapacityForecast`][reallocate.uncertainty.CapacityForecast]) the
    capacities are a forecast, and ``objective`` says how to plan for it: ``"expected"`` (most
    expected absorbable money; ``Expected(breakpoints=K)``), ``"quantile"`` (a line receives only
    what it absorbs with probability 1 - epsilon; ``Quantile(epsilon)``) or ``"cvar"`` (expected
    money and the bad years' money, weighed; ``CVaR(alpha, omega, samples, seed)``). The first
    stage fixes each line's planning capacity, then every stage below runs as usual on them; the
    plan's ``basis`` records how (see docs/uncertainty.md).

    Stages (see docs/concepts.md, "best plan"): maximise absorbable money; then share fairly
    (proportional or priority, per ``rules``); then least transfer cost; then fewest transfers.
    ``solver`` is "highs" (in-process, default) or "cbc" (PuLP's bundled CBC); both give the same
    plan. ``time_limit`` (seconds) bounds the whole solve: when it runs out, the best plan found so
    far is returned with status "time_limit" — never called optimal.

    ``method`` is for checking: "auto" (default) computes independent pools in closed form and
    hands the rest to the solver directly; "lp" solves every stage as an LP even where the closed
    form applies; "pulp" builds every stage as a PuLP model (the reference path; CBC always goes
    through PuLP).

    "Fewest transfers" is exact when its branch-and-bound proves it within ``COUNT_NODE_LIMIT``
    nodes; otherwise the plan keeps transfers that are optimal for every earlier stage (without
    ``min_transfer`` a vertex: at most donors + recipients - 1 per pool), and ``plan.stages`` /
    ``plan.message`` say so. The money stages (absorbable, fair shares, cost) are always proven
    when the status is "optimal". Without costs or ``min_transfer`` no pairs are modelled: the
    transfer list is derived from the exact line amounts.

    The plan is verified against the scenario before it is returned; a plan that fails the check
    comes back with status "error" (and no amounts), never silently.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"solve() needs a Scenario, got {type(scenario).__name__}")
    if capacity is not None:
        from .uncertainty.planning import planning_scenario

        planned, basis = planning_scenario(scenario, capacity, objective)
        plan = solve(planned, solver=solver, time_limit=time_limit, method=method)
        plan.basis = basis
        return plan
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}; got {solver!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    limit = validate_time_limit(time_limit)
    with _gc_paused():
        # solved with the lines in key order, so that every tie (equal shares, equal costs) is
        # broken the same way however the lines were listed: the plan depends on content only
        order = scenario.lines.canonical_order()
        if order is None:
            return _solve(scenario, solver, limit, method)
        t0 = time.perf_counter()
        canonical = scenario.reordered(order)
        ordering = time.perf_counter() - t0
        plan = _solve(canonical, solver, limit, method).in_order_of(scenario, order)
        plan.timings["order"] = ordering
        plan.timings["total"] = plan.timings.get("total", 0.0) + ordering
        return plan


@dataclass
class _Stages:
    """What the staged solves gave."""

    status: str = "optimal"
    best: tuple[Program, np.ndarray] | None = None
    reports: list[StageReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    absorb_duals: tuple[Program, np.ndarray] | None = None
    build_seconds: float = 0.0
    #: the absorb stage's optimum (LP units), when it was solved
    absorbed: float | None = None


def _run_stages(
    form: Formulation,
    solver: SolverName,
    direct: bool,
    deadline: float | None,
    *,
    closed: np.ndarray | None,
    integer: bool = False,
) -> _Stages:
    """Solve the stages ``form`` needs, each keeping every earlier optimum (a face read off the
    duals on the HiGHS path, rows on the PuLP path and for integer stages)."""
    out = _Stages()
    session = HighsSession()

    def run_stage(program: Program, time_left: float | None, nodes: int | None) -> StageOutcome:
        if not direct:
            return run(program, solver, time_left, nodes)
        # the first LP of a solve is cold and large: HiGHS's presolve pays for itself there
        return run_highs(program, time_left, nodes, presolve=program.stage == "absorb", session=session)

    kept: list[tuple[str, float]] = []
    base_face = form.amount_face(closed) if closed is not None else None  # kept through a retry
    face = base_face
    for stage in form.stages() if form.n else []:
        if (
            stage == "canonical"
            and not form.uses_pairs
            and not form.uses_flows
            and out.best is not None
            and form.on_targets(*out.best, solver)
        ):
            # Without pairs the plan is unique once every line sits on its fair target. (Judged on
            # the values, not on the share objective: CBC prints that with 8 digits only.)
            continue
        if stage == "count" and form.n_pairs > COUNT_MAX_PAIRS:
            out.notes.append(
                f"fewest transfers not searched ({form.n_pairs} candidate pairs > {COUNT_MAX_PAIRS}); "
                "the transfers kept are optimal for every earlier stage"
            )
            continue
        remaining = None
        if deadline is not None:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                out.status = "time_limit"
                found = out.best is not None or closed is not None
                out.notes.append(
                    f"time limit reached before stage {stage!r}; "
                    + ("the best plan found is kept" if found else "no plan found")
                )
                break
        t0 = time.perf_counter()
        program = form.program(stage, kept, face=face, integer=integer)
        out.build_seconds += time.perf_counter() - t0
        nodes = COUNT_NODE_LIMIT if stage == "count" else None
        outcome = run_stage(program, remaining, nodes)
        if outcome.status == "infeasible" and stage != "absorb":
            # Earlier optima are kept within a tight tolerance (or a face read off duals); a solver
            # may find that sliver infeasible numerically. Retry once, keeping them as rows with a
            # hundredfold tolerance.
            out.reports.append(_report(outcome))
            program = form.program(
                stage, _kept_of(out.reports, kept), slack=RETRY_SLACK, face=base_face, integer=integer
            )
            time_left = None if deadline is None else deadline - time.perf_counter()
            outcome = run_stage(program, time_left, nodes)
        if outcome.status in ("optimal", "node_limit", "time_limit") and outcome.values is not None and program.is_mip:
            # binaries carry a tolerance (a "used" switch at 1e-7 lets a big bound pass real money):
            # fix them at 0 or 1 and solve the rest again as an LP, exactly
            polished = _polish(program, outcome.values, run_stage)
            if polished is None and stage in ("count", "canonical"):
                # only transfer counts or the tie-break are lost: the plan of the earlier stages stands
                out.reports.append(_report(outcome))
                what = "fewest transfers not proven" if stage == "count" else "the generic tie-break was skipped"
                out.notes.append(
                    f"{what} (the solver's switches did not hold once fixed); the transfers kept are optimal "
                    "for every earlier stage"
                )
                continue
            if polished is None:
                outcome = StageOutcome(
                    stage,
                    "error",
                    None,
                    None,
                    outcome.seconds,
                    "the integer solution did not hold "
                    "once its switches were fixed (numerically unreliable at these amounts)",
                )
            else:
                outcome.values = polished
                outcome.objective = float(program.cost @ polished)
        out.reports.append(_report(outcome))
        if outcome.status == "optimal":
            assert outcome.values is not None and outcome.objective is not None
            out.best = (program, outcome.values)
            if stage != "settle":  # settle only chooses where the targets come from
                if direct and outcome.col_duals is not None and outcome.duals is not None:
                    face = form.face_after(program, outcome.values, outcome.col_duals, outcome.duals, face)
                else:
                    kept.append((stage, outcome.objective))
            if stage in ("absorb", "settle"):
                _set_targets(form, program, outcome.values, solver, stage)
            if stage == "absorb":
                out.absorbed = outcome.objective
                if outcome.duals is not None:
                    out.absorb_duals = (program, outcome.duals)
            continue
        if outcome.status == "node_limit" and stage == "count":
            if outcome.values is not None and outcome.objective is not None:
                # the fewest transfers found so far bind the later stages: the canonical tie-break
                # may only choose among plans with no more transfers than that (more time is
                # never a worse plan)
                out.best = (program, outcome.values)
                kept.append((stage, outcome.objective))
                out.notes.append(
                    f"fewest transfers not proven within {COUNT_NODE_LIMIT} branch-and-bound nodes; the plan "
                    f"has the fewest found ({round(outcome.objective)}), and is optimal for every earlier stage"
                )
            else:
                out.notes.append(
                    f"fewest transfers not proven within {COUNT_NODE_LIMIT} branch-and-bound nodes; "
                    "the transfers kept are optimal for every earlier stage"
                )
            continue
        if outcome.status in ("time_limit", "node_limit"):
            out.status = "time_limit"
            if outcome.values is not None:
                out.best = (program, outcome.values)  # a checked feasible point of this stage
            found = out.best is not None or closed is not None
            out.notes.append(
                f"time limit reached in stage {stage!r}; "
                + ("the best plan found is kept (not proven optimal)" if found else "no plan found")
            )
            break
        if outcome.status == "infeasible" and stage == "absorb":
            out.status, out.best = "infeasible", None
            out.notes.append("no plan in whole units satisfies the rules" if integer else "no plan satisfies the rules")
            break
        out.status, out.best = "error", None
        out.notes.append(f"stage {stage!r}: {outcome.detail}")
        break
    return out


def _solve(scenario: Scenario, solver: SolverName, limit: float | None, method: Method) -> Plan:
    began = time.perf_counter()
    deadline = None if limit is None else began + limit
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    form = Formulation(scenario)
    form.digits = SOLVER_DIGITS[solver]
    direct = solver == "highs" and method != "pulp"
    if method != "auto":
        form.closed_money = False  # solve the money stages as LPs: the check against the closed form
    timings["formulate"] = time.perf_counter() - t0

    closed: np.ndarray | None = None
    pre_notes: list[str] = []
    status0 = "optimal"
    if form.n == 0:
        pre_notes.append("no pool has both surplus and room: nothing can move")
        if any(short > 0 for *_, short in form.target_shortfalls()):
            status0 = "infeasible"  # nothing can move, and a target is not met as things stand
    elif form.closed_money:
        t0 = time.perf_counter()
        closed = form.closed_form()
        timings["closed_form"] = time.perf_counter() - t0
    stages = _run_stages(form, solver, direct, deadline, closed=closed)
    status = status0 if status0 != "optimal" else stages.status
    if stages.status == "error":
        closed = None
    notes = pre_notes + stages.notes
    reports = stages.reports
    integer_note = ""
    rules = RuleRows(form) if form.coupled else None

    t0 = time.perf_counter()
    moves: Moves | None = None
    if form.n == 0 and status == "optimal":
        moves = Moves.none()
    elif stages.best is None and closed is not None and status in ("optimal", "time_limit"):
        # the closed form decided everything (no costs), or a later stage ran out of time
        moves = Moves(closed, *derive_transfers(form.pool, form.is_recipient, closed, form.n_pools))
    elif stages.best is not None:
        program, values = stages.best
        try:
            moves = exact_moves(form, program, values, SOLVER_DIGITS[solver], rules)
            if status == "optimal" and not _absorbs_the_optimum(form, moves, stages.absorbed, solver):
                raise RoundingError("the whole-unit plan found absorbs less than the LP optimum")
        except RoundingError as exc:
            # the rules bind at fractions of a unit: the integer problem decides
            integer_note = str(exc)
            moves = None
            if form.scale == 1:
                # the integer problem is solved by HiGHS whatever the LP solver was: earlier optima
                # are kept to HiGHS's precision, not CBC's 1e-6 (which let a later stage give up
                # units of absorbed money for one transfer fewer)
                form.digits = SOLVER_DIGITS["highs"]
                stages = _run_stages(form, solver, True, deadline, closed=None, integer=True)
                reports = reports + stages.reports
                status = stages.status
                notes += stages.notes
                if stages.best is not None:
                    program, values = stages.best
                    try:
                        moves = exact_moves(form, program, values, SOLVER_DIGITS["highs"], rules)
                    except RoundingError as again:
                        status = "error"
                        notes.append(f"could not round the integer solution exactly: {again}")
                if moves is not None:
                    why = (
                        "rules bind at fractions of a unit"
                        if solver == "highs"
                        else "CBC's solution (8 printed digits) rounded to a worse plan"
                    )
                    notes.append(f"{why}: the plan is the whole-unit optimum")
            else:
                status = "error"
                notes.append(
                    f"{exc}; at amounts above 10^9 units of precision the whole-unit problem is not solved "
                    "exactly (a larger precision would make it so)"
                )
        except ValueError as exc:
            status = "error"
            notes.append(f"could not round the solution exactly: {exc}")
    timings["build"] = stages.build_seconds
    timings["solve"] = sum(r.seconds for r in reports)
    message = "; ".join(dict.fromkeys(notes))  # a note said by both passes (LP, then integer) once

    if moves is None:
        plan = Plan.empty(scenario, status, message, solver, reports)
        if status == "infeasible":
            plan.explain = _diagnosis(scenario, form, solver, direct, integer=bool(integer_note))
            if plan.explain.diagnosis:
                texts = [d["text"] for d in plan.explain.diagnosis["targets"]]
                conflict = plan.explain.diagnosis["conflict"]
                if conflict:
                    texts.append("conflicting rules: " + "; ".join(conflict))
                plan.message = "; ".join([message, *texts])
        plan.timings.update(timings)
        return plan
    final = scenario.table.allocated.copy()
    if form.n:
        final[form.line] += np.where(form.is_recipient, moves.amount, -moves.amount)
    plan = Plan.from_result(
        scenario,
        final,
        form.line[moves.src],
        form.line[moves.dst],
        moves.units,
        status=status,
        message=message,
        solver=solver,
        stages=reports,
    )
    timings["round"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    breaches = plan.breaches()
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
        plan.explain = _explanation(scenario, form, moves, solver, stages.absorb_duals, direct)
        timings["explain"] = time.perf_counter() - t0
    plan.timings.update(timings)
    plan.timings["total"] = time.perf_counter() - began
    return plan


def _set_targets(form: Formulation, program: Program, values: np.ndarray, solver: SolverName, stage: str) -> None:
    """The fair targets, from the money each pool moves in the absorb (or settle) solution."""
    if form.closed_money:
        # independent pools: each moves exactly min(surplus, room), whatever the solver's digits
        form.closed_form()
        return
    if stage == "settle" and form.scale > 1:
        # the solver's pool totals are a few units off here: take them from the exact whole-unit
        # settle plan, so the fair targets do not depend on the solver path
        if form.priced_before_share and program.has("flow"):
            # the priced goals before the shares hold on the flows, not on the group amounts
            flows = refine_flows(form, RuleRows(form), values[program.block("flow")] * form.scale, settle=True)
            exact = None if flows is None else form.flow_group_amounts(flows)
        else:
            exact = settle_groups(form, RuleRows(form), form.amounts(program, values))
        if exact is not None:
            form.set_target_totals(group_sums(form.g_pool, np.where(form.g_recipient, exact, 0), form.n_pools))
            return
    form.set_targets(form.pool_moved(program, values), SOLVER_DIGITS[solver])


def _absorbs_the_optimum(form: Formulation, moves: Moves, absorbed: float | None, solver: SolverName) -> bool:
    """Whether the whole-unit plan absorbs the most a whole-unit plan can: the LP optimum, read as
    the whole number it is within the solver's accuracy, else rounded down. CBC prints 8
    significant digits: below 10^7 units that still tells the unit; beyond, its plans are not
    re-checked here."""
    if absorbed is None or form.n == 0:
        return True
    if solver != "highs" and (form.scale > 1 or abs(absorbed) >= 1e7):
        return True
    received = int(np.sum(moves.amount[form.is_recipient], dtype=np.int64))
    lp_units = -absorbed * form.scale
    if form.scale > 1:
        # beyond 10^9 units the LP's own total carries the rounding of ~16 digits: the exact
        # refinement chose the last units; only a loss beyond that noise means a worse plan
        return received >= np.floor(lp_units - 2e-14 * abs(lp_units) - 1e-6 * form.scale)
    nearest = round(lp_units)
    # an LP optimum within its accuracy of a whole number is that whole number; else round down
    digits = 1e-9 if solver == "highs" else 1e-7  # relative accuracy of the objective read back
    accuracy = min(0.25, digits * abs(lp_units) + 1e-6)
    bound = nearest if abs(lp_units - nearest) <= accuracy else int(np.floor(lp_units))
    return received >= bound


def _polish(program: Program, x: np.ndarray, run_stage: Any) -> np.ndarray | None:
    """The point of a MILP with its integer columns fixed at their nearest whole values and the
    rest solved again as an LP (same objective), or None when that LP has no solution."""
    fixed = np.rint(x[program.integer])
    lower, upper = program.lower.copy(), program.upper.copy()
    lower[program.integer] = fixed
    upper[program.integer] = fixed
    lp = replace_program(program, lower=lower, upper=upper, integer=np.zeros_like(program.integer))
    outcome = run_stage(lp, None, None)
    if outcome.status != "optimal" or outcome.values is None:
        return None
    values: np.ndarray = outcome.values
    return values


def _kept_of(reports: list[StageReport], kept: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Every earlier optimum as a (stage, objective) row, for a retry without the face's equalities."""
    out = list(kept)
    names = {name for name, _ in out}
    for r in reports:
        if r.status == "optimal" and r.objective is not None and r.stage not in names and r.stage != "settle":
            out.append((r.stage, r.objective))
            names.add(r.stage)
    return out
