"""The reference path: each stage built as a PuLP model and solved by HiGHS (PuLP's in-process
interface, with a bulk hand-off) or by CBC (PuLP's bundled binary).

Solver answers are checked, not trusted: PuLP's ``status`` *and* ``sol_status`` are read (a time
limit comes back as status "Optimal" with sol_status 2), HiGHS's own primal-solution status is read,
and every returned point is re-checked against the program's bounds and rows before it is used.
PuLP's HiGHS interface reports duals of a maximisation with the opposite sign of CBC's:
``normalise_duals`` makes them agree.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pulp

from .backend import (
    _MIP_ABS_GAP,
    _MIP_REL_GAP,
    Outcome,
    SolverName,
    StageOutcome,
    _feasibility_tolerance,
    check_point,
    highs_model,
    normalise_duals,
    quiet_highs,
)
from .formulation import SOLVER_DIGITS, Program

__all__ = ["run"]


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
        # PuLP's own version starts from highspy.Highs(), which prints HiGHS's banner on stdout;
        # the same settings on a quiet solver object (see backend.quiet_highs)
        h = quiet_highs()
        lp.solverModel = h
        if self.msg:
            h.setOptionValue("output_flag", True)
        if self.gapRel is not None:
            h.setOptionValue("mip_rel_gap", self.gapRel)
        if self.gapAbs is not None:
            h.setOptionValue("mip_abs_gap", self.gapAbs)
        if self.threads is not None:
            h.setOptionValue("threads", self.threads)
        if self.timeLimit is not None:
            h.setOptionValue("time_limit", float(self.timeLimit))
        for key, value in self.optionsDict.items():
            h.setOptionValue(key, value)

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
        # as the direct path: rows summing values near 10^9 cannot balance to 10^-7 in a double
        h.setOptionValue("primal_feasibility_tolerance", _feasibility_tolerance(prog))
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kModelEmpty and prog.num_cols == 0:
            # no columns (every group fixed by earlier stages): the rows alone decide, at x = ()
            empty_ok = check_point(prog, np.zeros(0)) is None
            status = highspy.HighsModelStatus.kOptimal if empty_ok else highspy.HighsModelStatus.kInfeasible
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
