"""One rule for the text of ids and names, whatever reader they come from.

Ids (a line's locality, program, fund and component; a locality's id; the ends of a transfer cost;
target selectors) are compared after Unicode NFC normalisation and trimming of surrounding
whitespace: "Nam Trà My" typed with a combining accent, or "investment " with a trailing space,
is the same id as its plain form. Ids and names may not hold control characters (NUL, ESC, new
lines, tabs...), lone surrogates (which no file encoding can write) or the invisible characters
that reorder text (bidirectional overrides): each could forge or hide text in a report. Lengths
are bounded by :mod:`reallocate.limits`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from . import limits

__all__ = ["IdText", "NameText", "id_problem", "name_problem", "normal_id"]

# C0 and C1 controls, DEL, lone surrogates, line/paragraph separators, bidirectional controls
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def normal_id(value: str) -> str:
    """The form an id is compared and stored in: NFC, without surrounding whitespace."""
    if value.isascii():
        return value.strip()
    try:
        return unicodedata.normalize("NFC", value).strip()
    except UnicodeError:  # pragma: no cover - lone surrogates normalise in CPython; kept for safety
        return value.strip()


def _describe(ch: str) -> str:
    code = f"U+{ord(ch):04X}"
    if 0xD800 <= ord(ch) <= 0xDFFF:
        return f"a lone surrogate ({code})"
    name = unicodedata.name(ch, "")
    return f"a control character ({code}{', ' + name if name else ''})"


def _problem(value: str, limit: int, what: str) -> str | None:
    if len(value) > limit:
        return f"{what} is {len(value):,} characters long; at most {limit:,} are allowed"
    bad = _FORBIDDEN.search(value)
    if bad is not None:
        return f"{what} holds {_describe(bad.group())} at position {bad.start()}"
    return None


def id_problem(value: str) -> str | None:
    """Why ``value`` (already normalised) cannot be an id, or None."""
    return _problem(value, limits.current().max_id_length, "the id")


def name_problem(value: str) -> str | None:
    """Why ``value`` cannot be a name or other text shown to people, or None."""
    return _problem(value, limits.current().max_name_length, "the text")


def _checked_id(value: str) -> str:
    out = normal_id(value)
    why = id_problem(out)
    if why is not None:
        raise PydanticCustomError("id_text", why)
    return out


def _checked_name(value: str) -> str:
    why = name_problem(value)
    if why is not None:
        raise PydanticCustomError("name_text", why)
    return value


#: an id in a pydantic model: stored normalised (NFC, trimmed), refused when ``id_problem`` says so
IdText = Annotated[str, AfterValidator(_checked_id)]
#: a name in a pydantic model, refused when ``name_problem`` says so
NameText = Annotated[str, AfterValidator(_checked_name)]
