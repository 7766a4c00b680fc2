"""What a sweep's worker does with one chunk of variants: each solved exactly as ``solve`` would.

A worker process keeps the baseline it was sent (by digest), so a chunk carries only its
variants. The baseline reaches a worker in one of three ways: the local pool's initializer, a Dask
future scattered to every worker (resolved by Dask to the object in the worker's memory), or — for
any other executor — in a second submission after the worker answered :data:`MISSING` to a first
one that carried only the digest. Each worker solves with one solver thread.
"""

from __future__ import annotations

import os
import pickle
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ScenarioError
from .variants import SUMMARY_FIELDS

if TYPE_CHECKING:
    from ..plan import Plan
    from ..scenario import Scenario
    from .variants import Variant

__all__ = ["MISSING", "SUMMARY_FIELDS", "ChunkResult", "keep_baseline", "load_baseline", "run_chunk", "solve_variant"]


#: a worker's answer to a chunk when it does not hold the baseline yet (send it along)
MISSING = "reallocate.sweep: baseline missing"

#: baselines held by this process, by digest
_BASELINES: dict[str, Scenario] = {}
_SINGLE_THREAD = False
#: the process that runs the sweep (set there; never in a worker process)
_DRIVER_PID = -1


@dataclass(frozen=True)
class ChunkResult:
    """A solved chunk: one row per variant; the found plans' lines and transfers (Arrow IPC
    bytes) when plans are kept; the process that solved it."""

    chunk: int
    rows: list[dict[str, Any]]
    plan_lines: bytes | None
    plan_transfers: bytes | None
    pid: int
    seconds: float


def _one_solver_thread() -> None:
    """HiGHS's task scheduler is made once per process: start it with one thread, so that the
    workers of a sweep do not compete for the cores (each is one process of the sweep). Not in the
    process that runs the sweep (a thread pool's chunks run there): the caller's own solves keep
    their threads."""
    global _SINGLE_THREAD
    if _SINGLE_THREAD or os.getpid() == _DRIVER_PID:
        return
    from ..backend import quiet_highs

    h = quiet_highs()
    h.setOptionValue("threads", 1)
    h.addVar(0.0, 1.0)
    h.run()
    _SINGLE_THREAD = True


def keep_baseline(key: str, baseline: Scenario) -> None:
    """In the process that runs the sweep: hold the baseline itself (not a copy) for chunks that an
    executor runs in this process (a thread pool)."""
    global _DRIVER_PID
    _DRIVER_PID = os.getpid()
    _BASELINES.clear()
    _BASELINES[key] = baseline


def load_baseline(key: str, payload: bytes) -> None:
    """Keep the baseline (pickled ``payload``) in this process under ``key`` (the local pool's
    initializer, and the second submission of a chunk to a worker that lacked it)."""
    if key not in _BASELINES:
        _BASELINES.clear()  # one sweep at a time per process: the earlier baseline is dropped
        _BASELINES[key] = pickle.loads(payload)
    _one_solver_thread()


def _with_capacity(baseline: Scenario, capacity: np.ndarray) -> Scenario:
    """The baseline with every line's capacity replaced (whole units, the baseline's line order),
    validated again as a scenario (rebuilt from arrays: no per-line what-if)."""
    data: dict[str, Any] = {
        "name": baseline.name,
        "unit": baseline.unit,
        "precision": baseline.precision,
        "lines": baseline.lines.replace(capacity=np.asarray(capacity, dtype=np.int64)),
        "rules": baseline.rules.model_dump(),
    }
    if baseline.localities is not None:
        data["localities"] = [loc.model_dump() for loc in baseline.localities]
    if baseline.transfer_costs is not None:
        data["transfer_costs"] = [tc.model_dump(by_alias=True) for tc in baseline.transfer_costs]
    return type(baseline).from_dict(data)


def variant_scenario(baseline: Scenario, variant: Variant) -> Scenario:
    """The scenario a variant stands for (raises :class:`ScenarioError` when it is invalid)."""
    from ..whatif import apply_changes

    if variant.capacity is not None:
        out = _with_capacity(baseline, variant.capacity)
        return apply_changes(out, variant.changes) if variant.changes else out
    if not variant.changes:
        return baseline
    return apply_changes(baseline, variant.changes, name=f"{baseline.name} [{variant.name}]")


def solve_variant(
    baseline: Scenario, variant: Variant, index: int, solver: str, time_limit: float | None
) -> tuple[dict[str, Any], Plan | None]:
    """One row of results (and the plan): the variant's axes, status, message, summary, timings.
    A variant that cannot be built or solved is a row with its status and message."""
    from ..solving import solve

    row: dict[str, Any] = {"variant": index, "name": variant.name, **variant.axes}
    t0 = time.perf_counter()
    plan: Plan | None = None
    try:
        scenario = variant_scenario(baseline, variant)
    except ScenarioError as exc:
        row.update(status="invalid", message="; ".join([exc.title, *exc.messages]))
    except Exception as exc:  # a variant that cannot even be built is a row, not the end of the sweep
        row.update(status="failed", message=f"{type(exc).__name__}: {exc}")
    else:
        t1 = time.perf_counter()
        row["apply_seconds"] = t1 - t0
        try:
            plan = solve(scenario, solver=solver, time_limit=time_limit)  # type: ignore[arg-type]
        except Exception as exc:  # a variant that breaks the solver is a row, not the end of the sweep
            row.update(status="failed", message=f"{type(exc).__name__}: {exc}")
        else:
            row.update(status=plan.status, message=plan.message)
            if plan.summary is not None:
                row.update(plan.summary.as_dict())
        row["solve_seconds"] = time.perf_counter() - t1
    row["seconds"] = time.perf_counter() - t0
    return row, plan


def _plan_tables(plans: list[tuple[int, Plan]]) -> tuple[bytes | None, bytes | None]:
    """The found plans' lines and transfers, as the Parquet writer of plans lays them out, each
    row with its ``variant``: two Arrow IPC streams."""
    if not plans:
        return None, None
    import pyarrow as pa

    from ..io.parquet import _tables

    lines: list[Any] = []
    transfers: list[Any] = []
    for index, plan in plans:
        for out, table in zip((lines, transfers), _tables(plan)[:2], strict=True):
            cols = {"variant": pa.array(np.full(table.num_rows, index, dtype=np.int64))}
            for name in table.column_names:
                col = table[name]
                cols[name] = col.cast(pa.string()) if pa.types.is_dictionary(col.type) else col
            out.append(pa.table(cols))

    def ipc(tables: list[Any]) -> bytes:
        table = pa.concat_tables(tables, promote_options="permissive")
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return bytes(sink.getvalue().to_pybytes())

    return ipc(lines), ipc(transfers)


def run_chunk(
    baseline: Scenario | bytes | None,
    key: str,
    chunk: int,
    start: int,
    variants: list[Variant],
    solver: str,
    time_limit: float | None,
    keep_plans: bool,
) -> ChunkResult | str:
    """Solve ``variants`` (indices ``start``, ``start + 1``, ...) against the baseline ``key``.

    ``baseline`` is the scenario itself (a Dask future resolved on the worker), its pickled bytes,
    or None when the worker should already hold it; a worker that does not answers
    :data:`MISSING`."""
    t0 = time.perf_counter()
    if baseline is None:
        if key not in _BASELINES:
            return MISSING
        scenario = _BASELINES[key]
        _one_solver_thread()
    elif isinstance(baseline, bytes):
        load_baseline(key, baseline)
        scenario = _BASELINES[key]
    else:
        scenario = baseline
        _one_solver_thread()
    rows: list[dict[str, Any]] = []
    plans: list[tuple[int, Plan]] = []
    for k, variant in enumerate(variants):
        row, plan = solve_variant(scenario, variant, start + k, solver, time_limit)
        row["chunk"] = chunk
        rows.append(row)
        if keep_plans and plan is not None and plan.found:
            plans.append((start + k, plan))
    plan_lines, plan_transfers = _plan_tables(plans) if keep_plans else (None, None)
    return ChunkResult(chunk, rows, plan_lines, plan_transfers, os.getpid(), time.perf_counter() - t0)
