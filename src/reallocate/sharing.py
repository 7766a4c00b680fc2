"""Fair shares in whole units, and the plan of independent pools in closed form.

When no rule ties pools together (no locality limits, no targets, no pairs), each pool is a
problem of its own whose optimum is known exactly:

* money moved  M = min(S, R), the pool's surplus and room (every unit that can move does);
* recipients get fair targets of M: shares of their room by largest remainder (proportional), or
  filled by locality weight, highest first (priority);
* donors give fair targets of M the same way (lowest weight first under priority).

These are exactly the optima of the LP stages "absorb" and "share" (the share stage reaches zero
deviation), computed in integers without a solver. The transfer list is then derived from the
amounts: equal amounts paired first, then largest first (at most donors + recipients - 1 per pool).
Everything here works on whole arrays, one pass per step, whatever the number of pools.
"""

from __future__ import annotations

import numpy as np

__all__ = ["apportion", "apportion_groups", "derive_transfers", "fair_targets", "group_sums", "interval_overlaps"]


def group_sums(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Exact int64 sums of ``values`` per group (``np.bincount`` would sum in float64)."""
    out = np.zeros(n_groups, dtype=np.int64)
    if values.shape[0]:
        np.add.at(out, group, values.astype(np.int64))
    return out


def _products(caps: np.ndarray, totals: np.ndarray) -> tuple[np.ndarray, bool]:
    """caps * totals, exactly: int64 when it fits, else Python integers (object array)."""
    top = int(caps.max(initial=0)) * int(totals.max(initial=0))
    if top < 2**63:
        return caps.astype(np.int64) * totals.astype(np.int64), False
    return caps.astype(object) * totals.astype(object), True


def apportion_groups(group: np.ndarray, caps: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """For every group g, split ``totals[g]`` whole units among its members in proportion to
    ``caps`` (largest remainder). Each share is the floor or ceiling of its quota, never above its
    cap; shares of a group sum to its total exactly; among equal remainders the earlier member (by
    position) gets the unit. Exact integer arithmetic (beyond int64 when needed)."""
    n = caps.shape[0]
    n_groups = totals.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    whole = group_sums(group, caps, n_groups)
    if np.any(totals < 0) or np.any(totals > whole):
        bad = int(np.flatnonzero((totals < 0) | (totals > whole))[0])
        raise ValueError(f"cannot apportion {int(totals[bad])} over caps summing to {int(whole[bad])}")
    denominator = np.maximum(whole, 1)[group]
    prod, big = _products(caps, totals[group])
    if big:
        den = denominator.astype(object)
        share = (prod // den).astype(np.int64)
        rem = (prod % den).astype(np.int64)
    else:
        share = prod // denominator
        rem = prod % denominator
    left = totals - group_sums(group, share, n_groups)
    # rank members of each group by remainder (largest first), then by position
    order = np.lexsort((np.arange(n), -rem, group))
    starts = np.searchsorted(group[order], np.arange(n_groups))
    rank = np.arange(n) - starts[group[order]]
    lucky = order[rank < left[group[order]]]
    share[lucky] += 1
    return share


def apportion(total: int, caps: np.ndarray) -> np.ndarray:
    """Split ``total`` whole units among lines in proportion to ``caps`` (largest remainder)."""
    caps = np.asarray(caps, dtype=np.int64)
    return apportion_groups(np.zeros(caps.shape[0], dtype=np.int64), caps, np.array([int(total)], dtype=np.int64))


def fair_targets(
    group: np.ndarray,
    caps: np.ndarray,
    weight: np.ndarray,
    totals: np.ndarray,
    rule: str,
    *,
    highest_first: bool,
) -> np.ndarray:
    """Whole-unit shares of ``totals[g]`` for the members of each group g.

    ``proportional``: largest-remainder shares of ``caps``. ``priority``: members are filled by
    weight class (highest weight first when ``highest_first``, else lowest first), a class taking
    all it can before the next gets anything; within a class, proportional to caps.
    """
    if rule == "proportional":
        return apportion_groups(group, caps, totals)
    n = caps.shape[0]
    n_groups = totals.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    key = -weight if highest_first else weight
    # weight classes inside each group, in filling order
    order = np.lexsort((key, group))
    g_sorted, k_sorted = group[order], key[order]
    new_class = np.r_[True, (g_sorted[1:] != g_sorted[:-1]) | (k_sorted[1:] != k_sorted[:-1])]
    class_sorted = np.cumsum(new_class) - 1
    n_classes = int(class_sorted[-1]) + 1
    member_class = np.empty(n, dtype=np.int64)
    member_class[order] = class_sorted
    class_group = g_sorted[new_class]
    class_cap = group_sums(member_class, caps, n_classes)
    # capacity of the classes before each class, within its group
    cum = np.cumsum(class_cap)
    group_start = np.searchsorted(class_group, np.arange(n_groups))
    before_group = np.where(group_start > 0, cum[np.maximum(group_start - 1, 0)], 0)
    before = cum - class_cap - before_group[class_group]
    take = np.clip(totals[class_group] - before, 0, class_cap)
    return apportion_groups(member_class, caps, take)


def derive_transfers(
    pool: np.ndarray, is_recipient: np.ndarray, amount: np.ndarray, n_pools: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A short transfer list that realises exact line amounts, pool by pool: (donor, recipient,
    units) arrays of active-line indices, sorted by (donor, recipient).

    Equal amounts are paired first (one transfer settles two lines: a donor is matched with the
    first recipient of the same amount not yet matched), then what is left is matched largest
    first (ties by position). At most donors + recipients - 1 transfers per pool; deterministic.
    (The true minimum is a subset-sum problem; with transfer costs or min_transfer the solver
    decides the pairs.)
    """
    idx = np.flatnonzero(amount > 0)
    empty = np.zeros(0, dtype=np.int64)
    if idx.shape[0] == 0:
        return empty, empty.copy(), empty.copy()
    p, rec, a = pool[idx], is_recipient[idx], amount[idx].astype(np.int64)

    # 1. equal amounts: the j-th donor of (pool, amount) meets the j-th recipient of it. One sort
    # puts each (pool, amount) run together, its donors first, each side in line order.
    side = rec.astype(np.int64)
    top = int(a.max(initial=0)) + 1
    if (int(p.max(initial=0)) + 1) * top * 2 < 2**62:
        order = np.argsort((p * top + a) * 2 + side, kind="stable")
    else:
        order = np.lexsort((side, a, p))
    sp, sa, sside, sidx = p[order], a[order], side[order], idx[order]
    m = sp.shape[0]
    run_start = np.r_[True, (sp[1:] != sp[:-1]) | (sa[1:] != sa[:-1])]
    run = np.cumsum(run_start) - 1
    first = np.flatnonzero(run_start)
    n_runs = first.shape[0]
    n_don = group_sums(run, 1 - sside, n_runs)
    n_rec = group_sums(run, sside, n_runs)
    pairs = np.minimum(n_don, n_rec)
    rank = np.arange(m) - first[run] - np.where(sside == 1, n_don[run], 0)
    d_pos = np.flatnonzero((sside == 0) & (rank < pairs[run]))
    r_pos = first[run[d_pos]] + n_don[run[d_pos]] + rank[d_pos]
    eq_d, eq_r = sidx[d_pos], sidx[r_pos]
    eq_a = sa[d_pos]

    # 2. the rest, largest first: laid end to end per pool on both sides, cut at every boundary
    matched = np.zeros(amount.shape[0], dtype=bool)
    matched[eq_d] = True
    matched[eq_r] = True
    rest = idx[~matched[idx]]
    rest_d = rest[~is_recipient[rest]]
    rest_r = rest[is_recipient[rest]]
    rest_d = rest_d[np.lexsort((rest_d, -amount[rest_d].astype(np.int64), pool[rest_d]))]
    rest_r = rest_r[np.lexsort((rest_r, -amount[rest_r].astype(np.int64), pool[rest_r]))]
    ia, ib, length = interval_overlaps(pool[rest_d], amount[rest_d], pool[rest_r], amount[rest_r])

    src = np.concatenate([eq_d, rest_d[ia]]).astype(np.int64)
    dst = np.concatenate([eq_r, rest_r[ib]]).astype(np.int64)
    units = np.concatenate([eq_a, length]).astype(np.int64)
    order = np.lexsort((dst, src))
    return src[order], dst[order], units[order]


def interval_overlaps(
    group_a: np.ndarray, length_a: np.ndarray, group_b: np.ndarray, length_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lay the items of each side end to end, group by group (both sides sorted by group, equal
    totals per group), and cut at every boundary: each piece lies in one item of each side.
    Returns (item of a, item of b, length) of every piece of positive length."""
    if group_a.shape[0] == 0 or group_b.shape[0] == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), empty.copy()

    def ends(group: np.ndarray, length: np.ndarray) -> np.ndarray:
        cum = np.cumsum(length)
        start = np.r_[True, group[1:] != group[:-1]]
        offset = np.maximum.accumulate(np.where(start, cum - length, 0))
        return cum - offset

    end_a, end_b = ends(group_a, length_a), ends(group_b, length_b)
    cuts = np.concatenate([end_a, end_b])
    cut_group = np.concatenate([group_a, group_b])
    order = np.lexsort((cuts, cut_group))
    cuts, cut_group = cuts[order], cut_group[order]
    keep = np.r_[True, (cuts[1:] != cuts[:-1]) | (cut_group[1:] != cut_group[:-1])]
    cuts, cut_group = cuts[keep], cut_group[keep]
    begin = np.r_[0, cuts[:-1]]
    begin[np.r_[True, cut_group[1:] != cut_group[:-1]]] = 0
    length = cuts - begin
    ia = _holder(group_a, end_a, cut_group, cuts)
    ib = _holder(group_b, end_b, cut_group, cuts)
    ok = (length > 0) & (ia < group_a.shape[0]) & (ib < group_b.shape[0])
    return ia[ok], ib[ok], length[ok]


def _holder(
    owner_group: np.ndarray, owner_end: np.ndarray, piece_group: np.ndarray, piece_end: np.ndarray
) -> np.ndarray:
    """Index of the owner (sorted by group, then end) whose interval holds each piece."""
    out = np.empty(piece_end.shape[0], dtype=np.int64)
    starts = np.searchsorted(owner_group, piece_group, side="left")
    stops = np.searchsorted(owner_group, piece_group, side="right")
    span = int(max(owner_end.max(initial=0), piece_end.max(initial=0))) + 1
    top = int(max(owner_group.max(initial=0), piece_group.max(initial=0))) + 1
    if span * top < 2**62:
        key_o = owner_group.astype(np.int64) * span + owner_end
        key_p = piece_group.astype(np.int64) * span + piece_end
        return np.searchsorted(key_o, key_p, side="left")
    for g in np.unique(piece_group).tolist():
        at = np.flatnonzero(piece_group == g)
        lo, hi = int(starts[at[0]]), int(stops[at[0]])
        out[at] = lo + np.searchsorted(owner_end[lo:hi], piece_end[at], side="left")
    return out
