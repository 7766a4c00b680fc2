"""The variants of a sweep: what-if change sets, grids of named axes, and capacity samples.

A *variant* is the baseline with some changes: a list of what-if changes (the kinds of
:mod:`reallocate.whatif`), or every line's capacity replaced by one sample of a
:class:`~reallocate.uncertainty.CapacityForecast`. Three ways to give them:

* a list (or any iterable) of change sets: each a list of changes, one change, or
  ``{"name": ..., "changes": [...], "axes": {...}}``;
* :func:`grid`: the product of named axes, each axis a few values and the changes each value
  makes, e.g. ``grid(mountain={"values": [0.6, 0.8, 1], "changes": [{"kind": "scale_capacity",
  "where": {"tag": {"mountainous": True}}, "factor": "$value"}]})``;
* :func:`forecast_samples`: ``n`` joint capacity draws of a forecast.

Files (``reallocate sweep BASELINE VARIANTS``): a JSON list of change sets, an object
``{"variants": [...]}`` or ``{"grid": {...}}``, or a CSV grid (see :func:`load_variants`).
Every problem is refused with the path that names it (``grid.mountain.values[2]``,
``variants[3].changes[0].factor``, ``rows[4].factor``), never silently fixed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import pickle
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._decode import JSONError, parse_json
from ..errors import ScenarioError

if TYPE_CHECKING:
    from ..scenario import Scenario
    from ..uncertainty import CapacityForecast

__all__ = [
    "RESERVED",
    "SUMMARY_FIELDS",
    "CapacitySamples",
    "Grid",
    "Variant",
    "forecast_samples",
    "grid",
    "load_variants",
    "variants_digest",
]

#: the placeholder of an axis value in a change template
PLACEHOLDER = "$value"
#: the figures of a plan's summary, one column each in a sweep's results
SUMMARY_FIELDS: tuple[str, ...] = (
    "allocated",
    "disbursed",
    "absorbable_before",
    "absorbable_after",
    "lapse_before",
    "lapse_after",
    "moved",
    "transfer_count",
    "transfer_cost",
    "rate_before",
    "rate_after",
)
#: names of result columns, which an axis may not take
RESERVED = frozenset(
    {
        "variant",
        "name",
        "chunk",
        "status",
        "message",
        *SUMMARY_FIELDS,
        "apply_seconds",
        "solve_seconds",
        "seconds",
        "sample",
    }
)
#: the columns of a CSV grid; ``where``, ``rules`` and ``values`` cells hold JSON
CSV_COLUMNS = ("axis", "value", "kind", "where", "factor", "flag", "weight", "values", "rate", "rules")
_CSV_JSON = ("where", "rules", "values")
_CSV_NUMBER = ("factor", "weight", "rate")

Label = str | int | float | bool


@dataclass(frozen=True)
class Variant:
    """One what-if: ``changes`` (parsed what-if changes) applied to the baseline, or every line's
    ``capacity`` (whole units of precision, in the baseline's line order) replaced."""

    name: str
    axes: Mapping[str, Label] = field(default_factory=dict)
    changes: tuple[Any, ...] = ()
    capacity: np.ndarray | None = None

    def token(self) -> bytes:
        """The variant's content, for the digest that tells a resumed sweep it is the same one."""
        changes = [c.model_dump(mode="json") for c in self.changes]
        text = json.dumps([self.name, dict(self.axes), changes], sort_keys=True, default=str)
        cap = b"" if self.capacity is None else np.ascontiguousarray(self.capacity, dtype=np.int64).tobytes()
        return text.encode("utf-8") + b"\x00" + cap


def _problem(loc: tuple[str | int, ...], msg: str, value: Any = None, kind: str = "value_error") -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": kind, "input": value}


def _refuse(problems: list[dict[str, Any]]) -> ScenarioError:
    return ScenarioError(problems, title="invalid variants")


def _parse(changes: Any, loc: tuple[str | int, ...], problems: list[dict[str, Any]]) -> tuple[Any, ...]:
    """Changes as models; their problems added to ``problems`` with ``loc`` in front."""
    from ..whatif import parse_changes

    if isinstance(changes, Mapping) and "kind" in changes:
        changes = [changes]
    if isinstance(changes, (str, bytes, Mapping)) or not isinstance(changes, Iterable):
        problems.append(_problem(loc, "give a list of changes", None, "list_type"))
        return ()
    try:
        return tuple(parse_changes(changes))
    except ScenarioError as exc:
        for err in exc.errors:
            inner = tuple(err.get("loc", ()))
            if inner and inner[0] == "changes":
                inner = inner[1:]
            problems.append({**err, "loc": (*loc, *inner)})
        return ()


def _label(value: Any, loc: tuple[str | int, ...], problems: list[dict[str, Any]]) -> Label:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (str, int, float, bool)) and not (isinstance(value, float) and value != value):
        return value
    problems.append(_problem(loc, "an axis value is a text, a number or true/false", repr(value)[:80], "axis_value"))
    return str(value)


def _substitute(template: Any, value: Any) -> Any:
    if isinstance(template, str) and template == PLACEHOLDER:
        return value
    if isinstance(template, Mapping):
        return {k: _substitute(v, value) for k, v in template.items()}
    if isinstance(template, (list, tuple)):
        return [_substitute(v, value) for v in template]
    return template


def _mentions(template: Any) -> bool:
    if isinstance(template, str):
        return template == PLACEHOLDER
    if isinstance(template, Mapping):
        return any(_mentions(v) for v in template.values())
    if isinstance(template, (list, tuple)):
        return any(_mentions(v) for v in template)
    return False


@dataclass(frozen=True)
class _Axis:
    name: str
    labels: tuple[Label, ...]
    changes: tuple[tuple[Any, ...], ...]


def _axis(name: str, spec: Any, problems: list[dict[str, Any]]) -> _Axis:
    loc: tuple[str | int, ...] = ("grid", name)
    if not name or not isinstance(name, str) or name in RESERVED:
        problems.append(_problem(loc, "an axis name may not be blank nor a result column", name, "axis_name"))
    if not isinstance(spec, Mapping):
        problems.append(_problem(loc, "an axis is an object of values and their changes", None, "dict_type"))
        return _Axis(name, (), ())
    labels: list[Label] = []
    sets: list[tuple[Any, ...]] = []
    if "values" in spec and not set(spec) - {"values", "changes"}:
        values = spec["values"]
        template = spec.get("changes")
        if isinstance(values, Mapping):
            if template is not None:
                problems.append(_problem((*loc, "changes"), "give changes per value, or one template", None))
            items: list[tuple[Any, Any]] = list(values.items())
        elif isinstance(values, (list, tuple)) and template is not None:
            if not callable(template) and not _mentions(template):
                problems.append(_problem((*loc, "changes"), f"the template never uses {PLACEHOLDER}", None))
            items = [(v, template(v) if callable(template) else _substitute(template, v)) for v in values]
        else:
            problems.append(_problem((*loc, "values"), "give a list of values and a template of changes", None))
            items = []
        at: tuple[str | int, ...] = (*loc, "values")
    else:
        items = list(spec.items())
        at = loc
    if not items and not any(p["loc"][:2] == loc for p in problems):
        problems.append(_problem(at, "an axis needs at least one value", None, "too_short"))
    for k, (value, changes) in enumerate(items):
        where = (*at, k if at[-1] == "values" and not isinstance(spec.get("values"), Mapping) else str(value))
        label = _label(value, where, problems)
        if label in labels:
            problems.append(_problem(where, "the axis has this value twice", str(value), "duplicate_value"))
        labels.append(label)
        sets.append(_parse([] if changes is None else changes, where, problems))
    return _Axis(name, tuple(labels), tuple(sets))


class Grid:
    """The product of named axes (see :func:`grid`); iterating gives its variants, the first axis
    varying slowest."""

    def __init__(self, axes: Sequence[_Axis]) -> None:
        self.axes = tuple(axes)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.axes)

    def __len__(self) -> int:
        n = 1
        for a in self.axes:
            n *= len(a.labels)
        return n

    def __iter__(self) -> Iterator[Variant]:
        ranges = [range(len(a.labels)) for a in self.axes]
        for picks in itertools.product(*ranges):
            axes = {a.name: a.labels[j] for a, j in zip(self.axes, picks, strict=True)}
            changes = tuple(c for a, j in zip(self.axes, picks, strict=True) for c in a.changes[j])
            yield Variant(", ".join(f"{k}={v}" for k, v in axes.items()), axes, changes)

    def __repr__(self) -> str:
        return f"Grid({' × '.join(f'{a.name}[{len(a.labels)}]' for a in self.axes)} = {len(self)} variants)"


def grid(axes: Mapping[str, Any] | None = None, /, **named: Any) -> Grid:
    """A grid of variants: every combination of one value of each axis.

    Each axis is either ``{label: changes, ...}`` (what each value changes; ``[]`` for the
    baseline), or ``{"values": [v1, v2, ...], "changes": template}`` where ``template`` is a list
    of changes in which the string ``"$value"`` stands for the value (or a function of the value
    that returns the changes)::

        reallocate.grid(
            mountain={"values": [0.6, 0.7, 0.8, 0.9], "changes": [
                {"kind": "scale_capacity", "where": {"tag": {"mountainous": True}}, "factor": "$value"}]},
            council={"off": [], "on": [{"kind": "set_rules", "rules": {"pool_by": ["fund"]}}]},
        )

    Axes are given by keyword or as one mapping (names that are not identifiers). Raises
    :class:`~reallocate.ScenarioError` naming each bad axis, value or change.
    """
    spec = {**(axes or {}), **named}
    problems: list[dict[str, Any]] = []
    if not spec:
        problems.append(_problem(("grid",), "a grid needs at least one axis", None, "too_short"))
    built = [_axis(name, value, problems) for name, value in spec.items()]
    if problems:
        raise _refuse(problems)
    return Grid(built)


class CapacitySamples:
    """``n`` joint draws of a forecast as variants: each is the baseline with every line's capacity
    replaced by one draw (whole units of precision). Built from arrays: ``rows`` is ``(n, lines)``
    in the forecast's line order; :meth:`aligned` puts them in a scenario's line order."""

    def __init__(self, forecast: CapacityForecast, rows: np.ndarray, seed: int | None) -> None:
        self.forecast = forecast
        self.rows = np.asarray(rows, dtype=np.int64)
        self.seed = seed

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    def aligned(self, baseline: Scenario) -> np.ndarray:
        """The draws in ``baseline``'s line order; a line the forecast lacks is named in the error."""
        return self.rows[:, self.forecast.positions(baseline)]

    def variants(self, baseline: Scenario) -> Iterator[Variant]:
        aligned = self.aligned(baseline)
        for k in range(aligned.shape[0]):
            yield Variant(f"sample {k}", {"sample": k}, (), aligned[k])

    def __repr__(self) -> str:
        return f"CapacitySamples({len(self)} draws of {self.forecast!r}, seed={self.seed})"


def forecast_samples(forecast: CapacityForecast, n: int, *, seed: int | None = None) -> CapacitySamples:
    """``n`` joint capacity draws of ``forecast`` (``forecast.sample(n, seed=seed)``), as variants
    of a sweep: each replaces every line's capacity. Give a ``seed`` so that a sweep can be
    resumed (the draws are then the same)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise _refuse([_problem(("samples",), "give a whole number of samples, at least 1", n)])
    return CapacitySamples(forecast, forecast.sample(n, seed=seed), seed)


def _item(item: Any, k: int, problems: list[dict[str, Any]]) -> Variant:
    loc: tuple[str | int, ...] = ("variants", k)
    if isinstance(item, Variant):
        return item
    if isinstance(item, Mapping) and "kind" not in item:
        extra = sorted(set(item) - {"name", "changes", "axes"})
        if extra:
            problems.append(_problem((*loc, extra[0]), "unknown field: a variant has name, changes and axes", extra[0]))
        name = item.get("name", f"variant {k}")
        if not isinstance(name, str) or not name.strip():
            problems.append(_problem((*loc, "name"), "a name is a text that is not blank", repr(name)[:80]))
            name = f"variant {k}"
        axes_in = item.get("axes") or {}
        axes: dict[str, Label] = {}
        if not isinstance(axes_in, Mapping):
            problems.append(_problem((*loc, "axes"), "axes are an object of axis name and value", None, "dict_type"))
        else:
            for key, value in axes_in.items():
                if key in RESERVED:
                    problems.append(_problem((*loc, "axes", key), "an axis may not take a result column's name", key))
                axes[str(key)] = _label(value, (*loc, "axes", key), problems)
        if "changes" not in item:
            problems.append(_problem((*loc, "changes"), "Field required", None, "missing"))
        changes = _parse(item.get("changes", []), (*loc, "changes"), problems)
        return Variant(name, axes, changes)
    return Variant(f"variant {k}", {}, _parse(item, loc, problems))


def as_variants(variants: Any, baseline: Scenario) -> list[Variant]:
    """Every variant of ``variants`` (a grid, capacity samples, or an iterable of change sets),
    validated; raises :class:`ScenarioError` listing every problem."""
    if isinstance(variants, Grid):
        return list(variants)
    if isinstance(variants, CapacitySamples):
        return list(variants.variants(baseline))
    if isinstance(variants, (str, bytes, Mapping)) or not isinstance(variants, Iterable):
        raise _refuse([_problem(("variants",), "give a list of variants, a grid or capacity samples", None)])
    problems: list[dict[str, Any]] = []
    out = [_item(item, k, problems) for k, item in enumerate(variants)]
    if not out:
        problems.append(_problem(("variants",), "a sweep needs at least one variant", None, "too_short"))
    if problems:
        raise _refuse(problems[:50])
    return out


# ------------------------------------------------------------------------------------- files
def load_variants(path: str | Path) -> Grid | list[Variant]:
    """Read a variants file.

    JSON: a list of variants (each a list of changes, or ``{"name", "changes", "axes"}``), or
    ``{"variants": [...]}``, or ``{"grid": {axis: ...}}`` (as :func:`grid` takes). Numbers are
    read exactly.

    CSV (``.csv``): a grid, one row per change of an axis value, columns ``axis``, ``value``,
    ``kind`` and the change's fields (``where``, ``factor``, ``flag``, ``weight``, ``values``,
    ``rate``, ``rules``; ``where``/``rules``/``values`` cells are JSON). Rows of the same axis and
    value add up; a row with an empty ``kind`` is a value that changes nothing (the baseline).
    """
    path = Path(path)
    data = path.read_bytes()
    if path.suffix.lower() == ".csv":
        return _csv_grid(data)
    try:
        parsed = parse_json(data)
    except JSONError as exc:
        raise _refuse([_problem((), f"not valid JSON: {exc}", None, "json_invalid")]) from None
    if isinstance(parsed, Mapping):
        extra = sorted(set(parsed) - {"grid", "variants"})
        if extra or len(parsed) != 1:
            # the first unknown key, else the second of grid and variants, else the file itself
            loc: tuple[str, ...] = (extra[0],) if extra else ("variants",) if parsed else ()
            raise _refuse([_problem(loc, "a variants file holds either grid or variants", loc[0] if loc else None)])
        if "grid" in parsed:
            if not isinstance(parsed["grid"], Mapping):
                raise _refuse([_problem(("grid",), "a grid is an object of axes", None, "dict_type")])
            return grid(parsed["grid"])
        parsed = parsed["variants"]
    problems: list[dict[str, Any]] = []
    if not isinstance(parsed, list):
        raise _refuse([_problem(("variants",), "give a list of variants, a grid or capacity samples", None)])
    out = [_item(item, k, problems) for k, item in enumerate(parsed)]
    if not out:
        problems.append(_problem(("variants",), "a sweep needs at least one variant", None, "too_short"))
    if problems:
        raise _refuse(problems[:50])
    return out


def _csv_value(text: str) -> Label:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if not number.is_finite():
        return text
    return int(number) if number == number.to_integral_value() and "." not in text else float(number)


def _csv_grid(data: bytes) -> Grid:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse([_problem((), "the file is not UTF-8 text", None, "encoding")]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    problems: list[dict[str, Any]] = []
    for col in header:
        if col not in CSV_COLUMNS:
            problems.append(_problem((col,), f"unknown column {col}; the columns are {', '.join(CSV_COLUMNS)}", col))
    for col in ("axis", "value"):
        if col not in header:
            problems.append(_problem((col,), "Field required", None, "missing"))
    if problems:
        raise _refuse(problems)
    axes: dict[str, dict[Label, list[Any]]] = {}
    for r, row in enumerate(reader):
        loc: tuple[str | int, ...] = ("rows", r)
        if None in row:
            problems.append(_problem(loc, "the row has more cells than the header", None, "extra_cells"))
            continue
        cells = {k: (v or "").strip() for k, v in row.items()}
        name, raw = cells.get("axis", ""), cells.get("value", "")
        if not name:
            problems.append(_problem((*loc, "axis"), "Field required", None, "missing"))
        if not raw:
            problems.append(_problem((*loc, "value"), "Field required", None, "missing"))
        if not name or not raw:
            continue
        values = axes.setdefault(name, {})
        changes = values.setdefault(_csv_value(raw), [])
        if not cells.get("kind"):
            extra = [c for c in CSV_COLUMNS[3:] if cells.get(c)]
            if extra:
                problems.append(_problem((*loc, "kind"), "a change needs its kind", None, "missing"))
            continue
        change: dict[str, Any] = {}
        before = len(problems)
        for col in CSV_COLUMNS[2:]:
            cell = cells.get(col, "")
            if not cell:
                continue
            if col in _CSV_JSON:
                try:
                    change[col] = parse_json(cell.encode("utf-8"))
                except JSONError as exc:
                    problems.append(_problem((*loc, col), f"not valid JSON: {exc}", cell[:80], "json_invalid"))
                    continue
            elif col in _CSV_NUMBER:
                try:
                    change[col] = Decimal(cell)
                except InvalidOperation:
                    problems.append(_problem((*loc, col), "Input should be a valid number", cell[:80], "decimal_type"))
                    continue
            else:
                change[col] = cell
        if change.get("kind") == "set_target" and "rate" not in change:
            change["rate"] = None
        if len(problems) == before:
            _parse([change], loc, problems)  # each row's own problems, at its own row
        changes.append(change)
    if not axes and not problems:
        problems.append(_problem(("rows",), "a grid needs at least one axis", None, "too_short"))
    if problems:
        # the change's index inside its row is always 0: the row's path names it
        for p in problems:
            loc = tuple(p["loc"])
            if len(loc) > 2 and loc[0] == "rows" and loc[2] == 0:
                p["loc"] = (*loc[:2], *loc[3:])
        raise _refuse(problems[:50])
    return grid({name: dict(values) for name, values in axes.items()})


def variants_digest(baseline: Scenario, variants: Sequence[Variant], extra: Mapping[str, Any]) -> str:
    """A digest of a sweep's inputs: the baseline, every variant and the settings in ``extra``."""
    h = hashlib.sha256()
    h.update(baseline.to_json().encode("utf-8"))
    h.update(json.dumps(dict(extra), sort_keys=True, default=str).encode("utf-8"))
    for v in variants:
        h.update(v.token())
        h.update(b"\x01")
    return h.hexdigest()


def baseline_bytes(baseline: Scenario) -> bytes:
    """The baseline as it is sent to workers (pickled once per sweep)."""
    return pickle.dumps(baseline, protocol=pickle.HIGHEST_PROTOCOL)
