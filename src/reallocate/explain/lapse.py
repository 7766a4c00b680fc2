"""What still lapses, by pool and locality, and why: no room anywhere in its pool, or a rule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..sharing import group_sums
from .facts import _Facts, _pool_label
from .tables import Table

if TYPE_CHECKING:
    pass


#: Every reason code a line can get, with what it means.

# ------------------------------------------------------------------------------------ lapse
_BLOCKS = (
    "floor",
    "frozen",
    "receive_only",
    "room on frozen or give_only lines",
    "max_loss",
    "max_gain",
    "min_transfer",
    "max_transfers_per_line",
    "rules",
)


def _lapse(f: _Facts) -> tuple[Table, dict[str, Any]]:
    """The money that still lapses, by pool and locality: no room in its pool, or held by a rule."""
    sc, t = f.scenario, f.t
    rules = sc.rules
    room_left = f.R - f.moved
    lapse = f.lapse_after
    locked = np.clip(np.minimum(f.final, t.floor) - t.capacity, 0, None)
    locked = np.minimum(locked, lapse)
    unmoved = lapse - locked
    stuck = t.frozen | t.receive_only
    flagged_room = f.raw_R > f.R  # per pool: part of its room sits on frozen / give_only lines
    no_room = np.where(~stuck & (room_left[t.pool] <= 0) & ~flagged_room[t.pool], unmoved, 0)
    blocked = lapse - no_room
    bits = np.zeros(t.size, dtype=np.int64)
    bit = {name: 1 << k for k, name in enumerate(_BLOCKS)}
    bits |= np.where(locked > 0, bit["floor"], 0)
    rest = (unmoved > 0) & (no_room == 0)
    bits |= np.where(rest & t.frozen, bit["frozen"], 0)
    bits |= np.where(rest & t.receive_only, bit["receive_only"], 0)
    free = rest & ~stuck
    bits |= np.where(
        free & flagged_room[t.pool] & (room_left[t.pool] <= 0), bit["room on frozen or give_only lines"], 0
    )
    loss_tight = np.zeros(len(t.locality_ids), dtype=bool)
    gain_tight = np.zeros(len(t.locality_ids), dtype=bool)
    for kind, loc in f.tight:
        (loss_tight if kind == "max_loss" else gain_tight)[loc] = True
    bits |= np.where(free & loss_tight[t.locality], bit["max_loss"], 0)
    pool_gain_tight = np.zeros(len(t.pool_keys), dtype=bool)
    np.logical_or.at(pool_gain_tight, t.pool, (t.room > 0) & gain_tight[t.locality])
    bits |= np.where(free & pool_gain_tight[t.pool], bit["max_gain"], 0)
    if rules.min_transfer > 0:
        bits |= np.where(free, bit["min_transfer"], 0)
    if rules.max_transfers_per_line is not None:
        bits |= np.where(free, bit["max_transfers_per_line"], 0)
    bits |= np.where(free & (bits == 0), bit["rules"], 0)

    which = np.flatnonzero(lapse > 0)
    n_loc = len(t.locality_ids)
    group = t.pool[which] * n_loc + t.locality[which]
    keys, inverse = np.unique(group, return_inverse=True)
    sums = {
        name: group_sums(inverse.reshape(-1), arr[which], keys.shape[0])
        for name, arr in (("lapse", lapse), ("no_room", no_room), ("blocked", blocked))
    }
    group_bits = np.zeros(keys.shape[0], dtype=np.int64)
    np.bitwise_or.at(group_bits, inverse, bits[which])
    order = np.lexsort((keys, -sums["lapse"]))
    labels = sc.locality_labels()
    gain_names = (
        {
            p: sorted(
                {t.locality_ids[int(k)] for k in t.locality[(t.pool == p) & (t.room > 0) & gain_tight[t.locality]]}
            )
            for p in np.unique(t.pool[which]).tolist()
        }
        if gain_tight.any()
        else {}
    )

    def blocked_by(g: int) -> str:
        key = int(keys[g])
        p, loc = key // n_loc, key % n_loc
        out = []
        for name in _BLOCKS:
            if group_bits[g] & bit[name]:
                if name == "max_loss":
                    out.append(f"max_loss of {t.locality_ids[loc]}")
                elif name == "max_gain":
                    names = gain_names.get(p, [])
                    out.append("max_gain of " + " and ".join(names) if names else "max_gain")
                else:
                    out.append(name)
        return ", ".join(out)

    frame = Table(
        {
            "pool": [_pool_label(t.pool_keys[int(keys[g]) // n_loc]) for g in order],
            "locality": [t.locality_ids[int(keys[g]) % n_loc] for g in order],
            "name": [labels[t.locality_ids[int(keys[g]) % n_loc]] for g in order],
            "lapse": sums["lapse"][order],
            "no_room": sums["no_room"][order],
            "blocked": sums["blocked"][order],
            "blocked_by": [blocked_by(int(g)) for g in order],
        },
        amounts=("lapse", "no_room", "blocked"),
        precision=sc.precision,
    )
    total = int(lapse.sum())
    allocated = int(t.allocated.sum())
    pool_lapse = group_sums(t.pool, lapse, len(t.pool_keys))
    loc_lapse = group_sums(t.locality, lapse, n_loc)
    no_room_total, blocked_total = int(no_room.sum()), int(blocked.sum())
    gap: dict[str, Any] = {
        "amount": sc.to_amount(total),
        "share": total / allocated if allocated else 0.0,
        "no_room": sc.to_amount(no_room_total),
        "blocked": sc.to_amount(blocked_total),
    }
    if total:
        top_pool, top_loc = int(np.argmax(pool_lapse)), int(np.argmax(loc_lapse))
        gap["largest_pool"] = {
            "pool": _pool_label(t.pool_keys[top_pool]),
            "lapse": sc.to_amount(int(pool_lapse[top_pool])),
        }
        gap["largest_locality"] = {
            "locality": t.locality_ids[top_loc],
            "name": labels[t.locality_ids[top_loc]],
            "lapse": sc.to_amount(int(loc_lapse[top_loc])),
        }
        gap["text"] = (
            f"gap to 100%: {f.amount(total)} {sc.unit} ({total / allocated:.1%} of allocation) still lapses — "
            f"{f.amount(no_room_total)} has no room anywhere in its pool, {f.amount(blocked_total)} is blocked by "
            f"a rule; most in {gap['largest_pool']['pool']} ({f.amount(int(pool_lapse[top_pool]))}) and at "
            f"{labels[t.locality_ids[top_loc]]} ({f.amount(int(loc_lapse[top_loc]))})"
        )
    else:
        gap["text"] = "gap to 100%: none — every line is expected to disburse all it holds"
    return frame, gap
