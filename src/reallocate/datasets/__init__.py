"""Bundled datasets.

``quang_nam_2023()``: an illustrative National Target Programs scenario for Quảng Nam province,
2023 (amounts in million VND). Per-line figures are synthetic, calibrated to published provincial
totals — see ``SOURCES.md`` beside the data (``sources()`` returns it).

``quang_nam_history()``: a synthetic monthly disbursement history of the same lines, 2019-2023,
made by :mod:`reallocate.datasets.make_history` (``sources("history")`` says what is real).
"""

from __future__ import annotations

import csv
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..scenario import Rules, Scenario

if TYPE_CHECKING:
    from ..uncertainty.history import History

__all__ = ["programs", "quang_nam_2023", "quang_nam_history", "sources"]

# Data files live in a folder whose name is not a Python identifier, so it can never shadow the
# function ``quang_nam_2023`` as a sub-package would.
_FOLDER = ("data", "quang-nam-2023")


_HISTORY = ("data", "quang-nam-history")


def _text(name: str, folder: tuple[str, str] = _FOLDER) -> str:
    return resources.files(__name__).joinpath(*folder, name).read_text(encoding="utf-8")


def _rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(_text(name).splitlines()))


def sources(dataset: str = "2023") -> str:
    """The dataset's SOURCES note: what is published, what is synthetic (``"2023"``: the
    scenario; ``"history"``: the disbursement history)."""
    return _text("SOURCES.md", _HISTORY if dataset == "history" else _FOLDER)


def quang_nam_history() -> History:
    """The synthetic monthly disbursement history of the 92 Quảng Nam lines, budget years
    2019-2023 (reports January to the next January; million VND). 2023 matches the
    ``quang_nam_2023()`` scenario line by line: disbursed at the October report, and
    min(allocated, capacity) at the deadline. Read ``sources("history")`` before using it."""
    from ..uncertainty.history import History

    text = _text("history.csv", _HISTORY)
    return History.from_rows(list(csv.DictReader(text.splitlines())), unit="million VND", precision=1, name="quang-nam")


def programs() -> dict[str, str]:
    """Program id -> Vietnamese program name."""
    return {r["id"]: r["name"] for r in _rows("programs.csv")}


def quang_nam_2023(rules: Rules | dict[str, Any] | None = None) -> Scenario:
    """The Quảng Nam 2023 scenario: 18 districts/towns, 3 NTPs x 2 funds (92 lines).

    Locality weights derive from the (illustrative) poverty rate: ``weight = poverty_rate_pct /
    100``, so with ``priority`` rules the poorest districts receive first and give last. Each
    locality carries tags ``mountainous`` (bool, one of the 9 mountainous districts) and
    ``poverty_rate_pct``. Floors default to disbursed-to-date; there are no ceilings.
    ``rules`` overrides the default rules (pools by program and fund, proportional sharing).
    """
    localities = [
        {
            "id": r["id"],
            "name": r["name"],
            "weight": float(r["poverty_rate_pct"]) / 100.0,
            "tags": {"mountainous": r["mountainous"] == "1", "poverty_rate_pct": int(r["poverty_rate_pct"])},
        }
        for r in _rows("localities.csv")
    ]
    lines = [
        {
            "locality": r["locality"],
            "program": r["program"],
            "fund": r["fund"],
            "allocated": r["allocated"],
            "disbursed": r["disbursed"],
            "capacity": r["capacity"],
        }
        for r in _rows("lines.csv")
    ]
    data: dict[str, Any] = {
        "name": "Quảng Nam 2023 — National Target Programs",
        "unit": "million VND",
        "precision": "1",
        "localities": localities,
        "lines": lines,
    }
    if rules is not None:
        data["rules"] = rules
    return Scenario.from_dict(data)
