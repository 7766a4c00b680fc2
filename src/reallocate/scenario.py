"""Scenario: the typed input of a reallocation (pydantic v2), and its exact integer view.

The JSON form of ``Scenario`` is a public contract (see README). Amounts are decimals in the
scenario's ``unit``; every amount must be an exact multiple of ``precision``. After validation the
scenario also carries a ``LineTable``: the same lines as numpy integer arrays counted in units
of ``precision``, which is what the optimiser works on.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    StrictBool,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from .errors import ScenarioError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LINE_KEYS",
    "Amount",
    "Line",
    "LineTable",
    "Locality",
    "Rules",
    "Scenario",
    "TransferCost",
    "load",
]

#: The attributes that identify a line, in order. ``pool_by`` may name any of them.
LINE_KEYS: tuple[str, ...] = ("locality", "program", "fund", "component")
AMOUNT_FIELDS: tuple[str, ...] = ("allocated", "disbursed", "capacity", "floor", "ceiling")
#: A line's flags: at most one of them is true.
LINE_FLAGS: tuple[str, ...] = ("frozen", "give_only", "receive_only")

# Integer units must stay exact in int64 sums; 2**62 leaves head-room for sums of two totals.
_MAX_UNITS = 2**62
_EXACT = Context(prec=80)

Amount = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
"""A money amount: a finite decimal >= 0, given as a JSON number or string."""


def _not_bool(value: Any) -> Any:
    # JSON true/false are not numbers; pydantic would read them as 1.0 / 0.0
    if isinstance(value, bool):
        raise PydanticCustomError("float_type", "Input should be a number, not a boolean")
    return value


# constraints before the validator, so the JSON Schema says minimum / maximum
Number = Annotated[float, Field(ge=0, allow_inf_nan=False), BeforeValidator(_not_bool)]
"""A finite number >= 0 (weights, costs)."""

Rate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), BeforeValidator(_not_bool)]
"""A fraction in [0, 1] (disbursement rates, shares)."""

PoolAttribute = Literal["locality", "program", "fund", "component"]
Share = Literal["proportional", "priority"]

_STRICT = ConfigDict(extra="forbid", frozen=True)


class Limit(BaseModel):
    """A limit on what a locality may lose or gain in one review: an ``amount``, or a ``share`` of
    the locality's total allocation (e.g. ``{"share": 0.3}``: at most 30%). Exactly one of them."""

    model_config = _STRICT

    amount: Amount | None = None
    share: Rate | None = None

    @model_validator(mode="after")
    def _one(self) -> Limit:
        if (self.amount is None) == (self.share is None):
            raise ValueError("give exactly one of 'amount' or 'share'")
        return self


class Locality(BaseModel):
    """A unit that holds allocation lines (district, commune, province...)."""

    model_config = _STRICT

    id: str = Field(min_length=1, pattern=r"\S", description="Identifier used by lines and transfer costs.")
    name: str | None = Field(default=None, description="Display name, e.g. 'Nam Trà My'.")
    weight: Number = Field(
        default=1.0,
        description="Priority weight: with 'priority' rules, higher weight receives first and gives last.",
    )
    tags: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Free attributes, e.g. {'mountainous': true}."
    )
    max_loss: Limit | None = Field(default=None, description="Overrides rules.max_loss for this locality.")
    max_gain: Limit | None = Field(default=None, description="Overrides rules.max_gain for this locality.")

    @property
    def label(self) -> str:
        """The name when there is one, else the id."""
        return self.name or self.id


class Line(BaseModel):
    """One allocation: (locality, program, fund, component) with its amounts."""

    model_config = _STRICT

    locality: str = Field(min_length=1, pattern=r"\S")
    program: str = Field(min_length=1, pattern=r"\S")
    fund: str = Field(min_length=1, pattern=r"\S", description="e.g. 'investment' or 'recurrent'.")
    component: str = Field(default="", description="Optional sub-line (project, component).")
    allocated: Amount = Field(description="Current plan amount.")
    disbursed: Amount = Field(default=Decimal(0), description="Already paid out; never moves.")
    capacity: Amount = Field(description="What the line can disburse by the deadline if funded.")
    floor: Amount | None = Field(
        default=None, description="Least the line must keep (signed contracts); defaults to disbursed."
    )
    ceiling: Amount | None = Field(default=None, description="Most the line may hold after the moves.")
    frozen: StrictBool = Field(default=False, description="Neither gives nor receives.")
    give_only: StrictBool = Field(default=False, description="May give its surplus, never receives.")
    receive_only: StrictBool = Field(default=False, description="May receive up to its room, never gives.")

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.locality, self.program, self.fund, self.component)


class Target(BaseModel):
    """A disbursement-rate target for the lines matching every attribute given (e.g. a program)."""

    model_config = _STRICT

    rate: Rate = Field(
        description="Expected disbursement (absorbable / what the matching lines hold after the moves) must reach this."
    )
    locality: str | None = None
    program: str | None = None
    fund: str | None = None
    component: str | None = None

    @property
    def selector(self) -> dict[str, str]:
        return {k: v for k in LINE_KEYS if (v := getattr(self, k)) is not None}

    def label(self) -> str:
        sel = self.selector
        return "all lines" if not sel else ", ".join(f"{k} {v}" for k, v in sel.items())


class Rules(BaseModel):
    """How money may move and how it is shared."""

    model_config = _STRICT

    pool_by: tuple[PoolAttribute, ...] = Field(
        default=("program", "fund"),
        description="Money moves only between lines equal on these attributes.",
    )
    recipients: Share = Field(
        default="proportional",
        description="When room exceeds surplus: 'proportional' (same share of room) or 'priority' "
        "(highest locality weight first).",
    )
    donors: Share = Field(
        default="proportional",
        description="When surplus exceeds room: 'proportional' (same share of surplus) or 'priority' "
        "(lowest locality weight gives first).",
    )
    min_transfer: Amount = Field(default=Decimal(0), description="Every transfer is 0 or at least this amount.")
    move_costs: dict[PoolAttribute, Number] = Field(
        default_factory=dict,
        description="Cost per unit moved for each attribute a move changes, e.g. {'program': 5, 'locality': 1}; "
        "added to transfer_costs.",
    )
    max_loss: Limit | None = Field(default=None, description="Most any locality may lose (net, over all its lines).")
    max_gain: Limit | None = Field(default=None, description="Most any locality may gain (net, over all its lines).")
    max_transfers_per_line: Annotated[int, Field(ge=1, strict=True)] | None = Field(
        default=None, description="Each line takes part in at most this many transfers."
    )
    target_rate: Rate | None = Field(
        default=None, description="Expected disbursement of all lines must reach this rate (e.g. 1.0 for 100%)."
    )
    targets: tuple[Target, ...] = Field(
        default=(), description="Rates that the lines matching each selector must reach, e.g. per program."
    )


class TransferCost(BaseModel):
    """Cost per unit moved from one locality to another (default 0 for pairs not listed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    from_: str = Field(alias="from", min_length=1)
    to: str = Field(min_length=1)
    cost: Number = Field(description="Cost per unit moved (in the scenario unit).")


@dataclass(frozen=True, eq=False)
class LineTable:
    """The scenario's lines as arrays, amounts in integer units of ``precision``.

    ``surplus`` and ``room`` follow DOMAIN.md: surplus = allocated - max(capacity, floor) and
    room = min(capacity, ceiling) - allocated, each clipped at 0. A line never has both.
    """

    allocated: np.ndarray
    disbursed: np.ndarray
    capacity: np.ndarray
    floor: np.ndarray
    surplus: np.ndarray
    room: np.ndarray
    pool: np.ndarray  # pool index of each line
    pool_keys: list[tuple[str, ...]]  # pool index -> values of the pool_by attributes
    locality: np.ndarray  # locality index of each line
    locality_ids: list[str]
    weight: np.ndarray  # locality weight of each line
    keys: list[tuple[str, str, str, str]]  # (locality, program, fund, component) of each line
    frozen: np.ndarray  # bool: neither gives nor receives
    give_only: np.ndarray  # bool: never receives
    receive_only: np.ndarray  # bool: never gives
    has_ceiling: np.ndarray  # bool: the line has a ceiling
    ceiling: np.ndarray  # its ceiling in units (0 where it has none)

    @property
    def size(self) -> int:
        return int(self.allocated.shape[0])

    @property
    def absorbable(self) -> np.ndarray:
        """What each line is expected to disburse with its current allocation."""
        return np.minimum(self.allocated, self.capacity)


def _issue(loc: tuple[str | int, ...], kind: str, message: str, value: Any) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError(kind, "{message}", {"message": message}),
        loc=loc,
        input=value,
    )


def _units(value: Decimal, precision: Decimal) -> int | None:
    """``value / precision`` as an int, or None when it is not a whole number of units."""
    q = _EXACT.divide(value, precision)
    if q != q.to_integral_value(context=_EXACT):
        return None
    return int(q)


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


class Scenario(BaseModel):
    """A reallocation scenario: lines, optional localities, rules and transfer costs.

    Build one from JSON ([`load`][reallocate.load],
    [`from_json`][reallocate.Scenario.from_json]), from pandas
    ([`from_frames`][reallocate.Scenario.from_frames]) or
    directly from Python objects. Invalid input raises pydantic's ``ValidationError`` (or
    [`ScenarioError`][reallocate.ScenarioError] from the helpers), listing every problem with its path.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, title="Scenario")

    name: str = Field(min_length=1, description="Scenario name, shown in reports.")
    unit: str = Field(default="million VND", min_length=1, description="Unit of every amount.")
    precision: Decimal = Field(
        default=Decimal(1),
        gt=0,
        allow_inf_nan=False,
        description="Smallest amount: every amount is a multiple of it.",
    )
    localities: tuple[Locality, ...] | None = Field(
        default=None, description="Optional: names, weights and tags of localities."
    )
    # "at least one line" is a cross-field check (pydantic's min_length would also fire when every
    # line is invalid, hiding the real problems); the schema still says minItems 1.
    lines: tuple[Line, ...] = Field(description="Allocation lines; at least one.", json_schema_extra={"minItems": 1})
    rules: Rules = Field(default_factory=Rules)
    transfer_costs: tuple[TransferCost, ...] | None = Field(
        default=None, description="Optional cost per unit moved between localities."
    )

    _table: LineTable | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        # equal inputs are equal scenarios (the cached line table is derived, not compared)
        return type(other) is type(self) and self.__dict__ == other.__dict__

    __hash__ = BaseModel.__hash__

    # ----------------------------------------------------------------------------------- checks
    @model_validator(mode="wrap")
    @classmethod
    def _check(cls, data: Any, handler: ModelWrapValidatorHandler[Scenario]) -> Scenario:
        """Field checks (pydantic) and cross-field checks (ours), all reported together.

        When some fields are invalid, the cross-field checks still run on every part that is valid
        on its own (each line, locality, rule), so one bad amount never hides a duplicate line.
        """
        try:
            model = handler(data)
        except ValidationError as exc:
            field_errors = exc.errors(include_url=False)
            bad = {tuple(e["loc"][:3]) for e in field_errors}
            parts = _Parts.from_raw(data)
            extra = _cross_checks(parts, bad)[0] if parts is not None else []
            if not extra:
                raise
            raise ValidationError.from_exception_data(
                cls.__name__, [*(_reissue(e) for e in field_errors), *extra]
            ) from None
        issues, table = _cross_checks(_Parts.from_model(model), set())
        if issues:
            raise ValidationError.from_exception_data(cls.__name__, issues)
        assert table is not None
        model._table = table
        return model

    # ------------------------------------------------------------------------------ accessors
    @property
    def table(self) -> LineTable:
        """The lines as integer arrays (units of ``precision``); built once at validation."""
        assert self._table is not None  # set by the validator
        return self._table

    def locality_labels(self) -> dict[str, str]:
        """Display label of every locality id (its name when given)."""
        labels = {lid: lid for lid in self.table.locality_ids}
        for loc in self.localities or ():
            labels[loc.id] = loc.label
        return labels

    def to_amount(self, units: int) -> Decimal:
        """Integer units -> exact decimal amount in the scenario unit."""
        return _EXACT.multiply(Decimal(int(units)), self.precision)

    # --------------------------------------------------------------------------- constructors
    @classmethod
    def model_validate_json(  # type: ignore[override]
        cls,
        json_data: str | bytes | bytearray,
        *,
        strict: bool | None = None,
        extra: Any = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Scenario:
        """Validate JSON text, reading numbers exactly as decimals (never through binary floats)."""
        data = _parse_json(json_data)
        return cls.model_validate(data, strict=strict, context=context, by_alias=by_alias, by_name=by_name)

    @classmethod
    def from_json(cls, text: str | bytes) -> Scenario:
        """Parse and validate a JSON scenario; raises [`ScenarioError`][reallocate.ScenarioError]
        listing every problem."""
        try:
            data = _parse_json(text)
        except ValueError as exc:
            raise ScenarioError([{"loc": (), "msg": f"not valid JSON: {exc}", "type": "json_invalid"}]) from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> Scenario:
        """Validate a plain Python structure; raises [`ScenarioError`][reallocate.ScenarioError]
        listing every problem."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ScenarioError([dict(e) for e in exc.errors(include_url=False)]) from None

    @classmethod
    def from_frames(
        cls,
        lines: pd.DataFrame,
        localities: pd.DataFrame | None = None,
        rules: Rules | Mapping[str, Any] | None = None,
        *,
        name: str = "scenario",
        unit: str = "million VND",
        precision: Decimal | int | str = 1,
        transfer_costs: pd.DataFrame | Iterable[Mapping[str, Any]] | None = None,
    ) -> Scenario:
        """Build a scenario from pandas frames (one row per line / locality).

        ``lines`` needs the columns locality, program, fund, allocated, capacity and may have
        component, disbursed, floor, ceiling, frozen, give_only, receive_only (empty cells mean
        "not given"). ``localities`` needs
        ``id`` and may have name, weight; any other column becomes a tag. Errors point at row
        positions (``lines[3].capacity``) and raise [`ScenarioError`][reallocate.ScenarioError].
        """
        errors: list[dict[str, Any]] = []
        line_rows = _frame_records(
            lines,
            "lines",
            ("locality", "program", "fund", "allocated", "capacity"),
            {*LINE_KEYS, *AMOUNT_FIELDS, *LINE_FLAGS},
            errors,
            tags=False,
        )
        loc_rows = None
        if localities is not None:
            loc_rows = _frame_records(localities, "localities", ("id",), {"id", "name", "weight"}, errors, tags=True)
        tc_rows: list[dict[str, Any]] | None = None
        if transfer_costs is not None:
            import pandas as pd

            if isinstance(transfer_costs, pd.DataFrame):
                tc_rows = _frame_records(
                    transfer_costs,
                    "transfer_costs",
                    ("from", "to", "cost"),
                    {"from", "to", "cost"},
                    errors,
                    tags=False,
                )
            else:
                tc_rows = [dict(r) for r in transfer_costs]
        if errors:
            raise ScenarioError(errors)
        data: dict[str, Any] = {"name": name, "unit": unit, "precision": precision, "lines": line_rows}
        if loc_rows is not None:
            data["localities"] = loc_rows
        if rules is not None:
            data["rules"] = rules
        if tc_rows is not None:
            data["transfer_costs"] = tc_rows
        return cls.from_dict(data)

    def with_changes(self, *changes: Any, name: str | None = None) -> Scenario:
        """A new scenario: this one with what-if ``changes`` applied in order (change models from
        :mod:`reallocate.whatif` or plain dicts, given one by one or as one list). This scenario
        is never modified. See :func:`reallocate.whatif.apply_changes`.

        >>> scenario.with_changes({"kind": "scale_capacity", "where": {"tag": {"mountainous": True}},
        ...                        "factor": 1.2})  # doctest: +SKIP
        """
        from .whatif import _as_list, apply_changes

        return apply_changes(self, _as_list(changes), name=name)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The scenario in its public JSON form (amounts as exact JSON numbers)."""
        from ._json import dumps

        return dumps(self.model_dump(by_alias=True, exclude_none=True), indent=indent)


def _reissue(err: Any) -> InitErrorDetails:
    """A pydantic error (as reported) back into an error that can be raised again."""
    detail: dict[str, Any] = {"type": err["type"], "loc": tuple(err["loc"]), "input": err.get("input")}
    if err.get("ctx"):
        detail["ctx"] = err["ctx"]
    if err["type"] in ("value_error", "assertion_error") or ("ctx" not in detail and err["type"] not in _KNOWN):
        return _issue(tuple(err["loc"]), err["type"], err["msg"], err.get("input"))
    return detail  # type: ignore[return-value]


# pydantic error types that can be re-raised by name without a context
_KNOWN = {
    "missing",
    "extra_forbidden",
    "finite_number",
    "decimal_parsing",
    "decimal_type",
    "string_type",
    "float_parsing",
    "float_type",
    "list_type",
    "tuple_type",
    "dict_type",
    "model_type",
    "model_attributes_type",
    "bool_type",
    "int_type",
    "json_invalid",
}


@dataclass
class _Parts:
    """The parts of a scenario that are valid on their own (``None`` when absent or invalid)."""

    precision: Decimal | None
    lines: list[tuple[int, Line]]
    n_lines: int
    localities: list[tuple[int, Locality]] | None
    locality_ids: set[str]
    rules: Rules | None
    transfer_costs: list[tuple[int, TransferCost]]

    @classmethod
    def from_model(cls, m: Scenario) -> _Parts:
        return cls(
            precision=m.precision,
            lines=list(enumerate(m.lines)),
            n_lines=len(m.lines),
            localities=None if m.localities is None else list(enumerate(m.localities)),
            locality_ids=set(),
            rules=m.rules,
            transfer_costs=list(enumerate(m.transfer_costs or ())),
        )

    @classmethod
    def from_raw(cls, data: Any) -> _Parts | None:
        if isinstance(data, Scenario):
            return cls.from_model(data)
        if not isinstance(data, Mapping):
            return None

        def each(raw: Any, model: type[BaseModel]) -> tuple[list[tuple[int, Any]], int] | None:
            if not isinstance(raw, (list, tuple)):
                return None
            good = []
            for i, item in enumerate(raw):
                with contextlib.suppress(ValidationError):
                    good.append((i, model.model_validate(item)))
            return good, len(raw)

        try:
            precision: Decimal | None = _PRECISION.validate_python(data.get("precision", Decimal(1)))
        except ValidationError:
            precision = None
        lines = each(data.get("lines"), Line) or ([], -1)
        raw_locs = data.get("localities")
        locs = each(raw_locs, Locality) if raw_locs is not None else None
        ids = (
            {r.get("id") for r in raw_locs if isinstance(r, Mapping) and isinstance(r.get("id"), str)}
            if isinstance(raw_locs, (list, tuple))
            else set()
        )
        try:
            rules: Rules | None = Rules.model_validate(data.get("rules", {}))
        except ValidationError:
            rules = None
        costs = each(data.get("transfer_costs") or [], TransferCost) or ([], 0)
        return cls(
            precision=precision,
            lines=lines[0],
            n_lines=lines[1],
            localities=None if locs is None else locs[0],
            locality_ids={str(i) for i in ids},
            rules=rules,
            transfer_costs=costs[0],
        )


_PRECISION: TypeAdapter[Decimal] = TypeAdapter(Annotated[Decimal, Field(gt=0, allow_inf_nan=False)])


def _cross_checks(parts: _Parts, bad: set[tuple[Any, ...]]) -> tuple[list[InitErrorDetails], LineTable | None]:
    """Every rule that spans fields, lines or tables. ``bad`` holds the locations pydantic already
    rejected (those fields are not checked again). Returns the problems, and the line table when
    there are none."""
    issues: list[InitErrorDetails] = []
    if parts.n_lines == 0:
        issues.append(_issue(("lines",), "too_short", "at least one line is required", []))
    precision = parts.precision
    lines = parts.lines
    n = len(lines)
    pos = [i for i, _ in lines]
    cols: dict[str, list[int]] = {f: [0] * n for f in AMOUNT_FIELDS}
    unusable = np.zeros(n, dtype=bool)  # a field of the line is not a valid number of units
    given: dict[str, np.ndarray] = {}
    for f in AMOUNT_FIELDS:
        values: list[Decimal | None] = [getattr(line, f) for _, line in lines]
        given[f] = np.array([v is not None for v in values], dtype=bool)
        if precision is None:
            continue
        units = cols[f]
        unit_one = precision == 1
        for k, v in enumerate(values):
            if v is None:
                continue
            u: int | None
            if unit_one:
                u = int(v)
                if u != v:
                    u = None
            else:
                u = _units(v, precision)
            where = ("lines", pos[k], f)
            if u is None:
                issues.append(
                    _issue(
                        where,
                        "not_multiple_of_precision",
                        f"{f} {_fmt(v)} is not a multiple of precision {_fmt(precision)}",
                        str(v),
                    )
                )
                unusable[k] = True
            elif u >= _MAX_UNITS:
                issues.append(
                    _issue(
                        where,
                        "amount_too_large",
                        f"{f} {_fmt(v)} is too large: it must stay below 2^62 units of precision "
                        f"{_fmt(precision)} (use a larger precision or unit)",
                        str(v),
                    )
                )
                unusable[k] = True
            else:
                units[k] = u

    allocated = np.array(cols["allocated"], dtype=np.int64)
    disbursed = np.array(cols["disbursed"], dtype=np.int64)
    capacity = np.array(cols["capacity"], dtype=np.int64)
    floor_given = np.array(cols["floor"], dtype=np.int64)
    ceiling_given = np.array(cols["ceiling"], dtype=np.int64)
    floor = np.where(given["floor"], floor_given, disbursed)
    usable = ~unusable if precision is not None else np.zeros(n, dtype=bool)

    def relation(mask: np.ndarray, field: str, kind: str, text: str) -> None:
        for k in np.flatnonzero(mask & usable).tolist():
            line = lines[k][1]
            value = getattr(line, field)
            issues.append(_issue(("lines", pos[k], field), kind, text.format(line=line, v=_fmt(value)), str(value)))

    relation(
        disbursed > allocated,
        "disbursed",
        "disbursed_above_allocated",
        "disbursed {v} exceeds allocated {line.allocated}",
    )
    relation(
        capacity < disbursed, "capacity", "capacity_below_disbursed", "capacity {v} is below disbursed {line.disbursed}"
    )
    relation(
        given["floor"] & (floor_given < disbursed),
        "floor",
        "floor_below_disbursed",
        "floor {v} is below disbursed {line.disbursed}",
    )
    relation(
        given["floor"] & (floor_given > allocated),
        "floor",
        "floor_above_allocated",
        "floor {v} exceeds allocated {line.allocated}",
    )
    relation(
        given["ceiling"] & (ceiling_given < allocated),
        "ceiling",
        "ceiling_below_allocated",
        "ceiling {v} is below allocated {line.allocated}",
    )

    # Totals must stay exact in int64 arithmetic.
    if precision is not None:
        for f, arr in (("allocated", allocated), ("capacity", capacity)):
            if int(np.sum(arr, dtype=object)) >= _MAX_UNITS:
                issues.append(
                    _issue(
                        ("lines",),
                        "amount_too_large",
                        f"total {f} is too large: it must stay below 2^62 units of precision "
                        f"{_fmt(precision)} (use a larger precision or unit)",
                        None,
                    )
                )

    # Keys unique.
    keys = list(zip(*([getattr(line, a) for _, line in lines] for a in LINE_KEYS), strict=True)) if n else []
    first_seen: dict[tuple[str, ...], int] = {}
    for k, key in enumerate(keys):
        if key in first_seen:
            issues.append(
                _issue(
                    ("lines", pos[k]),
                    "duplicate_line",
                    f"duplicate line {'/'.join(x for x in key if x)}: same (locality, program, fund, component) "
                    f"as lines[{first_seen[key]}]",
                    None,
                )
            )
        else:
            first_seen[key] = pos[k]

    # Flags: at most one per line.
    for i, line in lines:
        flags = [f for f in LINE_FLAGS if getattr(line, f)]
        if len(flags) > 1:
            issues.append(
                _issue(
                    ("lines", i, flags[1]),
                    "conflicting_flags",
                    f"a line can be only one of frozen, give_only, receive_only; this one is {' and '.join(flags)}",
                    True,
                )
            )

    # Localities.
    if parts.localities is not None:
        seen_ids: dict[str, int] = {}
        for j, loc in parts.localities:
            if loc.id in seen_ids:
                issues.append(
                    _issue(
                        ("localities", j, "id"),
                        "duplicate_locality",
                        f"duplicate locality id {loc.id!r} (also localities[{seen_ids[loc.id]}])",
                        loc.id,
                    )
                )
            else:
                seen_ids[loc.id] = j
        known = set(seen_ids) | parts.locality_ids
        for i, line in lines:
            if line.locality not in known:
                issues.append(
                    _issue(
                        ("lines", i, "locality"),
                        "unknown_locality",
                        f"locality {line.locality!r} is not listed in localities",
                        line.locality,
                    )
                )
    else:
        known = {line.locality for _, line in lines}

    # Rules.
    if parts.rules is not None:
        seen_attr: set[str] = set()
        for p_, attr in enumerate(parts.rules.pool_by):
            if attr in seen_attr:
                issues.append(
                    _issue(("rules", "pool_by", p_), "duplicate_pool_by", f"pool_by names {attr!r} twice", attr)
                )
            seen_attr.add(attr)
        for t, target in enumerate(parts.rules.targets):
            sel = target.selector
            if n and not any(all(getattr(line, a) == v for a, v in sel.items()) for _, line in lines):
                issues.append(
                    _issue(
                        ("rules", "targets", t),
                        "target_matches_nothing",
                        f"target for {target.label()} matches no line",
                        None,
                    )
                )
        limits: list[tuple[tuple[str | int, ...], Limit | None]] = [
            (("rules", "max_loss"), parts.rules.max_loss),
            (("rules", "max_gain"), parts.rules.max_gain),
        ]
        limits += [
            (("localities", j, name), getattr(loc, name))
            for j, loc in parts.localities or ()
            for name in ("max_loss", "max_gain")
        ]
        for limit_at, limit in limits:
            amount = None if limit is None else limit.amount
            if precision is not None and amount is not None and _units(amount, precision) is None:
                issues.append(
                    _issue(
                        (*limit_at, "amount"),
                        "not_multiple_of_precision",
                        f"amount {_fmt(amount)} is not a multiple of precision {_fmt(precision)}",
                        str(amount),
                    )
                )
        mt = parts.rules.min_transfer
        if precision is not None and (_units(mt, precision) or 0) >= _MAX_UNITS:
            issues.append(
                _issue(
                    ("rules", "min_transfer"),
                    "amount_too_large",
                    f"min_transfer {_fmt(mt)} is too large: it must stay below 2^62 units of precision",
                    str(mt),
                )
            )
        seen_targets: dict[tuple[tuple[str, str], ...], int] = {}
        for t_pos, target in enumerate(parts.rules.targets):
            key = tuple(sorted(target.selector.items()))
            if key in seen_targets:
                issues.append(
                    _issue(
                        ("rules", "targets", t_pos),
                        "duplicate_target",
                        f"a second target for {target.label()} (also rules.targets[{seen_targets[key]}])",
                        None,
                    )
                )
            seen_targets.setdefault(key, t_pos)
        for attr in parts.rules.move_costs:
            if attr in parts.rules.pool_by:
                issues.append(
                    _issue(
                        ("rules", "move_costs", attr),
                        "move_cost_never_applies",
                        f"move_costs.{attr} can never apply: pool_by keeps {attr} the same in every move",
                        parts.rules.move_costs[attr],
                    )
                )
        if precision is not None and _units(mt, precision) is None:
            issues.append(
                _issue(
                    ("rules", "min_transfer"),
                    "not_multiple_of_precision",
                    f"min_transfer {_fmt(mt)} is not a multiple of precision {_fmt(precision)}",
                    str(mt),
                )
            )

    # Transfer costs.
    pairs: dict[tuple[str, str], int] = {}
    for j, tc in parts.transfer_costs:
        for field, value in (("from", tc.from_), ("to", tc.to)):
            if value not in known:
                issues.append(
                    _issue(
                        ("transfer_costs", j, field),
                        "unknown_locality",
                        f"{field} locality {value!r} is not a locality of this scenario",
                        value,
                    )
                )
        pair = (tc.from_, tc.to)
        if pair in pairs:
            issues.append(
                _issue(
                    ("transfer_costs", j),
                    "duplicate_transfer_cost",
                    f"duplicate cost for {tc.from_!r} -> {tc.to!r} (also transfer_costs[{pairs[pair]}])",
                    None,
                )
            )
        else:
            pairs[pair] = j

    if issues or parts.rules is None or precision is None:
        return issues, None
    localities = [loc for _, loc in parts.localities] if parts.localities is not None else None
    line_flags = {f: np.array([getattr(line, f) for _, line in lines], dtype=bool) for f in LINE_FLAGS}
    table = _build_table(
        keys,
        localities,
        parts.rules,
        allocated,
        disbursed,
        capacity,
        floor,
        ceiling_given,
        given["ceiling"],
        line_flags,
    )
    return issues, table


def _build_table(
    keys: list[tuple[str, ...]],
    localities: list[Locality] | None,
    rules: Rules,
    allocated: np.ndarray,
    disbursed: np.ndarray,
    capacity: np.ndarray,
    floor: np.ndarray,
    ceiling: np.ndarray,
    has_ceiling: np.ndarray,
    flags: dict[str, np.ndarray],
) -> LineTable:
    holdable = np.where(has_ceiling, np.minimum(capacity, ceiling), capacity)
    surplus = np.maximum(allocated - np.maximum(capacity, floor), 0)
    room = np.maximum(holdable - allocated, 0)

    positions = [LINE_KEYS.index(a) for a in rules.pool_by]
    pool_index: dict[tuple[str, ...], int] = {}
    pool = np.array(
        [pool_index.setdefault(tuple(k[p] for p in positions), len(pool_index)) for k in keys], dtype=np.int64
    )
    loc_index: dict[str, int] = {}
    for loc in localities or ():
        loc_index.setdefault(loc.id, len(loc_index))
    locality = np.array([loc_index.setdefault(k[0], len(loc_index)) for k in keys], dtype=np.int64)
    loc_weight = np.ones(len(loc_index), dtype=np.float64)
    for loc in localities or ():
        loc_weight[loc_index[loc.id]] = loc.weight
    return LineTable(
        allocated=allocated,
        disbursed=disbursed,
        capacity=capacity,
        floor=floor,
        surplus=surplus,
        room=room,
        pool=pool,
        pool_keys=list(pool_index),
        locality=locality,
        locality_ids=list(loc_index),
        weight=loc_weight[locality],
        keys=keys,  # type: ignore[arg-type]
        frozen=flags["frozen"],
        give_only=flags["give_only"],
        receive_only=flags["receive_only"],
        has_ceiling=has_ceiling,
        ceiling=np.where(has_ceiling, ceiling, 0),
    )


def _frame_records(
    frame: pd.DataFrame,
    where: str,
    required: Sequence[str],
    allowed: set[str],
    errors: list[dict[str, Any]],
    *,
    tags: bool,
) -> list[dict[str, Any]]:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        errors.append(
            {
                "loc": (where,),
                "msg": f"{where} table is missing column{'s' if len(missing) > 1 else ''} "
                + ", ".join(repr(c) for c in missing),
                "type": "missing_column",
            }
        )
        return []
    extra = [str(c) for c in frame.columns if c not in allowed]
    if extra and not tags:
        errors.append(
            {
                "loc": (where,),
                "msg": f"{where} table has unknown column{'s' if len(extra) > 1 else ''} "
                + ", ".join(repr(c) for c in extra),
                "type": "extra_column",
            }
        )
        return []
    records = []
    for raw in frame.to_dict(orient="records"):
        row: dict[str, Any] = {}
        row_tags: dict[str, Any] = {}
        for key, value in raw.items():
            if _is_missing(value):
                continue
            value = _plain(value)
            if str(key) in allowed:
                row[str(key)] = value
            else:
                row_tags[str(key)] = value
        if tags and row_tags:
            row["tags"] = row_tags
        records.append(row)
    return records


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, (str, Decimal)) else False
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars, so pydantic sees ints, floats, bools and strs."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _reject_constant(name: str) -> Any:
    # NaN / Infinity are not JSON; pass them on as floats so validation names the field.
    return float(name)


def _parse_json(text: str | bytes | bytearray) -> Any:
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8-sig")
    elif text.startswith("\ufeff"):
        text = text[1:]
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except InvalidOperation as exc:  # pragma: no cover - json validates number syntax first
        raise ValueError(str(exc)) from None


def load(path: str | Path) -> Scenario:
    """Read a JSON scenario file. Raises [`ScenarioError`][reallocate.ScenarioError] (every problem
    listed) or ``OSError``."""
    data = Path(path).read_bytes()
    return Scenario.from_json(data)
