"""Limits on what the readers accept: the sizes past which an input is refused, not read.

Every reader (JSON, Excel, CSV, Parquet, ``from_frames``) and the solver service consult one
:class:`Limits` object, so a limit is set once for all of them::

    import reallocate.limits

    reallocate.limits.configure(max_lines=200_000)          # for this process
    with reallocate.limits.override(max_id_length=50):      # for a block (tests, a request)
        ...

The environment variables ``REALLOCATE_MAX_<NAME>`` (e.g. ``REALLOCATE_MAX_LINES``) set the
defaults when the module is first imported. An input past a limit is refused with exit code 2 and
a message naming the limit and its value.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Limits", "configure", "current", "override"]


@dataclass(frozen=True)
class Limits:
    """Sizes past which an input is refused (defaults in brackets)."""

    #: characters in an id: locality, program, fund, component, a locality's id [200]
    max_id_length: int = 200
    #: characters in a name or other text shown to people: scenario, unit, locality name, tags [500]
    max_name_length: int = 500
    #: nesting of arrays and objects in a JSON document (a scenario is 5 deep) [64]
    max_json_depth: int = 64
    #: lines in one scenario [5,000,000]
    max_lines: int = 5_000_000
    #: bytes a workbook's entries may expand to, all together [512 MiB]
    max_xlsx_expanded_bytes: int = 512 * 1024**2
    #: how many times an entry of a workbook may expand (a normal sheet: 5-30) [200]
    max_xlsx_ratio: int = 200
    #: rows in one sheet of a workbook (Excel's own limit) [1,048,576]
    max_sheet_rows: int = 1_048_576
    #: cells in one sheet of a workbook [30,000,000]
    max_sheet_cells: int = 30_000_000
    #: characters in one CSV field (the csv module's own default) [131,072]
    max_csv_field: int = 131_072

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"limit {f.name} must be a whole number of at least 1; got {value!r}")


def _from_environment() -> Limits:
    values: dict[str, int] = {}
    for f in dataclasses.fields(Limits):
        name = "REALLOCATE_" + f.name.upper()
        text = os.environ.get(name)
        if text is None:
            continue
        try:
            values[f.name] = int(text.replace("_", ""))
        except ValueError:
            raise ValueError(f"environment variable {name} must be a whole number; got {text!r}") from None
    return Limits(**values)


_current = _from_environment()


def current() -> Limits:
    """The limits in force."""
    return _current


def configure(**changes: int) -> Limits:
    """Change limits for the whole process (unknown names raise ``TypeError``); returns the new set."""
    global _current
    _current = dataclasses.replace(_current, **changes)
    return _current


@contextlib.contextmanager
def override(**changes: int) -> Iterator[Limits]:
    """Change limits inside a ``with`` block, then restore them."""
    global _current
    before = _current
    _current = dataclasses.replace(before, **changes)
    try:
        yield _current
    finally:
        _current = before
