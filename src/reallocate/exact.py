"""From a solver's floating-point point to an exact plan in whole units of precision.

Floats are not enough on their own (amounts reach 10^15 đồng), so:

* values within a tiny tolerance of their fair target or of a whole unit are snapped to it;
* without pairs, any pool whose snapped amounts are not whole or do not balance is re-apportioned:
  the pool's moved total M (one whole number) is split on each side by largest remainder, so
  received == given exactly;
* with pairs, fractional pair amounts are rounded by walking cycles and paths of fractional pairs
  (each step keeps every inner line's total), and line amounts are the sums of their pairs;
* without pairs, the transfer list is derived afterwards, pool by pool.

The result is re-checked exactly by the plan verifier; nothing here is trusted on its own.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

import numpy as np

from .formulation import Formulation, Program, apportion, snap_tolerance

__all__ = ["Moves", "derive_transfers", "exact_moves"]


class Moves:
    """Exact result: ``amount[k]`` whole units given (donor) or received (recipient) by active
    line k, and transfers as (donor k, recipient k, units) triples."""

    def __init__(self, amount: np.ndarray, transfers: list[tuple[int, int, int]]) -> None:
        self.amount = amount
        self.transfers = transfers


def exact_moves(form: Formulation, program: Program, x: np.ndarray, relative: float = 1e-13) -> Moves:
    s = float(form.scale)
    if program.has("pair"):
        units = x[program.block("pair")] * s
        if program.has("use"):
            # a pair whose "used" switch is off carries nothing, whatever crumbs the solver left
            units = np.where(x[program.block("use")] < 0.5, 0.0, units)
        pair_units = _round_pairs(form, units, snap_tolerance(units, form.scale, relative))
        amount = np.zeros(form.n, dtype=np.int64)
        np.add.at(amount, form.pair_donor, pair_units)
        np.add.at(amount, form.pair_recipient, pair_units)
        used = np.flatnonzero(pair_units > 0)
        transfers = [(int(form.pair_donor[k]), int(form.pair_recipient[k]), int(pair_units[k])) for k in used.tolist()]
        return Moves(amount, transfers)

    raw = form.amounts(program, x)
    amount = _round_lines(form, raw, form.line_tolerance(raw, relative))
    return Moves(amount, derive_transfers(form, amount))


def _round_lines(form: Formulation, raw: np.ndarray, tol: np.ndarray | float) -> np.ndarray:
    raw = np.clip(raw, 0.0, form.bound.astype(np.float64))
    amount = np.rint(raw).astype(np.int64)
    close = np.abs(raw - amount) <= tol
    if form.targets is not None:
        on_target = np.abs(raw - form.targets) <= tol
        amount = np.where(on_target, form.targets, amount)
        close |= on_target
    amount = np.minimum(np.maximum(amount, 0), form.bound)
    signed = np.where(form.is_recipient, amount, -amount)
    balance = np.bincount(form.pool, weights=signed.astype(np.float64), minlength=form.n_pools)
    fractional = np.bincount(form.pool, weights=(~close).astype(np.float64), minlength=form.n_pools)
    redo = np.flatnonzero((balance != 0) | (fractional > 0))
    if redo.shape[0] == 0:
        # float sums are exact here only while they stay below 2**53; re-check in Python ints
        exact_balance: dict[int, int] = defaultdict(int)
        for p, v in zip(form.pool.tolist(), signed.tolist(), strict=True):
            exact_balance[p] += v
        redo = np.array([p for p, v in exact_balance.items() if v != 0], dtype=np.int64)
    for p in redo.tolist():
        members = np.flatnonzero(form.pool == p)
        rec = members[form.is_recipient[members]]
        don = members[~form.is_recipient[members]]
        total_r, total_d = float(raw[rec].sum()), float(raw[don].sum())
        top = min(int(form.bound[rec].sum()), int(form.bound[don].sum()))
        moved = min(max(int(np.floor((total_r + total_d) / 2 + 0.5)), 0), top)
        amount[rec] = _apportion_values(moved, raw[rec], form.bound[rec])
        amount[don] = _apportion_values(moved, raw[don], form.bound[don])
    return amount


def _apportion_values(total: int, values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Split ``total`` whole units in proportion to ``values`` (largest remainder), each share at
    most its bound. Exact: quotas are computed on the exact binary values of the floats."""
    vals = [Fraction(float(v)) for v in values]
    caps = [int(b) for b in bounds]
    whole = sum(vals)
    if whole == 0:
        return apportion(total, bounds)
    quota = [min(v * total / whole, Fraction(c)) for v, c in zip(vals, caps, strict=True)]
    share = [int(q) for q in quota]  # floor (quotas are >= 0)
    left = total - sum(share)
    # largest remainder first, then most spare capacity; ties to the earlier line
    order = sorted(range(len(caps)), key=lambda i: (-(quota[i] - share[i]), -(caps[i] - share[i])))
    while left > 0:
        moved = False
        for i in order:
            if left == 0:
                break
            if share[i] < caps[i]:
                share[i] += 1
                left -= 1
                moved = True
        if not moved:  # pragma: no cover - total <= sum(caps) is checked by the caller
            raise ValueError("cannot apportion: not enough capacity")
    return np.array(share, dtype=np.int64)


def _round_pairs(form: Formulation, units: np.ndarray, tol: np.ndarray | float) -> np.ndarray:
    units = np.clip(units, 0.0, form.pair_bound.astype(np.float64))
    whole = np.rint(units)
    fractional = np.flatnonzero(np.abs(units - whole) > tol)
    out = whole.astype(np.int64)
    if fractional.shape[0] == 0:
        return out
    base = np.floor(units[fractional]).astype(np.int64)
    frac = {int(k): Fraction(float(units[k])) - int(b) for k, b in zip(fractional, base, strict=True)}
    for k, b in zip(fractional.tolist(), base.tolist(), strict=True):
        out[k] = b
    _dependent_rounding(form, frac)
    for k, f in frac.items():
        out[k] += int(f)  # f is now 0 or 1
    return out


def _dependent_rounding(form: Formulation, frac: dict[int, Fraction]) -> None:
    """Round every fractional part in ``frac`` (pair -> value in (0, 1)) to 0 or 1 in place,
    moving along cycles (all line totals kept) or maximal paths (only the two end lines, each with
    a single fractional pair, move to the floor or ceiling of their total)."""

    def ends(k: int) -> tuple[int, int]:
        return (int(form.pair_donor[k]), int(form.pair_recipient[k]))

    open_pairs = {k for k, f in frac.items() if 0 < f < 1}
    for k in list(frac):
        if k not in open_pairs:
            frac[k] = Fraction(round(frac[k]))
    while open_pairs:
        incident: dict[int, list[int]] = defaultdict(list)
        for k in sorted(open_pairs):
            d, r = ends(k)
            incident[d].append(k)
            incident[r].append(k)
        start = next((node for node in sorted(incident) if len(incident[node]) == 1), None)
        if start is None:
            start = min(incident)
        path: list[int] = []
        seen_at = {start: 0}
        node = start
        last = -1
        while True:
            options = [k for k in incident[node] if k != last]
            if not options:
                break
            k = options[0]
            path.append(k)
            d, r = ends(k)
            node = r if node == d else d
            last = k
            if node in seen_at:
                path = path[seen_at[node] :]  # a cycle
                break
            seen_at[node] = len(path)
            if len(incident[node]) == 1:
                break
        plus, minus = path[0::2], path[1::2]
        up = min([1 - frac[k] for k in plus] + [frac[k] for k in minus])
        down = min([frac[k] for k in plus] + [1 - frac[k] for k in minus])
        step = up if up <= down else -down
        for k in plus:
            frac[k] += step
        for k in minus:
            frac[k] -= step
        for k in path:
            if frac[k] <= 0 or frac[k] >= 1:
                frac[k] = Fraction(1 if frac[k] >= 1 else 0)
                open_pairs.discard(k)


def derive_transfers(form: Formulation, amount: np.ndarray) -> list[tuple[int, int, int]]:
    """A short transfer list that realises the exact line amounts, pool by pool.

    Equal amounts are paired first (one transfer settles two lines), then the rest is matched
    largest-first. At most donors + recipients - 1 transfers per pool; deterministic. (The true
    minimum is a subset-sum problem; with transfer costs or min_transfer the solver decides pairs.)
    """
    out: list[tuple[int, int, int]] = []
    order = np.argsort(form.pool, kind="stable")
    edges = np.searchsorted(form.pool[order], np.arange(form.n_pools + 1))
    for p in range(form.n_pools):
        members = order[edges[p] : edges[p + 1]]
        members = members[amount[members] > 0]
        if members.shape[0] == 0:
            continue
        rec = [int(k) for k in members[form.is_recipient[members]]]
        don = [int(k) for k in members[~form.is_recipient[members]]]
        left = {k: int(amount[k]) for k in rec + don}
        by_amount: dict[int, list[int]] = defaultdict(list)
        for k in rec:
            by_amount[left[k]].append(k)
        pool_out: list[tuple[int, int, int]] = []
        for k in don:
            match = by_amount.get(left[k])
            if match:
                j = match.pop(0)
                pool_out.append((k, j, left[k]))
                left[k] = left[j] = 0
        d_rest = sorted((k for k in don if left[k] > 0), key=lambda k: (-left[k], k))
        r_rest = sorted((k for k in rec if left[k] > 0), key=lambda k: (-left[k], k))
        i = j = 0
        while i < len(d_rest) and j < len(r_rest):
            d, r = d_rest[i], r_rest[j]
            move = min(left[d], left[r])
            pool_out.append((d, r, move))
            left[d] -= move
            left[r] -= move
            if left[d] == 0:
                i += 1
            if left[r] == 0:
                j += 1
        if any(v != 0 for v in left.values()):  # pragma: no cover - amounts balance per pool
            raise ValueError(f"pool {p} does not balance")
        pool_out.sort(key=lambda t: (t[0], t[1]))
        out.extend(pool_out)
    return out
