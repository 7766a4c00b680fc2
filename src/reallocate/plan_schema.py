"""The JSON Schema of plan documents (``reallocate schema --plan``), built from the same column
lists the writer uses, so the two cannot drift apart; tests validate written plans against it."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from .plan import LINE_AMOUNT_COLUMNS, LINE_COLUMNS, TRANSFER_COLUMNS, StageReport, Summary
from .plan_json import PLAN_FORMAT_VERSION
from .rules import LINE_KEYS

__all__ = ["plan_schema"]

_NUMBER: dict[str, Any] = {"type": "number", "description": "An exact decimal amount in the scenario unit."}
_TEXT: dict[str, Any] = {"type": "string"}
_STATUSES = ["optimal", "time_limit", "infeasible", "error"]
_PROBABILITY: dict[str, Any] = {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
#: present only for a plan made for a capacity forecast (``solve(..., capacity=forecast)``)
_BASIS: dict[str, Any] = {
    "type": "object",
    "description": "How a plan made for a capacity forecast allowed for it: the objective and its parameters. "
    "The plan's capacities are then planning capacities (see docs/uncertainty.md).",
    "properties": {
        "objective": {"enum": ["expected", "quantile", "cvar"]},
        "forecast": {"type": "string", "description": "How the forecast was made: ratio, logistic, samples..."},
        "as_of": {"type": "string", "description": "The month the forecast was made at (YYYY-MM), when known."},
        "breakpoints": {"type": "integer", "minimum": 1},
        "epsilon": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.5},
        "alpha": _PROBABILITY,
        "omega": {"type": "number", "minimum": 0, "maximum": 1},
        "samples": {"type": "integer", "minimum": 1},
        "seed": {"type": "integer"},
    },
    "required": ["objective", "forecast"],
    "additionalProperties": False,
}


def _record(names: tuple[str, ...], types: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": {n: types.get(n, _TEXT) for n in names},
        "required": list(names),
        "additionalProperties": False,
    }


def _risk() -> dict[str, Any]:
    """``solve --history``: the plan's lapse and rate over the forecast's simulated years."""
    rate = {"type": "number", "minimum": 0, "maximum": 1, "description": "A fraction (0.58 is 58%)."}
    types: dict[str, Any] = {
        "samples": {"type": "integer", "minimum": 1},
        "seed": {"type": ["integer", "null"]},
        "target": rate,
        "probability_below_target": rate,
        "absorbed_mean": _NUMBER,
        "vss": {
            "type": "number",
            "description": "Expected disbursement of the plan for the forecast's expectation "
            "minus that of the plan on its median capacities (scenario unit).",
        },
    }
    for q in ("mean", "p10", "p50", "p90"):
        types[f"rate_{q}"] = rate
        types[f"lapse_{q}"] = _NUMBER
    line_types = {"expected_lapse": _NUMBER, "share": rate}
    top = _record((*LINE_KEYS, "name", "expected_lapse", "share"), line_types, "A line carrying expected lapse.")
    types["top_lines"] = {"type": "array", "items": top, "description": "Largest expected lapse first."}
    required = [
        "samples",
        "seed",
        "absorbed_mean",
        "top_lines",
        *(f"{k}_{q}" for k in ("rate", "lapse") for q in ("mean", "p10", "p50", "p90")),
    ]
    return {
        "type": "object",
        "description": "The risk of lapse of the plan over the capacity forecast's simulated years "
        "(reallocate solve --history); target and probability_below_target come together.",
        "properties": types,
        "required": required,
        "additionalProperties": False,
    }


def plan_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a plan as ``reallocate solve --format json`` writes it,
    in its default form and with ``--compact`` (transfers naming their lines by position)."""
    line_types = {name: _NUMBER for name in LINE_AMOUNT_COLUMNS}
    transfer_types: dict[str, Any] = {"amount": _NUMBER, "unit_cost": {"type": "number"}, "cost": {"type": "number"}}
    transfer_types["approval"] = {"enum": ["people_committee", "people_council", "capital_structure"]}
    full = _record(TRANSFER_COLUMNS, transfer_types, "A transfer naming both lines by their keys.")
    compact_names = ("from", "to", *(c for c in TRANSFER_COLUMNS if not c.startswith(("from_", "to_"))))
    position = {"type": "integer", "minimum": 0, "description": "The position of a line in 'lines'."}
    compact = _record(
        compact_names,
        {**transfer_types, "from": position, "to": position},
        "A transfer (--compact) naming lines by position.",
    )
    summary_types: dict[str, Any] = {}
    for f in fields(Summary):
        if f.name == "transfer_count":
            summary_types[f.name] = {"type": "integer", "minimum": 0}
        elif f.name.startswith("rate_"):
            summary_types[f.name] = {"type": ["number", "null"], "description": "A fraction (0.58 is 58%)."}
        else:
            summary_types[f.name] = _NUMBER
    stage_types = {
        f.name: {"type": "number"}
        if f.name in ("seconds", "model_seconds")
        else {"type": ["number", "null"]}
        if f.name == "objective"
        else {"type": "integer"}
        if f.name in ("rows", "cols")
        else {"type": "boolean"}
        if f.name == "mip"
        else _TEXT
        for f in fields(StageReport)
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "reallocate plan",
        "description": "A reallocation plan: the figures, every line before and after, the transfers, the solver "
        "stages and the explanation. Amounts are exact decimal numbers in the scenario's unit.",
        "type": "object",
        "properties": {
            "version": {"const": PLAN_FORMAT_VERSION},
            "name": _TEXT,
            "unit": _TEXT,
            "precision": {"type": "number", "exclusiveMinimum": 0},
            "status": {"enum": _STATUSES},
            "message": _TEXT,
            "solver": {"enum": ["highs", "cbc"]},
            "summary": {
                "oneOf": [
                    _record(tuple(f.name for f in fields(Summary)), summary_types, "The plan's figures."),
                    {"type": "null", "description": "No plan was found."},
                ]
            },
            "lines": {
                "type": "array",
                "description": "One entry per scenario line, in the scenario's order (empty without a plan).",
                "items": _record(LINE_COLUMNS, line_types, f"A line: its keys ({', '.join(LINE_KEYS)}) and amounts."),
            },
            "transfers": {"type": "array", "items": {"oneOf": [full, compact]}},
            "stages": {
                "type": "array",
                "items": _record(tuple(f.name for f in fields(StageReport)), stage_types, "One solver call."),
            },
            "explain": {
                "type": ["object", "null"],
                "description": "Why the plan is what it is: per line a reason code (and its sentence with "
                "--explain-text), shadow prices, pools, lapse, the gap to 100% and, without a plan, the diagnosis.",
            },
            "basis": _BASIS,
            "risk": _risk(),
        },
        "required": [
            "version",
            "name",
            "unit",
            "precision",
            "status",
            "message",
            "solver",
            "summary",
            "lines",
            "transfers",
            "stages",
            "explain",
        ],
        "additionalProperties": False,
    }
