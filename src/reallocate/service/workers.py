"""Solver processes: solves are CPU-bound, so they never run on the service's event loop.

Each of N slots owns one worker process (started with "spawn": a clean interpreter, no inherited
threads) and one dispatcher thread that hands it queued jobs one at a time over a pipe. A worker
imports the library once, says it is ready, and solves job after job, so a province solve costs a
solve, not a start-up. Cancelling a running job kills its worker and starts a fresh one; a worker
that dies mid-solve makes its job ``failed`` with the reason, and the slot carries on with a new
process. A worker that dies before it is ready (a broken install, a memory cap too small to import
numpy) is restarted after a pause that doubles each time, up to a minute; meanwhile jobs wait in
the queue and ``/health`` says no solver is running.

Jobs wait in two lanes (:class:`JobQueue`): small jobs go first, and with two or more slots the
first slot takes small jobs only, so a national job never holds up every province solve.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing as mp
import pickle
import threading
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from .store import JobStore

log = logging.getLogger("reallocate.service")

__all__ = ["JobQueue", "WorkerPool"]

#: a worker that dies sooner than this after it started, before saying it is ready, failed to start
_READY_WITHIN = 60.0
#: pause before restarting a worker that failed to start: doubles each time, up to the maximum
_FIRST_PAUSE = 0.5
_MAX_PAUSE = 60.0


def _worker_main(conn: Connection, db: str, nice: int = 0, memory_mb: int = 0) -> None:  # pragma: no cover
    """One worker: receive (job id, scenario or None, options), send back stages and the outcome.

    A scenario not validated on arrival is read from the job store here, and a plan is written
    there from here: a national scenario or plan (tens of MB) never crosses the pipe, and the
    service's own process never spends its interpreter copying it."""
    import os

    # one solver thread per worker: the pool is the parallelism
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if nice:
        with contextlib.suppress(OSError):
            os.nice(nice)
    if memory_mb:
        import resource

        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    from ..errors import ScenarioError
    from ..scenario import Scenario
    from ..solving import solve

    store = JobStore(db)
    conn.send(("ready",))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        job_id, given, options = msg
        began = time.perf_counter()
        try:
            conn.send(("stage", job_id, "validating"))
            # a scenario the service validated on arrival comes as itself; others from the store
            scenario = given if isinstance(given, Scenario) else Scenario.from_json(store.scenario(job_id) or b"")
            top = options.get("max_lines")
            if top is not None and len(scenario.lines) > top:
                conn.send(("toolarge", job_id, f"at most {top} lines; got {len(scenario.lines)}"))
                continue
            conn.send(("stage", job_id, "solving"))
            plan = solve(scenario, solver=options.get("solver", "highs"), time_limit=options.get("time_limit"))
            conn.send(("stage", job_id, "writing"))
            text = plan.to_json(indent=None).encode("utf-8")
            blob = pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL)
            store.finish(job_id, text, blob, time.perf_counter() - began)
            conn.send(("done", job_id))
        except ScenarioError as exc:
            conn.send(("invalid", job_id, exc.to_dict()))
        except MemoryError:
            # the job needs more than the cap: it fails, and this process (maybe in a bad state) ends
            with contextlib.suppress(MemoryError, OSError):
                conn.send(("memory", job_id, f"the solve needed more than the worker's {memory_mb} MiB"))
            return
        except Exception as exc:  # a failed solve is the job's outcome, not the worker's end
            conn.send(("error", job_id, f"{type(exc).__name__}: {exc}"))


class _Slot:
    def __init__(self, pool: WorkerPool, k: int) -> None:
        self.pool = pool
        self.k = k
        #: with two or more slots, the first takes small jobs only
        self.takes_big = not (k == 0 and pool.n_slots > 1)
        self.current: str | None = None
        self.process: Any = None
        self.conn: Connection | None = None
        self.ready = False
        self.started_at = 0.0
        #: failed starts in a row, and when the next start may be tried
        self.failures = 0
        self.retry_at = 0.0
        self._start_process()
        self.thread = threading.Thread(target=self._run, name=f"reallocate-dispatch-{k}", daemon=True)

    def _start_process(self) -> None:
        parent, child = self.pool.ctx.Pipe()
        proc = self.pool.ctx.Process(
            target=_worker_main,
            args=(child, self.pool.store.path, self.pool.nice, self.pool.memory_mb),
            name=f"reallocate-worker-{self.k}",
            daemon=True,
        )
        proc.start()
        child.close()
        self.process, self.conn = proc, parent
        self.ready = False
        self.started_at = time.monotonic()

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

    def _ensure_ready(self) -> bool:
        """True when this slot's worker is up and ready for a job; otherwise starts (or waits to
        restart) it. A worker that dies before it is ready backs off; one that dies idle after
        being ready is restarted at once."""
        if self.ready and self.process.is_alive():
            return True
        now = time.monotonic()
        if self.ready:  # died while idle
            self.ready = False
            self.failures = 0
            self._restart()
            return False
        if self.process is not None and self.process.is_alive():
            with contextlib.suppress(OSError, EOFError):
                if self.conn is not None and self.conn.poll(0.1):
                    msg = self.conn.recv()
                    if msg == ("ready",):
                        self.ready, self.failures = True, 0
                        return True
            if now - self.started_at > _READY_WITHIN:
                self.process.kill()  # hung at start: counts as a failed start below
            return False
        # died before it was ready: a failed start
        if self.retry_at <= self.started_at:
            self.failures += 1
            self.retry_at = now + min(_MAX_PAUSE, _FIRST_PAUSE * 2 ** (self.failures - 1))
            code = self.process.exitcode if self.process is not None else None
            event = {"event": "worker_start_failed", "slot": self.k, "exit_code": code}
            log.warning(json.dumps({**event, "retry_in": round(self.retry_at - now, 2)}))
        if now >= self.retry_at:
            self._restart()
        else:
            time.sleep(min(0.2, self.retry_at - now))
        return False

    def _run(self) -> None:
        store = self.pool.store
        while not self.pool.stopping:
            if not self._ensure_ready():
                continue
            job_id = self.pool.queue.get(self.takes_big, timeout=0.5)
            if job_id is None:
                continue
            parsed = self.pool.parsed.pop(job_id, None)
            if not store.start(job_id):
                continue  # cancelled while queued
            job = store.get(job_id)
            if job is None:
                continue
            self.current = job_id
            try:
                self._solve(job_id, parsed, job.options)
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
                    store.forget_stage(job_id)  # the worker stored the plan
                elif kind == "invalid":
                    store.fail(job_id, {"reason": "invalid scenario", **msg[2]})
                elif kind == "toolarge":
                    store.fail(job_id, {"reason": "too many lines", "detail": msg[2]})
                elif kind == "memory":
                    store.fail(job_id, {"reason": "out of memory", "detail": msg[2]})
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


class JobQueue:
    """Queued job ids in two lanes, each first in, first out: small jobs are taken before big ones."""

    def __init__(self) -> None:
        self._small: deque[str] = deque()
        self._big: deque[str] = deque()
        self._cond = threading.Condition()
        self._stopped = False

    def put(self, job_id: str, big: bool) -> None:
        with self._cond:
            (self._big if big else self._small).append(job_id)
            self._cond.notify_all()

    def get(self, take_big: bool, timeout: float) -> str | None:
        """The next job for a slot (one that takes big jobs or not), or None after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._stopped:
                if self._small:
                    return self._small.popleft()
                if take_big and self._big:
                    return self._big.popleft()
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return None

    def waiting(self) -> dict[str, int]:
        with self._cond:
            return {"small": len(self._small), "big": len(self._big)}

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()


class WorkerPool:
    """N solver processes fed from the job store's queue."""

    def __init__(
        self,
        store: JobStore,
        workers: int,
        on_finish: Callable[[str], None] | None = None,
        *,
        big_lines: int = 50_000,
        nice: int = 0,
        memory_mb: int = 0,
    ) -> None:
        self.store = store
        self.ctx = mp.get_context("spawn")
        self.queue = JobQueue()
        self.big_lines = big_lines
        self.nice = nice
        self.memory_mb = memory_mb
        #: scenarios validated on arrival, handed to the worker as objects (no second parse)
        self.parsed: dict[str, Any] = {}
        self.stopping = False
        self.on_finish = on_finish
        self.n_slots = max(1, workers)
        self.slots = [_Slot(self, k) for k in range(self.n_slots)]

    def start(self) -> None:
        for job_id, lines in self.store.requeue_unfinished():
            self.queue.put(job_id, lines >= self.big_lines)
        for slot in self.slots:
            slot.thread.start()

    def submit(self, job_id: str, scenario: Any = None, lines: int = 0) -> None:
        """Queue a job; ``lines`` (counted, or estimated for a scenario not parsed yet) picks its lane."""
        if scenario is not None:
            self.parsed[job_id] = scenario
        self.queue.put(job_id, lines >= self.big_lines)

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

    def ready(self) -> int:
        """Solver processes up and ready (or busy with a job)."""
        return sum(1 for s in self.slots if s.ready and s.process is not None and s.process.is_alive())

    def pids(self) -> list[int]:
        return [int(s.process.pid) for s in self.slots if s.process is not None]

    def stop(self) -> None:
        self.stopping = True
        self.queue.stop()
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
