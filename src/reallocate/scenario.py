"""Scenario: the typed input of a reallocation, and its exact integer view.

The JSON form of ``Scenario`` is a public contract (see README). Amounts are decimals in the
scenario's ``unit``; every amount must be an exact multiple of ``precision``. The envelope (name,
unit, precision, localities, rules, transfer costs) is validated by pydantic; the lines, which may
number a million, are validated column by column (:mod:`reallocate.lines`) and kept as arrays
counted in whole units of ``precision``. The scenario also carries a ``LineTable``: what the
optimiser needs per line (surplus, room, pool, locality, weight), derived once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    ModelWrapValidatorHandler,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema

from ._decode import JSONError, parse_scenario_json
from .errors import ScenarioError
from .lines import (
    LINE_FIELDS,
    MAX_UNITS,
    Line,
    LineColumns,
    Lines,
    check_lines,
    check_relations,
    duplicates,
    fmt,
    issue,
    located,
    to_decimal,
)
from .rules import (
    AMOUNT_FIELDS,
    LINE_FLAGS,
    LINE_KEYS,
    Amount,
    Limit,
    Locality,
    Number,
    PoolAttribute,
    Rate,
    Rules,
    Share,
    Target,
    TransferCost,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AMOUNT_FIELDS",
    "LINE_FLAGS",
    "LINE_KEYS",
    "Amount",
    "Limit",
    "Line",
    "LineTable",
    "Lines",
    "Locality",
    "Number",
    "PoolAttribute",
    "Rate",
    "Rules",
    "Scenario",
    "Share",
    "Target",
    "TransferCost",
    "load",
]


class _LinesField:
    """The ``lines`` field: a ``Lines`` object inside, a JSON array of ``Line`` outside.

    The scenario's own validator turns whatever was given into ``Lines`` first (it needs the
    precision); this field only accepts the result, and writes lines back as a list of dicts.
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        rows = handler.generate_schema(list[Line])

        def accept(value: Any) -> Lines:
            if isinstance(value, Lines):
                return value
            raise PydanticCustomError("lines_type", "lines should be checked by the scenario")

        def dump(value: Lines, info: core_schema.SerializationInfo) -> Any:
            rows_out = value.to_rows(exclude_none=bool(info.exclude_none))
            return rows_out if info.mode == "python" else [_json_row(r) for r in rows_out]

        return core_schema.no_info_plain_validator_function(
            accept,
            json_schema_input_schema=rows,
            serialization=core_schema.plain_serializer_function_ser_schema(
                dump, info_arg=True, return_schema=core_schema.list_schema(core_schema.dict_schema())
            ),
        )


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()}


@dataclass(frozen=True, eq=False)
class LineTable:
    """What the optimiser needs per line, as arrays; amounts in integer units of ``precision``.

    ``surplus`` and ``room`` follow DOMAIN.md: surplus = allocated - max(capacity, floor) and
    room = min(capacity, ceiling) - allocated, each clipped at 0. A line never has both.
    """

    lines: Lines
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

    @property
    def keys(self) -> list[tuple[str, str, str, str]]:
        """(locality, program, fund, component) of each line (one tuple per line: for reports of
        modest size; the optimiser works on codes)."""
        return self.lines.keys()

    def key(self, i: int) -> tuple[str, str, str, str]:
        return self.lines.key(i)


class Scenario(BaseModel):
    """A reallocation scenario: lines, optional localities, rules and transfer costs.

    Build one from JSON ([`load`][reallocate.load],
    [`from_json`][reallocate.Scenario.from_json]), from pandas
    ([`from_frames`][reallocate.Scenario.from_frames]) or
    directly from Python objects. Invalid input raises pydantic's ``ValidationError`` (or
    [`ScenarioError`][reallocate.ScenarioError] from the helpers), listing every problem with its path.
    ``lines`` is a [`Lines`][reallocate.lines.Lines] object: columns of whole units, and a
    sequence of ``Line`` for convenience.
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
    lines: Annotated[Lines, _LinesField] = Field(
        description="Allocation lines; at least one.", json_schema_extra={"minItems": 1}
    )
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
        """Field checks (pydantic, and the line columns) and cross-field checks (ours), all
        reported together.

        When some fields are invalid, the cross-field checks still run on every part that is valid
        on its own (each line, locality, rule), so one bad amount never hides a duplicate line.
        """
        if isinstance(data, Scenario) or not isinstance(data, Mapping):
            return handler(data)
        precision = _valid_precision(data.get("precision", Decimal(1)))
        line_issues: list[InitErrorDetails] = []
        partial: Lines | None = None
        positions = np.zeros(0, dtype=np.int64)
        key_values: dict[str, list[str]] | None = None
        n_rows = -1
        raw_lines = data.get("lines")
        if "lines" in data and not isinstance(raw_lines, Lines):
            found = check_lines(raw_lines, precision)
            line_issues, partial, positions, n_rows = found.issues, found.partial, found.positions, found.n_rows
            key_values = found.key_values
            data = {**data, "lines": found.lines if found.lines is not None else _NO_LINES}
        elif isinstance(raw_lines, Lines):
            if precision is not None and raw_lines.precision != precision:
                found = check_lines(raw_lines.to_rows(), precision)
                line_issues, partial, positions = found.issues, found.partial, found.positions
                data = {**data, "lines": found.lines if found.lines is not None else _NO_LINES}
            else:
                line_issues = check_relations(raw_lines) + _duplicate_issues(raw_lines)
                partial, positions = raw_lines, np.arange(len(raw_lines))
                if line_issues:
                    data = {**data, "lines": _NO_LINES}
            n_rows = len(raw_lines)
        try:
            model = handler(data)
        except ValidationError as exc:
            field_errors = exc.errors(include_url=False)
            bad = {tuple(e["loc"][:3]) for e in field_errors}
            parts = _Parts.from_raw(data, partial, positions, n_rows, key_values)
            extra = _cross_checks(parts, bad)[0] if parts is not None else []
            raise ValidationError.from_exception_data(
                cls.__name__, [*(_reissue(e) for e in field_errors), *line_issues, *extra]
            ) from None
        if line_issues:
            parts = _Parts.from_model(model, partial, positions, n_rows, key_values)
            extra = _cross_checks(parts, set())[0]
            raise ValidationError.from_exception_data(cls.__name__, [*line_issues, *extra])
        issues, table = _cross_checks(
            _Parts.from_model(model, model.lines, np.arange(len(model.lines)), -1, None), set()
        )
        if issues:
            raise ValidationError.from_exception_data(cls.__name__, issues)
        assert table is not None
        model._table = table
        return model

    # ------------------------------------------------------------------------------ accessors
    @property
    def table(self) -> LineTable:
        """What the optimiser needs per line, as integer arrays; built once at validation."""
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
        return to_decimal(int(units), self.precision)

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
        data = parse_scenario_json(json_data)
        return cls.model_validate(data, strict=strict, context=context, by_alias=by_alias, by_name=by_name)

    @classmethod
    def from_json(cls, text: str | bytes) -> Scenario:
        """Parse and validate a JSON scenario; raises [`ScenarioError`][reallocate.ScenarioError]
        listing every problem."""
        try:
            data = parse_scenario_json(text)
        except JSONError as exc:
            raise ScenarioError([{"loc": (), "msg": f"not valid JSON: {exc}", "type": "json_invalid"}]) from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> Scenario:
        """Validate a plain Python structure; raises [`ScenarioError`][reallocate.ScenarioError]
        listing every problem. ``data["lines"]`` may be a list of rows or ``LineColumns``."""
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
        The lines are read column by column (no dict per row).
        """
        errors: list[dict[str, Any]] = []
        line_columns = _frame_columns(
            lines, "lines", ("locality", "program", "fund", "allocated", "capacity"), set(LINE_FIELDS), errors
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
        data: dict[str, Any] = {"name": name, "unit": unit, "precision": precision, "lines": line_columns}
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
        from .whatif import apply_changes, as_list

        return apply_changes(self, as_list(changes), name=name)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The scenario in its public JSON form (amounts as exact JSON numbers)."""
        from ._json import dumps

        return dumps(self.model_dump(by_alias=True, exclude_none=True), indent=indent)


# A stand-in while the lines have problems: the envelope is still validated, and the problems of
# both are reported together.
_NO_LINES = Lines(
    precision=Decimal(1),
    codes={k: np.zeros(0, dtype=np.int64) for k in LINE_KEYS},
    categories={k: () for k in LINE_KEYS},
    allocated=np.zeros(0, dtype=np.int64),
    disbursed=np.zeros(0, dtype=np.int64),
    capacity=np.zeros(0, dtype=np.int64),
    floor=np.zeros(0, dtype=np.int64),
    has_floor=np.zeros(0, dtype=bool),
    ceiling=np.zeros(0, dtype=np.int64),
    has_ceiling=np.zeros(0, dtype=bool),
    frozen=np.zeros(0, dtype=bool),
    give_only=np.zeros(0, dtype=bool),
    receive_only=np.zeros(0, dtype=bool),
)

_PRECISION: TypeAdapter[Decimal] = TypeAdapter(Annotated[Decimal, Field(gt=0, allow_inf_nan=False)])


def _valid_precision(value: Any) -> Decimal | None:
    try:
        return _PRECISION.validate_python(value)
    except ValidationError:
        return None


def _duplicate_issues(lines: Lines) -> list[InitErrorDetails]:
    return duplicates(
        {k: lines.codes(k) for k in LINE_KEYS},
        {k: lines.categories(k) for k in LINE_KEYS},
        np.arange(len(lines)),
    )


def _reissue(err: Any) -> InitErrorDetails:
    """A pydantic error (as reported) back into an error that can be raised again."""
    return located(err, ())


@dataclass
class _Parts:
    """The parts of a scenario that are valid on their own (``None`` when absent or invalid)."""

    precision: Decimal | None
    lines: Lines | None
    #: row position of each line of ``lines``
    positions: np.ndarray
    n_lines: int
    #: locality / program / ... of each valid line when amounts are unusable (no ``lines``)
    key_values: dict[str, list[str]] | None
    localities: list[tuple[int, Locality]] | None
    locality_ids: set[str]
    rules: Rules | None
    transfer_costs: list[tuple[int, TransferCost]]

    def line_values(self, key: str) -> list[str]:
        if self.lines is not None:
            return self.lines.values(key)
        return (self.key_values or {}).get(key, [])

    def line_categories(self, key: str) -> Sequence[str]:
        if self.lines is not None:
            return self.lines.categories(key)
        return list(dict.fromkeys((self.key_values or {}).get(key, [])))

    @classmethod
    def from_model(
        cls,
        m: Scenario,
        lines: Lines | None,
        positions: np.ndarray,
        n_rows: int,
        key_values: dict[str, list[str]] | None,
    ) -> _Parts:
        return cls(
            precision=m.precision,
            lines=lines,
            positions=positions,
            n_lines=len(m.lines) if n_rows < 0 else n_rows,
            key_values=key_values,
            localities=None if m.localities is None else list(enumerate(m.localities)),
            locality_ids=set(),
            rules=m.rules,
            transfer_costs=list(enumerate(m.transfer_costs or ())),
        )

    @classmethod
    def from_raw(
        cls,
        data: Any,
        lines: Lines | None,
        positions: np.ndarray,
        n_rows: int,
        key_values: dict[str, list[str]] | None,
    ) -> _Parts | None:
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

        precision = _valid_precision(data.get("precision", Decimal(1)))
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
        if "lines" not in data:
            n_rows = -1
        return cls(
            precision=precision,
            lines=lines,
            positions=positions,
            n_lines=n_rows,
            key_values=key_values,
            localities=None if locs is None else locs[0],
            locality_ids={str(i) for i in ids},
            rules=rules,
            transfer_costs=costs[0],
        )


def _cross_checks(parts: _Parts, bad: set[tuple[Any, ...]]) -> tuple[list[InitErrorDetails], LineTable | None]:
    """Every rule that spans tables (lines, localities, rules, transfer costs). ``bad`` holds the
    locations pydantic already rejected. Returns the problems, and the line table when there are
    none. Lines are looked at through their categories: each distinct id once."""
    issues: list[InitErrorDetails] = []
    precision = parts.precision
    pos = parts.positions
    has_lines = parts.n_lines > 0

    # Localities.
    if parts.localities is not None:
        seen_ids: dict[str, int] = {}
        for j, loc in parts.localities:
            if loc.id in seen_ids:
                issues.append(
                    issue(
                        ("localities", j, "id"),
                        "duplicate_locality",
                        f"duplicate locality id {loc.id!r} (also localities[{seen_ids[loc.id]}])",
                        loc.id,
                    )
                )
            else:
                seen_ids[loc.id] = j
        known = set(seen_ids) | parts.locality_ids
        line_locs = parts.line_values("locality")
        unknown = [c for c in parts.line_categories("locality") if c not in known]
        if unknown:
            missing = set(unknown)
            for k, lid in enumerate(line_locs):
                if lid in missing:
                    issues.append(
                        issue(
                            ("lines", int(pos[k]), "locality"),
                            "unknown_locality",
                            f"locality {lid!r} is not listed in localities",
                            lid,
                        )
                    )
    else:
        known = set(parts.line_categories("locality"))

    # Rules.
    if parts.rules is not None:
        rules = parts.rules
        seen_attr: set[str] = set()
        for p_, attr in enumerate(rules.pool_by):
            if attr in seen_attr:
                issues.append(
                    issue(("rules", "pool_by", p_), "duplicate_pool_by", f"pool_by names {attr!r} twice", attr)
                )
            seen_attr.add(attr)
        if has_lines and (parts.lines is not None or parts.key_values):
            present = {k: set(parts.line_categories(k)) for k in LINE_KEYS}
            for t, target in enumerate(rules.targets):
                if not _target_matches(parts, target.selector, present):
                    issues.append(
                        issue(
                            ("rules", "targets", t),
                            "target_matches_nothing",
                            f"target for {target.label()} matches no line",
                            None,
                        )
                    )
        limits: list[tuple[tuple[str | int, ...], Limit | None]] = [
            (("rules", "max_loss"), rules.max_loss),
            (("rules", "max_gain"), rules.max_gain),
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
                    issue(
                        (*limit_at, "amount"),
                        "not_multiple_of_precision",
                        f"amount {fmt(amount)} is not a multiple of precision {fmt(precision)}",
                        str(amount),
                    )
                )
        mt = rules.min_transfer
        mt_units = _units(mt, precision) if precision is not None else 0
        if precision is not None and (mt_units or 0) >= MAX_UNITS:
            issues.append(
                issue(
                    ("rules", "min_transfer"),
                    "amount_too_large",
                    f"min_transfer {fmt(mt)} is too large: it must stay below 2^62 units of precision",
                    str(mt),
                )
            )
        seen_targets: dict[tuple[tuple[str, str], ...], int] = {}
        for t_pos, target in enumerate(rules.targets):
            key = tuple(sorted(target.selector.items()))
            if key in seen_targets:
                issues.append(
                    issue(
                        ("rules", "targets", t_pos),
                        "duplicate_target",
                        f"a second target for {target.label()} (also rules.targets[{seen_targets[key]}])",
                        None,
                    )
                )
            seen_targets.setdefault(key, t_pos)
        for attr in rules.move_costs:
            if attr in rules.pool_by:
                issues.append(
                    issue(
                        ("rules", "move_costs", attr),
                        "move_cost_never_applies",
                        f"move_costs.{attr} can never apply: pool_by keeps {attr} the same in every move",
                        rules.move_costs[attr],
                    )
                )
        if precision is not None and mt_units is None:
            issues.append(
                issue(
                    ("rules", "min_transfer"),
                    "not_multiple_of_precision",
                    f"min_transfer {fmt(mt)} is not a multiple of precision {fmt(precision)}",
                    str(mt),
                )
            )

    # Transfer costs.
    pairs: dict[tuple[str, str], int] = {}
    for j, tc in parts.transfer_costs:
        for field, value in (("from", tc.from_), ("to", tc.to)):
            if value not in known:
                issues.append(
                    issue(
                        ("transfer_costs", j, field),
                        "unknown_locality",
                        f"{field} locality {value!r} is not a locality of this scenario",
                        value,
                    )
                )
        pair = (tc.from_, tc.to)
        if pair in pairs:
            issues.append(
                issue(
                    ("transfer_costs", j),
                    "duplicate_transfer_cost",
                    f"duplicate cost for {tc.from_!r} -> {tc.to!r} (also transfer_costs[{pairs[pair]}])",
                    None,
                )
            )
        else:
            pairs[pair] = j

    del bad
    if issues or parts.rules is None or precision is None or parts.lines is None or not len(parts.lines):
        return issues, None
    localities = [loc for _, loc in parts.localities] if parts.localities is not None else None
    return issues, _build_table(parts.lines, localities, parts.rules)


def _target_matches(parts: _Parts, selector: Mapping[str, str], present: Mapping[str, set[str]]) -> bool:
    """Whether some valid line matches every attribute of ``selector``."""
    if any(v not in present[a] for a, v in selector.items()):
        return False
    if len(selector) <= 1:
        return True
    mask: np.ndarray | None = None
    for a, v in selector.items():
        values = parts.line_values(a)
        m = np.fromiter((x == v for x in values), dtype=bool, count=len(values))
        mask = m if mask is None else mask & m
    return bool(mask is not None and mask.any())


def _units(value: Decimal, precision: Decimal) -> int | None:
    """``value / precision`` as an int, or None when it is not a whole number of units."""
    if value and value.adjusted() - precision.adjusted() > 19:
        return MAX_UNITS  # far too large; never expanded into an integer
    q = _EXACT.divide(value, precision)
    if q != q.to_integral_value(context=_EXACT):
        return None
    return int(q)


_EXACT = Context(prec=80)


def _build_table(lines: Lines, localities: list[Locality] | None, rules: Rules) -> LineTable:
    allocated, capacity = lines.allocated, lines.capacity
    floor = lines.floor_or_disbursed
    holdable = np.where(lines.has_ceiling, np.minimum(capacity, lines.ceiling), capacity)
    surplus = np.maximum(allocated - np.maximum(capacity, floor), 0)
    room = np.maximum(holdable - allocated, 0)
    pool, pool_keys = lines.key_codes(rules.pool_by)

    # locality index: listed localities first (in their order), then the others as lines name them
    loc_cats = lines.categories("locality")
    loc_index: dict[str, int] = {}
    for loc in localities or ():
        loc_index.setdefault(loc.id, len(loc_index))
    for lid in loc_cats:
        loc_index.setdefault(lid, len(loc_index))
    cat_to_index = np.array([loc_index[lid] for lid in loc_cats], dtype=np.int64)
    locality = cat_to_index[lines.codes("locality")] if len(lines) else np.zeros(0, dtype=np.int64)
    loc_weight = np.ones(len(loc_index), dtype=np.float64)
    for loc in localities or ():
        loc_weight[loc_index[loc.id]] = loc.weight
    return LineTable(
        lines=lines,
        allocated=allocated,
        disbursed=lines.disbursed,
        capacity=capacity,
        floor=floor,
        surplus=surplus,
        room=room,
        pool=pool,
        pool_keys=pool_keys,
        locality=locality,
        locality_ids=list(loc_index),
        weight=loc_weight[locality],
        frozen=lines.frozen,
        give_only=lines.give_only,
        receive_only=lines.receive_only,
        has_ceiling=lines.has_ceiling,
        ceiling=lines.ceiling,
    )


def _frame_columns(
    frame: pd.DataFrame, where: str, required: Sequence[str], allowed: set[str], errors: list[dict[str, Any]]
) -> LineColumns:
    """The lines of a DataFrame as ``LineColumns`` (whole columns, numpy scalars made plain)."""
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
        return LineColumns()
    extra = [str(c) for c in frame.columns if c not in allowed]
    if extra:
        errors.append(
            {
                "loc": (where,),
                "msg": f"{where} table has unknown column{'s' if len(extra) > 1 else ''} "
                + ", ".join(repr(c) for c in extra),
                "type": "extra_column",
            }
        )
        return LineColumns()
    out = LineColumns()
    for c in frame.columns:
        values = frame[c].tolist()  # numpy scalars -> Python scalars, NaN stays float NaN
        out[str(c)] = values
    return out


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
    if isinstance(value, float) and value != value:
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


def load(path: str | Path) -> Scenario:
    """Read a JSON scenario file. Raises [`ScenarioError`][reallocate.ScenarioError] (every problem
    listed) or ``OSError``."""
    data = Path(path).read_bytes()
    return Scenario.from_json(data)
