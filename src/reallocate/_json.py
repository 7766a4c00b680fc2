"""JSON output with exact decimals: amounts are written as JSON numbers, digit for digit."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

_MARK = "\u0000dec:"
_MARKED = re.compile(r'"\\u0000dec:(-?[0-9.]+)"')


def number(value: Decimal) -> int | float | str:
    """The JSON form of an exact decimal: an int when whole, else a float when the float prints
    the same digits, else a marker that ``dumps`` turns into the exact digits."""
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


_compact = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(", ", ": "), default=_default)


def _rows(rows: list[Any]) -> list[Any]:
    """Decimals -> JSON numbers for a list of flat dicts, column by column (fast path)."""
    out = []
    for row in rows:
        if isinstance(row, dict):
            out.append({k: (number(v) if isinstance(v, Decimal) else v) for k, v in row.items()})
        else:
            out.append(plain(row))
    return out


def _layout(value: Any, pad: str, depth: int) -> str:
    """Dicts one key per line; lists of records one compact record per line; the rest compact.
    Every compact piece is written by the C encoder, so large plans stay fast."""
    inner = pad * (depth + 1)
    if isinstance(value, dict) and value:
        parts = [
            f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {_layout(v, pad, depth + 1)}" for k, v in value.items()
        ]
        return "{\n" + ",\n".join(parts) + "\n" + pad * depth + "}"
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        ready = value if not any(isinstance(v, Decimal) for v in value[0].values()) else _rows(value)
        # records of one list share their shape: look at the first to choose the fast path
        encode: Callable[[Any], str] = _encode_plain if _nested(ready[0]) else _compact.encode
        body = f",\n{inner}".join(encode(r) for r in ready)
        return f"[\n{inner}{body}\n{pad * depth}]"
    return _compact.encode(plain(value))


def _encode_plain(record: Any) -> str:
    return _compact.encode(plain(record))


def _nested(record: dict[str, Any]) -> bool:
    return any(isinstance(v, (dict, list, Decimal)) for v in record.values())


def dumps(obj: Any, *, indent: int | None = 2) -> str:
    """JSON text with exact decimals. With ``indent``, dicts are laid out one key per line and
    lists of records one record per line (readable, diff-friendly, and fast)."""
    if indent is None:
        text = json.dumps(plain(obj), ensure_ascii=False, default=_default, allow_nan=False)
    else:
        text = _layout(obj, " " * indent, 0)
    return exact_digits(text)


def exact_digits(text: str) -> str:
    """Replace the markers of decimals a float cannot carry by their exact digits."""
    if "\\u0000dec:" in text:
        text = _MARKED.sub(r"\1", text)
    return text
