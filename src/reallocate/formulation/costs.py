"""Cost per unit of a move between two lines, on whole arrays of line pairs."""

from __future__ import annotations

import numpy as np

from ..scenario import Scenario

__all__ = ["CostModel"]


class CostModel:
    """Cost per integer unit of a move between two lines: the locality pair's transfer cost plus a
    move cost for each attribute the move changes. Costs depend only on the two localities and the
    costed attributes, so lines equal on those are interchangeable for cost."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        t = scenario.table
        per_unit = float(scenario.precision)
        #: the attributes whose change costs something (besides the locality pair)
        self.attributes = [a for a, c in scenario.rules.move_costs.items() if c > 0]
        self.move_cost = {a: float(scenario.rules.move_costs[a]) * per_unit for a in self.attributes}
        self.n_loc = len(t.locality_ids)
        keys: list[int] = []
        costs: list[float] = []
        if scenario.transfer_costs:
            ids = {lid: k for k, lid in enumerate(t.locality_ids)}
            for tc in scenario.transfer_costs:
                if tc.from_ in ids and tc.to in ids and tc.cost:
                    keys.append(ids[tc.from_] * self.n_loc + ids[tc.to])
                    costs.append(tc.cost * per_unit)
        key_arr = np.array(keys, dtype=np.int64)
        order = np.argsort(key_arr)
        self.keys = key_arr[order]
        self.costs = np.array(costs, dtype=np.float64)[order]
        #: some move costs something
        self.active = bool(self.keys.shape[0]) or bool(self.attributes)

    @property
    def has_move(self) -> bool:
        return bool(self.attributes)

    @property
    def has_transfer(self) -> bool:
        return bool(self.keys.shape[0])

    def between(self, src: np.ndarray, dst: np.ndarray, part: str = "all") -> np.ndarray:
        """Cost per integer unit of moving from line ``src`` to line ``dst`` (arrays of line indices):
        ``part`` "move" (the approval tiers: move_costs), "transfer" (transfer_costs) or "all"."""
        t = self.scenario.table
        out = np.zeros(src.shape[0], dtype=np.float64)
        if self.keys.shape[0] and part != "move":
            q = t.locality[src].astype(np.int64) * self.n_loc + t.locality[dst].astype(np.int64)
            pos = np.clip(np.searchsorted(self.keys, q), 0, self.keys.shape[0] - 1)
            out += np.where(self.keys[pos] == q, self.costs[pos], 0.0)
        for attr in self.attributes if part != "transfer" else ():
            codes = t.lines.codes(attr)
            out += np.where(codes[src] != codes[dst], self.move_cost[attr], 0.0)
        return out
