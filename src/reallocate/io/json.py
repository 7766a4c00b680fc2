"""Plans as JSON files: streamed from the plan's arrays a block of lines at a time (a 10^6-line
plan is never one string in memory) into a temporary file that replaces the target only when
complete. The layout is ``reallocate.plan_json``'s; scenario JSON is read by
:func:`reallocate.load`."""

from __future__ import annotations

from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

from ..plan_json import plan_json_chunks
from .atomic import atomic_file

if TYPE_CHECKING:
    from ..plan import Plan

__all__ = ["write_plan_json", "write_plan_json_to"]


def write_plan_json_to(plan: Plan, stream: IO[str] | BinaryIO, *, indent: int | None = 2, compact: bool = False) -> int:
    """Write the plan's JSON to an open stream (text or binary), piece by piece; returns the bytes
    written."""
    binary = getattr(stream, "buffer", None)
    out: BinaryIO = binary if binary is not None else stream  # type: ignore[assignment]
    if binary is not None:
        stream.flush()
    written = 0
    for chunk in plan_json_chunks(plan, indent=indent, compact=compact):
        written += out.write(chunk)
    written += out.write(b"\n")
    out.flush()
    return written


def write_plan_json(plan: Plan, path: str | Path, *, indent: int | None = 2, compact: bool = False) -> Path:
    """Write the plan's JSON to ``path`` (atomically: a complete file or the old one)."""
    target = Path(path)
    with atomic_file(target) as tmp, open(tmp, "wb") as stream:
        write_plan_json_to(plan, stream, indent=indent, compact=compact)
    return target
