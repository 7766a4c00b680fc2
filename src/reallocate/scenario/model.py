"""``Scenario``: the typed input of a reallocation, and its exact integer view.

The JSON form of ``Scenario`` is a public contract (see README). Amounts are decimals in the
scenario's ``unit``; every amount must be an exact multiple of ``precision``. The envelope (name,
unit, precision, localities, rules, transfer costs) is validated by pydantic; the lines, which may
number a million, are validated column by column (:mod:`reallocate.lines`) and kept as arrays
counted in whole units of ``precision``. The scenario also carries a ``LineTable``: what the
optimiser needs per line (surplus, room, pool, locality, weight), derived once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
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
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema

from .._decode import JSONError, parse_scenario_json
from ..errors import ScenarioError
from ..lines import (
    LINE_FIELDS,
    Line,
    Lines,
    check_lines,
    check_relations,
    to_decimal,
)
from ..rules import (
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
from ..text import NameText
from .checks import Parts, cross_checks, duplicate_issues, reissue, valid_precision
from .frames import as_frame, frame_columns, frame_records
from .table import LineTable, build_table

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

    name: NameText = Field(min_length=1, description="Scenario name, shown in reports.")
    unit: NameText = Field(default="million VND", min_length=1, description="Unit of every amount.")
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
        precision = valid_precision(data.get("precision", Decimal(1)))
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
                line_issues = check_relations(raw_lines) + duplicate_issues(raw_lines)
                partial, positions = raw_lines, np.arange(len(raw_lines))
                if line_issues:
                    data = {**data, "lines": _NO_LINES}
            n_rows = len(raw_lines)
        try:
            model = handler(data)
        except ValidationError as exc:
            field_errors = exc.errors(include_url=False)
            bad = {tuple(e["loc"][:3]) for e in field_errors}
            parts = Parts.from_raw(data, partial, positions, n_rows, key_values)
            extra = cross_checks(parts, bad)[0] if parts is not None else []
            raise ValidationError.from_exception_data(
                cls.__name__, [*(reissue(e) for e in field_errors), *line_issues, *extra]
            ) from None
        if line_issues:
            parts = Parts.from_model(model, partial, positions, n_rows, key_values)
            extra = cross_checks(parts, set())[0]
            raise ValidationError.from_exception_data(cls.__name__, [*line_issues, *extra])
        issues, table = cross_checks(Parts.from_model(model, model.lines, np.arange(len(model.lines)), -1, None), set())
        if issues:
            raise ValidationError.from_exception_data(cls.__name__, issues)
        assert table is not None
        model._table = table
        return model

    def __repr__(self) -> str:
        t = self.table
        return (
            f"Scenario({self.name!r}: {t.size:,} lines, {len(t.locality_ids):,} localities, "
            f"{len(t.pool_keys):,} pools, unit {self.unit!r})"
        )

    def __str__(self) -> str:
        return repr(self)

    def _repr_html_(self) -> str:
        import html

        t = self.table
        surplus = self.to_amount(int(t.surplus.sum(dtype=object)))
        room = self.to_amount(int(t.room.sum(dtype=object)))
        return (
            f"<p>{html.escape(repr(self))}<br>pools by {html.escape(', '.join(self.rules.pool_by) or 'nothing')}; "
            f"surplus {surplus:,} {html.escape(self.unit)}, room {room:,} {html.escape(self.unit)}</p>"
        )

    # ------------------------------------------------------------------------------ accessors
    @property
    def table(self) -> LineTable:
        """What the optimiser needs per line, as integer arrays; built once at validation."""
        assert self._table is not None  # set by the validator
        return self._table

    def reordered(self, order: np.ndarray) -> Scenario:
        """The same scenario with its lines in the order ``order`` (see ``Lines.canonical_order``);
        a permutation keeps every check, so only the derived line table is rebuilt."""
        out = self.model_copy(update={"lines": self.lines.take(order)})
        # the rows' checks hold in any order: only the derived table is rebuilt
        out._table = build_table(out.lines, list(out.localities) if out.localities else None, out.rules)
        return out

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
        ``id`` and may have name, weight, max_loss, max_gain; any other column becomes a tag,
        except one a letter or two from a known column (``wieght``), which is refused with a
        suggestion unless named ``tag:wieght``. A list of row dicts works as a frame. Amounts
        computed as floats are read with 15 significant digits, as Excel keeps numbers
        (``0.1 + 0.2`` is 0.3). Errors point at row positions (``lines[3].capacity``) and, when the
        frame has index labels of its own, name the label too; they raise
        [`ScenarioError`][reallocate.ScenarioError]. The lines are read column by column (no dict
        per row).
        """
        errors: list[dict[str, Any]] = []
        lines_frame = as_frame(lines, "lines", errors)
        line_columns = (
            frame_columns(
                lines_frame, "lines", ("locality", "program", "fund", "allocated", "capacity"), set(LINE_FIELDS), errors
            )
            if lines_frame is not None
            else None
        )
        loc_rows = None
        loc_frame = as_frame(localities, "localities", errors) if localities is not None else None
        if loc_frame is not None:
            loc_rows = frame_records(
                loc_frame, "localities", ("id",), {"id", "name", "weight", "max_loss", "max_gain"}, errors, tags=True
            )
        tc_rows: list[dict[str, Any]] | None = None
        if transfer_costs is not None:
            import pandas as pd

            if isinstance(transfer_costs, pd.DataFrame):
                tc_rows = frame_records(
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
        try:
            return cls.from_dict(data)
        except ScenarioError as exc:
            raise ScenarioError(
                _with_index_labels(exc.errors, {"lines": lines_frame, "localities": loc_frame})
            ) from None

    def to_frames(self) -> dict[str, Any]:
        """The scenario as pandas frames, keyed by the arguments of :meth:`from_frames`, so that
        ``Scenario.from_frames(**scenario.to_frames()) == scenario``.

        ``lines``: keys as categories, amounts as int64 when the precision is a whole number (exact,
        and pandas computes with them) else as exact ``Decimal`` objects; ``floor`` / ``ceiling`` are
        empty where not given; flags as booleans. ``localities``: id, name, weight, max_loss,
        max_gain and one ``tag:<name>`` column per tag. ``transfer_costs``: from, to, cost. Also
        ``rules``, ``name``, ``unit`` and ``precision``."""
        import pandas as pd

        lines = self.lines
        columns: dict[str, Any] = {k: lines.categorical(k) for k in LINE_KEYS}
        whole = self.precision == self.precision.to_integral_value()
        for name in ("allocated", "disbursed", "capacity", "floor", "ceiling"):
            units = lines.units(name)
            given = lines.has_floor if name == "floor" else lines.has_ceiling if name == "ceiling" else None
            if whole:
                scaled = units * int(self.precision)
                columns[name] = (
                    pd.array(scaled, dtype="int64")
                    if given is None
                    else pd.array(
                        [int(v) if g else None for v, g in zip(scaled.tolist(), given.tolist(), strict=True)],
                        dtype="Int64",
                    )
                )
            else:
                columns[name] = lines.amounts(name)
        for flag in ("frozen", "give_only", "receive_only"):
            columns[flag] = lines.flag(flag)
        frames: dict[str, Any] = {
            "lines": pd.DataFrame(columns),
            "rules": self.rules,
            "name": self.name,
            "unit": self.unit,
            "precision": self.precision,
        }
        if self.localities is not None:
            rows = []
            for loc in self.localities:
                row: dict[str, Any] = {"id": loc.id, "name": loc.name, "weight": loc.weight}
                row["max_loss"] = loc.max_loss.model_dump(exclude_none=True) if loc.max_loss else None
                row["max_gain"] = loc.max_gain.model_dump(exclude_none=True) if loc.max_gain else None
                row.update({f"tag:{k}": v for k, v in loc.tags.items()})
                rows.append(row)
            frames["localities"] = pd.DataFrame(rows)
        if self.transfer_costs is not None:
            frames["transfer_costs"] = pd.DataFrame(
                [{"from": c.from_, "to": c.to, "cost": c.cost} for c in self.transfer_costs],
                columns=["from", "to", "cost"],
            )
        return frames

    def with_changes(self, *changes: Any, name: str | None = None) -> Scenario:
        """A new scenario: this one with what-if ``changes`` applied in order (change models from
        :mod:`reallocate.whatif` or plain dicts, given one by one or as one list). This scenario
        is never modified. See :func:`reallocate.whatif.apply_changes`.

        >>> scenario.with_changes({"kind": "scale_capacity", "where": {"tag": {"mountainous": True}},
        ...                        "factor": 1.2})  # doctest: +SKIP
        """
        from ..whatif import apply_changes, as_list

        return apply_changes(self, as_list(changes), name=name)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The scenario in its public JSON form (amounts as exact JSON numbers)."""
        from .._json import dumps

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


def _with_index_labels(errors: list[dict[str, Any]], frames: dict[str, Any]) -> list[dict[str, Any]]:
    """Errors at row positions of a frame also name the row's index label, when the frame has
    labels of its own (not 0, 1, 2...): ``lines[3].capacity: ... (index label 'L7')``."""
    out = []
    for err in errors:
        loc = err.get("loc", ())
        frame = frames.get(loc[0]) if len(loc) > 1 else None
        if frame is not None and isinstance(loc[1], int) and 0 <= loc[1] < len(frame):
            label = frame.index[loc[1]]
            if label != loc[1]:
                err = {**err, "msg": f"{err.get('msg', '')} (index label {label!r})", "index_label": label}
        out.append(err)
    return out


def load(path: str | Path) -> Scenario:
    """Read a JSON scenario file. Raises [`ScenarioError`][reallocate.ScenarioError] (every problem
    listed) or ``OSError``."""
    data = Path(path).read_bytes()
    return Scenario.from_json(data)
