"""``sweep``: many variants of one baseline, solved in chunks on any ``concurrent.futures.Executor``.

The default executor is a local pool of processes (one per core); a Dask cluster's
``Client(address).get_executor()`` runs the same sweep on many machines. Variants are shipped in
chunks (hundreds per task) and the baseline once per worker. A sweep written to ``out`` keeps
each finished chunk in a folder beside it (``results.parquet`` -> ``results.sweep/``), so an
interrupted sweep is resumed (``resume=True``) without redoing them.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import math
import multiprocessing
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic import atomic_file
from ..errors import ReallocateError, ScenarioError
from .result import SweepResult, axis_kinds, rows_frame
from .variants import Variant, as_variants, baseline_bytes, variants_digest
from .worker import MISSING, ChunkResult, keep_baseline, load_baseline, run_chunk

if TYPE_CHECKING:
    import pandas as pd

    from ..scenario import Scenario

__all__ = ["SweepOutputError", "default_chunk_size", "output_folder", "sweep"]

#: most variants per chunk by default (a chunk is one task of the executor)
MAX_CHUNK = 500
_VERSION = 1
_CHUNK_FILE = re.compile(r"chunk-\d{6}\.parquet")
#: what a run killed while writing a chunk leaves (reallocate.atomic's temporary name): the sweep's
_PART = re.compile(r"\.chunk-\d{6}\.parquet\.[0-9a-f]+\.part")


class SweepOutputError(ReallocateError, ValueError):
    """The output of a sweep cannot be written as asked (it exists, or holds another sweep)."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def output_folder(out: str | Path) -> Path:
    """Where a sweep written to ``out`` (``results.parquet``) keeps its chunks and plans:
    ``results.sweep/`` beside it."""
    out = Path(out)
    return out.with_name(out.stem + ".sweep")


def default_chunk_size(n: int, workers: int) -> int:
    """About four chunks per worker (so that a slow chunk does not hold the end), at most
    :data:`MAX_CHUNK` variants per chunk."""
    return max(1, min(MAX_CHUNK, math.ceil(n / max(1, 4 * workers))))


@dataclass(frozen=True)
class _Chunk:
    index: int
    start: int
    variants: list[Variant]


def _dask_client(executor: cf.Executor) -> Any:
    """The Dask client behind a ``Client.get_executor()`` executor, else None."""
    client = getattr(executor, "_client", None)
    return client if client is not None and hasattr(client, "scatter") else None


def _workers_of(executor: cf.Executor | None, workers: int | None) -> int:
    if executor is None:
        return workers or os.cpu_count() or 1
    client = _dask_client(executor)
    if client is not None:
        info = client.scheduler_info()
        return max(1, sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()))
    return max(1, int(getattr(executor, "_max_workers", 0) or os.cpu_count() or 1))


def _local_pool(workers: int, key: str, payload: bytes) -> cf.ProcessPoolExecutor:
    # forkserver: no fork of a process that may run threads (a Dask client, a progress bar);
    # the server imports the solver once, so each worker starts in a fraction of a second
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["reallocate.sweep.worker", "reallocate.solving", "reallocate.whatif"])
    return cf.ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=load_baseline, initargs=(key, payload)
    )


# ------------------------------------------------------------------------------------ output
def _manifest_of(folder: Path) -> dict[str, Any]:
    """The manifest of an unfinished sweep's folder ({} when there is none or it is unreadable)."""
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class _Output:
    """The folder of an unfinished sweep: ``manifest.json``, ``rows/chunk-NNNNNN.parquet`` and, when
    plans are kept, ``plans/lines/`` and ``plans/transfers/`` (one Parquet file per chunk)."""

    def __init__(self, out: Path, digest: str, chunks: int, size: int, *, resume: bool, force: bool) -> None:
        self.out = out
        self.folder = output_folder(out)
        self.digest = digest
        if out.suffix.lower() != ".parquet" or out.is_dir():
            raise SweepOutputError(f"--out must name a .parquet file; got {out}", out)
        if out.exists():
            if not force:
                raise SweepOutputError(f"{out} already exists: add --force to replace it", out)
            # starting over: the old results go now, so that an interrupted run leaves no stale
            # results beside its chunks, and --resume can finish it
            out.unlink()
        if self.folder.exists():
            if not self.folder.is_dir():
                raise SweepOutputError(f"{self.folder} already exists: add --force to replace it", self.folder)
            manifest = self._manifest()
            if force:
                self._clear()
            elif not resume:
                raise SweepOutputError(
                    f"{self.folder} holds an unfinished sweep: add --resume to finish it, or --force to start over",
                    self.folder,
                )
            elif manifest is None or manifest.get("digest") != digest:
                raise SweepOutputError(
                    f"{self.folder} holds a different sweep (another baseline, variants or settings): "
                    "use another --out, or --force to start over",
                    self.folder,
                )
        for sub in ("rows", "plans/lines", "plans/transfers"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        if not (self.folder / "manifest.json").exists():
            manifest = {"version": _VERSION, "digest": digest, "chunks": chunks, "chunk_size": size}
            text = json.dumps(manifest, indent=2) + "\n"
            with atomic_file(self.folder / "manifest.json") as tmp:
                tmp.write_text(text, encoding="utf-8")

    def _manifest(self) -> dict[str, Any] | None:
        return _manifest_of(self.folder) or None

    def _ours(self) -> Iterator[Path]:
        yield self.folder / "manifest.json"
        for sub in ("rows", "plans/lines", "plans/transfers"):
            folder = self.folder / sub
            if folder.is_dir():
                yield from folder.iterdir()

    def _clear(self) -> None:
        known = {self.folder / n for n in ("manifest.json", "rows", "plans")}
        known |= {self.folder / "plans" / n for n in ("lines", "transfers")}
        for path in self.folder.rglob("*"):
            if path in known or (path.is_file() and (_CHUNK_FILE.fullmatch(path.name) or _PART.fullmatch(path.name))):
                continue
            raise SweepOutputError(
                f"{self.folder} holds files that are not a sweep's, so it is not replaced", self.folder
            )
        shutil.rmtree(self.folder)

    def chunk_path(self, chunk: int, kind: str = "rows") -> Path:
        return self.folder / kind / f"chunk-{chunk:06d}.parquet"

    def done(self) -> set[int]:
        return {int(p.stem[6:]) for p in (self.folder / "rows").glob("chunk-*.parquet")}

    def write_chunk(self, result: ChunkResult, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        # plans first: a chunk whose rows file exists is complete
        for kind, data in (("plans/lines", result.plan_lines), ("plans/transfers", result.plan_transfers)):
            if data is not None:
                table = pa.ipc.open_stream(data).read_all()
                with atomic_file(self.chunk_path(result.chunk, kind)) as tmp:
                    pq.write_table(table, tmp)
        with atomic_file(self.chunk_path(result.chunk)) as tmp:
            frame.to_parquet(tmp, index=False)

    def read_chunk(self, chunk: int) -> pd.DataFrame:
        import pandas as pd

        return pd.read_parquet(self.chunk_path(chunk))

    def finish(self, frame: pd.DataFrame) -> None:
        with atomic_file(self.out) as tmp:
            frame.to_parquet(tmp, index=False)


# ------------------------------------------------------------------------------------- sweep
def sweep(
    baseline: Scenario,
    variants: Any,
    *,
    executor: cf.Executor | None = None,
    chunk_size: int | None = None,
    keep_plans: bool = False,
    progress: bool = True,
    out: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    workers: int | None = None,
    solver: str = "highs",
    time_limit: float | None = None,
    samples: int | None = None,
    seed: int | None = None,
    on_chunk: Callable[[ChunkResult], None] | None = None,
) -> SweepResult:
    """Solve every variant of ``baseline`` exactly as :func:`~reallocate.solve` would.

    ``variants``: a list (or iterable) of change sets, a :func:`~reallocate.grid`, capacity
    samples (:func:`~reallocate.sweep.forecast_samples`), or a
    :class:`~reallocate.uncertainty.CapacityForecast` with ``samples=n`` (and ``seed``).

    ``executor``: any :class:`concurrent.futures.Executor`; by default a local pool of
    ``workers`` processes (default: one per core). ``dask.distributed.Client(address).get_executor()``
    runs the sweep on a Dask cluster (the baseline is scattered to every worker once). Variants
    are shipped ``chunk_size`` at a time (default: about four chunks per worker, at most 500).

    ``out`` (a ``.parquet`` file): the results are written there, each finished chunk first into
    the folder beside it (``results.sweep/``), with the found plans' lines and transfers under
    ``plans/`` when ``keep_plans``. An interrupted sweep is finished with ``resume=True`` (the same
    baseline, variants and settings; finished chunks are not solved again); ``force=True`` starts
    over. An existing file is never replaced without ``force``.

    A variant whose changes cannot be applied (status ``invalid``), that has no plan
    (``infeasible``) or that breaks the solver (``failed``) is a row with its status and message;
    the sweep goes on. ``progress`` shows a bar on standard error.
    """
    from ..scenario import Scenario
    from ..uncertainty import CapacityForecast

    if not isinstance(baseline, Scenario):
        raise TypeError(f"sweep() needs a Scenario as baseline, got {type(baseline).__name__}")
    if isinstance(variants, CapacityForecast):
        from .variants import forecast_samples

        if samples is None:
            raise ScenarioError(
                [{"loc": ("samples",), "msg": "give a whole number of samples, at least 1", "input": None}],
                title="invalid variants",
            )
        variants = forecast_samples(variants, samples, seed=seed)
    elif samples is not None or seed is not None:
        raise ValueError("samples and seed are for a CapacityForecast given as variants")
    from ..backend import validate_time_limit
    from ..solving import SOLVERS

    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}; got {solver!r}")
    time_limit = validate_time_limit(time_limit)
    if keep_plans and out is None:
        raise ValueError("keep_plans needs out (the plans are written as Parquet beside it)")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a whole number of at least 1; got {workers!r}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"chunk_size must be a whole number of at least 1; got {chunk_size!r}")
    listed = as_variants(variants, baseline)
    kinds = axis_kinds(listed)
    n_workers = _workers_of(executor, workers)
    if chunk_size is None and resume and out is not None:
        # a sweep resumed with other workers keeps the chunks it was cut into
        kept = _manifest_of(output_folder(out)).get("chunk_size")
        chunk_size = kept if isinstance(kept, int) and kept >= 1 else None
    size = chunk_size or default_chunk_size(len(listed), n_workers)
    chunks = [_Chunk(k, s, listed[s : s + size]) for k, s in enumerate(range(0, len(listed), size))]
    settings = {"chunk_size": size, "keep_plans": keep_plans, "solver": solver, "time_limit": time_limit}
    digest = variants_digest(baseline, listed, settings)
    output = _Output(Path(out), digest, len(chunks), size, resume=resume, force=force) if out is not None else None
    done = output.done() if output is not None else set()
    frames: dict[int, pd.DataFrame] = {}
    if output is not None:
        for k in sorted(done):
            frames[k] = output.read_chunk(k)
    todo = [c for c in chunks if c.index not in done]
    t0 = time.perf_counter()
    pids: set[int] = set()
    from tqdm import tqdm

    bar = tqdm(
        total=len(listed),
        initial=sum(len(c.variants) for c in chunks if c.index in done),
        unit="variant",
        desc="sweep",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )

    def finished(result: ChunkResult) -> None:
        frame = rows_frame(result.rows, baseline, kinds)
        if output is not None:
            output.write_chunk(result, frame)
        frames[result.chunk] = frame
        pids.add(result.pid)
        bar.update(len(result.rows))
        if on_chunk is not None:
            on_chunk(result)

    key = digest
    if todo:
        payload = baseline_bytes(baseline)
        own = executor is None
        pool = _local_pool(min(n_workers, len(todo)), key, payload) if own else executor
        assert pool is not None
        try:
            _drive(pool, baseline, key, payload, todo, solver, time_limit, keep_plans, finished)
        finally:
            bar.close()
            if own:
                pool.shutdown(wait=True, cancel_futures=True)
    else:
        bar.close()
    import pandas as pd

    frame = (
        pd.concat([frames[c.index] for c in chunks], ignore_index=True) if chunks else rows_frame([], baseline, kinds)
    )
    if output is not None:
        output.finish(frame)
    return SweepResult(
        frame=frame,
        baseline=baseline,
        variants=listed,
        axes=tuple(k for k in kinds if k != "sample"),  # a sample's number is a column, not an axis
        path=None if output is None else output.out,
        folder=None if output is None else output.folder,
        workers=n_workers,
        chunk_size=size,
        chunks_solved=len(todo),
        chunks_skipped=len(chunks) - len(todo),
        seconds=time.perf_counter() - t0,
        worker_pids=frozenset(pids),
        solver=solver,
        time_limit=time_limit,
    )


def _drive(
    executor: cf.Executor,
    baseline: Scenario,
    key: str,
    payload: bytes,
    todo: Sequence[_Chunk],
    solver: str,
    time_limit: float | None,
    keep_plans: bool,
    finished: Callable[[ChunkResult], None],
) -> None:
    """Submit every chunk and hand each result to ``finished`` as it comes (in any order)."""
    client = _dask_client(executor)
    # Dask: the baseline scattered to every worker once, and each task given its future;
    # other executors: only the digest, and the baseline to a worker that answers MISSING
    first: Any = client.scatter(baseline, broadcast=True, hash=False) if client is not None else None
    if client is None:
        keep_baseline(key, baseline)  # a thread pool runs chunks in this process: the baseline is here
    pending: dict[cf.Future[Any], _Chunk] = {}

    # Dask: a chunk is never the same task as another (no hashing of its variants to find out)
    options: dict[str, Any] = {"pure": False} if client is not None else {}

    def submit(chunk: _Chunk, base: Any) -> None:
        args = (key, chunk.index, chunk.start, chunk.variants, solver, time_limit, keep_plans)
        pending[executor.submit(run_chunk, base, *args, **options)] = chunk

    try:
        for chunk in todo:
            submit(chunk, first)
        while pending:
            ready, _ = cf.wait(list(pending), return_when=cf.FIRST_COMPLETED)
            failed: BaseException | None = None
            for future in ready:
                chunk = pending.pop(future)
                error = future.exception()
                if error is not None:
                    failed = failed or error
                    continue
                result = future.result()
                if isinstance(result, str) and result == MISSING:
                    submit(chunk, payload)
                    continue
                finished(result)  # every chunk that did finish is kept (resume starts after them)
            if failed is not None:
                _keep_running(pending, finished)
                raise failed
    except BaseException:
        for future in pending:
            future.cancel()
        raise
    finally:
        if client is not None and first is not None:
            with contextlib.suppress(Exception):
                client.cancel([first])


def _keep_running(pending: dict[cf.Future[Any], _Chunk], finished: Callable[[ChunkResult], None]) -> None:
    """After a chunk failed: chunks not started are cancelled, those already running are waited
    for and kept (a resumed sweep does not solve them again)."""
    running = [f for f in pending if not f.cancel()]
    pending.clear()
    for future in cf.as_completed(running):
        if future.exception() is None and isinstance(result := future.result(), ChunkResult):
            finished(result)
