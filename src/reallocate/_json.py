"""JSON output with exact decimals: amounts are written as JSON numbers, digit for digit."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_MARK = "\u0000dec:"
_MARKED = re.compile(r'"\\u0000dec:(-?[0-9.]+)"')


def number(value: Decimal) -> int | float | str:
    """The JSON form of an exact decimal: an int when whole, else a float when the float prints
    the same digits, else a marker that :func:`dumps` turns into the exact digits."""
    if value == value.to_integral_value():
        return int(value)
    text = format(value, "f").rstrip("0").rstrip(".")
    as_float = float(text)
    if repr(as_float) == text:
        return as_float
    return _MARK + text


def _default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return number(obj)
    if hasattr(obj, "item"):  # numpy scalar
        return obj.item()
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")


def plain(obj: Any) -> Any:
    """Replace Decimals (recursively) by their JSON number form."""
    if isinstance(obj, Decimal):
        return number(obj)
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


def dumps(obj: Any, *, indent: int | None = 2) -> str:
    text = json.dumps(plain(obj), indent=indent, ensure_ascii=False, default=_default, allow_nan=False)
    if _MARK in text or "\\u0000dec:" in text:
        text = _MARKED.sub(r"\1", text)
    return text
