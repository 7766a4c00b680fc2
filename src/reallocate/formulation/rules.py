"""The rules that tie pools together (locality limits, targets), read from a scenario as arrays,
and checked exactly on whole-unit plans."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from ..scenario import Scenario
from ..sharing import group_sums

if TYPE_CHECKING:
    from .model import Formulation

__all__ = ["RuleRows", "locality_limits", "target_rows"]


def locality_limits(sc: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kind: 0 max_loss / 1 max_gain, locality index, limit in units) of every locality limit."""
    t = sc.table
    rules = sc.rules
    by_id = {loc.id: loc for loc in sc.localities or ()}
    empty = np.zeros(0, dtype=np.int64)
    if (
        rules.max_loss is None
        and rules.max_gain is None
        and not any(loc.max_loss is not None or loc.max_gain is not None for loc in by_id.values())
    ):
        return empty, empty.copy(), empty.copy()
    totals = group_sums(t.locality, t.allocated, len(t.locality_ids)).tolist()
    kinds, locs, units = [], [], []
    for k, lid in enumerate(t.locality_ids):
        own = by_id.get(lid)
        for code, kind in enumerate(("max_loss", "max_gain")):
            mine = getattr(own, kind) if own is not None else None
            limit = mine if mine is not None else getattr(rules, kind)
            if limit is None:
                continue
            if limit.amount is not None:
                u = int(limit.amount / sc.precision)
            else:
                # a share of the locality's allocation, rounded down: the limit is never exceeded
                u = int(Decimal(repr(limit.share)) * totals[k])
            kinds.append(code)
            locs.append(k)
            units.append(u)
    return np.array(kinds, dtype=np.int64), np.array(locs, dtype=np.int64), np.array(units, dtype=np.int64)


def target_rows(sc: Scenario) -> list[tuple[int, np.ndarray, Decimal]]:
    """(target number, lines it covers, rate) for every target; -1 is ``target_rate``.

    A target asks that the covered lines' absorbable money reach ``rate`` x what they hold
    after the moves. Received money adds to both, given money only to what they no longer hold,
    so the row is  (1 - rate) received + rate given >= rate x allocated - absorbable before."""
    lines = sc.table.lines
    out = []
    goals: list[tuple[int, float, dict[str, str]]] = []
    if sc.rules.target_rate is not None:
        goals.append((-1, sc.rules.target_rate, {}))
    goals += [(k, g.rate, g.selector) for k, g in enumerate(sc.rules.targets)]
    for k, rate, selector in goals:
        mask = np.ones(len(lines), dtype=bool)
        for attr, value in selector.items():
            cats = lines.categories(attr)
            mask &= lines.codes(attr) == (cats.index(value) if value in cats else -1)
        out.append((k, np.flatnonzero(mask), Decimal(repr(rate))))
    return out


class RuleRows:
    """The rules that tie groups together, as exact integer rows over group amounts ``g``
    (whole units given or received):

    * locality limits: ``sum(sign * g over the locality's groups) <= limit`` (sign -1 for what
      recipients receive under max_loss, ...), one row per limit;
    * targets: ``(den - num) * received + num * given >= num * allocated - den * before`` over the
      covered groups, the rate being ``num / den`` exactly.

    Python integers throughout: the check never rounds.
    """

    def __init__(self, form: Formulation) -> None:
        self.form = form
        t = form.scenario.table
        rows: list[tuple[str, int, np.ndarray, list[int], int]] = []
        gain = np.where(form.g_recipient, 1, -1).astype(np.int64)
        for kind_code, loc, units in zip(
            form.limit_kind.tolist(), form.limit_loc.tolist(), form.limit_units.tolist(), strict=True
        ):
            mine = np.flatnonzero(form.g_locality == loc)
            sign = -1 if kind_code == 0 else 1
            rows.append((("max_loss", "max_gain")[kind_code], loc, mine, (sign * gain[mine]).tolist(), -int(units)))
        covered_line = np.zeros(t.size, dtype=bool)
        for k, covered, rate, _ in form.target_shortfalls():
            num, den = Decimal(rate).as_integer_ratio()
            covered_line[:] = False
            covered_line[covered] = True
            mine = np.flatnonzero(covered_line[form.g_line])
            coef = np.where(form.g_recipient[mine], den - num, num).astype(object)
            allocated = int(np.sum(t.allocated[covered], dtype=np.int64))
            before = int(np.sum(t.absorbable[covered], dtype=np.int64))
            # written as  -coef . g <= -(num * allocated - den * before)  to share the <= form
            rows.append(("target", k, mine, [-int(c) for c in coef.tolist()], num * allocated - den * before))
        #: (kind, payload, groups, coefficients, bound): sum(coef * g) <= -bound for limits' form
        self.rows = rows

    def broken(self, g_amount: np.ndarray) -> list[int]:
        """Positions (in ``rows``) of the rules that ``g_amount`` breaks."""
        out = []
        values = g_amount.tolist()
        for j, (_, _, groups, coef, bound) in enumerate(self.rows):
            lhs = sum(c * values[g] for c, g in zip(coef, groups.tolist(), strict=True))
            if lhs > -bound:
                out.append(j)
        return out
