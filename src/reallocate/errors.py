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
        lines = []
        for err in self.errors:
            where = format_location(err.get("loc", ()))
            text = f"{where}: {err.get('msg', 'invalid')}"
            value = err.get("input")
            if value is not None and not isinstance(value, (dict, list, tuple)):
                shown = str(value) if isinstance(value, Decimal) else repr(value)
                if len(shown) > _SHOWN:  # a 100 KB name or a 300-digit number: its start says enough
                    shown = f"{shown[: _SHOWN - 20]}... ({len(shown):,} characters)"
                text += f" (got {shown})"
            lines.append(text)
        return lines

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
