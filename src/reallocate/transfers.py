"""What a transfer costs and who must approve it, for whole arrays of transfers."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from .lines import combine_codes
from .scenario import Scenario

__all__ = ["APPROVALS", "APPROVAL_NAMES", "approval", "approval_codes", "transfer_unit_costs"]

#: Who must approve a transfer, by what it changes (DOMAIN.md, "Rules that the law gives").
APPROVALS = {
    "people_committee": "routine: same program and fund, between localities or components "
    "(provincial People's Committee)",
    "people_council": "changes program: needs the provincial People's Council (Resolution 111/2024/QH15)",
    "capital_structure": "changes fund (investment/recurrent): changes the program's capital structure "
    "(Decision 39/2021/QĐ-TTg)",
}
#: The approvals in order of authority (index = ``approval_codes``).
APPROVAL_NAMES = tuple(APPROVALS)


def approval(src: tuple[str, ...], dst: tuple[str, ...]) -> str:
    """The approval a move from line key ``src`` to ``dst`` needs (a key of ``APPROVALS``)."""
    if src[2] != dst[2]:
        return "capital_structure"
    if src[1] != dst[1]:
        return "people_council"
    return "people_committee"


def transfer_unit_costs(scenario: Scenario, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, list[Decimal]]:
    """Cost per unit of each transfer (line ``src`` -> line ``dst``) as an index into a list of
    distinct exact costs: the locality pair's transfer cost plus a move cost for each attribute
    the move changes (costs are written as decimals: ``Decimal(repr(float))``)."""
    lines = scenario.lines
    n = src.shape[0]
    loc = lines.codes("locality")
    loc_cats = lines.categories("locality")
    parts: list[np.ndarray] = []
    values: list[list[Decimal]] = []
    if scenario.transfer_costs:
        index = {lid: k for k, lid in enumerate(loc_cats)}
        n_loc = len(loc_cats)
        keys, costs = [], []
        for tc in scenario.transfer_costs:
            if tc.from_ in index and tc.to in index and tc.cost:
                keys.append(index[tc.from_] * n_loc + index[tc.to])
                costs.append(Decimal(repr(tc.cost)))
        key_arr = np.array(keys, dtype=np.int64)
        order = np.argsort(key_arr)
        key_arr = key_arr[order]
        q = loc[src] * n_loc + loc[dst]
        pos = np.clip(np.searchsorted(key_arr, q), 0, max(key_arr.shape[0] - 1, 0))
        hit = (key_arr[pos] == q) if key_arr.shape[0] else np.zeros(n, dtype=bool)
        parts.append(np.where(hit, pos + 1, 0))
        values.append([Decimal(0), *(costs[int(k)] for k in order.tolist())])
    for attr, cost in scenario.rules.move_costs.items():
        if not cost:
            continue
        codes = lines.codes(attr)
        parts.append((codes[src] != codes[dst]).astype(np.int64))
        values.append([Decimal(0), Decimal(repr(cost))])
    if not parts:
        return np.zeros(n, dtype=np.int64), [Decimal(0)]
    # distinct combinations of the parts, each summed once, exactly
    combined = combine_codes(parts, [len(v) for v in values])
    uniq, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    totals = [sum((values[j][int(parts[j][i])] for j in range(len(parts))), Decimal(0)) for i in first.tolist()]
    del uniq
    return inverse.reshape(-1).astype(np.int64), totals


def approval_codes(scenario: Scenario, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Index into ``APPROVALS`` of the approval each transfer needs."""
    lines = scenario.lines
    fund, program = lines.codes("fund"), lines.codes("program")
    return np.where(fund[src] != fund[dst], 2, np.where(program[src] != program[dst], 1, 0)).astype(np.int64)
