"""Named exceptions: every failure a caller can act on has its own type."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

__all__ = [
    "OptimizationError",
    "PlanVerificationError",
    "ReallocateError",
    "ScenarioError",
    "format_location",
]


class ReallocateError(Exception):
    """Base class of every error raised by reallocate."""


def format_location(loc: Sequence[str | int]) -> str:
    """Render a pydantic location tuple as a path: ``("lines", 3, "capacity")`` -> ``lines[3].capacity``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(scenario)"


#: characters of a refused value shown in a message
_SHOWN = 80


class ScenarioError(ReallocateError, ValueError):
    """The scenario input is invalid.

    ``errors`` holds one dict per problem (pydantic's shape: ``loc``, ``msg``, ``input``, ``type``),
    all of them, not only the first. ``str()`` lists them one per line as ``path: message (input)``.
    """

    def __init__(self, errors: Sequence[dict[str, Any]], title: str = "invalid scenario") -> None:
        self.errors = [dict(e) for e in errors]
        self.title = title
        super().__init__(self._render())

    @property
    def messages(self) -> list[str]:
        """One human-readable line per problem."""
        return self.messages_in("en")

    def messages_in(self, lang: str) -> list[str]:
        """One line per problem, in ``lang`` ("en" or "vi"): the path, the message, the value."""
        from .messages import translate

        got, chars = ("nhận được", "ký tự") if lang == "vi" else ("got", "characters")
        lines = []
        for err in self.errors:
            where = format_location(err.get("loc", ()))
            text = f"{where}: {translate(str(err.get('msg', 'invalid')), lang)}"
            value = err.get("input")
            if value is not None and not isinstance(value, (dict, list, tuple)):
                shown = str(value) if isinstance(value, Decimal) else repr(value)
                if len(shown) > _SHOWN:  # a 100 KB name or a 300-digit number: its start says enough
                    shown = f"{shown[: _SHOWN - 20]}... ({len(shown):,} {chars})"
                text += f" ({got} {shown})"
            lines.append(text)
        return lines

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """The refusal as a JSON-ready document: ``status`` "invalid", the ``title``, and every
        problem with its ``path`` (``lines[3].capacity``), ``loc``, ``message`` (in ``lang``),
        ``type`` and the refused ``value`` (exact decimals as text; values JSON cannot hold as
        their ``repr``)."""
        from .messages import translate

        return {
            "status": "invalid",
            "title": translate(self.title, lang),
            "problems": [
                {
                    "path": format_location(err.get("loc", ())),
                    "loc": [p if isinstance(p, int) else str(p) for p in err.get("loc", ())],
                    "message": translate(str(err.get("msg", "invalid")), lang),
                    "type": str(err.get("type", "")),
                    "value": _json_value(err.get("input")),
                }
                for err in self.errors
            ],
        }

    def _render(self) -> str:
        n = len(self.errors)
        head = f"{self.title}: {n} problem{'s' if n != 1 else ''}"
        return "\n".join([head, *("  " + m for m in self.messages)])


class OptimizationError(ReallocateError):
    """The solver could not produce a plan (infeasible, time limit without a plan, solver failure)."""


class PlanVerificationError(ReallocateError, AssertionError):
    """A plan breaks a rule of its scenario. ``breaches`` lists every breach found."""

    def __init__(self, breaches: Sequence[str]) -> None:
        self.breaches = list(breaches)
        n = len(self.breaches)
        shown = self.breaches[:20]
        more = [f"... and {n - 20} more"] if n > 20 else []
        super().__init__("\n".join([f"plan breaks {n} rule{'s' if n != 1 else ''}:", *shown, *more]))


def _json_value(value: Any) -> Any:
    """A refused value as JSON can carry it."""
    if value is None or isinstance(value, (bool, int, str)):
        if isinstance(value, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            return repr(value)  # a lone surrogate cannot be encoded: shown escaped
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
            return str(value)  # beyond what JSON readers hold exactly
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else repr(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return repr(value)
