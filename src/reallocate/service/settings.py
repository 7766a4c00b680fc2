"""The service's settings: where it listens, how many solver processes, its limits and its keys."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LOOPBACK", "ServiceSettings", "key_owner"]

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def key_owner(key: str) -> str:
    """Who a key is, as stored with the jobs it creates: a hash, never the key itself."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


@dataclass
class ServiceSettings:
    """Everything ``reallocate serve`` can be told; every limit has a sane default."""

    host: str = "127.0.0.1"
    port: int = 8000
    #: solver processes (solves are CPU-bound: never on the event loop)
    workers: int = max(1, (os.cpu_count() or 2) - 1)
    #: the SQLite file that keeps jobs and plans across restarts
    db: Path = field(default_factory=lambda: Path("reallocate-jobs.sqlite3"))
    #: largest request body, in bytes (uploads included)
    max_body_bytes: int = 64 * 1024 * 1024
    #: most lines a scenario may have
    max_lines: int = 1_000_000
    #: largest time_limit a request may ask for, in seconds (and the limit when it asks none)
    max_time_limit: float = 600.0
    #: jobs waiting for a worker before new ones get 429
    max_queued: int = 200
    #: how long finished jobs and their plans are kept, in seconds
    retention: float = 7 * 24 * 3600.0
    #: JSON bodies up to this size are validated as they arrive (a 422 at once); larger ones by the
    #: solver process (their job fails with the same problems)
    inline_validation_bytes: int = 1_000_000
    #: longest ?wait= a request may hold its connection, in seconds
    max_wait: float = 60.0
    #: jobs of at least this many lines are "big": small jobs go first, and with two or more solver
    #: processes one of them takes small jobs only, so a national job never holds up a province
    big_lines: int = 50_000
    #: niceness of the solver processes: the service's own process (requests, /health) comes first
    worker_nice: int = 5
    #: address-space cap of each solver process in MiB (0: none); a solve that needs more fails
    #: its job ("out of memory") instead of pushing the machine into swap
    worker_memory_mb: int = 0
    #: API keys; when any is set, every request needs one (``Authorization: Bearer KEY``)
    api_keys: tuple[str, ...] = ()

    @classmethod
    def from_environment(cls, **given: object) -> ServiceSettings:
        """Settings from ``given`` (command-line options), keys from ``REALLOCATE_API_KEYS``
        (comma-separated) or the file named by ``REALLOCATE_API_KEYS_FILE`` (one per line)."""
        keys: list[str] = []
        text = os.environ.get("REALLOCATE_API_KEYS", "")
        keys += [k.strip() for k in text.split(",") if k.strip()]
        path = given.pop("api_keys_file", None) or os.environ.get("REALLOCATE_API_KEYS_FILE")
        if path:
            keys += [k.strip() for k in Path(str(path)).read_text(encoding="utf-8").splitlines() if k.strip()]
        values = {k: v for k, v in given.items() if v is not None}
        if "db" in values:
            values["db"] = Path(str(values["db"]))
        return cls(api_keys=tuple(dict.fromkeys(keys)), **values)  # type: ignore[arg-type]

    @property
    def open_to_all(self) -> bool:
        return not self.api_keys

    def owners(self) -> dict[str, str]:
        """Key -> owner id."""
        return {k: key_owner(k) for k in self.api_keys}
