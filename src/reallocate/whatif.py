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

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .errors import ScenarioError
from .scenario import LINE_FLAGS, LINE_KEYS, Number, Rate, Rules, _parse_json

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
Values = str | tuple[str, ...]

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

    def matches(self, line: Mapping[str, Any], tags: Mapping[str, Any]) -> bool:
        """Whether a line (as a dict) whose locality has ``tags`` is selected."""
        for key in ("program", "fund", "component"):
            wanted = getattr(self, key)
            if wanted is not None and not _one_of(line.get(key, ""), wanted):
                return False
        return self._matches_locality(line["locality"], tags)


class TargetWhere(BaseModel):
    """The lines a ``set_target`` rate applies to (single values, as in ``rules.targets``)."""

    model_config = _CONFIG

    locality: str | None = None
    program: str | None = None
    fund: str | None = None
    component: str | None = None

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
    """The scenario data being changed, and which change last touched each part."""

    def __init__(self, baseline: Scenario) -> None:
        data = baseline.model_dump(by_alias=True)
        self.precision: Decimal = baseline.precision
        self.lines: list[dict[str, Any]] = list(data["lines"])
        self.localities: list[dict[str, Any]] | None = None if data["localities"] is None else list(data["localities"])
        self.rules: dict[str, Any] = dict(data["rules"])
        self.data = data
        self.line_owner: dict[int, int] = {}
        self.locality_owner: dict[int, int] = {}
        self.rules_owner: int | None = None

    def tags(self) -> dict[str, Mapping[str, Any]]:
        return {loc["id"]: loc.get("tags") or {} for loc in self.localities or ()}

    def select_lines(self, where: Where) -> list[int]:
        tags = self.tags()
        found = [i for i, line in enumerate(self.lines) if where.matches(line, tags.get(line["locality"], {}))]
        if not found:
            raise _ChangeError(("where",), f"{where.describe()} matches no line", "selector_matches_nothing")
        return found

    def ensure_localities(self) -> list[dict[str, Any]]:
        """The localities list, created from the lines' locality ids when the scenario has none."""
        if self.localities is None:
            ids = dict.fromkeys(line["locality"] for line in self.lines)
            self.localities = [{"id": lid} for lid in ids]
        return self.localities

    def result(self) -> dict[str, Any]:
        out = dict(self.data)
        out["lines"] = self.lines
        out["localities"] = self.localities
        out["rules"] = self.rules
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
        for i in state.select_lines(self.where):
            line = dict(state.lines[i])
            scaled = scale_amount(Decimal(line["capacity"]), self.factor, state.precision)
            line["capacity"] = max(scaled, Decimal(line.get("disbursed") or 0))
            state.lines[i] = line
            state.line_owner[i] = at


def _show_decimal(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


def _set_flag(state: _State, where: Where, flag: str, at: int) -> None:
    for i in state.select_lines(where):
        line = dict(state.lines[i])
        for f in _FLAGS:
            line[f] = f == flag
        state.lines[i] = line
        state.line_owner[i] = at


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
        for i in state.select_lines(self.where):
            line = dict(state.lines[i])
            line.update({str(k): v for k, v in self.values.items()})
            state.lines[i] = line
            state.line_owner[i] = at


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
        data = _parse_json(Path(path).read_bytes())
    except ValueError as exc:
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

    ``changes`` are change models or plain dicts (JSON). The baseline is not touched: its data is
    dumped, changed and validated again as a new :class:`Scenario`. The new scenario is named
    ``name``, or the baseline's name followed by a description of the changes.

    Raises :class:`ScenarioError` when a change is invalid, a selector matches nothing, or the
    changed scenario breaks a rule; each problem's path starts with the change to blame, e.g.
    ``changes[1].where`` or ``changes[2].lines[5].capacity``.
    """
    from .scenario import Scenario

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
    try:
        return Scenario.from_dict(data)
    except ScenarioError as exc:
        blamed = [_blame(err, state) for err in exc.errors]
        raise ScenarioError(blamed, title="changes make an invalid scenario") from None


def _blame(err: dict[str, Any], state: _State) -> dict[str, Any]:
    """Point a problem of the changed scenario at the change that last touched that part."""
    loc = tuple(err.get("loc", ()))
    owner: int | None = None
    msg = str(err.get("msg", "invalid"))
    if len(loc) >= 2 and loc[0] == "lines" and isinstance(loc[1], int):
        owner = state.line_owner.get(loc[1])
        line = state.lines[loc[1]]
        key = "/".join(str(line.get(k)) for k in LINE_KEYS if line.get(k))
        msg = f"line {key}: {msg}"
    elif len(loc) >= 2 and loc[0] == "localities" and isinstance(loc[1], int):
        owner = state.locality_owner.get(loc[1])
    elif loc and loc[0] == "rules":
        owner = state.rules_owner
    out = dict(err)
    out["msg"] = msg
    if owner is not None:
        out["loc"] = ("changes", owner, *loc)
    return out


def _as_list(changes: Sequence[Any]) -> list[Any]:
    """``with_changes(a, b)`` and ``with_changes([a, b])`` both work."""
    if len(changes) == 1 and isinstance(changes[0], (list, tuple)):
        return list(changes[0])
    return list(changes)
