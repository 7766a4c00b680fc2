"""Jobs and their plans in SQLite: a restart loses no finished plan and re-queues unfinished jobs.

One connection per thread, in WAL mode: readers never wait for a writer (a 50 MB plan being
stored does not hold up a status read), and writers take turns inside SQLite. Plans are kept
twice: the JSON a client gets, and the pickled ``Plan`` the renderings (Excel, HTML, CSV, text)
are made from.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FINISHED", "Job", "JobStore"]

#: bytes per write when a large blob is stored a piece at a time
_PIECE = 1 << 20

#: statuses a job ends in
FINISHED = ("done", "failed", "cancelled")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    stage TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    lines INTEGER NOT NULL DEFAULT 0,
    options TEXT NOT NULL,
    scenario BLOB NOT NULL,
    plan_json BLOB,
    plan_pickle BLOB,
    error TEXT,
    solve_seconds REAL
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created);
"""


@dataclass
class Job:
    """One solve asked of the service (what ``GET /v1/jobs/{id}`` shows)."""

    id: str
    owner: str
    status: str
    stage: str
    created: float
    started: float | None
    finished: float | None
    lines: int
    options: dict[str, Any]
    error: dict[str, Any] | None
    solve_seconds: float | None

    def public(self) -> dict[str, Any]:
        now = time.time()
        seconds = None
        if self.started is not None:
            seconds = round((self.finished or now) - self.started, 3)
        out: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "progress": {"stage": self.stage or self.status, "seconds": seconds},
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "lines": self.lines,
        }
        if self.error is not None:
            out["error"] = self.error
        if self.status == "done":
            out["plan"] = f"/v1/jobs/{self.id}/plan"
        return out


class JobStore:
    """The jobs table. Every method is safe to call from any thread."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        #: multi-statement changes (cancel, re-queue) are made one at a time
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._stages: dict[str, str] = {}

    @property
    def _db(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=60)
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._db.execute(sql, args).fetchall()

    # ------------------------------------------------------------------------------ writes
    def create(self, owner: str, scenario: bytes, lines: int, options: dict[str, Any]) -> Job:
        job_id = uuid.uuid4().hex
        now = time.time()
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            cur = db.execute(
                "INSERT INTO jobs (id, owner, status, created, lines, options, scenario) "
                "VALUES (?, ?, 'queued', ?, ?, ?, zeroblob(?))",
                (job_id, owner, now, lines, json.dumps(options), len(scenario)),
            )
            _write_blob(db, "scenario", int(cur.lastrowid or 0), scenario)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        job = self.get(job_id)
        assert job is not None
        return job

    def start(self, job_id: str) -> bool:
        """queued -> running; False when the job is no longer queued (cancelled meanwhile)."""
        cur = self._db.execute(
            "UPDATE jobs SET status = 'running', stage = 'starting', started = ? WHERE id = ? AND status = 'queued'",
            (time.time(), job_id),
        )
        return cur.rowcount == 1

    def stage(self, job_id: str, stage: str) -> None:
        """A running job's stage: kept in memory (a restart re-queues running jobs anyway), so
        progress costs no write."""
        self._stages[job_id] = stage

    def finish(self, job_id: str, plan_json: bytes, plan_pickle: bytes, solve_seconds: float) -> None:
        """Store a running job's plan (called by the solver process itself: a national plan never
        passes through the service's own process) and mark it done."""
        self._stages.pop(job_id, None)
        self._run(
            "UPDATE jobs SET status = 'done', stage = 'done', finished = ?, plan_json = ?, plan_pickle = ?, "
            "solve_seconds = ? WHERE id = ? AND status = 'running'",
            (time.time(), plan_json, plan_pickle, solve_seconds, job_id),
        )

    def forget_stage(self, job_id: str) -> None:
        """A job another process finished: its progress no longer needs keeping."""
        self._stages.pop(job_id, None)

    def fail(self, job_id: str, error: dict[str, Any]) -> None:
        self._stages.pop(job_id, None)
        self._run(
            "UPDATE jobs SET status = 'failed', stage = 'failed', finished = ?, error = ? "
            "WHERE id = ? AND status IN ('queued', 'running')",
            (time.time(), json.dumps(error), job_id),
        )

    def cancel(self, job_id: str) -> str | None:
        """Cancel a queued or running job; its status before, or None when it had finished."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
                if row is None or row[0] in FINISHED:
                    return None
                db.execute(
                    "UPDATE jobs SET status = 'cancelled', stage = 'cancelled', finished = ? WHERE id = ?",
                    (time.time(), job_id),
                )
                return str(row[0])
            finally:
                db.execute("COMMIT")

    def requeue_unfinished(self) -> list[tuple[str, int]]:
        """At start-up: jobs a stopped service left queued or running go back to the queue (their
        ids and lines, oldest first)."""
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET status = 'queued', stage = '', started = NULL WHERE status IN ('queued', 'running')"
            )
            rows = self._db.execute("SELECT id, lines FROM jobs WHERE status = 'queued' ORDER BY created").fetchall()
        return [(str(r[0]), int(r[1])) for r in rows]

    def purge(self, older_than: float) -> int:
        """Forget finished jobs (and their plans) that finished before ``older_than``."""
        cur = self._db.execute(
            "DELETE FROM jobs WHERE status IN ('done', 'failed', 'cancelled') AND finished < ?", (older_than,)
        )
        return cur.rowcount

    # ------------------------------------------------------------------------------ reads
    def get(self, job_id: str) -> Job | None:
        rows = self._run(
            "SELECT id, owner, status, stage, created, started, finished, lines, options, error, solve_seconds "
            "FROM jobs WHERE id = ?",
            (job_id,),
        )
        if not rows:
            return None
        r = rows[0]
        stage = self._stages.get(r[0], r[3]) if r[2] == "running" else r[3]
        return Job(
            r[0], r[1], r[2], stage, r[4], r[5], r[6], r[7], json.loads(r[8]), json.loads(r[9]) if r[9] else None, r[10]
        )

    def scenario(self, job_id: str) -> bytes | None:
        rows = self._run("SELECT scenario FROM jobs WHERE id = ?", (job_id,))
        return bytes(rows[0][0]) if rows else None

    def plan_json_size(self, job_id: str) -> tuple[int, int] | None:
        """(row id, bytes) of a finished job's plan JSON, for reading it in pieces."""
        rows = self._run("SELECT rowid, length(plan_json) FROM jobs WHERE id = ? AND plan_json IS NOT NULL", (job_id,))
        return (int(rows[0][0]), int(rows[0][1])) if rows else None

    def plan_json_piece(self, rowid: int, offset: int, size: int) -> bytes:
        """``size`` bytes of a plan's JSON from ``offset``: SQLite's incremental blob I/O, so a 50 MB
        plan is read a piece at a time and never holds the interpreter for long."""
        with self._db.blobopen("jobs", "plan_json", rowid, readonly=True) as blob:
            blob.seek(offset)
            return blob.read(size)

    def plan_pickle(self, job_id: str) -> bytes | None:
        rows = self._run("SELECT plan_pickle FROM jobs WHERE id = ?", (job_id,))
        return bytes(rows[0][0]) if rows and rows[0][0] is not None else None

    def count(self, status: str) -> int:
        return int(self._run("SELECT COUNT(*) FROM jobs WHERE status = ?", (status,))[0][0])


def _write_blob(db: sqlite3.Connection, column: str, rowid: int, data: bytes) -> None:
    """Fill a row's zeroblob a piece at a time: each piece is written with the interpreter free
    (one bind of 20 MB would hold it for as long as the copy takes)."""
    if not data:
        return
    view = memoryview(data)
    with db.blobopen("jobs", column, rowid) as blob:
        for start in range(0, len(data), _PIECE):
            blob.write(view[start : start + _PIECE])
