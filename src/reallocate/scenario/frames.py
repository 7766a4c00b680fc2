"""Scenario tables from pandas: lines column by column, localities and costs row by row."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from ..lines import LineColumns

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["as_frame", "frame_columns", "frame_records"]

#: prefix of a localities column kept as a tag whatever its name (e.g. ``tag:mountainous``)
TAG_PREFIX = "tag:"


def as_frame(value: Any, where: str, errors: list[dict[str, Any]]) -> pd.DataFrame | None:
    """A DataFrame, or a list of row dicts made into one; anything else is a named problem."""
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(r, dict) for r in value):
        return pd.DataFrame(list(value))
    errors.append(
        {
            "loc": (where,),
            "msg": f"expected a pandas DataFrame (or a list of row dicts), got {type(value).__name__}",
            "type": "frame_type",
        }
    )
    return None


def _near(name: str, known: Sequence[str] | set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _missing(where: str, missing: list[str], present: list[str]) -> dict[str, Any]:
    hints = []
    for m in missing:
        close = [c for c in present if _near(c, [m])]
        hints.append(repr(m) + (f" (is {close[0]!r} it, misspelt?)" if close else ""))
    return {
        "loc": (where,),
        "msg": f"{where} table is missing column{'s' if len(missing) > 1 else ''} " + ", ".join(hints),
        "type": "missing_column",
    }


def frame_columns(
    frame: pd.DataFrame, where: str, required: Sequence[str], allowed: set[str], errors: list[dict[str, Any]]
) -> LineColumns:
    """The lines of a DataFrame as ``LineColumns`` (whole columns, numpy scalars made plain)."""
    present = [str(c) for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        errors.append(_missing(where, missing, present))
        return LineColumns()
    extra = [c for c in present if c not in allowed]
    if extra:
        errors.append(
            {
                "loc": (where,),
                "msg": f"{where} table has unknown column{'s' if len(extra) > 1 else ''} "
                + ", ".join(repr(c) + _near(c, allowed) for c in extra),
                "type": "extra_column",
            }
        )
        return LineColumns()
    out = LineColumns()
    for c in frame.columns:
        column = frame[c]
        values = column.tolist()  # numpy scalars -> Python scalars, NaN stays float NaN
        if column.dtype == object or str(column.dtype)[:1].isupper():  # object or nullable (Int64...)
            absent = column.isna().tolist()
            if any(absent):  # pd.NA / None / NaT: "not given", as an empty cell
                values = [None if m else v for v, m in zip(values, absent, strict=True)]
        out[str(c)] = values
    return out


def frame_records(
    frame: pd.DataFrame,
    where: str,
    required: Sequence[str],
    allowed: set[str],
    errors: list[dict[str, Any]],
    *,
    tags: bool,
) -> list[dict[str, Any]]:
    present = [str(c) for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        errors.append(_missing(where, missing, present))
        return []
    extra = [c for c in present if c not in allowed and not c.startswith(TAG_PREFIX)]
    if tags:
        # a tag may be any name, but one a letter or two from a known column is a typo that would
        # silently become a tag (all weights 1): refused, unless marked "tag:"
        extra = [c for c in extra if _near(c, allowed)]
        if extra:
            errors.append(
                {
                    "loc": (where,),
                    "msg": f"{where} table has column{'s' if len(extra) > 1 else ''} "
                    + ", ".join(repr(c) + _near(c, allowed) for c in extra)
                    + f"; to keep one as a tag, name it {TAG_PREFIX!r} + its name",
                    "type": "extra_column",
                }
            )
            return []
    if extra and not tags:
        errors.append(
            {
                "loc": (where,),
                "msg": f"{where} table has unknown column{'s' if len(extra) > 1 else ''} "
                + ", ".join(repr(c) for c in extra),
                "type": "extra_column",
            }
        )
        return []
    records = []
    for raw in frame.to_dict(orient="records"):
        row: dict[str, Any] = {}
        row_tags: dict[str, Any] = {}
        for key, value in raw.items():
            if _is_missing(value):
                continue
            value = _plain(value)
            if str(key) in allowed:
                row[str(key)] = value
            else:
                row_tags[str(key).removeprefix(TAG_PREFIX)] = value
        if tags and row_tags:
            row["tags"] = row_tags
        records.append(row)
    return records


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, (str, Decimal)) else False
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars, so pydantic sees ints, floats, bools and strs."""
    if isinstance(value, np.generic):
        return value.item()
    return value
