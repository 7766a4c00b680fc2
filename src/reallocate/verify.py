"""Independent plan verifier: every rule re-checked from the scenario's own fields.

It deliberately shares no code with the optimiser: it reads the scenario's line columns as given
(whole units of precision, floors and ceilings where given, flags) and the plan's exact result
(what each line holds, every transfer), then re-derives surplus, room, pools, flows and totals in
exact integer arithmetic (numpy int64; the scenario validator keeps totals below 2^62 units) and
the costs in exact decimals. Every check runs on whole columns.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Context, Decimal
from typing import TYPE_CHECKING

import numpy as np

from .rules import LINE_KEYS
from .scenario import Scenario

if TYPE_CHECKING:
    from .plan import Plan

__all__ = ["plan_breaches"]

_CTX = Context(prec=80)
_LIMIT = 2**62


def _amount(units: int, precision: Decimal) -> Decimal:
    return _CTX.multiply(Decimal(int(units)), precision)


def _sums(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, group, values)
    return out


def _codes(scenario: Scenario, attrs: tuple[str, ...] | list[str]) -> tuple[np.ndarray, int]:
    """One code per line for its values of ``attrs`` (equal codes: equal values)."""
    lines = scenario.lines
    n = len(lines)
    code = np.zeros(n, dtype=np.int64)
    span = 1
    for a in attrs:
        size = max(len(lines.categories(a)), 1)
        code = code * size + lines.codes(a)
        span *= size
        # renumber the codes in use 0..k-1: by a table when the span is small, else by sorting
        if span <= 4 * n + 16:
            present = np.zeros(span, dtype=bool)
            present[code] = True
            code = (np.cumsum(present) - 1)[code]
        else:
            code = np.unique(code, return_inverse=True)[1].reshape(-1)
        span = int(code.max(initial=-1)) + 1
    return code.astype(np.int64), span


def _rule_breaches(scenario: Scenario, allocated: np.ndarray, capacity: np.ndarray, final: np.ndarray) -> list[str]:
    """Locality limits (net loss / gain over all of a locality's lines) and disbursement targets."""
    out: list[str] = []
    rules = scenario.rules
    prec = scenario.precision
    lines = scenario.lines
    loc_cats = lines.categories("locality")
    loc = lines.codes("locality")
    n_loc = len(loc_cats)
    change = _sums(loc, final - allocated, n_loc)
    total = _sums(loc, allocated, n_loc)
    own = {lc.id: lc for lc in scenario.localities or ()}
    has_limits = rules.max_loss is not None or rules.max_gain is not None
    has_limits |= any(lc.max_loss is not None or lc.max_gain is not None for lc in own.values())
    for k in np.flatnonzero(change != 0).tolist() if has_limits else []:
        lid = loc_cats[k]
        net = int(change[k])
        for kind, moved in (("max_loss", -net), ("max_gain", net)):
            limit = getattr(own[lid], kind, None) if lid in own else None
            limit = limit if limit is not None else getattr(rules, kind)
            if limit is None or moved <= 0:
                continue
            moved_amount = _amount(moved, prec)
            if limit.amount is not None:
                cap = limit.amount
            else:
                cap = Decimal(repr(limit.share)) * _amount(int(total[k]), prec)
            if moved_amount > cap:
                word = "loses" if kind == "max_loss" else "gains"
                out.append(f"locality {lid}: {word} {moved_amount}, more than its {kind} {cap}")
    absorbable = np.minimum(final, capacity)
    goals: list[tuple[str, float, dict[str, str]]] = []
    if rules.target_rate is not None:
        goals.append(("target_rate", rules.target_rate, {}))
    goals += [(f"targets[{k}]", g.rate, g.selector) for k, g in enumerate(rules.targets)]
    for name, rate, selector in goals:
        mask = np.ones(len(lines), dtype=bool)
        for a, v in selector.items():
            mask &= np.array([c == v for c in lines.categories(a)], dtype=bool)[lines.codes(a)]
        held = _amount(int(np.sum(final[mask], dtype=np.int64)), prec)
        got = _amount(int(np.sum(absorbable[mask], dtype=np.int64)), prec)
        if got < Decimal(repr(rate)) * held:
            out.append(f"rules.{name}: absorbable {got} is below {rate:.2%} of the {held} its lines hold")
    return out


def plan_breaches(scenario: Scenario, plan: Plan) -> list[str]:
    """Every rule the plan breaks (empty when the plan is valid)."""
    if plan.summary is None or plan.final_units is None:
        found = []
        if plan.status in ("optimal", "time_limit"):
            found.append(f"status {plan.status!r}, but the plan is without summary (no lines)")
        if plan.transfer_units.shape[0]:
            found.append("a plan without summary has transfers")
        if plan.summary is not None:
            found.append("a plan with a summary has no lines")
        return found
    prec = scenario.precision
    lines = scenario.lines
    n = len(lines)
    final = np.asarray(plan.final_units)
    if final.shape != (n,):
        return [f"plan has {final.shape[0] if final.ndim else 0} lines, scenario has {n}"]
    if final.dtype.kind != "i":
        return ["plan amounts are not whole units"]
    final = final.astype(np.int64)
    out: list[str] = []

    def here(i: int) -> str:
        return f"lines[{i}] ({'/'.join(x for x in lines.key(i) if x)})"

    # --- the scenario, in units, straight from its line columns
    allocated = lines.allocated
    capacity = lines.capacity
    floor = np.where(lines.has_floor, lines.floor, lines.disbursed)
    has_ceiling = lines.has_ceiling
    ceiling = lines.ceiling
    surplus = np.maximum(allocated - np.maximum(capacity, floor), 0)
    holdable = np.where(has_ceiling, np.minimum(capacity, ceiling), capacity)
    room = np.maximum(holdable - allocated, 0)
    pool, n_pools = _codes(scenario, scenario.rules.pool_by)

    # --- transfers
    src = np.asarray(plan.transfer_from)
    dst = np.asarray(plan.transfer_to)
    amount = np.asarray(plan.transfer_units)
    n_tr = amount.shape[0]
    if src.shape != (n_tr,) or dst.shape != (n_tr,):
        return ["transfers: from, to and amount differ in length"]
    if n_tr and (src.dtype.kind != "i" or dst.dtype.kind != "i" or amount.dtype.kind != "i"):
        return ["transfers: lines and amounts must be whole numbers"]
    for t in np.flatnonzero((src < 0) | (src >= n) | (dst < 0) | (dst >= n)).tolist():
        out.append(f"transfers[{t}]: names a line that is not in the scenario ({int(src[t])} -> {int(dst[t])})")
    if out:
        return out
    src, dst, amount = src.astype(np.int64), dst.astype(np.int64), amount.astype(np.int64)
    for t in np.flatnonzero(amount <= 0).tolist():
        out.append(f"transfers[{t}]: amount {_amount(int(amount[t]), prec)} is not positive")
    for t in np.flatnonzero(amount >= _LIMIT).tolist():
        out.append(f"transfers[{t}]: amount {_amount(int(amount[t]), prec)} is too large")
    for t in np.flatnonzero(src == dst).tolist():
        out.append(f"transfers[{t}]: moves money from a line to itself")
    pair_code = src * n + dst
    order = np.argsort(pair_code, kind="stable")
    repeated = np.flatnonzero(pair_code[order][1:] == pair_code[order][:-1]) + 1
    for j in repeated.tolist():
        out.append(f"transfers[{int(order[j])}]: a second transfer between the same two lines")
    min_transfer = scenario.rules.min_transfer
    if min_transfer > 0:
        mt_units = int(_CTX.divide(min_transfer, prec))
        for t in np.flatnonzero(amount < mt_units).tolist():
            out.append(f"transfers[{t}]: amount {_amount(int(amount[t]), prec)} is below min_transfer {min_transfer}")
    for t in np.flatnonzero(pool[src] != pool[dst]).tolist():
        out.append(f"transfers[{t}]: moves money between pools {lines.key(int(src[t]))} and {lines.key(int(dst[t]))}")
    gives = _sums(src, amount, n)
    gets = _sums(dst, amount, n)

    # --- lines
    want_final = allocated - gives + gets
    for i in np.flatnonzero(final != want_final).tolist():
        out.append(
            f"{here(i)}: final is {_amount(int(final[i]), prec)}, the scenario and transfers give "
            f"{_amount(int(want_final[i]), prec)}"
        )

    def amt(units: np.ndarray, i: int) -> str:
        return str(_amount(int(units[i]), prec))

    checks: tuple[tuple[np.ndarray, Callable[[int], str]], ...] = (
        ((gives > 0) & (gets > 0), lambda i: f"both gives {amt(gives, i)} and receives {amt(gets, i)}"),
        (gives > surplus, lambda i: f"gives {amt(gives, i)}, more than its surplus {amt(surplus, i)}"),
        (gets > room, lambda i: f"receives {amt(gets, i)}, more than its room {amt(room, i)}"),
        (final < floor, lambda i: f"final {amt(final, i)} is below its floor {amt(floor, i)}"),
        (has_ceiling & (final > ceiling), lambda i: f"final {amt(final, i)} is above its ceiling {amt(ceiling, i)}"),
        (lines.frozen & ((gives > 0) | (gets > 0)), lambda i: "is frozen but moves money"),
        (lines.give_only & (gets > 0), lambda i: f"is give_only but receives {amt(gets, i)}"),
        (lines.receive_only & (gives > 0), lambda i: f"is receive_only but gives {amt(gives, i)}"),
    )
    if scenario.rules.max_transfers_per_line is not None and n_tr:
        k_max = scenario.rules.max_transfers_per_line
        taking_part = np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)
        checks += ((taking_part > k_max, lambda i: f"takes part in {taking_part[i]} transfers, more than {k_max}"),)
    for mask, text in checks:
        out += [f"{here(i)}: {text(i)}" for i in np.flatnonzero(mask).tolist()]
    out += _rule_breaches(scenario, allocated, capacity, final)

    before = _sums(pool, allocated, n_pools)
    after = _sums(pool, final, n_pools)
    for p in np.flatnonzero(before != after).tolist():
        i = int(np.flatnonzero(pool == p)[0])
        key = tuple(lines.key(i)[LINE_KEYS.index(a)] for a in scenario.rules.pool_by)
        diff = _amount(int(after[p] - before[p]), prec)
        out.append(f"pool {key}: total differs from its allocated total by {diff} {scenario.unit}")

    # --- summary arithmetic, with costs re-derived from the scenario's own cost tables
    def total(units: np.ndarray) -> Decimal:
        return _amount(int(np.sum(units, dtype=np.int64)), prec)

    s = plan.summary
    alloc_total = total(allocated)
    ab_before, ab_after = total(np.minimum(allocated, capacity)), total(np.minimum(final, capacity))
    want_summary: dict[str, object] = {
        "allocated": alloc_total,
        "disbursed": total(lines.disbursed),
        "absorbable_before": ab_before,
        "absorbable_after": ab_after,
        "lapse_before": alloc_total - ab_before,
        "lapse_after": alloc_total - ab_after,
        "moved": total(amount),
        "transfer_count": n_tr,
        "transfer_cost": _transfer_cost(scenario, src, dst, amount),
        "rate_before": float(ab_before / alloc_total) if alloc_total else None,
        "rate_after": float(ab_after / alloc_total) if alloc_total else None,
    }
    for name, want_value in want_summary.items():
        got_value = getattr(s, name)
        if got_value != want_value:
            out.append(f"summary.{name} is {got_value}, the lines and transfers give {want_value}")
    return out


def _transfer_cost(scenario: Scenario, src: np.ndarray, dst: np.ndarray, amount: np.ndarray) -> Decimal:
    """Total cost: per transfer, amount x (locality pair cost + a move cost per attribute changed),
    summed exactly: units are added up per distinct cost, and each sum priced once."""
    pair_cost = {(c.from_, c.to): Decimal(repr(c.cost)) for c in scenario.transfer_costs or () if c.cost}
    move = [(a, Decimal(repr(c))) for a, c in scenario.rules.move_costs.items() if c]
    if amount.shape[0] == 0 or (not pair_cost and not move):
        return Decimal(0)
    lines = scenario.lines
    prec = scenario.precision
    loc = lines.codes("locality")
    loc_cats = lines.categories("locality")
    n_loc = max(len(loc_cats), 1)
    pair = loc[src] * n_loc + loc[dst]
    pairs, pair_of = np.unique(pair, return_inverse=True)
    # every distinct cost of a locality pair, looked up once per pair that carries a transfer
    values: dict[Decimal, int] = {Decimal(0): 0}
    pair_value = np.array(
        [
            values.setdefault(
                pair_cost.get((loc_cats[int(k) // n_loc], loc_cats[int(k) % n_loc]), Decimal(0)), len(values)
            )
            for k in pairs.tolist()
        ],
        dtype=np.int64,
    )
    code = pair_value[pair_of.reshape(-1)]
    width = len(values)
    for attr, _ in move:
        changed = (lines.codes(attr)[src] != lines.codes(attr)[dst]).astype(np.int64)
        code = code * 2 + changed
        width *= 2
    combos, combo_of = np.unique(code, return_inverse=True)
    units = np.zeros(combos.shape[0], dtype=np.int64)
    np.add.at(units, combo_of.reshape(-1), amount)
    by_index = list(values)
    total = Decimal(0)
    for combo, u in zip(combos.tolist(), units.tolist(), strict=True):
        unit_cost = Decimal(0)
        for k in range(len(move) - 1, -1, -1):
            if combo & 1:
                unit_cost += move[k][1]
            combo >>= 1
        unit_cost += by_index[combo]
        total += _amount(u, prec) * unit_cost
    del width
    return total
