"""Per-line and per-pool quantities in whole units that every part of an explanation reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..formulation import Formulation
from ..scenario import Scenario
from ..sharing import group_sums

if TYPE_CHECKING:
    pass


#: Every reason code a line can get, with what it means.


# ------------------------------------------------------------------------------------ helpers
def _pool_label(key: tuple[str, ...]) -> str:
    return " / ".join(k for k in key if k) or "(all lines)"


def _line_label(scenario: Scenario, i: int) -> str:
    loc, program, fund, component = scenario.table.key(i)
    names = scenario.locality_labels()
    return f"{names.get(loc, loc)} ({'/'.join(x for x in (program, fund, component) if x)})"


class _Facts:
    """Per-line and per-pool quantities in whole units, shared by every part of the explanation."""

    def __init__(self, scenario: Scenario, form: Formulation, change: np.ndarray) -> None:
        t = scenario.table
        self.scenario, self.form, self.t = scenario, form, t
        self.change = change
        self.given = np.maximum(-change, 0)
        self.received = np.maximum(change, 0)
        self.final = t.allocated + change
        self.lapse_after = np.maximum(self.final - t.capacity, 0)
        n_pools = len(t.pool_keys)
        self.S = group_sums(t.pool, form.can_give, n_pools)
        self.R = group_sums(t.pool, form.can_receive, n_pools)
        self.moved = group_sums(t.pool, self.received, n_pools)
        self.net = group_sums(t.locality, change, len(t.locality_ids))
        self.tight: dict[tuple[str, int], int] = {}
        big = np.iinfo(np.int64).max // 4
        self.loss_slack: np.ndarray | None = None
        self.gain_slack: np.ndarray | None = None
        for kind, loc, units in form.limits:
            moved = -self.net[loc] if kind == "max_loss" else self.net[loc]
            if moved >= units:
                self.tight[(kind, loc)] = units
            slack = self.loss_slack if kind == "max_loss" else self.gain_slack
            if slack is None:
                slack = np.full(len(t.locality_ids), big, dtype=np.int64)
                if kind == "max_loss":
                    self.loss_slack = slack
                else:
                    self.gain_slack = slack
            slack[loc] = max(0, units - int(moved))
        # room and surplus the pool has before flags hold some of it back
        self.raw_S = group_sums(t.pool, t.surplus, n_pools)
        self.raw_R = group_sums(t.pool, t.room, n_pools)

    def amount(self, units: int | np.integer[Any]) -> str:
        return self.amounts(np.array([int(units)], dtype=np.int64))[0]

    def amounts(self, units: np.ndarray) -> list[str]:
        """Amounts for people (thousands separators), one whole column at a time."""
        if self.scenario.precision == 1:
            return list(map("{:,}".format, units.tolist()))
        from ..labels import amount_text

        return [amount_text(self.scenario.to_amount(int(u))) for u in units.tolist()]
