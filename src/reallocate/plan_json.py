"""The plan's public JSON shape, written from its arrays in chunks.

A national plan has a million lines: its JSON is written a block of lines at a time, each record
formatted from whole columns (ids encoded once per distinct value, amounts as exact decimal text
from whole units), never as one giant string or one dict per line. The layout is the one people
and diffs like: an object one key per line, lists of records one record per line; ``indent=None``
puts everything on one line, and ``compact=True`` also leaves out the per-line explanation
sentences (their reason codes stay) and the spaces.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np

from ._json import _layout, dumps, exact_digits, number
from ._json import plain as plain_json
from .lines import Lines, to_decimal
from .rules import LINE_KEYS
from .transfers import approval_codes, transfer_unit_costs

if TYPE_CHECKING:
    from .plan import Plan
    from .uncertainty.risk import Risk

__all__ = ["PLAN_FORMAT_VERSION", "plan_json_chunks"]

#: Version of the plan JSON layout (bumped when a field changes meaning).
PLAN_FORMAT_VERSION = 1

_encode_str = json.encoder.encode_basestring  # type: ignore[attr-defined]
_LINE_AMOUNTS = (
    "allocated",
    "disbursed",
    "capacity",
    "surplus",
    "room",
    "final",
    "change",
    "absorbable_before",
    "absorbable_after",
)
_APPROVALS = ("people_committee", "people_council", "capital_structure")


def amount_texts(units: np.ndarray, precision: Decimal) -> list[str]:
    """Exact JSON number text of amounts given in whole units of ``precision`` (as the JSON
    writer prints a decimal: whole numbers without a point, others without trailing zeros)."""
    values = units.tolist()
    if precision == 1:
        return list(map(str, values))
    exp = precision.as_tuple().exponent
    if isinstance(exp, int) and precision == Decimal(1).scaleb(exp):
        if exp >= 0:
            factor = 10**exp
            return [str(u * factor) for u in values]
        k = -exp
        base = 10**k
        out = []
        for u in values:
            q, r = divmod(abs(u), base)
            sign = "-" if u < 0 else ""
            out.append(f"{sign}{q}" if r == 0 else f"{sign}{q}.{str(r).zfill(k).rstrip('0')}")
        return out
    return [_number_text(to_decimal(u, precision)) for u in values]


def amount_values(units: np.ndarray, precision: Decimal) -> list[Any]:
    """Amounts ready for the encoder: Python ints when whole, else their exact JSON digits."""
    if precision == precision.to_integral_value():
        factor = int(precision)
        if int(np.abs(units).max(initial=0)) * factor < 2**63:
            return (units * factor).tolist() if factor != 1 else units.tolist()
    return [msgspec.Raw(t.encode()) for t in amount_texts(units, precision)]


def _number_text(value: Decimal) -> str:
    return dumps(number(value), indent=None)


_ENCODER = msgspec.json.Encoder()
_STRUCTS: dict[tuple[str, ...], Any] = {}


def _records(columns: Sequence[tuple[str, list[Any]]], inner: bytes) -> bytes:
    """Rows of columns as JSON objects separated by commas (and a new line plus ``inner`` when
    laid out for people): encoded in C by msgspec from one small record per row."""
    names = tuple(name for name, _ in columns)
    record = _STRUCTS.get(names)
    if record is None:
        record = msgspec.defstruct("Record", [(name, Any) for name in names], gc=False)
        _STRUCTS[names] = record
    data = _ENCODER.encode(list(map(record, *(values for _, values in columns))))[1:-1]
    if inner:
        first = b'},{"' + names[0].encode()
        data = data.replace(first, b"},\n" + inner + b'{"' + names[0].encode())
    return data


def _key_columns(plan: Plan, at: np.ndarray, prefix: str) -> list[tuple[str, list[Any]]]:
    lines = plan.scenario.lines
    return [(prefix + k, _category_array(lines, k)[lines.codes(k)[at]].tolist()) for k in LINE_KEYS]


def _category_array(lines: Lines, key: str) -> np.ndarray:
    return lines.category_array(key)


def _line_records(plan: Plan, start: int, stop: int, inner: bytes) -> bytes:
    sc = plan.scenario
    t = sc.table
    assert plan.final_units is not None
    at = np.arange(start, stop)
    final = plan.final_units[start:stop]
    allocated, capacity = t.allocated[start:stop], t.capacity[start:stop]
    units = {
        "allocated": allocated,
        "disbursed": t.disbursed[start:stop],
        "capacity": capacity,
        "surplus": t.surplus[start:stop],
        "room": t.room[start:stop],
        "final": final,
        "change": final - allocated,
        "absorbable_before": np.minimum(allocated, capacity),
        "absorbable_after": np.minimum(final, capacity),
    }
    columns = _key_columns(plan, at, "")
    columns += [(name, amount_values(units[name], sc.precision)) for name in _LINE_AMOUNTS]
    return _records(columns, inner)


def _transfer_records(plan: Plan, start: int, stop: int, inner: bytes, by_position: bool) -> bytes:
    sc = plan.scenario
    src, dst = plan.transfer_from[start:stop], plan.transfer_to[start:stop]
    units = plan.transfer_units[start:stop]
    if by_position:
        columns: list[tuple[str, list[Any]]] = [("from", src.tolist()), ("to", dst.tolist())]
    else:
        columns = _key_columns(plan, src, "from_") + _key_columns(plan, dst, "to_")
    cost_index, costs = transfer_unit_costs(sc, src, dst)
    unit_raw = [msgspec.Raw(_number_text(c).encode()) for c in costs]
    columns.append(("amount", amount_values(units, sc.precision)))
    columns.append(("unit_cost", [unit_raw[i] for i in cost_index.tolist()]))
    cost: list[Any]
    if len(costs) > 1 or any(costs):
        cost = [
            msgspec.Raw(_number_text(to_decimal(u, sc.precision) * costs[i]).encode())
            for u, i in zip(units.tolist(), cost_index.tolist(), strict=True)
        ]
    else:
        cost = [0] * units.shape[0]
    columns.append(("cost", cost))
    approvals = np.array(_APPROVALS, dtype=object)
    columns.append(("approval", approvals[approval_codes(sc, src, dst)].tolist()))
    return _records(columns, inner)


def _explain_line_records(plan: Plan, start: int, stop: int, inner: bytes, texts: bool) -> bytes:
    e = plan.explain
    assert e is not None
    columns: list[tuple[str, list[Any]]] = [("line", list(range(start, stop)))]
    columns.append(("reason", e.reasons[start:stop].tolist()))
    if texts:
        columns.append(("text", e.texts[start:stop]))
    columns.append(("capacity_value", e.column("capacity_value")[start:stop].tolist()))
    columns.append(("allocation_value", e.column("allocation_value")[start:stop].tolist()))
    return _records(columns, inner)


def plan_json_chunks(
    plan: Plan,
    *,
    indent: int | None = 2,
    compact: bool = False,
    texts: bool = False,
    block: int = 50_000,
    rows: bool = True,
    risk: Risk | None = None,
) -> Iterator[bytes]:
    """The plan's JSON (UTF-8), piece by piece: join them, or write them to a file one by one.

    Each line's explanation is its reason code and shadow prices; ``texts=True`` adds its sentence
    (English; ``plan.explain.lines`` and the reports have them in both languages). ``compact``:
    one line without spaces, and each transfer names its two lines by position in ``lines``
    (``"from": 12, "to": 40``) instead of repeating their keys. ``rows=False`` leaves the lists of
    lines, transfers and per-line explanations empty: the plan's other parts alone (what Parquet
    files carry beside their tables). A plan made for a capacity forecast has a ``basis``; with
    ``risk`` (``plan.risk(forecast, ...)``) a ``risk`` object follows (see ``risk_json``)."""
    pad = "" if compact or indent is None else " " * indent
    nl = "" if not pad else "\n"
    sep, colon = (",", ":") if compact else (", ", ": ")
    item_sep = "," + nl if pad else sep

    def head(key: str, depth: int) -> str:
        return f"{pad * depth}{_encode_str(key)}{colon}"

    def plain(value: Any, depth: int) -> str:
        if pad:
            text = _layout(value, pad, depth)
        else:
            text = json.dumps(plain_json(value), ensure_ascii=False, separators=(sep, colon), allow_nan=False)
        return exact_digits(text)

    def record_list(key: str, depth: int, total: int, make: Any) -> Iterator[bytes]:
        yield (head(key, depth) + "[").encode()
        if total == 0 or not rows:
            yield b"]"
            return
        inner = (pad * (depth + 1)).encode()
        between = ("," + nl).encode() + inner if pad else b","
        for start in range(0, total, block):
            stop = min(start + block, total)
            yield (between if start else nl.encode() + inner) + make(start, stop, inner)
        yield (nl + pad * depth + "]").encode()

    sc = plan.scenario
    found = plan.final_units is not None and plan.summary is not None
    top: list[tuple[str, Any]] = [
        ("version", PLAN_FORMAT_VERSION),
        ("name", sc.name),
        ("unit", sc.unit),
        ("precision", sc.precision),
        ("status", plan.status),
        ("message", plan.message),
        ("solver", plan.solver),
        ("summary", plan.summary.as_dict() if plan.summary is not None else None),
    ]
    yield ("{" + nl + item_sep.join(head(key, 1) + plain(value, 1) for key, value in top) + item_sep).encode()
    n_lines = len(sc.lines) if found else 0
    yield from record_list("lines", 1, n_lines, lambda a, b, inner: _line_records(plan, a, b, inner))
    yield item_sep.encode()
    n_tr = int(plan.transfer_units.shape[0]) if found else 0
    yield from record_list("transfers", 1, n_tr, lambda a, b, inner: _transfer_records(plan, a, b, inner, compact))
    tail = item_sep + head("stages", 1) + plain([asdict(s) for s in plan.stages], 1)
    tail += item_sep + head("explain", 1)
    e = plan.explain
    # a plan made for a capacity forecast says how: its capacities are planning capacities
    basis = "" if plan.basis is None else item_sep + head("basis", 1) + plain(plan.basis.as_dict(), 1)
    if risk is not None:
        from .risk_report import check_risk, risk_json

        check_risk(plan, risk)
        basis += item_sep + head("risk", 1) + plain(risk_json(risk), 1)
    if e is None:
        yield (tail + "null" + basis + nl + "}").encode()
        return
    yield (tail + "{" + nl).encode()
    n_reasons = int(e.reasons.shape[0])
    yield from record_list("lines", 2, n_reasons, lambda a, b, inner: _explain_line_records(plan, a, b, inner, texts))
    rest = e.to_dict(lines=False)
    out = "".join(item_sep + head(key, 2) + plain(rest[key], 2) for key in _EXPLAIN_PARTS)
    yield (out + nl + pad + "}" + basis + nl + "}").encode()


_EXPLAIN_PARTS = ("shadow_prices", "pools", "lapse", "gap", "diagnosis", "notes")
