"""Plans as JSON files: streamed from the plan's arrays a block of lines at a time (a 10^6-line
plan is never one string in memory) into a temporary file that replaces the target only when
complete. The layout is ``reallocate.plan_json``'s; scenario JSON is read by
:func:`reallocate.load`."""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

from ..plan_json import plan_json_chunks
from .atomic import atomic_file

if TYPE_CHECKING:
    from ..plan import Plan
    from ..uncertainty.risk import Risk

__all__ = ["write_plan_json", "write_plan_json_to"]


def write_plan_json_to(
    plan: Plan,
    stream: IO[str] | BinaryIO,
    *,
    indent: int | None = 2,
    compact: bool = False,
    texts: bool = False,
    risk: Risk | None = None,
) -> int:
    """Write the plan's JSON to an open stream (text or binary), piece by piece; returns the bytes
    written. A second thread writes each piece while the next is being encoded (writing releases
    the interpreter lock), at most a few pieces ahead."""
    binary = getattr(stream, "buffer", None)
    out: BinaryIO = binary if binary is not None else stream  # type: ignore[assignment]
    if binary is not None:
        stream.flush()
    pieces: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
    failure: list[BaseException] = []

    def writer() -> None:
        try:
            while (piece := pieces.get()) is not None:
                if not failure:
                    out.write(piece)
        except BaseException as exc:  # reported by the producing thread
            failure.append(exc)
            while pieces.get() is not None:
                pass

    thread = threading.Thread(target=writer, name="reallocate-json-writer", daemon=True)
    thread.start()
    written = 0
    try:
        for chunk in plan_json_chunks(plan, indent=indent, compact=compact, texts=texts, risk=risk):
            if failure:
                break
            pieces.put(chunk)
            written += len(chunk)
        pieces.put(b"\n")
        written += 1
    finally:
        pieces.put(None)
        thread.join()
    if failure:
        raise failure[0]
    out.flush()
    return written


def write_plan_json(
    plan: Plan,
    path: str | Path,
    *,
    indent: int | None = 2,
    compact: bool = False,
    texts: bool = False,
    risk: Risk | None = None,
) -> Path:
    """Write the plan's JSON to ``path`` (atomically: a complete file or the old one); with
    ``risk`` (``plan.risk(forecast, ...)``) the plan's risk of lapse is in it (``"risk"``)."""
    target = Path(path)
    with atomic_file(target) as tmp, open(tmp, "wb") as stream:
        write_plan_json_to(plan, stream, indent=indent, compact=compact, texts=texts, risk=risk)
    return target
