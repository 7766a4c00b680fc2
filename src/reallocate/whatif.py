"""What-if scenarios: changes applied, as data, to a baseline scenario (like OpenFisca reforms).

A change is a small JSON-able record with a ``kind``::

    {"kind": "set_rules", "rules": {"pool_by": ["fund"], "move_costs": {"program": 5}}}
    {"kind": "scale_capacity", "where": {"tag": {"mountainous": true}}, "factor": 1.2}
    {"kind": "freeze", "where": {"locality": "nam-tra-my", "program": "ntm"}}
    {"kind": "set_flag", "where": {"fund": "recurrent"}, "flag": "give_only"}
    {"kind": "set_weight", "where": {"locality": ["tay-giang", "nam-giang"]}, "weight": 0.9}
    {"kind": "set_line", "where": {"locality": "hoi-an", "program": "ntm"}, "values": {"capacity": 12000}}
    {"kind": "set_target", "rate": 1.0}

:func:`apply_changes` (or :meth:`Scenario.with_changes`) applies them in order to a copy of the
baseline's data and validates the result as a new :class:`~reallocate.scenario.Scenario`; the
baseline is never mutated. Problems raise :class:`~reallocate.errors.ScenarioError` with paths that
name the change, e.g. ``changes[1].where: matches no line`` or ``changes[0].factor: ...``.

Selectors (``where``) match lines on their attributes (``locality``, ``program``, ``fund``,
``component``: one value or a list of values) and on the tags of their locality (``tag``: every tag
given must be equal, or one of a list). Every condition given must hold; ``{}`` matches every line.
A selector that matches nothing is an error: a what-if that silently changes nothing is a mistake.

Scaled capacity is rounded *down* to a whole multiple of the scenario ``precision`` (a what-if never
promises more absorptive capacity than the factor gives), and is never below ``disbursed`` (money
already paid out was absorbed). It is not capped by the ceiling: the ceiling limits what a line may
hold, and the optimiser already uses min(capacity, ceiling).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_FLOOR, Context, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ._decode import JSONError, parse_json
from .errors import ScenarioError
from .lines import Lines, fmt
from .rules import LINE_FLAGS, LINE_KEYS, Number, Rate, Rules
from .text import IdText

if TYPE_CHECKING:
    from .scenario import Scenario

__all__ = [
    "Change",
    "Freeze",
    "LocalityWhere",
    "ScaleCapacity",
    "SetFlag",
    "SetLine",
    "SetRules",
    "SetTarget",
    "SetWeight",
    "TargetWhere",
    "Where",
    "apply_changes",
    "changes_schema",
    "describe",
    "load_changes",
    "parse_changes",
    "scale_amount",
]

_EXACT = Context(prec=80)
_CONFIG = ConfigDict(extra="forbid", frozen=True)

TagValue = str | int | float | bool
Values = IdText | tuple[IdText, ...]

#: The amount fields of a line that ``set_line`` may set.
AmountField = Literal["allocated", "disbursed", "capacity", "floor", "ceiling"]
Flag = Literal["frozen", "give_only", "receive_only", "none"]
_FLAGS = LINE_FLAGS


# ------------------------------------------------------------------------------------ selectors
def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return "|".join(_show(v) for v in value)
    return str(value)


def _tag_equal(have: Any, want: Any) -> bool:
    # JSON true is not 1: a boolean tag matches only a boolean
    if isinstance(have, bool) or isinstance(want, bool):
        return isinstance(have, bool) and isinstance(want, bool) and have == want
    if isinstance(have, str) or isinstance(want, str):
        return isinstance(have, str) and isinstance(want, str) and have == want
    return bool(have == want)


def _one_of(value: Any, wanted: Any) -> bool:
    options = wanted if isinstance(wanted, tuple) else (wanted,)
    return any(_tag_equal(value, w) for w in options)


class LocalityWhere(BaseModel):
    """Selects localities: by id (one or a list) and/or by tags (each tag equal, or one of a list)."""

    model_config = _CONFIG

    locality: Values | None = Field(default=None, description="A locality id or a list of ids.")
    tag: dict[str, TagValue | tuple[TagValue, ...]] | None = Field(
        default=None, description="Locality tags that must match, e.g. {'mountainous': true}."
    )

    def _matches_locality(self, locality: str, tags: Mapping[str, Any]) -> bool:
        if self.locality is not None and not _one_of(locality, self.locality):
            return False
        return all(key in tags and _one_of(tags[key], wanted) for key, wanted in (self.tag or {}).items())

    def describe(self) -> str:
        """``tag mountainous=true, program ntm`` or ``all lines``."""
        parts = [f"{k} {_show(v)}" for k in LINE_KEYS if (v := getattr(self, k, None)) is not None]
        parts += [f"tag {k}={_show(v)}" for k, v in (self.tag or {}).items()]
        return ", ".join(parts) if parts else "all lines"


class Where(LocalityWhere):
    """Selects lines: by line attributes (each one value or a list) and/or by their locality's tags.
    ``{}`` selects every line."""

    program: Values | None = None
    fund: Values | None = None
    component: Values | None = None

    def mask(self, lines: Lines, tags: Mapping[str, Mapping[str, Any]]) -> np.ndarray:
        """Which lines are selected (``tags``: locality id -> its tags), one bool per line."""
        out = np.ones(len(lines), dtype=bool)
        for key in ("program", "fund", "component"):
            wanted = getattr(self, key)
            if wanted is not None:
                hit = np.array([_one_of(v, wanted) for v in lines.categories(key)], dtype=bool)
                out &= hit[lines.codes(key)] if hit.shape[0] else False
        if self.locality is not None or self.tag:
            cats = lines.categories("locality")
            hit = np.array([self._matches_locality(lid, tags.get(lid, {})) for lid in cats], dtype=bool)
            out &= hit[lines.codes("locality")] if hit.shape[0] else False
        return out


class TargetWhere(BaseModel):
    """The lines a ``set_target`` rate applies to (single values, as in ``rules.targets``)."""

    model_config = _CONFIG

    locality: IdText | None = None
    program: IdText | None = None
    fund: IdText | None = None
    component: IdText | None = None

    def selector(self) -> dict[str, str]:
        return {k: v for k in LINE_KEYS if (v := getattr(self, k)) is not None}


# -------------------------------------------------------------------------------------- changes
class _ChangeError(Exception):
    """A change cannot be applied: ``loc`` is relative to the change."""

    def __init__(self, loc: tuple[str | int, ...], message: str, kind: str, value: Any = None) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message
        self.kind = kind
        self.value = value


class _State:
    """The scenario data being changed, column by column, and which change last touched each part."""

    def __init__(self, baseline: Scenario) -> None:
        self.baseline = baseline
        self.precision: Decimal = baseline.precision
        lines = baseline.lines
        self.lines: Lines = lines
        self.columns: dict[str, np.ndarray] = {
            name: np.array(getattr(lines, name))
            for name in ("allocated", "disbursed", "capacity", "floor", "has_floor", "ceiling", "has_ceiling", *_FLAGS)
        }
        self.localities: list[dict[str, Any]] | None = (
            None if baseline.localities is None else [loc.model_dump() for loc in baseline.localities]
        )
        self.rules: dict[str, Any] = baseline.rules.model_dump()
        self.line_owner = np.full(len(lines), -1, dtype=np.int64)
        self.locality_owner: dict[int, int] = {}
        self.rules_owner: int | None = None
        #: (change, line, field, value): amounts that are not whole units of precision
        self.unit_errors: list[tuple[int, int, str, Decimal]] = []

    def tags(self) -> dict[str, Mapping[str, Any]]:
        return {loc["id"]: loc.get("tags") or {} for loc in self.localities or ()}

    def select_lines(self, where: Where) -> np.ndarray:
        found = np.flatnonzero(where.mask(self.lines, self.tags()))
        if found.shape[0] == 0:
            raise _ChangeError(("where",), f"{where.describe()} matches no line", "selector_matches_nothing")
        return found

    def ensure_localities(self) -> list[dict[str, Any]]:
        """The localities list, created from the lines' locality ids when the scenario has none."""
        if self.localities is None:
            self.localities = [{"id": lid} for lid in self.baseline.table.locality_ids]
        return self.localities

    def result_lines(self) -> Lines:
        return self.lines.replace(**self.columns)

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.baseline.name,
            "unit": self.baseline.unit,
            "precision": self.precision,
            "lines": self.result_lines(),
            "rules": self.rules,
        }
        if self.localities is not None:
            out["localities"] = self.localities
        if self.baseline.transfer_costs is not None:
            out["transfer_costs"] = [tc.model_dump(by_alias=True) for tc in self.baseline.transfer_costs]
        return out


class _Change(BaseModel):
    model_config = _CONFIG

    def describe(self) -> str:  # pragma: no cover - every change overrides it
        raise NotImplementedError

    def _apply(self, state: _State, at: int) -> None:  # pragma: no cover
        raise NotImplementedError


class SetRules(_Change):
    """Merge partial rules into the baseline's rules. Each rule given replaces the baseline's value
    of that rule entirely (``move_costs`` is replaced, not merged key by key); ``null`` resets a rule
    to its default."""

    kind: Literal["set_rules"] = "set_rules"
    rules: dict[str, Any] = Field(description="Rules to set, e.g. {'pool_by': ['fund'], 'move_costs': {'program': 5}}.")

    def describe(self) -> str:
        from ._json import plain

        parts = []
        for key, value in self.rules.items():
            shown = "default" if value is None else json.dumps(plain(value), ensure_ascii=False, default=str)
            parts.append(f"{key}={shown}")
        return "rules " + ", ".join(parts)

    def _apply(self, state: _State, at: int) -> None:
        known = Rules.model_fields
        merged = dict(state.rules)
        for key, value in self.rules.items():
            if key not in known:
                raise _ChangeError(
                    ("rules", key),
                    f"unknown rule {key!r}; rules are {', '.join(known)}",
                    "unknown_rule",
                    key,
                )
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        try:
            rules = Rules.model_validate(merged)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            raise _ChangeError(("rules", *err["loc"]), err["msg"], err["type"], err.get("input")) from None
        state.rules = rules.model_dump()
        state.rules_owner = at


def scale_amount(amount: Decimal, factor: Decimal, precision: Decimal) -> Decimal:
    """``amount × factor`` rounded down to a whole multiple of ``precision`` (exact decimals)."""
    units = _EXACT.divide(amount, precision)
    scaled = _EXACT.multiply(units, factor).to_integral_value(rounding=ROUND_FLOOR, context=_EXACT)
    return _EXACT.multiply(scaled, precision)


class ScaleCapacity(_Change):
    """Multiply the capacity of the selected lines by ``factor`` (1.2 for +20%). The result is
    rounded down to a whole multiple of ``precision`` and is never below ``disbursed``."""

    kind: Literal["scale_capacity"] = "scale_capacity"
    where: Where
    factor: Decimal = Field(ge=0, allow_inf_nan=False, description="e.g. 1.2 for +20%, 0.9 for -10%.")

    def describe(self) -> str:
        return f"capacity ×{_show_decimal(self.factor)} for {self.where.describe()}"

    def _apply(self, state: _State, at: int) -> None:
        rows = state.select_lines(self.where)
        cap = state.columns["capacity"]
        scaled = scale_units(cap[rows], self.factor)
        if scaled is None:
            raise _ChangeError(
                ("factor",),
                "capacity is too large: it must stay below 2^62 units of precision",
                "too_large",
                self.factor,
            )
        cap[rows] = np.maximum(scaled, state.columns["disbursed"][rows])
        state.line_owner[rows] = at


def scale_units(units: np.ndarray, factor: Decimal) -> np.ndarray | None:
    """``units × factor`` rounded down, exactly (whole units in, whole units out); ``None`` when a
    result would not stay below 2^62 units (the caller names the factor)."""
    from .lines import MAX_UNITS

    num, den = factor.as_integer_ratio()
    top = int(units.max(initial=0))
    if top * num < 2**63 and den < 2**63:
        return units * num // den
    exact = [u * num // den for u in units.tolist()]
    if max(exact, default=0) >= MAX_UNITS:
        return None
    return np.array(exact, dtype=np.int64)


def _show_decimal(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


def _set_flag(state: _State, where: Where, flag: str, at: int) -> None:
    rows = state.select_lines(where)
    for f in _FLAGS:
        state.columns[f][rows] = f == flag
    state.line_owner[rows] = at


class Freeze(_Change):
    """The selected lines neither give nor receive (any give_only / receive_only flag is replaced)."""

    kind: Literal["freeze"] = "freeze"
    where: Where

    def describe(self) -> str:
        return f"freeze {self.where.describe()}"

    def _apply(self, state: _State, at: int) -> None:
        _set_flag(state, self.where, "frozen", at)


class SetFlag(_Change):
    """Give the selected lines exactly one flag — ``frozen``, ``give_only``, ``receive_only`` — or
    ``none`` to clear them (a line has at most one flag)."""

    kind: Literal["set_flag"] = "set_flag"
    where: Where
    flag: Flag

    def describe(self) -> str:
        return f"flag {self.flag} for {self.where.describe()}"

    def _apply(self, state: _State, at: int) -> None:
        _set_flag(state, self.where, self.flag, at)


class SetWeight(_Change):
    """Set the priority weight of the selected localities (by id and/or tag)."""

    kind: Literal["set_weight"] = "set_weight"
    where: LocalityWhere
    weight: Number

    def describe(self) -> str:
        return f"weight {self.weight:g} for {self.where.describe().replace('all lines', 'all localities')}"

    def _apply(self, state: _State, at: int) -> None:
        localities = state.ensure_localities()
        found = False
        for j, loc in enumerate(localities):
            if self.where._matches_locality(loc["id"], loc.get("tags") or {}):
                localities[j] = {**loc, "weight": self.weight}
                state.locality_owner[j] = at
                found = True
        if not found:
            raise _ChangeError(
                ("where",),
                f"{self.where.describe().replace('all lines', 'all localities')} matches no locality",
                "selector_matches_nothing",
            )


class SetLine(_Change):
    """Set amount fields of the selected lines, e.g. ``{"capacity": 12000, "ceiling": null}``
    (``null`` removes a floor or ceiling). Amounts must be multiples of the precision."""

    kind: Literal["set_line"] = "set_line"
    where: Where
    values: dict[AmountField, Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] | None] = Field(min_length=1)

    def describe(self) -> str:
        shown = ", ".join(f"{k}={'none' if v is None else _show_decimal(v)}" for k, v in self.values.items())
        return f"set {shown} for {self.where.describe()}"

    def _apply(self, state: _State, at: int) -> None:
        for field, value in self.values.items():
            if value is None and field not in ("floor", "ceiling"):
                raise _ChangeError(("values", field), f"{field} cannot be removed, only floor and ceiling", "required")
        rows = state.select_lines(self.where)
        for field, value in self.values.items():
            name = str(field)
            if value is None:
                state.columns["has_" + name][rows] = False
                continue
            units = _whole_units(value, state.precision)
            if units is None:
                state.unit_errors += [(at, int(i), name, value) for i in rows.tolist()]
                continue
            state.columns[name][rows] = units
            if name in ("floor", "ceiling"):
                state.columns["has_" + name][rows] = True
        state.line_owner[rows] = at


def _whole_units(value: Decimal, precision: Decimal) -> int | None:
    """``value`` in whole units of ``precision`` (None when it is not a multiple, or too large)."""
    from .lines import MAX_UNITS

    if value and value.adjusted() - precision.adjusted() > 19:
        return None
    q = _EXACT.divide(value, precision)
    if q != q.to_integral_value(context=_EXACT) or q >= MAX_UNITS:
        return None
    return int(q)


class SetTarget(_Change):
    """Set a disbursement-rate target: for all lines (``rules.target_rate``) when ``where`` is absent,
    else the ``rules.targets`` entry with that selector (added or replaced). ``rate: null`` removes it."""

    kind: Literal["set_target"] = "set_target"
    rate: Rate | None
    where: TargetWhere | None = None

    def describe(self) -> str:
        rate = "none" if self.rate is None else f"{self.rate * 100:g}%"
        sel = self.where.selector() if self.where is not None else {}
        scope = ", ".join(f"{k} {v}" for k, v in sel.items()) or "all lines"
        return f"target {rate} for {scope}"

    def _apply(self, state: _State, at: int) -> None:
        sel = self.where.selector() if self.where is not None else {}
        rules = dict(state.rules)
        if not sel:
            rules["target_rate"] = self.rate
        else:
            targets = [dict(t) for t in rules.get("targets") or ()]
            kept = [t for t in targets if {k: v for k, v in t.items() if k != "rate" and v is not None} != sel]
            if self.rate is not None:
                kept.append({**sel, "rate": self.rate})
            rules["targets"] = kept
        state.rules = Rules.model_validate(rules).model_dump()
        state.rules_owner = at


Change = Annotated[
    SetRules | ScaleCapacity | Freeze | SetFlag | SetWeight | SetLine | SetTarget,
    Field(discriminator="kind"),
]
"""Any change; JSON objects are told apart by their ``kind``."""

_CHANGE: TypeAdapter[Any] = TypeAdapter(Change)
_CHANGES: TypeAdapter[Any] = TypeAdapter(list[Change])
_CHANGE_TYPES = (SetRules, ScaleCapacity, Freeze, SetFlag, SetWeight, SetLine, SetTarget)
_KINDS = {c.model_fields["kind"].default for c in _CHANGE_TYPES}


def changes_schema() -> dict[str, Any]:
    """JSON Schema of a list of changes (a what-if file)."""
    return _CHANGES.json_schema()


def describe(changes: Iterable[Any]) -> str:
    """One line for people: ``capacity ×1.2 for tag mountainous=true; freeze locality hoi-an``."""
    return "; ".join(c.describe() for c in parse_changes(changes))


def parse_changes(changes: Iterable[Any]) -> list[Any]:
    """Changes as models, from models or plain dicts (JSON). Raises :class:`ScenarioError` listing
    every bad change, with paths like ``changes[1].factor``."""
    if isinstance(changes, (str, bytes, Mapping)):
        raise ScenarioError(
            [{"loc": ("changes",), "msg": "give a list of changes", "type": "list_type", "input": None}],
            title="invalid changes",
        )
    out: list[Any] = []
    errors: list[dict[str, Any]] = []
    for i, change in enumerate(changes):
        if isinstance(change, _CHANGE_TYPES):
            out.append(change)
            continue
        try:
            out.append(_CHANGE.validate_python(change))
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc = tuple(err["loc"])
                if loc and loc[0] in _KINDS:  # pydantic puts the tag first
                    loc = loc[1:]
                msg = err["msg"]
                if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                    msg = f"'kind' must be one of {', '.join(sorted(_KINDS))}"
                    loc = ("kind",)
                errors.append({"loc": ("changes", i, *loc), "msg": msg, "type": err["type"], "input": err.get("input")})
    if errors:
        raise ScenarioError(errors, title="invalid changes")
    return out


def load_changes(path: str | Path) -> list[Any]:
    """Read a what-if file: a JSON list of changes, or an object ``{"changes": [...]}`` (numbers
    are read exactly, as decimals)."""
    try:
        data = parse_json(Path(path).read_bytes())
    except JSONError as exc:
        raise ScenarioError(
            [{"loc": (), "msg": f"not valid JSON: {exc}", "type": "json_invalid"}], title="invalid changes"
        ) from None
    if isinstance(data, Mapping) and "changes" in data:
        data = data["changes"]
    if not isinstance(data, list):
        raise ScenarioError(
            [{"loc": ("changes",), "msg": "give a list of changes", "type": "list_type", "input": None}],
            title="invalid changes",
        )
    return parse_changes(data)


def apply_changes(scenario: Scenario, changes: Iterable[Any], *, name: str | None = None) -> Scenario:
    """A new, validated scenario: ``scenario`` with ``changes`` applied in order.

    ``changes`` are change models or plain dicts (JSON). The baseline is not touched: its columns
    are copied, changed and validated again as a new scenario (each line rule re-checked on whole
    columns). The new scenario is named ``name``, or the baseline's name followed by a description
    of the changes.

    Raises :class:`ScenarioError` when a change is invalid, a selector matches nothing, or the
    changed scenario breaks a rule; each problem's path starts with the change to blame, e.g.
    ``changes[1].where`` or ``changes[2].lines[5].capacity``.
    """
    parsed = parse_changes(changes)
    state = _State(scenario)
    errors: list[dict[str, Any]] = []
    for at, change in enumerate(parsed):
        try:
            change._apply(state, at)
        except _ChangeError as fail:
            loc = ("changes", at, *fail.loc)
            errors.append({"loc": loc, "msg": fail.message, "type": fail.kind, "input": fail.value})
    if errors:
        raise ScenarioError(errors, title="changes cannot be applied")
    data = state.result()
    if name is not None:
        data["name"] = name
    elif parsed:
        data["name"] = f"{scenario.name} [{'; '.join(c.describe() for c in parsed)}]"
    unit_errors = [
        {
            "loc": ("changes", at, "lines", i, field),
            "msg": f"line {_line_key(state, i)}: {field} {fmt(value)} is not a multiple of precision "
            f"{fmt(state.precision)}",
            "type": "not_multiple_of_precision",
            "input": str(value),
        }
        for at, i, field, value in state.unit_errors
    ]
    try:
        new = type(scenario).from_dict(data)
    except ScenarioError as exc:
        blamed = [_blame(err, state) for err in exc.errors]
        raise ScenarioError(unit_errors + blamed, title="changes make an invalid scenario") from None
    if unit_errors:
        raise ScenarioError(unit_errors, title="changes make an invalid scenario")
    return new


def _line_key(state: _State, i: int) -> str:
    return "/".join(x for x in state.lines.key(i) if x)


def _blame(err: dict[str, Any], state: _State) -> dict[str, Any]:
    """Point a problem of the changed scenario at the change that last touched that part."""
    loc = tuple(err.get("loc", ()))
    owner: int | None = None
    msg = str(err.get("msg", "invalid"))
    if len(loc) >= 2 and loc[0] == "lines" and isinstance(loc[1], int):
        at = int(state.line_owner[loc[1]])
        owner = at if at >= 0 else None
        msg = f"line {_line_key(state, loc[1])}: {msg}"
    elif len(loc) >= 2 and loc[0] == "localities" and isinstance(loc[1], int):
        owner = state.locality_owner.get(loc[1])
    elif loc and loc[0] == "rules":
        owner = state.rules_owner
    out = dict(err)
    out["msg"] = msg
    if owner is not None:
        out["loc"] = ("changes", owner, *loc)
    return out


def as_list(changes: Sequence[Any]) -> list[Any]:
    """``with_changes(a, b)`` and ``with_changes([a, b])`` both work."""
    if len(changes) == 1 and isinstance(changes[0], (list, tuple)):
        return list(changes[0])
    return list(changes)
