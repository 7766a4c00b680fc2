"""Fair shares and derived transfers (``reallocate.sharing``) against plain-Python references.

The array code splits totals by largest remainder, fills priority classes and matches donors with
recipients with whole-array numpy steps; the references below do the same one group, one line at
a time with Python integers and ``Fraction``, written from the rules in the module's docstring,
so a slip in the vectorised bookkeeping (group starts, ranks, int64 overflow past 10^15 x 10^15)
shows up as a difference.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reallocate.sharing import apportion_groups, derive_transfers, fair_targets, group_sums

SETTINGS: dict[str, Any] = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
EXAMPLES = int(os.environ.get("REALLOCATE_EXAMPLES", "200"))


def _largest_remainder(total: int, caps: list[int]) -> list[int]:
    whole = sum(caps)
    if whole == 0:
        return [0] * len(caps)
    quotas = [Fraction(c * total, whole) for c in caps]
    shares = [q.numerator // q.denominator for q in quotas]
    left = total - sum(shares)
    # largest remainder first, the earlier member among equals
    order = sorted(range(len(caps)), key=lambda k: (-(quotas[k] - shares[k]), k))
    for k in order[:left]:
        shares[k] += 1
    return shares


def _by_group(group: list[int], n_groups: int) -> list[list[int]]:
    members: list[list[int]] = [[] for _ in range(n_groups)]
    for k, g in enumerate(group):
        members[g].append(k)
    return members


@st.composite
def grouped(draw: st.DrawFn, top: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(group, caps, weights, totals) with each total between 0 and its group's caps."""
    n_groups = draw(st.integers(1, 5))
    n = draw(st.integers(1, 30))
    group = np.array(draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n)), dtype=np.int64)
    caps = np.array(draw(st.lists(st.integers(0, top), min_size=n, max_size=n)), dtype=np.int64)
    weight = np.array(draw(st.lists(st.sampled_from([0.5, 1.0, 2.0, 3.0]), min_size=n, max_size=n)))
    whole = group_sums(group, caps, n_groups)
    totals = np.array([draw(st.integers(0, int(w))) for w in whole], dtype=np.int64)
    return group, caps, weight, totals


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(case=st.one_of(grouped(top=50), grouped(top=10**15)))
def test_apportion_is_largest_remainder_per_group(case: tuple[np.ndarray, ...]) -> None:
    group, caps, _, totals = case
    got = apportion_groups(group, caps, totals)
    assert got.dtype == np.int64
    for g, members in enumerate(_by_group(group.tolist(), totals.shape[0])):
        want = _largest_remainder(int(totals[g]), [int(caps[k]) for k in members])
        assert [int(got[k]) for k in members] == want
        assert all(0 <= int(got[k]) <= int(caps[k]) for k in members)


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(case=st.one_of(grouped(top=50), grouped(top=10**15)), highest_first=st.booleans())
def test_priority_fills_weight_classes_in_order(case: tuple[np.ndarray, ...], highest_first: bool) -> None:
    group, caps, weight, totals = case
    got = fair_targets(group, caps, weight, totals, "priority", highest_first=highest_first)
    for g, members in enumerate(_by_group(group.tolist(), totals.shape[0])):
        left = int(totals[g])
        want: dict[int, int] = {}
        for w in sorted({float(weight[k]) for k in members}, reverse=highest_first):
            cls = [k for k in members if float(weight[k]) == w]
            take = min(left, sum(int(caps[k]) for k in cls))
            want.update(zip(cls, _largest_remainder(take, [int(caps[k]) for k in cls]), strict=True))
            left -= take
        assert {k: int(got[k]) for k in members} == want


def test_apportion_refuses_a_total_above_the_caps() -> None:
    with pytest.raises(ValueError, match="cannot apportion 11 over caps summing to 10"):
        apportion_groups(np.array([0, 0]), np.array([4, 6]), np.array([11]))


def _reference_transfers(pool: list[int], is_recipient: list[bool], amount: list[int]) -> list[tuple[int, int, int]]:
    """Equal amounts first (k-th donor of an amount with the k-th recipient of it, line order),
    then the rest matched largest first, ties by position: a two-pointer walk per pool."""
    out: list[tuple[int, int, int]] = []
    for p in sorted(set(pool)):
        donors = [k for k in range(len(pool)) if pool[k] == p and not is_recipient[k] and amount[k] > 0]
        recips = [k for k in range(len(pool)) if pool[k] == p and is_recipient[k] and amount[k] > 0]
        matched: set[int] = set()
        for d in donors:
            for r in recips:
                if r not in matched and amount[r] == amount[d]:
                    out.append((d, r, amount[d]))
                    matched |= {d, r}
                    break
        rest_d = sorted((k for k in donors if k not in matched), key=lambda k: (-amount[k], k))
        rest_r = sorted((k for k in recips if k not in matched), key=lambda k: (-amount[k], k))
        left_d = {k: amount[k] for k in rest_d}
        left_r = {k: amount[k] for k in rest_r}
        i = j = 0
        while i < len(rest_d) and j < len(rest_r):
            d, r = rest_d[i], rest_r[j]
            move = min(left_d[d], left_r[r])
            out.append((d, r, move))
            left_d[d] -= move
            left_r[r] -= move
            i += left_d[d] == 0
            j += left_r[r] == 0
    return sorted(out)


@st.composite
def pool_amounts(draw: st.DrawFn, top: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Lines in pools whose donors give exactly what their recipients get."""
    n_pools = draw(st.integers(1, 4))
    pool: list[int] = []
    rec: list[bool] = []
    amount: list[int] = []
    for p in range(n_pools):
        gives = draw(st.lists(st.integers(0, top), min_size=1, max_size=8))
        # recipients' amounts: some copy a donor's (the equal-amount pairs), then cut the rest
        total = sum(gives)
        gets: list[int] = []
        for g in gives:
            if g <= total and draw(st.booleans()):
                gets.append(g)
                total -= g
        while total > 0:
            part = draw(st.integers(1, total))
            gets.append(part)
            total -= part
        sides = [(False, g) for g in gives] + [(True, g) for g in gets]
        for side, a in draw(st.permutations(sides)):
            pool.append(p)
            rec.append(side)
            amount.append(a)
    return np.array(pool), np.array(rec), np.array(amount, dtype=np.int64), n_pools


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(case=st.one_of(pool_amounts(top=20), pool_amounts(top=10**15)))
def test_derived_transfers_match_the_reference_and_realise_every_amount(case: tuple[Any, ...]) -> None:
    pool, rec, amount, n_pools = case
    src, dst, units = derive_transfers(pool, rec, amount, n_pools)
    got = list(zip(src.tolist(), dst.tolist(), units.tolist(), strict=True))
    assert got == _reference_transfers(pool.tolist(), rec.tolist(), amount.tolist())
    # every line gives or gets exactly its amount, inside its pool, in at most d + r - 1 transfers
    moved = np.zeros_like(amount)
    np.add.at(moved, src, units)
    np.add.at(moved, dst, units)
    assert np.array_equal(moved, amount)
    assert np.all(pool[src] == pool[dst]) and not rec[src].any() and rec[dst].all()
    for p in range(n_pools):
        lines = int(((pool == p) & (amount > 0)).sum())
        assert int((pool[src] == p).sum()) <= max(lines - 1, 0)
