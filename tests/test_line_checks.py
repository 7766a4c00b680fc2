"""Line checks run on whole columns; they must say exactly what a line-by-line check says.

``check_lines`` validates every line vectorised (pydantic sees only rows a fast check refused).
The reference here checks one row at a time: pydantic's ``Line`` model for types and signs, then
precision, size, the rules between a line's amounts, flags and duplicate keys, written from the
documented rules. Random rows with random faults must give the same problems at the same paths,
whether the scenario arrives as Python rows, JSON text (the msgspec decoder) or columns.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from reallocate import Scenario, ScenarioError
from reallocate.lines import Line, LineColumns

SETTINGS: dict[str, Any] = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "max_examples": 150}
MAX_UNITS = 2**62
FAULTS = (
    "negative",
    "text",
    "nan",
    "bool",
    "missing",
    "extra",
    "blank_id",
    "int_id",
    "fraction",
    "disbursed_above",
    "capacity_below",
    "floor_above",
    "ceiling_below",
    "two_flags",
    "flag_text",
    "duplicate",
    "huge",
    "not_a_row",
)


@st.composite
def faulty_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    precision = draw(st.sampled_from([Decimal(1), Decimal("0.01"), Decimal(1000)]))
    rows: list[Any] = []
    for k in range(draw(st.integers(1, 12))):
        allocated = draw(st.integers(0, 10**6))
        disbursed = draw(st.integers(0, allocated))
        row: dict[str, Any] = {
            "locality": draw(st.sampled_from(["a", "b", "c"])),
            "program": draw(st.sampled_from(["p", "q"])),
            "fund": "investment",
            "component": f"c{k}",
            "allocated": allocated * precision,
            "disbursed": disbursed * precision,
            "capacity": draw(st.integers(disbursed, 2 * 10**6)) * precision,
        }
        if draw(st.booleans()):
            row["floor"] = draw(st.sampled_from([None, disbursed * precision]))
        fault = draw(st.sampled_from((None,) * 6 + FAULTS))
        amount = draw(st.sampled_from(["allocated", "disbursed", "capacity"]))
        match fault:
            case "negative":
                row[amount] = -row[amount] - precision
            case "text":
                row[amount] = "abc"
            case "nan":
                row[amount] = draw(st.sampled_from(["NaN", Decimal("Infinity")]))
            case "bool":
                row[amount] = True
            case "missing":
                del row[draw(st.sampled_from(["locality", "allocated", "capacity"]))]
            case "extra":
                row["colour"] = "blue"
            case "blank_id":
                row[draw(st.sampled_from(["locality", "program", "fund"]))] = draw(st.sampled_from(["", "  "]))
            case "int_id":
                row["program"] = 7
            case "fraction":
                row[amount] = row[amount] + Decimal("0.005")
            case "disbursed_above":
                row["disbursed"] = row["allocated"] + precision
            case "capacity_below":
                row["disbursed"] = row["allocated"]
                row["capacity"] = row["allocated"] - precision if row["allocated"] else None
            case "floor_above":
                row["floor"] = row["allocated"] + precision
            case "ceiling_below":
                row["ceiling"] = row["allocated"] - precision if row["allocated"] else None
            case "two_flags":
                row.update(dict.fromkeys(draw(st.permutations(["frozen", "give_only", "receive_only"]))[:2], True))
            case "flag_text":
                row["frozen"] = "yes"
            case "duplicate" if rows and isinstance(rows[0], dict):
                row["component"] = rows[0].get("component", "")
                row["locality"], row["program"] = rows[0].get("locality"), rows[0].get("program")
            case "huge":
                row["allocated"] = row["capacity"] = MAX_UNITS * precision
                row["disbursed"] = 0
            case "not_a_row":
                rows.append(draw(st.sampled_from(["line", 3, [1, 2]])))
                continue
        rows.append({f: v for f, v in row.items() if v is not None or f in ("floor", "ceiling")})
    return {"name": "faults", "unit": "million VND", "precision": precision, "lines": rows}


def _units(value: Decimal, precision: Decimal) -> Fraction:
    return Fraction(value) / Fraction(precision)


def expected_problems(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """(path, kind) of every problem of the lines, one row at a time."""
    precision = data["precision"]
    out: list[tuple[tuple[Any, ...], str]] = []
    good: list[tuple[int, Line]] = []
    for k, row in enumerate(data["lines"]):
        try:
            good.append((k, Line.model_validate(row)))
        except ValidationError as exc:
            out += [(("lines", k, *e["loc"]), e["type"]) for e in exc.errors()]
    seen: dict[tuple[str, ...], int] = {}
    for k, line in good:
        units: dict[str, Fraction] = {}
        for name in ("allocated", "disbursed", "capacity", "floor", "ceiling"):
            value = getattr(line, name)
            if value is None:
                continue
            u = _units(value, precision)
            if u.denominator != 1:
                out.append((("lines", k, name), "not_multiple_of_precision"))
            elif u >= MAX_UNITS:
                out.append((("lines", k, name), "amount_too_large"))
            else:
                units[name] = u
        if len(units) == 5 - (line.floor is None) - (line.ceiling is None):
            a, d, c = units["allocated"], units["disbursed"], units["capacity"]
            checks = [
                ("disbursed", d > a, "disbursed_above_allocated"),
                ("capacity", c < d, "capacity_below_disbursed"),
                ("floor", "floor" in units and units["floor"] < d, "floor_below_disbursed"),
                ("floor", "floor" in units and units["floor"] > a, "floor_above_allocated"),
                ("ceiling", "ceiling" in units and units["ceiling"] < a, "ceiling_below_allocated"),
            ]
            out += [(("lines", k, name), kind) for name, broken, kind in checks if broken]
        if line.key in seen:
            out.append((("lines", k), "duplicate_line"))
        seen.setdefault(line.key, k)
        on = [f for f in ("frozen", "give_only", "receive_only") if getattr(line, f)]
        if len(on) > 1:
            out.append((("lines", k, on[1]), "conflicting_flags"))
    if not data["lines"]:
        out.append((("lines",), "too_short"))
    return sorted(out, key=repr)


def _problems(call: Any) -> list[dict[str, Any]]:
    try:
        call()
    except ScenarioError as exc:
        return [e for e in exc.errors if e["loc"][:1] == ("lines",)]
    return []


def as_json(data: dict[str, Any]) -> str:
    """JSON text with every Decimal written as the number it is (not a string, not a float)."""
    text = json.dumps(data, default=lambda d: f"@@{d}@@" if isinstance(d, Decimal) else str(d))
    return re.sub(r'"@@([^@]*)@@"', lambda m: m.group(1) if m.group(1)[-1].isdigit() else f'"{m.group(1)}"', text)


@settings(**SETTINGS)
@given(data=faulty_scenarios())
def test_every_faulty_row_is_named_as_a_row_by_row_check_names_it(data: dict[str, Any]) -> None:
    want = expected_problems(data)
    from_rows = _problems(lambda: Scenario.from_dict(data))
    assert sorted(((tuple(e["loc"]), e["type"]) for e in from_rows), key=repr) == want
    # the JSON decoder's fast path says the same, word for word
    from_text = _problems(lambda: Scenario.from_json(as_json(data)))
    assert [(tuple(e["loc"]), e["type"], e["msg"]) for e in from_text] == [
        (tuple(e["loc"]), e["type"], e["msg"]) for e in from_rows
    ]


@settings(**SETTINGS)
@given(data=faulty_scenarios())
def test_columns_are_checked_like_rows(data: dict[str, Any]) -> None:
    rows = [r for r in data["lines"] if isinstance(r, dict)]
    fields = sorted({f for r in rows for f in r})
    columns = LineColumns({f: [r.get(f) for r in rows] for f in fields})
    # a column holds a value for every row: None there is a field not given, as an empty cell
    as_rows = {**data, "lines": [{f: v for f, v in r.items() if v is not None} for r in rows]}
    want = [(tuple(e["loc"]), e["type"]) for e in _problems(lambda: Scenario.from_dict(as_rows))]
    got = [(tuple(e["loc"]), e["type"]) for e in _problems(lambda: Scenario.from_dict({**data, "lines": columns}))]
    assert got == want


def test_a_bad_row_deep_in_a_large_file_is_named_by_its_position() -> None:
    n = 50_000
    frame = pd.DataFrame(
        {
            "locality": [f"x{k % 3300}" for k in range(n)],
            "program": "ntm",
            "fund": "investment",
            "component": [f"c{k}" for k in range(n)],
            "allocated": 1000,
            "capacity": 900,
        }
    )
    rows = frame.to_dict("records")
    rows[41873]["capacity"] = -7
    rows[49999]["allocated"] = "12,5"
    with pytest.raises(ScenarioError) as info:
        Scenario.from_json(json.dumps({"name": "national", "unit": "đồng", "lines": rows}))
    text = str(info.value)
    assert "2 problems" in text
    assert "lines[41873].capacity" in text and "(got -7)" in text
    assert "lines[49999].allocated" in text and "'12,5'" in text
    frame.loc[41873, "capacity"] = -7
    with pytest.raises(ScenarioError) as info:
        Scenario.from_frames(frame)
    assert [e["loc"] for e in info.value.errors] == [("lines", 41873, "capacity")]
