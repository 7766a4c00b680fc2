"""Shadow prices: money absorbed by one more unit of each line's capacity and allocation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..formulation import Program
from ..sharing import group_sums
from .facts import _Facts, _pool_label
from .tables import Table

if TYPE_CHECKING:
    pass


#: Every reason code a line can get, with what it means.


# ------------------------------------------------------------------------------------ prices
def _prices(
    f: _Facts, program: Program | None, duals: np.ndarray | None, exact_pools: bool = False
) -> tuple[Table, Table]:
    """Money absorbed by one more unit of each line's capacity and allocation, from LP duals.

    With ``y`` the duals (d objective / d rhs of the maximisation), one more unit of room on a
    line in pool p and locality l is worth ``max(0, 1 - y_pool - y_gain(l) + y_loss(l) - y_targets)``
    and one more unit of surplus ``max(0, y_pool - y_loss(l) + y_gain(l))``. A lapsing line's
    capacity also absorbs its own lapse (+1) and relaxes the targets covering it.
    """
    sc, t, form = f.scenario, f.t, f.form
    n_pools, n_loc = len(t.pool_keys), len(t.locality_ids)
    pool_dual = np.where((f.S == 0) & (f.R > 0), 1.0, 0.0)
    gain_dual = np.zeros(n_loc)
    loss_dual = np.zeros(n_loc)
    target_dual: dict[int, float] = {}
    # independent pools, priced exactly: one more unit of room is worth 1 where surplus is left
    # over, one more unit of surplus where room is left over (both 0 where they are equal)
    room_left = f.R > f.S
    surplus_left = f.S > f.R
    if exact_pools:
        pool_dual = np.where(room_left, 1.0, 0.0)
    if program is not None and duals is not None:
        for kind, start, n, payload in program.row_groups:
            y = duals[start : start + n]
            if kind == "pool":
                pool_dual[form.pool_index[payload]] = y
            elif kind == "max_loss":
                loss_dual[payload] = y
            elif kind == "max_gain":
                gain_dual[payload] = y
            elif kind == "target":
                target_dual.update(zip(payload.tolist(), y.tolist(), strict=True))
    # a target row reads (1 - r) received + r given >= ...: its dual weighs a recipient's unit by
    # (1 - r) and a donor's by r; a unit of absorbable money already held relaxes it by one
    target_term = np.zeros(t.size)  # sum of duals of the targets covering each line
    target_room = np.zeros(t.size)  # sum of (1 - r) x dual
    target_give = np.zeros(t.size)  # sum of r x dual
    target_alloc = np.zeros(t.size)  # sum of r x dual: one more unit held raises the need by r
    for k, covered, rate in form.goals:
        dual = target_dual.get(k, 0.0)
        r = float(rate)
        target_term[covered] += dual
        target_room[covered] += (1.0 - r) * dual
        target_give[covered] += r * dual
        target_alloc[covered] += r * dual
    pool, loc = t.pool, t.locality
    room_value = np.where(
        f.S[pool] == 0, 0.0, np.maximum(0.0, 1.0 - pool_dual[pool] - gain_dual[loc] + loss_dual[loc] - target_room)
    )
    surplus_value = np.where(
        f.R[pool] == 0, 0.0, np.maximum(0.0, pool_dual[pool] - loss_dual[loc] + gain_dual[loc] - target_give)
    )
    pool_room_value = np.where(f.S == 0, 0.0, np.round(np.maximum(0.0, 1.0 - pool_dual), 9))
    pool_surplus_value = np.where(f.R == 0, 0.0, np.round(np.maximum(0.0, pool_dual), 9))
    if exact_pools:
        pool_room_value = surplus_left.astype(np.float64)
        pool_surplus_value = room_left.astype(np.float64)
        room_value, surplus_value = pool_room_value[pool], pool_surplus_value[pool]
    has_ceiling, ceiling_units = t.has_ceiling, t.ceiling
    can_receive = ~(t.frozen | t.give_only) & (~has_ceiling | (t.capacity < ceiling_units))
    can_give = ~(t.frozen | t.receive_only)
    lapsing = t.allocated > t.capacity
    capacity_value = np.where(
        lapsing,
        1.0 - target_term - np.where(can_give & (t.capacity >= t.floor), surplus_value, 0.0),
        np.where(can_receive, room_value, 0.0),
    )
    # one more unit of allocation: a line at or above its capacity holds one more unit of surplus;
    # a line below it disburses one more unit but has one unit less room (at its ceiling: not allowed)
    receives = ~(t.frozen | t.give_only) & (t.room > 0)
    at_ceiling = has_ceiling & (t.allocated >= ceiling_units)
    allocation_value = np.where(
        t.allocated >= t.capacity,
        np.where(can_give, surplus_value, 0.0) + target_alloc,
        np.where(at_ceiling, 0.0, 1.0 - np.where(receives, room_value, 0.0) + target_alloc - target_term),
    )
    capacity_value = np.round(np.maximum(capacity_value, 0.0), 9)
    up_to = np.where(lapsing, np.where(f.lapse_after > 0, f.lapse_after, t.surplus), _room_reach(f)[pool]).astype(
        np.int64
    )
    if f.gain_slack is not None:
        up_to = np.where(lapsing, up_to, np.minimum(up_to, f.gain_slack[loc]))
    shadow = Table(
        {
            "capacity_value": capacity_value,
            "allocation_value": np.round(allocation_value, 9),
            "up_to": up_to,
            "saving": capacity_value * up_to.astype(np.float64) * float(sc.precision),
        },
        amounts=("up_to",),
        precision=sc.precision,
        keys=sc.lines,
        index_name="line",
    )
    pools = Table(
        {
            "pool": [_pool_label(k) for k in t.pool_keys],
            "room_value": pool_room_value,
            "surplus_value": pool_surplus_value,
            "surplus": f.S,
            "room": f.R,
            "moved": f.moved,
        },
        amounts=("surplus", "room", "moved"),
        precision=sc.precision,
    )
    del n_pools
    return shadow, pools


def _room_reach(f: _Facts) -> np.ndarray:
    """Per pool, how much more its surplus could still move: what donors still hold, capped by the
    net-loss slack of their localities (an estimate of how far more room keeps its value)."""
    t = f.t
    left = np.maximum(f.form.can_give - f.given, 0)
    n_pools, n_loc = len(t.pool_keys), len(t.locality_ids)
    by = np.zeros((n_pools, n_loc), dtype=np.int64) if n_pools * n_loc <= 10**7 else None
    if by is None or f.loss_slack is None:
        return group_sums(t.pool, left, n_pools)
    np.add.at(by, (t.pool, t.locality), left)
    return np.minimum(by, f.loss_slack[None, :]).sum(axis=1)
