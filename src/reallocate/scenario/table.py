"""``LineTable``: what the optimiser needs per line, derived once from a scenario's lines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..lines import Lines
from ..rules import Locality, Rules

__all__ = ["LineTable", "build_table"]


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


def build_table(lines: Lines, localities: list[Locality] | None, rules: Rules) -> LineTable:
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
