"""Writing files so that nobody ever sees half of one.

Every output is written to a temporary name beside its target and renamed over it only when it
is complete (``os.replace`` is atomic on one file system): an interrupted run, a full disk or a
killed process leaves the old file (or none), never a truncated file that looks complete. A
folder of outputs (CSV, Parquet) is built beside its target and swapped in whole, so no file of an
earlier plan is left next to the new ones.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_file", "atomic_folder"]


def _temporary_name(target: Path, suffix: str) -> Path:
    return target.with_name(f".{target.name}.{secrets.token_hex(6)}{suffix}")


@contextlib.contextmanager
def atomic_file(target: str | Path) -> Iterator[Path]:
    """A temporary path beside ``target`` to write to; renamed to ``target`` when the block ends
    without an error, removed otherwise. The file gets the permissions a new file would get.
    A target that exists and is neither a file nor a folder (a device such as ``/dev/stdout``,
    a pipe) is handed back as it is: it can be written to, never replaced."""
    target = Path(target)
    if target.is_dir():
        raise IsADirectoryError(21, "Is a directory (a file was expected)", str(target))
    if target.exists() and not target.is_file():
        # a device or a pipe (/dev/stdout, a FIFO) cannot be replaced, only written to: in place
        yield target
        return
    while True:
        tmp_path = _temporary_name(target, ".part")
        try:
            # created as open() would create it (mode 0o666 less the umask), and never shared
            os.close(os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:  # pragma: no cover - a 48-bit random name already taken
            continue
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def atomic_folder(target: str | Path, kinds: tuple[str, ...]) -> Iterator[Path]:
    """A temporary folder beside ``target`` to fill; it replaces ``target`` (and everything in
    it) when the block ends without an error, and is removed otherwise. A target that exists and
    is not a folder is refused (``NotADirectoryError``), and so is a folder holding anything but
    files ending in ``kinds`` (e.g. ``(".csv",)``): an earlier output is replaced whole, a folder
    of the user's other files never (``FileExistsError``)."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(20, "Not a directory (a folder of files is written here)", str(target))
    if target.is_dir():
        foreign = [p.name for p in target.iterdir() if not (p.is_file() and p.name.endswith(kinds))]
        if foreign:
            raise FileExistsError(
                17,
                f"the folder holds other files ({', '.join(sorted(foreign)[:3])}), so it is not replaced",
                str(target),
            )
    tmp = _temporary_name(target, ".part")
    tmp.mkdir()
    try:
        yield tmp
        if target.exists():
            old = _temporary_name(target, ".old")
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
