"""The scenario rules that span tables (lines, localities, rules, transfer costs), checked on the
parts that are valid on their own, so one bad field never hides another problem."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from pydantic_core import InitErrorDetails

from ..lines import MAX_UNITS, Lines, duplicates, fmt, issue, located
from ..rules import LINE_KEYS, Limit, Locality, Rules, TransferCost
from .table import LineTable, build_table

if TYPE_CHECKING:
    from .model import Scenario

__all__ = ["Parts", "cross_checks", "duplicate_issues", "reissue", "valid_precision"]


_PRECISION: TypeAdapter[Decimal] = TypeAdapter(Annotated[Decimal, Field(gt=0, allow_inf_nan=False)])


def valid_precision(value: Any) -> Decimal | None:
    try:
        return _PRECISION.validate_python(value)
    except ValidationError:
        return None


def duplicate_issues(lines: Lines) -> list[InitErrorDetails]:
    return duplicates(
        {k: lines.codes(k) for k in LINE_KEYS},
        {k: lines.categories(k) for k in LINE_KEYS},
        np.arange(len(lines)),
    )


def reissue(err: Any) -> InitErrorDetails:
    """A pydantic error (as reported) back into an error that can be raised again."""
    return located(err, ())


@dataclass
class Parts:
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
    ) -> Parts:
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
    ) -> Parts | None:
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

        precision = valid_precision(data.get("precision", Decimal(1)))
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


def cross_checks(parts: Parts, bad: set[tuple[Any, ...]]) -> tuple[list[InitErrorDetails], LineTable | None]:
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
    return issues, build_table(parts.lines, localities, parts.rules)


def _target_matches(parts: Parts, selector: Mapping[str, str], present: Mapping[str, set[str]]) -> bool:
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


_EXACT = Context(prec=80)
