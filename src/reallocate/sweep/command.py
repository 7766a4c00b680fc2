"""``reallocate sweep BASELINE VARIANTS --out results.parquet``: the command line of sweeps."""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ReallocateError, ScenarioError
from .run import SweepOutputError, output_folder, sweep
from .variants import Grid, load_variants

if TYPE_CHECKING:
    from ..scenario import Scenario

__all__ = ["run_sweep"]


@contextlib.contextmanager
def _dask_executor(address: str) -> Iterator[cf.Executor]:
    try:
        from distributed import Client as _Client
    except ImportError:
        raise ReallocateError("--scheduler needs Dask: pip install 'reallocate[cluster]'") from None
    connect: Any = _Client
    try:
        client: Any = connect(address, timeout=20)
    except (OSError, TimeoutError) as exc:
        raise ReallocateError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        yield client.get_executor()
    finally:
        client.close()


def _check_paths(args: argparse.Namespace) -> None:
    """Never write over an input: the results, their folder and the chart are new paths."""
    inputs = {Path(p).resolve() for p in (args.baseline, args.variants) if p != "-"}
    out = Path(args.out)
    targets = [out, output_folder(out)] + ([Path(args.tornado)] if args.tornado else [])
    for path in targets:
        full = path.resolve()
        if full in inputs or any(full in src.parents for src in inputs):
            raise SweepOutputError(f"{path} is an input of this run: write the output somewhere else", path)
    if args.tornado and Path(args.tornado).resolve() in {out.resolve(), output_folder(out).resolve()}:
        raise SweepOutputError(f"{args.tornado} is the results file too: write the chart elsewhere", Path(args.tornado))
    if args.tornado and Path(args.tornado).exists() and not args.force:
        raise SweepOutputError(f"{args.tornado} already exists: add --force to replace it", Path(args.tornado))


def _source(exc: ScenarioError, path: str) -> ScenarioError:
    exc.source = path  # type: ignore[attr-defined]
    return exc


def run_sweep(args: argparse.Namespace, read: Callable[[str], Scenario], say: Callable[[str], None]) -> int:
    """Run the sweep the command line asks for; 0 when every variant has its row."""
    from ..labels import percent_text

    _check_paths(args)
    try:
        baseline = read(args.baseline)
    except ScenarioError as exc:
        raise _source(exc, args.baseline) from None
    try:
        variants = load_variants(args.variants)
    except ScenarioError as exc:
        raise _source(exc, args.variants) from None
    if args.tornado and not (isinstance(variants, Grid) or any(v.axes for v in variants)):
        raise SweepOutputError("--tornado needs axes: a grid, or variants with axes", Path(args.tornado))
    options: dict[str, Any] = {
        "chunk_size": args.chunk_size,
        "keep_plans": args.keep_plans,
        "progress": not args.no_progress,
        "out": args.out,
        "resume": args.resume,
        "force": args.force,
        "solver": args.solver,
        "time_limit": args.time_limit,
    }
    if args.scheduler:
        with _dask_executor(args.scheduler) as executor:
            result = sweep(baseline, variants, executor=executor, **options)
    else:
        result = sweep(baseline, variants, workers=args.workers, **options)
    if result.chunks_skipped:
        total = result.chunks_skipped + result.chunks_solved
        say(f"resumed: {result.chunks_skipped} of {total} chunks were already done")
    say(f"wrote {len(result)} results to {args.out}")
    lang = args.lang
    lines = [result.summary_text(lang)]
    if args.tornado and not result.found:
        say("no variant has a plan: there is no tornado chart")
    if result.axes and result.found:
        table = result.sensitivity("rate_after", lang)
        rates = {table.columns[i]: (lambda x: percent_text(x, lang)) for i in (2, 4, 5)}
        lines.append(table.to_string(index=False, formatters=rates))
        if args.tornado:
            from ..atomic import atomic_file
            from ..charts import png_bytes

            data = png_bytes(result.tornado("rate_after", lang))
            with atomic_file(args.tornado) as tmp:
                tmp.write_bytes(data)
            say(f"wrote the tornado chart to {args.tornado}")
    print("\n".join(lines))
    return 0
