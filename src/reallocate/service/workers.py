"""Solver processes: solves are CPU-bound, so they never run on the service's event loop.

Each of N slots owns one worker process (started with "spawn": a clean interpreter, no inherited
threads) and one dispatcher thread that hands it queued jobs one at a time over a pipe. A worker
imports the library once and solves job after job, so a province solve costs a solve, not a
start-up. Cancelling a running job kills its worker and starts a fresh one; a worker that dies
mid-solve makes its job ``failed`` with the reason, and the slot carries on with a new process.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import pickle
import queue
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from .store import JobStore

__all__ = ["WorkerPool"]


def _worker_main(conn: Connection) -> None:  # pragma: no cover - runs in the worker process
    """One worker: receive (job id, scenario JSON, options), send back stages and the outcome."""
    import os

    # one solver thread per worker: the pool is the parallelism
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from ..errors import ScenarioError
    from ..scenario import Scenario
    from ..solving import solve

    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        job_id, scenario_bytes, options = msg
        began = time.perf_counter()
        try:
            conn.send(("stage", job_id, "validating"))
            # a scenario the service validated on arrival comes as itself; others as their JSON
            scenario = scenario_bytes if isinstance(scenario_bytes, Scenario) else Scenario.from_json(scenario_bytes)
            top = options.get("max_lines")
            if top is not None and len(scenario.lines) > top:
                conn.send(("toolarge", job_id, f"at most {top} lines; got {len(scenario.lines)}"))
                continue
            conn.send(("stage", job_id, "solving"))
            plan = solve(scenario, solver=options.get("solver", "highs"), time_limit=options.get("time_limit"))
            conn.send(("stage", job_id, "writing"))
            text = plan.to_json(indent=None).encode("utf-8")
            blob = pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL)
            conn.send(("done", job_id, text, blob, time.perf_counter() - began))
        except ScenarioError as exc:
            conn.send(("invalid", job_id, exc.to_dict()))
        except Exception as exc:  # a failed solve is the job's outcome, not the worker's end
            conn.send(("error", job_id, f"{type(exc).__name__}: {exc}"))


class _Slot:
    def __init__(self, pool: WorkerPool, k: int) -> None:
        self.pool = pool
        self.k = k
        self.current: str | None = None
        self.process: Any = None
        self.conn: Connection | None = None
        self._start_process()
        self.thread = threading.Thread(target=self._run, name=f"reallocate-dispatch-{k}", daemon=True)

    def _start_process(self) -> None:
        parent, child = self.pool.ctx.Pipe()
        proc = self.pool.ctx.Process(
            target=_worker_main, args=(child,), name=f"reallocate-worker-{self.k}", daemon=True
        )
        proc.start()
        child.close()
        self.process, self.conn = proc, parent

    def _restart(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.process is not None and self.process.is_alive():
            self.process.kill()
        if self.process is not None:
            self.process.join(timeout=5)
        self._start_process()

    def kill(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.kill()

    def _run(self) -> None:
        store = self.pool.store
        while not self.pool.stopping:
            try:
                job_id = self.pool.queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if job_id is None:
                return
            parsed = self.pool.parsed.pop(job_id, None)
            if not store.start(job_id):
                continue  # cancelled while queued
            scenario: Any = parsed if parsed is not None else store.scenario(job_id)
            job = store.get(job_id)
            if scenario is None or job is None:
                continue
            self.current = job_id
            try:
                self._solve(job_id, scenario, job.options)
            finally:
                self.current = None
                self.pool.finished(job_id)

    def _solve(self, job_id: str, scenario: Any, options: dict[str, Any]) -> None:
        store = self.pool.store
        assert self.conn is not None
        try:
            self.conn.send((job_id, scenario, options))
        except (OSError, EOFError):
            self._lost(job_id)
            return
        while True:
            try:
                ready = self.conn.poll(0.05)
            except (OSError, EOFError):
                ready = False
            if ready:
                try:
                    msg = self.conn.recv()
                except (OSError, EOFError):
                    self._lost(job_id)
                    return
                kind = msg[0]
                if kind == "stage":
                    store.stage(job_id, msg[2])
                    continue
                if kind == "done":
                    store.finish(job_id, msg[2], msg[3], msg[4])
                elif kind == "invalid":
                    store.fail(job_id, {"reason": "invalid scenario", **msg[2]})
                elif kind == "toolarge":
                    store.fail(job_id, {"reason": "too many lines", "detail": msg[2]})
                else:
                    store.fail(job_id, {"reason": "solver failure", "detail": msg[2]})
                return
            if not self.process.is_alive():
                self._lost(job_id)
                return

    def _lost(self, job_id: str) -> None:
        """The worker died under this job: killed to cancel it, or crashed (then the job failed)."""
        code = self.process.exitcode if self.process is not None else None
        job = self.pool.store.get(job_id)
        if job is not None and job.status != "cancelled":
            self.pool.store.fail(
                job_id, {"reason": "worker process died", "detail": f"the solver process ended (exit code {code})"}
            )
        self._restart()


class WorkerPool:
    """N solver processes fed from the job store's queue."""

    def __init__(self, store: JobStore, workers: int, on_finish: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.ctx = mp.get_context("spawn")
        self.queue: queue.Queue[str | None] = queue.Queue()
        #: scenarios validated on arrival, handed to the worker as objects (no second parse)
        self.parsed: dict[str, Any] = {}
        self.stopping = False
        self.on_finish = on_finish
        self.slots = [_Slot(self, k) for k in range(max(1, workers))]

    def start(self) -> None:
        for job_id in self.store.requeue_unfinished():
            self.queue.put(job_id)
        for slot in self.slots:
            slot.thread.start()

    def submit(self, job_id: str, scenario: Any = None) -> None:
        if scenario is not None:
            self.parsed[job_id] = scenario
        self.queue.put(job_id)

    def cancel(self, job_id: str) -> str | None:
        """Cancel a job: a queued one is skipped, a running one's worker is killed and replaced."""
        before = self.store.cancel(job_id)
        self.parsed.pop(job_id, None)
        if before == "running":
            for slot in self.slots:
                if slot.current == job_id:
                    slot.kill()
        if before == "queued":
            self.finished(job_id)
        return before

    def finished(self, job_id: str) -> None:
        if self.on_finish is not None:
            self.on_finish(job_id)

    def running(self) -> int:
        return sum(1 for s in self.slots if s.current is not None)

    def pids(self) -> list[int]:
        return [int(s.process.pid) for s in self.slots if s.process is not None]

    def stop(self) -> None:
        self.stopping = True
        for _ in self.slots:
            self.queue.put(None)
        for slot in self.slots:
            if slot.conn is not None:
                with contextlib.suppress(OSError, EOFError):
                    slot.conn.send(None)
        for slot in self.slots:
            if slot.thread.is_alive():
                slot.thread.join(timeout=2)
            if slot.process is not None:
                slot.process.join(timeout=2)
                if slot.process.is_alive():
                    slot.process.kill()
