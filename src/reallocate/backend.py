"""Solving one ``reallocate.formulation.Program`` with PuLP (HiGHS in-process, or CBC).

Solver answers are checked, not trusted: PuLP's ``status`` *and* ``sol_status`` are read (a time
limit comes back as status "Optimal" with sol_status 2), HiGHS's own primal-solution status is read,
and every returned point is re-checked against the program's bounds and rows before it is used.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pulp

from .formulation import SOLVER_DIGITS, Program

__all__ = ["HighsSession", "SolverName", "StageOutcome", "check_point", "run", "run_highs"]

SolverName = Literal["highs", "cbc"]
Outcome = Literal["optimal", "time_limit", "node_limit", "infeasible", "error"]

# Relative MIP gap 0 is what "optimal" means here; the absolute gap is far below one unit.
_MIP_REL_GAP = 1e-9
_MIP_ABS_GAP = 1e-7
# Slack allowed when re-checking a solver's point: absolute (LP units) plus relative to the row's
# terms, since MIP solvers accept integrality slack (y = 1 - 1e-7 lets x <= U y miss by U * 1e-7).
_CHECK_TOL = 1e-5
_CHECK_REL = 1e-6

_banner_lock = threading.Lock()
_banner_done = False


def _silence_highs_banner() -> None:
    """HiGHS prints a copyright banner on stdout the first time a solver object is created in a
    process, before any option can be set. Create that first object with stdout pointed at
    /dev/null (C-level file descriptor), so no banner reaches users' stdout."""
    global _banner_done
    if _banner_done:
        return
    with _banner_lock:
        if _banner_done:
            return
        import highspy

        with contextlib.suppress(Exception):
            sys.stdout.flush()
        try:
            saved = os.dup(1)
        except OSError:  # no stdout at all: nothing to protect
            highspy.Highs()  # type: ignore[no-untyped-call]
            _banner_done = True
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            highspy.Highs()  # type: ignore[no-untyped-call]
            with contextlib.suppress(Exception):
                ctypes.CDLL(None).fflush(None)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _banner_done = True


# HiGHS model status -> (PuLP status, PuLP sol_status), as PuLP's own HiGHS adapter maps them:
# a time, iteration or interrupt stop is "Optimal" with sol_status 2 (a point, not an optimum).
def _pulp_status(model_status: Any, has_point: bool) -> tuple[int, int]:
    import highspy

    S = highspy.HighsModelStatus  # noqa: N806
    if model_status == S.kOptimal:
        return pulp.LpStatusOptimal, pulp.LpSolutionOptimal
    if model_status in (S.kInfeasible, S.kUnboundedOrInfeasible):
        return pulp.LpStatusInfeasible, pulp.LpSolutionInfeasible
    if model_status == S.kUnbounded:
        return pulp.LpStatusUnbounded, pulp.LpSolutionUnbounded
    limits = (S.kTimeLimit, S.kIterationLimit, S.kInterrupt, S.kSolutionLimit, S.kObjectiveBound, S.kObjectiveTarget)
    if model_status in limits:
        if has_point:
            return pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible
        return pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound
    return pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound


def highs_model(program: Program, cost: np.ndarray | None = None) -> Any:
    """The program as one ``highspy.HighsLp`` (row-wise matrix, continuous columns): the bulk
    hand-off used by the PuLP adapter, the conflict finder and the benchmark's floor."""
    import highspy

    inf = highspy.kHighsInf
    model = highspy.HighsLp()
    model.num_col_ = program.num_cols
    model.num_row_ = program.num_rows
    model.col_cost_ = program.cost if cost is None else cost
    model.col_lower_ = program.lower
    model.col_upper_ = program.upper
    model.row_lower_ = np.where(program.row_sense == -1, -inf, program.row_rhs)
    model.row_upper_ = np.where(program.row_sense == 1, inf, program.row_rhs)
    model.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    model.a_matrix_.start_ = program.row_start
    model.a_matrix_.index_ = program.col_index
    model.a_matrix_.value_ = program.value
    return model


class _HiGHS(pulp.HiGHS):  # type: ignore[misc]
    """PuLP's in-process HiGHS solver with a bulk model hand-off.

    PuLP's own adapter adds one column and one row per Python call and re-collects the problem's
    variables three times per solve; at 10^5 columns that costs seconds. The LpProblem here is
    built from a ``Program``, so the adapter hands HiGHS the program's row-wise matrix in one
    ``passModel`` call, then writes values and statuses back into the LpProblem as PuLP does.
    Also silences HiGHS's banner and remembers HiGHS's own model and primal-solution status.
    """

    def __init__(
        self,
        program: Program,
        variables: list[pulp.LpVariable],
        constraints: list[pulp.LpConstraint | None],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.program = program
        self.variables = variables
        self.constraints = constraints
        self.model_status: str | None = None
        self.primal_feasible: bool = False

    def createAndConfigureSolver(self, lp: pulp.LpProblem) -> None:  # noqa: N802 - PuLP's name
        _silence_highs_banner()
        super().createAndConfigureSolver(lp)

    def actualSolve(self, lp: pulp.LpProblem, **kwargs: Any) -> int:  # noqa: N802 - PuLP's name
        import highspy

        self.createAndConfigureSolver(lp)
        h = lp.solverModel
        prog = self.program
        # as PuLP's own adapter does: a maximisation is handed to HiGHS as "minimise -objective"
        obj_mult = -1.0 if lp.sense == pulp.LpMaximize else 1.0
        model = highs_model(prog, obj_mult * prog.cost)
        if prog.is_mip and self.mip:
            model.integrality_ = [
                highspy.HighsVarType.kInteger if is_int else highspy.HighsVarType.kContinuous
                for is_int in prog.integer.tolist()
            ]
        h.passModel(model)
        h.run()
        status = h.getModelStatus()
        self.model_status = h.modelStatusToString(status)
        self.primal_feasible = int(h.getInfo().primal_solution_status) == 2
        solution = h.getSolution()
        if len(solution.col_value) != prog.num_cols:  # no solution at all (e.g. a model error)
            self.primal_feasible = False
            pulp_status, sol_status = _pulp_status(status, False)
            lp.assignStatus(pulp_status, sol_status)
            return pulp_status
        for var, value, dj in zip(self.variables, solution.col_value, solution.col_dual, strict=True):
            var.varValue = value
            var.dj = dj
        if solution.dual_valid:
            # HiGHS's duals, unchanged, as PuLP's adapter reports them (see normalise_duals)
            for constraint, pi in zip(self.constraints, solution.row_dual, strict=True):
                if constraint is not None:
                    constraint.pi = pi
        pulp_status, sol_status = _pulp_status(status, self.primal_feasible)
        lp.assignStatus(pulp_status, sol_status)
        return pulp_status


@dataclass
class StageOutcome:
    """What one solve gave: an honest status and, when usable, the point and its objective."""

    stage: str
    status: Outcome
    values: np.ndarray | None
    objective: float | None
    seconds: float
    detail: str = ""
    rows: int = 0
    cols: int = 0
    mip: bool = False
    model_seconds: float = 0.0  # building the LpProblem (PuLP's share of ``seconds``)
    #: row duals of an optimal LP, as d(objective)/d(rhs) in the program's own sense
    duals: np.ndarray | None = None
    #: reduced costs of an optimal LP (the direct HiGHS path only)
    col_duals: np.ndarray | None = None


def normalise_duals(pi: np.ndarray, *, maximize: bool, solver: SolverName) -> np.ndarray:
    """Row duals as d(objective)/d(right-hand side), whatever the solver.

    PuLP's HiGHS adapter hands HiGHS a maximisation as "minimise -objective" and reports HiGHS's
    duals of that problem unchanged, so on a maximisation their sign is the opposite of CBC's
    (which PuLP reports for the problem as stated). This adapter reproduces PuLP's convention;
    the flip happens here, in one place, and is tested on a maximisation for both solvers.
    """
    if solver == "highs" and maximize:
        return -pi
    return pi


def irreducible_conflict(program: Program) -> tuple[list[int], list[int]] | None:
    """Rows and columns (whose bounds matter) of an irreducible infeasible subsystem, from HiGHS.

    Used to name the smallest set of conflicting rules; HiGHS is asked whatever solver the plan
    used, as CBC has no IIS. None when HiGHS finds the program feasible or gives no IIS.
    """
    import highspy

    _silence_highs_banner()
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.passModel(highs_model(program))
    # the "irreducible" strategy deletes rows and bounds until what is left is minimal
    h.setOptionValue("iis_strategy", highspy.IisStrategy.kIisStrategyIrreducible)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kInfeasible:
        return None
    status, iis = h.getIis()
    if status != highspy.HighsStatus.kOk or not iis.valid_:
        return None
    return [int(r) for r in iis.row_index_], [int(c) for c in iis.col_index_]


def _to_pulp(program: Program) -> tuple[pulp.LpProblem, list[pulp.LpVariable], list[pulp.LpConstraint | None]]:
    """Build one LpProblem from the program's arrays: one variable per column, one
    ``LpAffineExpression`` per row from (variable, coefficient) pairs (None for an empty row)."""
    sense = pulp.LpMaximize if program.maximize else pulp.LpMinimize
    prob = pulp.LpProblem(f"reallocate_{program.stage}", sense)
    width = len(str(max(program.num_cols - 1, 0)))
    cont, integ = pulp.LpContinuous, pulp.LpInteger
    variables = [
        prob.add_variable(
            f"x{k:0{width}d}",
            lo if lo > -math.inf else None,  # PuLP spells "no bound" None
            up if up < math.inf else None,
            integ if is_int else cont,
        )
        for k, (lo, up, is_int) in enumerate(
            zip(program.lower.tolist(), program.upper.tolist(), program.integer.tolist(), strict=True)
        )
    ]
    nz = np.flatnonzero(program.cost)
    prob.setObjective(
        pulp.LpAffineExpression(
            [(variables[k], c) for k, c in zip(nz.tolist(), program.cost[nz].tolist(), strict=True)]
        )
    )
    start = program.row_start.tolist()
    cols = program.col_index.tolist()
    vals = program.value.tolist()
    senses = program.row_sense.tolist()
    rhs = program.row_rhs.tolist()
    rw = len(str(max(program.num_rows - 1, 0)))
    constraints: list[pulp.LpConstraint | None] = []
    for r in range(program.num_rows):
        a, b = start[r], start[r + 1]
        if a == b:
            constraints.append(None)  # empty row: 0 (sense) rhs holds by construction
            continue
        expr = pulp.LpAffineExpression([(variables[j], v) for j, v in zip(cols[a:b], vals[a:b], strict=True)])
        constraint = pulp.LpConstraint(expr, senses[r], f"r{r:0{rw}d}", rhs[r])
        prob.addConstraint(constraint)
        constraints.append(constraint)
    return prob, variables, constraints


def check_point(program: Program, x: np.ndarray, tol: float = _CHECK_TOL, relative: float = 0.0) -> str | None:
    """Why ``x`` is not a feasible point of ``program`` (or None when it is). ``relative`` allows
    for the digits a solver prints (CBC: 8 significant digits)."""
    if x.shape[0] != program.num_cols or not np.all(np.isfinite(x)):
        return "the solver returned no usable values"
    slack_col = tol + relative * np.abs(x)
    low, high = x < program.lower - slack_col, x > program.upper + slack_col
    if np.any(low) or np.any(high):
        k = int(np.flatnonzero(low | high)[0])
        return f"column {k} = {x[k]:.9g} is outside [{program.lower[k]:.9g}, {program.upper[k]:.9g}]"
    ints = program.integer
    if ints.any() and np.any(np.abs(x[ints] - np.rint(x[ints])) > 1e-5):
        return "an integer column has a fractional value"
    if program.num_rows:
        prod = program.value * x[program.col_index]
        row_of = np.repeat(np.arange(program.num_rows), np.diff(program.row_start))
        act = np.bincount(row_of, weights=prod, minlength=program.num_rows)
        weight = np.bincount(row_of, weights=np.abs(prod), minlength=program.num_rows)
        slack = tol + (_CHECK_REL + relative) * weight
        gap = act - program.row_rhs
        bad = ((program.row_sense == -1) & (gap > slack)) | ((program.row_sense == 1) & (gap < -slack))
        bad |= (program.row_sense == 0) & (np.abs(gap) > slack)
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            return f"row {r} is violated by {gap[r]:.3g}"
    return None


def run(program: Program, solver: SolverName, time_limit: float | None, node_limit: int | None = None) -> StageOutcome:
    """Solve ``program`` once (one LpProblem) and map the answer to optimal / time_limit /
    node_limit / infeasible / error. ``values`` is set only for a point that passed
    ``check_point``. ``node_limit`` caps branch-and-bound nodes (deterministic effort)."""
    began = time.perf_counter()
    prob, variables, constraints = _to_pulp(program)
    modelled = time.perf_counter() - began
    opts: dict[str, Any] = {"msg": False}
    if time_limit is not None:
        opts["timeLimit"] = max(float(time_limit), 0.01)
    if program.is_mip:
        opts["gapRel"] = _MIP_REL_GAP
        opts["gapAbs"] = _MIP_ABS_GAP
    engine: Any
    if solver == "highs":
        if node_limit is not None and program.is_mip:
            opts["mip_max_nodes"] = int(node_limit)
        if program.is_mip:
            # a "used" switch at 1e-6 would let x <= bound * used carry money uncounted (tighter than
            # 1e-7 makes large-amount MIPs numerically infeasible)
            opts["mip_feasibility_tolerance"] = 1e-7
            # HiGHS 1.16's MIP presolve can return a worse point as "optimal" on these small
            # tie-break MIPs (seen: 612.28 with presolve, 608.06 without; CBC agrees with 608.06)
            opts["presolve"] = "off"
        engine = _HiGHS(program, variables, constraints, **opts)
    elif solver == "cbc":
        if node_limit is not None and program.is_mip:
            opts["maxNodes"] = int(node_limit)
        engine = pulp.COIN_CMD(path=pulp.apis.coin_api.pulp_cbc_path, **opts)
    else:  # pragma: no cover - validated by solve()
        raise ValueError(f"unknown solver {solver!r}")

    def outcome(status: Outcome, values: np.ndarray | None, detail: str = "") -> StageOutcome:
        objective = float(program.cost @ values) if values is not None else None
        if values is not None and status == "optimal" and not program.is_mip:
            pi = np.array([0.0 if c is None or c.pi is None else float(c.pi) for c in constraints])
            duals = normalise_duals(pi, maximize=program.maximize, solver=solver)
        else:
            duals = None
        return StageOutcome(
            program.stage,
            status,
            values,
            objective,
            time.perf_counter() - began,
            detail,
            program.num_rows,
            program.num_cols,
            program.is_mip,
            modelled,
            duals,
        )

    try:
        prob.solve(engine)
    except pulp.PulpSolverError as exc:
        return outcome("error", None, f"{solver} failed: {exc}")

    status, sol_status = prob.status, prob.sol_status
    raw = np.array(
        [v.varValue if v.varValue is not None else lo for v, lo in zip(variables, program.lower.tolist(), strict=True)],
        dtype=np.float64,
    )
    elapsed = time.perf_counter() - began
    if solver == "highs":
        hit_limit = engine.model_status in (
            "Time limit reached",
            "Iteration limit reached",
            "Interrupted by user",
            "Solution limit reached",
        )
        has_point = engine.primal_feasible
        by_time = engine.model_status == "Time limit reached"
    else:
        hit_limit = status == pulp.LpStatusNotSolved or sol_status == pulp.LpSolutionIntegerFeasible
        has_point = sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
        # CBC says only "Stopped"; a stop well before the time limit was the node limit
        by_time = node_limit is None or (time_limit is not None and elapsed >= 0.9 * time_limit)
    limit: Outcome = "time_limit" if by_time else "node_limit"

    if status == pulp.LpStatusInfeasible:
        if solver == "cbc" and time_limit is not None and elapsed >= 0.9 * time_limit:
            # CBC stopped by its clock can report "Infeasible" without a proof
            return outcome("time_limit", None, "time limit reached before a feasible point was found")
        return outcome("infeasible", None, "the solver proved the stage infeasible")
    if status == pulp.LpStatusOptimal and sol_status == pulp.LpSolutionOptimal and not hit_limit:
        why = check_point(program, raw, relative=SOLVER_DIGITS[solver])
        if why is not None:
            return outcome("error", None, f"{solver} reported optimal but {why}")
        return outcome("optimal", raw)
    if hit_limit or (status == pulp.LpStatusOptimal and sol_status == pulp.LpSolutionIntegerFeasible):
        what = "time limit" if limit == "time_limit" else f"node limit ({node_limit} nodes)"
        if has_point and check_point(program, raw, relative=SOLVER_DIGITS[solver]) is None:
            return outcome(limit, raw, f"{what} reached; best point found kept (not proven optimal)")
        return outcome(limit, None, f"{what} reached before a feasible point was found")
    name = pulp.LpStatus.get(status, str(status))
    return outcome("error", None, f"{solver} ended with status {name!r} (sol_status {sol_status})")


class HighsSession:
    """One HiGHS instance kept across the stages of a solve.

    When the next stage has the same matrix as the last one (absorb -> settle, share -> cost ->
    canonical: only bounds, row senses and the objective change), it is solved from the last
    optimal basis instead of from scratch; measured on 600k lines with locality limits, the settle
    stage takes 4 s warm and 18 s cold.
    """

    def __init__(self) -> None:
        self.highs: Any = None
        self.program: Program | None = None

    def same_matrix(self, program: Program) -> bool:
        last = self.program
        return (
            last is not None
            and not program.is_mip
            and not last.is_mip
            and last.num_cols == program.num_cols
            and last.num_rows == program.num_rows
            and np.array_equal(last.row_start, program.row_start)
            and np.array_equal(last.col_index, program.col_index)
            and np.array_equal(last.value, program.value)
        )


def run_highs(
    program: Program,
    time_limit: float | None,
    node_limit: int | None = None,
    *,
    presolve: bool = False,
    session: HighsSession | None = None,
) -> StageOutcome:
    """Solve ``program`` with HiGHS in-process, handed over as one row-wise matrix (no modelling
    layer), and map the answer to optimal / time_limit / node_limit / infeasible / error.
    ``values`` is set only for a point that passed ``check_point``; an optimal LP also brings its
    row duals and reduced costs (for the next stage's optimal face and for shadow prices).

    ``presolve`` is for a first, cold LP (measured: absorb stage at 600k lines, 2.1 s with presolve,
    6.0 s without); the later stages start with many columns fixed by the optimal face, where
    HiGHS's presolve costs more than it saves (60k lines, settle stage: 3.7 s with, 0.2 s without).
    With a ``session``, a stage with the last stage's matrix starts from its optimal basis.
    """
    import highspy

    began = time.perf_counter()
    _silence_highs_banner()
    warm = session is not None and session.same_matrix(program)
    if warm:
        assert session is not None
        h = session.highs
        inf = highspy.kHighsInf
        cols = np.arange(program.num_cols, dtype=np.int32)
        rows = np.arange(program.num_rows, dtype=np.int32)
        h.changeColsBounds(program.num_cols, cols, program.lower, program.upper)
        h.changeRowsBounds(
            program.num_rows,
            rows,
            np.where(program.row_sense == -1, -inf, program.row_rhs),
            np.where(program.row_sense == 1, inf, program.row_rhs),
        )
        h.changeColsCost(program.num_cols, cols, program.cost)
        h.setOptionValue("presolve", "off")
    else:
        h = highspy.Highs()  # type: ignore[no-untyped-call]
        h.setOptionValue("output_flag", False)
        h.setOptionValue("presolve", "on" if presolve else "off")
    h.setOptionValue("time_limit", max(float(time_limit), 0.01) if time_limit is not None else highspy.kHighsInf)
    mip = program.is_mip
    if not warm:
        model = highs_model(program)
        if mip:
            model.integrality_ = [
                highspy.HighsVarType.kInteger if is_int else highspy.HighsVarType.kContinuous
                for is_int in program.integer.tolist()
            ]
            h.setOptionValue("mip_rel_gap", _MIP_REL_GAP)
            h.setOptionValue("mip_abs_gap", _MIP_ABS_GAP)
            # a "used" switch at 1e-6 would let x <= bound * used carry money uncounted
            h.setOptionValue("mip_feasibility_tolerance", 1e-7)
            if node_limit is not None:
                h.setOptionValue("mip_max_nodes", int(node_limit))
        h.passModel(model)
    modelled = time.perf_counter() - began
    h.run()
    if session is not None:
        session.highs, session.program = h, program
    status = h.getModelStatus()
    S = highspy.HighsModelStatus  # noqa: N806
    has_point = int(h.getInfo().primal_solution_status) == 2
    solution = h.getSolution()
    x = np.asarray(solution.col_value, dtype=np.float64) if len(solution.col_value) == program.num_cols else None

    def outcome(state: Outcome, values: np.ndarray | None, detail: str = "") -> StageOutcome:
        objective = float(program.cost @ values) if values is not None else None
        duals = col_duals = None
        if values is not None and state == "optimal" and not mip and solution.dual_valid:
            duals = normalise_duals(np.asarray(solution.row_dual, dtype=np.float64), maximize=False, solver="highs")
            col_duals = np.asarray(solution.col_dual, dtype=np.float64)
        return StageOutcome(
            program.stage,
            state,
            values,
            objective,
            time.perf_counter() - began,
            detail,
            program.num_rows,
            program.num_cols,
            mip,
            modelled,
            duals,
            col_duals,
        )

    if status == S.kOptimal and x is not None:
        why = check_point(program, x)
        if why is not None:
            return outcome("error", None, f"highs reported optimal but {why}")
        return outcome("optimal", x)
    if status in (S.kInfeasible, S.kUnboundedOrInfeasible):
        return outcome("infeasible", None, "the solver proved the stage infeasible")
    limits = {S.kTimeLimit: "time_limit", S.kIterationLimit: "time_limit", S.kInterrupt: "time_limit"}
    if status in limits or status == S.kSolutionLimit:
        by_nodes = mip and node_limit is not None and status != S.kTimeLimit
        state: Outcome = "node_limit" if by_nodes else "time_limit"
        what = f"node limit ({node_limit} nodes)" if by_nodes else "time limit"
        if has_point and x is not None and check_point(program, x) is None:
            return outcome(state, x, f"{what} reached; best point found kept (not proven optimal)")
        return outcome(state, None, f"{what} reached before a feasible point was found")
    return outcome("error", None, f"highs ended with status {h.modelStatusToString(status)!r}")


def validate_time_limit(time_limit: float | None) -> float | None:
    if time_limit is None:
        return None
    value = float(time_limit)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    return value
