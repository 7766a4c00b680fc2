"""Solving one ``reallocate.formulation.Program`` with HiGHS, in-process, from its arrays.

Solver answers are checked, not trusted: HiGHS's model status and primal-solution status are read
(a time limit is never "optimal"), and every returned point is re-checked against the program's
bounds and rows before it is used. The reference path through PuLP (HiGHS or CBC) is
:mod:`reallocate.pulp_backend`; both report the same ``StageOutcome``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .formulation import Program

__all__ = [
    "HighsSession",
    "SolverName",
    "StageOutcome",
    "check_point",
    "highs_model",
    "irreducible_conflict",
    "run_highs",
]

SolverName = Literal["highs", "cbc"]
Outcome = Literal["optimal", "time_limit", "node_limit", "infeasible", "error"]

# Relative MIP gap 0 is what "optimal" means here; the absolute gap is far below one unit.
_MIP_REL_GAP = 1e-9
_MIP_ABS_GAP = 1e-7
# Slack allowed when re-checking a solver's point: absolute (LP units) plus relative to the row's
# terms, since MIP solvers accept integrality slack (y = 1 - 1e-7 lets x <= U y miss by U * 1e-7).
_CHECK_TOL = 1e-5
_CHECK_REL = 1e-6


def quiet_highs() -> Any:
    """A HiGHS solver object that never writes to standard output.

    HiGHS writes its copyright banner on stdout the first time a logging method runs while
    ``output_flag`` is on; ``highspy.Highs()`` runs one in its constructor (``enableCallbacks``),
    before any option can be set. The core object is created without it, and ``output_flag`` is
    switched off before any other call, so the process's stdout is never touched (other threads'
    output stays whole). The core object runs a solve as ``highspy.Highs`` does; it only lacks the
    Python callbacks, which reallocate does not use."""
    from highspy._core import _Highs

    h = _Highs()
    h.setOptionValue("output_flag", False)
    return h


# HiGHS model status -> (PuLP status, PuLP sol_status), as PuLP's own HiGHS adapter maps them:
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

    h = quiet_highs()
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


def _feasibility_tolerance(program: Program) -> float:
    finite = np.concatenate([program.upper[np.isfinite(program.upper)], np.abs(program.row_rhs)])
    big = float(np.max(np.abs(finite), initial=0.0))
    return float(min(1e-5, max(1e-7, big * 1e-14)))


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
        h.changeColsCost(program.num_cols, cols, -program.cost if program.maximize else program.cost)
        h.setOptionValue("presolve", "off")
    else:
        h = quiet_highs()
        h.setOptionValue("presolve", "on" if presolve else "off")
    h.setOptionValue("time_limit", max(float(time_limit), 0.01) if time_limit is not None else highspy.kHighsInf)
    # a double holds ~16 digits: rows summing values near 10^9 cannot balance to 10^-7; let the
    # feasibility tolerance follow the magnitudes (exact whole units are chosen afterwards anyway)
    h.setOptionValue("primal_feasibility_tolerance", _feasibility_tolerance(program))
    mip = program.is_mip
    if not warm:
        # HiGHS minimises: a maximisation is handed over as "minimise -objective"
        model = highs_model(program, -program.cost if program.maximize else None)
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
            # duals of "minimise -objective" are the maximisation's, negated (PuLP's pitfall, here
            # handled once): always d(objective)/d(rhs) in the program's own sense
            duals = normalise_duals(
                np.asarray(solution.row_dual, dtype=np.float64), maximize=program.maximize, solver="highs"
            )
            col_duals = np.asarray(solution.col_dual, dtype=np.float64) * (-1.0 if program.maximize else 1.0)
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

    info = h.getInfo()
    if status == S.kUnknown and not mip and x is not None and has_point and int(info.dual_solution_status) == 2:
        # HiGHS found a primal and dual feasible basis but judges the objective gap relative to
        # an objective of nearly nothing (e.g. costs of a few units): the point is checked below
        status = S.kOptimal
    if status == S.kModelEmpty and program.num_cols == 0:
        x = np.zeros(0)
        status = S.kOptimal
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
