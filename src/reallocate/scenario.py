"""Scenario: the typed input of a reallocation (pydantic v2), and its exact integer view.

The JSON form of :class:`Scenario` is a public contract (see README). Amounts are decimals in the
scenario's ``unit``; every amount must be an exact multiple of ``precision``. After validation the
scenario also carries a :class:`LineTable`: the same lines as numpy integer arrays counted in units
of ``precision``, which is what the optimiser works on.
"""

from __future__ import annotations

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
    ConfigDict,
    Field,
    PrivateAttr,
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

# Integer units must stay exact in int64 sums; 2**62 leaves head-room for sums of two totals.
_MAX_UNITS = 2**62
_EXACT = Context(prec=80)

Amount = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
"""A money amount: a finite decimal >= 0, given as a JSON number or string."""

PoolAttribute = Literal["locality", "program", "fund", "component"]
Share = Literal["proportional", "priority"]

_STRICT = ConfigDict(extra="forbid", frozen=True)


class Locality(BaseModel):
    """A unit that holds allocation lines (district, commune, province...)."""

    model_config = _STRICT

    id: str = Field(min_length=1, description="Identifier used by lines and transfer costs.")
    name: str | None = Field(default=None, description="Display name, e.g. 'Nam Trà My'.")
    weight: float = Field(
        default=1.0,
        ge=0,
        allow_inf_nan=False,
        description="Priority weight: with 'priority' rules, higher weight receives first and gives last.",
    )
    tags: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Free attributes, e.g. {'mountainous': true}."
    )

    @property
    def label(self) -> str:
        """The name when there is one, else the id."""
        return self.name or self.id


class Line(BaseModel):
    """One allocation: (locality, program, fund, component) with its amounts."""

    model_config = _STRICT

    locality: str = Field(min_length=1)
    program: str = Field(min_length=1)
    fund: str = Field(min_length=1, description="e.g. 'investment' or 'recurrent'.")
    component: str = Field(default="", description="Optional sub-line (project, component).")
    allocated: Amount = Field(description="Current plan amount.")
    disbursed: Amount = Field(default=Decimal(0), description="Already paid out; never moves.")
    capacity: Amount = Field(description="What the line can disburse by the deadline if funded.")
    floor: Amount | None = Field(
        default=None, description="Least the line must keep (signed contracts); defaults to disbursed."
    )
    ceiling: Amount | None = Field(default=None, description="Most the line may hold after the moves.")

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.locality, self.program, self.fund, self.component)


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


class TransferCost(BaseModel):
    """Cost per unit moved from one locality to another (default 0 for pairs not listed)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: str = Field(alias="from", min_length=1)
    to: str = Field(min_length=1)
    cost: float = Field(ge=0, allow_inf_nan=False)


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

    Build one from JSON (:func:`load`, :meth:`from_json`), from pandas (:meth:`from_frames`) or
    directly from Python objects. Invalid input raises pydantic's ``ValidationError`` (or
    :class:`~reallocate.errors.ScenarioError` from the helpers), listing every problem with its path.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, title="Scenario")

    name: str = Field(description="Scenario name, shown in reports.")
    unit: str = Field(default="million VND", description="Unit of every amount.")
    precision: Decimal = Field(
        default=Decimal(1),
        gt=0,
        allow_inf_nan=False,
        description="Smallest amount: every amount is a multiple of it.",
    )
    localities: tuple[Locality, ...] | None = Field(
        default=None, description="Optional: names, weights and tags of localities."
    )
    lines: tuple[Line, ...] = Field(min_length=1, description="Allocation lines; at least one.")
    rules: Rules = Field(default_factory=Rules)
    transfer_costs: tuple[TransferCost, ...] | None = Field(
        default=None, description="Optional cost per unit moved between localities."
    )

    _table: LineTable | None = PrivateAttr(default=None)

    # ----------------------------------------------------------------------------------- checks
    @model_validator(mode="after")
    def _check(self) -> Scenario:
        issues: list[InitErrorDetails] = []
        precision = self.precision
        n = len(self.lines)
        cols: dict[str, list[int]] = {f: [0] * n for f in AMOUNT_FIELDS}
        has_floor = has_ceiling = np.zeros(n, dtype=bool)
        unit_one = precision == 1

        for f in AMOUNT_FIELDS:
            values: list[Decimal | None] = [getattr(line, f) for line in self.lines]
            units = cols[f]
            for i, v in enumerate(values):
                if v is None:
                    continue
                u: int | None
                if unit_one:
                    u = int(v)
                    if u != v:
                        u = None
                else:
                    u = _units(v, precision)
                if u is None:
                    issues.append(
                        _issue(
                            ("lines", i, f),
                            "not_multiple_of_precision",
                            f"{f} {_fmt(v)} is not a multiple of precision {_fmt(precision)}",
                            str(v),
                        )
                    )
                    u = 0
                elif u >= _MAX_UNITS:
                    issues.append(
                        _issue(
                            ("lines", i, f),
                            "amount_too_large",
                            f"{f} {_fmt(v)} is too large: it must stay below 2^62 units of precision "
                            f"{_fmt(precision)} (use a larger precision or unit)",
                            str(v),
                        )
                    )
                    u = 0
                units[i] = u
            if f == "floor":
                has_floor = np.array([v is not None for v in values], dtype=bool)
            elif f == "ceiling":
                has_ceiling = np.array([v is not None for v in values], dtype=bool)

        allocated = np.array(cols["allocated"], dtype=np.int64)
        disbursed = np.array(cols["disbursed"], dtype=np.int64)
        capacity = np.array(cols["capacity"], dtype=np.int64)
        floor_given = np.array(cols["floor"], dtype=np.int64)
        ceiling_given = np.array(cols["ceiling"], dtype=np.int64)
        floor = np.where(has_floor, floor_given, disbursed)

        def relation(mask: np.ndarray, field: str, kind: str, text: str) -> None:
            for i in np.flatnonzero(mask):
                line = self.lines[int(i)]
                value = getattr(line, field)
                issues.append(_issue(("lines", int(i), field), kind, text.format(line=line, v=_fmt(value)), str(value)))

        relation(
            disbursed > allocated,
            "disbursed",
            "disbursed_above_allocated",
            "disbursed {v} exceeds allocated {line.allocated}",
        )
        relation(
            capacity < disbursed,
            "capacity",
            "capacity_below_disbursed",
            "capacity {v} is below disbursed {line.disbursed}",
        )
        relation(
            has_floor & (floor_given < disbursed),
            "floor",
            "floor_below_disbursed",
            "floor {v} is below disbursed {line.disbursed}",
        )
        relation(
            has_floor & (floor_given > allocated),
            "floor",
            "floor_above_allocated",
            "floor {v} exceeds allocated {line.allocated}",
        )
        relation(
            has_ceiling & (ceiling_given < allocated),
            "ceiling",
            "ceiling_below_allocated",
            "ceiling {v} is below allocated {line.allocated}",
        )

        # Totals must stay exact in int64 arithmetic.
        for f, arr in (("allocated", allocated), ("capacity", capacity)):
            total = int(np.sum(arr, dtype=object))
            if total >= _MAX_UNITS:
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
        first_seen: dict[tuple[str, str, str, str], int] = {}
        keys = list(
            zip(
                *([getattr(line, a) for line in self.lines] for a in LINE_KEYS),
                strict=True,
            )
        )
        for i, k in enumerate(keys):
            if k in first_seen:
                issues.append(
                    _issue(
                        ("lines", i),
                        "duplicate_line",
                        f"duplicate line {'/'.join(x for x in k if x)}: same (locality, program, "
                        f"fund, component) as lines[{first_seen[k]}]",
                        None,
                    )
                )
            else:
                first_seen[k] = i

        # Localities.
        known: set[str]
        if self.localities is not None:
            seen_ids: dict[str, int] = {}
            for j, loc in enumerate(self.localities):
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
            known = set(seen_ids)
            for i, line in enumerate(self.lines):
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
            known = {line.locality for line in self.lines}

        # Rules.
        seen_attr: set[str] = set()
        for pos, attr in enumerate(self.rules.pool_by):
            if attr in seen_attr:
                issues.append(
                    _issue(("rules", "pool_by", pos), "duplicate_pool_by", f"pool_by names {attr!r} twice", attr)
                )
            seen_attr.add(attr)
        mt = self.rules.min_transfer
        if _units(mt, precision) is None:
            issues.append(
                _issue(
                    ("rules", "min_transfer"),
                    "not_multiple_of_precision",
                    f"min_transfer {_fmt(mt)} is not a multiple of precision {_fmt(precision)}",
                    str(mt),
                )
            )

        # Transfer costs.
        if self.transfer_costs is not None:
            pairs: dict[tuple[str, str], int] = {}
            for j, tc in enumerate(self.transfer_costs):
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

        if issues:
            raise ValidationError.from_exception_data("Scenario", issues)

        self._table = self._build_table(keys, allocated, disbursed, capacity, floor, ceiling_given, has_ceiling)
        return self

    def _build_table(
        self,
        keys: list[tuple[str, str, str, str]],
        allocated: np.ndarray,
        disbursed: np.ndarray,
        capacity: np.ndarray,
        floor: np.ndarray,
        ceiling: np.ndarray,
        has_ceiling: np.ndarray,
    ) -> LineTable:
        holdable = np.where(has_ceiling, np.minimum(capacity, ceiling), capacity)
        surplus = np.maximum(allocated - np.maximum(capacity, floor), 0)
        room = np.maximum(holdable - allocated, 0)

        positions = [LINE_KEYS.index(a) for a in self.rules.pool_by]
        pool_index: dict[tuple[str, ...], int] = {}
        pool = np.array(
            [pool_index.setdefault(tuple(k[p] for p in positions), len(pool_index)) for k in keys], dtype=np.int64
        )
        loc_index: dict[str, int] = {}
        for loc in self.localities or ():
            loc_index.setdefault(loc.id, len(loc_index))
        locality = np.array([loc_index.setdefault(k[0], len(loc_index)) for k in keys], dtype=np.int64)
        loc_weight = np.ones(len(loc_index), dtype=np.float64)
        for loc in self.localities or ():
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
        )

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
        """Parse and validate a JSON scenario; raises :class:`ScenarioError` listing every problem."""
        try:
            data = _parse_json(text)
        except ValueError as exc:
            raise ScenarioError([{"loc": (), "msg": f"not valid JSON: {exc}", "type": "json_invalid"}]) from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> Scenario:
        """Validate a plain Python structure; raises :class:`ScenarioError` listing every problem."""
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
        component, disbursed, floor, ceiling (empty cells mean "not given"). ``localities`` needs
        ``id`` and may have name, weight; any other column becomes a tag. Errors point at row
        positions (``lines[3].capacity``) and raise :class:`ScenarioError`.
        """
        errors: list[dict[str, Any]] = []
        line_rows = _frame_records(
            lines,
            "lines",
            ("locality", "program", "fund", "allocated", "capacity"),
            {*LINE_KEYS, *AMOUNT_FIELDS},
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

    def to_json(self, *, indent: int | None = 2) -> str:
        """The scenario in its public JSON form (amounts as exact JSON numbers)."""
        from ._json import dumps

        return dumps(self.model_dump(by_alias=True, exclude_none=True), indent=indent)


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
    """Read a JSON scenario file. Raises :class:`ScenarioError` (every problem listed) or ``OSError``."""
    data = Path(path).read_bytes()
    return Scenario.from_json(data)
