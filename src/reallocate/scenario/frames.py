"""Scenario tables from pandas: lines column by column, localities and costs row by row."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from ..lines import LineColumns

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["frame_columns", "frame_records"]


def frame_columns(
    frame: pd.DataFrame, where: str, required: Sequence[str], allowed: set[str], errors: list[dict[str, Any]]
) -> LineColumns:
    """The lines of a DataFrame as ``LineColumns`` (whole columns, numpy scalars made plain)."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        errors.append(
            {
                "loc": (where,),
                "msg": f"{where} table is missing column{'s' if len(missing) > 1 else ''} "
                + ", ".join(repr(c) for c in missing),
                "type": "missing_column",
            }
        )
        return LineColumns()
    extra = [str(c) for c in frame.columns if c not in allowed]
    if extra:
        errors.append(
            {
                "loc": (where,),
                "msg": f"{where} table has unknown column{'s' if len(extra) > 1 else ''} "
                + ", ".join(repr(c) for c in extra),
                "type": "extra_column",
            }
        )
        return LineColumns()
    out = LineColumns()
    for c in frame.columns:
        values = frame[c].tolist()  # numpy scalars -> Python scalars, NaN stays float NaN
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
    missing = [c for c in required if c not in frame.columns]
    if missing:
        errors.append(
            {
                "loc": (where,),
                "msg": f"{where} table is missing column{'s' if len(missing) > 1 else ''} "
                + ", ".join(repr(c) for c in missing),
                "type": "missing_column",
            }
        )
        return []
    extra = [str(c) for c in frame.columns if c not in allowed]
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
                row_tags[str(key)] = value
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
