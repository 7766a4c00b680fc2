"""Independent plan verifier: every rule re-checked from the scenario's own fields.

It deliberately shares no code with the optimiser: it converts the scenario's raw ``Decimal``
fields and the plan's tables to whole units of precision itself (refusing any value that is not a
whole number of units), then re-derives surplus, room, pools, flows and totals in exact integer
arithmetic (numpy int64; the scenario validator keeps totals below 2^62 units).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Context, Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from .scenario import LINE_KEYS, Scenario

if TYPE_CHECKING:
    from .plan import Plan

__all__ = ["plan_breaches"]

_CTX = Context(prec=80)
_LIMIT = 2**62


def _units(values: Iterable[Any], precision: Decimal) -> tuple[np.ndarray, list[int]]:
    """Exact whole units of ``precision``, and the positions of values that are not (set to 0)."""
    out = []
    bad = []
    for k, v in enumerate(values):
        i = 0
        if isinstance(v, Decimal) and v.is_finite():
            q = _CTX.divide(v, precision)
            i = int(q)
            if i != q or abs(i) >= _LIMIT:
                bad.append(k)
                i = 0
        else:
            bad.append(k)
        out.append(i)
    return np.array(out, dtype=np.int64), bad


def _scenario_units(values: Iterable[Decimal], precision: Decimal) -> np.ndarray:
    """Whole units of validated scenario amounts (the scenario's validator guarantees multiples)."""
    if precision == 1:
        return np.array([int(v) for v in values], dtype=np.int64)
    return np.array([int(_CTX.divide(v, precision)) for v in values], dtype=np.int64)


def _mismatches(got: list[Any], want: np.ndarray, precision: Decimal) -> list[int]:
    """Positions where a plan column (exact Decimals) differs from the expected whole units."""
    if precision == 1:
        expected: list[Any] = want.tolist()
    else:
        expected = [_CTX.multiply(Decimal(u), precision) for u in want.tolist()]
    return [i for i, (g, w) in enumerate(zip(got, expected, strict=True)) if type(g) is not Decimal or g != w]


def _rule_breaches(
    scenario: Scenario,
    key_of: list[tuple[str, str, str, str]],
    allocated: np.ndarray,
    capacity: np.ndarray,
    final: np.ndarray,
) -> list[str]:
    """Locality limits (net loss / gain over all of a locality's lines) and disbursement targets."""
    out: list[str] = []
    rules = scenario.rules
    prec = scenario.precision
    change: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for (loc, *_), a, f in zip(key_of, allocated.tolist(), final.tolist(), strict=True):
        change[loc] += f - a
        total[loc] += a
    own = {loc.id: loc for loc in scenario.localities or ()}
    for loc, net in change.items():
        for kind, moved in (("max_loss", -net), ("max_gain", net)):
            limit = getattr(own[loc], kind, None) if loc in own else None
            limit = limit if limit is not None else getattr(rules, kind)
            if limit is None or moved <= 0:
                continue
            moved_amount = _CTX.multiply(Decimal(moved), prec)
            if limit.amount is not None:
                cap = limit.amount
            else:
                cap = Decimal(repr(limit.share)) * _CTX.multiply(Decimal(total[loc]), prec)
            if moved_amount > cap:
                word = "loses" if kind == "max_loss" else "gains"
                out.append(f"locality {loc}: {word} {moved_amount}, more than its {kind} {cap}")
    absorbable = np.minimum(final, capacity)
    goals: list[tuple[str, float, dict[str, str]]] = []
    if rules.target_rate is not None:
        goals.append(("target_rate", rules.target_rate, {}))
    goals += [(f"targets[{k}]", g.rate, g.selector) for k, g in enumerate(rules.targets)]
    for name, rate, selector in goals:
        mask = [all(key[LINE_KEYS.index(a)] == v for a, v in selector.items()) for key in key_of]
        held = _CTX.multiply(Decimal(int(np.sum(final[mask], dtype=object))), prec)
        got = _CTX.multiply(Decimal(int(np.sum(absorbable[mask], dtype=object))), prec)
        if got < Decimal(repr(rate)) * held:
            out.append(f"rules.{name}: absorbable {got} is below {rate:.2%} of the {held} its lines hold")
    return out


def plan_breaches(scenario: Scenario, plan: Plan) -> list[str]:
    """Every rule the plan breaks (empty when the plan is valid)."""
    if plan.summary is None:
        found = []
        if plan.status in ("optimal", "time_limit"):
            found.append(f"status {plan.status!r}, but the plan is without summary (no lines)")
        if not plan.transfers.empty:
            found.append("a plan without summary has transfers")
        return found
    prec = scenario.precision
    lines = scenario.lines
    n = len(lines)
    table = plan.lines
    if len(table) != n:
        return [f"plan has {len(table)} lines, scenario has {n}"]

    key_of = [(ln.locality, ln.program, ln.fund, ln.component) for ln in lines]
    plan_keys = list(zip(*(table[k].tolist() for k in LINE_KEYS), strict=True))
    out = [
        f"lines[{i}]: plan line {got} is not scenario line {want}"
        for i, (want, got) in enumerate(zip(key_of, plan_keys, strict=True))
        if want != got
    ]
    if out:
        return out

    def here(i: int) -> str:
        return f"lines[{i}] ({'/'.join(x for x in key_of[i] if x)})"

    # --- the scenario, in units, straight from its raw fields
    allocated = _scenario_units((ln.allocated for ln in lines), prec)
    disbursed = _scenario_units((ln.disbursed for ln in lines), prec)
    capacity = _scenario_units((ln.capacity for ln in lines), prec)
    floor = _scenario_units((ln.floor if ln.floor is not None else ln.disbursed for ln in lines), prec)
    has_ceiling = np.array([ln.ceiling is not None for ln in lines], dtype=bool)
    ceiling = _scenario_units((ln.ceiling if ln.ceiling is not None else ln.allocated for ln in lines), prec)
    surplus = np.maximum(allocated - np.maximum(capacity, floor), 0)
    holdable = np.where(has_ceiling, np.minimum(capacity, ceiling), capacity)
    room = np.maximum(holdable - allocated, 0)
    pool_attr = scenario.rules.pool_by
    pool_of = [tuple(getattr(ln, a) for a in pool_attr) for ln in lines]
    pool_ids: dict[tuple[str, ...], int] = {}
    pool = np.array([pool_ids.setdefault(k, len(pool_ids)) for k in pool_of], dtype=np.int64)

    # --- transfers
    index_of = {k: i for i, k in enumerate(key_of)}
    tr = plan.transfers
    n_tr = len(tr)
    src_keys = list(zip(*(tr[f"from_{k}"].tolist() for k in LINE_KEYS), strict=True)) if n_tr else []
    dst_keys = list(zip(*(tr[f"to_{k}"].tolist() for k in LINE_KEYS), strict=True)) if n_tr else []
    src = np.array([index_of.get(k, -1) for k in src_keys], dtype=np.int64)
    dst = np.array([index_of.get(k, -1) for k in dst_keys], dtype=np.int64)
    for t in np.flatnonzero((src < 0) | (dst < 0)).tolist():
        out.append(f"transfers[{t}]: names a line that is not in the scenario ({src_keys[t]} -> {dst_keys[t]})")
    if out:
        return out
    amount, bad_amounts = _units(tr["amount"].tolist(), prec)
    for t in bad_amounts:
        value = tr["amount"].iat[t]
        why = f"is not a multiple of precision {prec}" if isinstance(value, Decimal) else "is not an exact decimal"
        out.append(f"transfers[{t}]: amount {value} {why}")
    if bad_amounts:
        return out
    for t in np.flatnonzero(amount <= 0).tolist():
        out.append(f"transfers[{t}]: amount {tr['amount'].iat[t]} is not positive")
    for t in np.flatnonzero(src == dst).tolist():
        out.append(f"transfers[{t}]: moves money from a line to itself")
    pair_code = src * n + dst
    uniq, counts = np.unique(pair_code, return_counts=True)
    for code in uniq[counts > 1].tolist():
        t = int(np.flatnonzero(pair_code == code)[1])
        out.append(f"transfers[{t}]: a second transfer between the same two lines")
    min_transfer = scenario.rules.min_transfer
    if min_transfer > 0:
        mt_units = int(_CTX.divide(min_transfer, prec))
        for t in np.flatnonzero(amount < mt_units).tolist():
            out.append(f"transfers[{t}]: amount {tr['amount'].iat[t]} is below min_transfer {min_transfer}")
    for t in np.flatnonzero(pool[src] != pool[dst]).tolist():
        out.append(f"transfers[{t}]: moves money between pools {pool_of[src[t]]} and {pool_of[dst[t]]}")
    approvals = tr["approval"].tolist() if "approval" in tr else [None] * n_tr
    costs = {(c.from_, c.to): Decimal(repr(c.cost)) for c in scenario.transfer_costs or ()}
    move_costs = {a: Decimal(repr(c)) for a, c in scenario.rules.move_costs.items()}
    zero = Decimal(0)
    total_cost = zero
    if n_tr:
        for t, (s_key, d_key, a_dec, unit_cost, cost) in enumerate(
            zip(src_keys, dst_keys, tr["amount"].tolist(), tr["unit_cost"].tolist(), tr["cost"].tolist(), strict=True)
        ):
            want_unit = costs.get((s_key[0], d_key[0]), zero) + sum(
                (c for a, c in move_costs.items() if s_key[LINE_KEYS.index(a)] != d_key[LINE_KEYS.index(a)]), zero
            )
            if unit_cost != want_unit:
                out.append(f"transfers[{t}]: unit_cost {unit_cost} differs from the scenario's {want_unit}")
            if cost != a_dec * want_unit:
                out.append(f"transfers[{t}]: cost {cost} is not amount x unit_cost")
            # who must approve: a change of fund, else of program, else routine
            want_approval = (
                "capital_structure"
                if s_key[2] != d_key[2]
                else "people_council"
                if s_key[1] != d_key[1]
                else "people_committee"
            )
            if approvals[t] != want_approval:
                out.append(f"transfers[{t}]: approval {approvals[t]!r}, but the move needs {want_approval!r}")
            total_cost += a_dec * want_unit
    gives = np.zeros(n, dtype=np.int64)
    gets = np.zeros(n, dtype=np.int64)
    np.add.at(gives, src, amount)
    np.add.at(gets, dst, amount)

    # --- lines
    final = allocated - gives + gets

    def amt(units: np.ndarray, i: int) -> str:
        return f"{scenario.to_amount(int(units[i]))}"

    checks: tuple[tuple[np.ndarray, Callable[[int], str]], ...] = (
        ((gives > 0) & (gets > 0), lambda i: f"both gives {amt(gives, i)} and receives {amt(gets, i)}"),
        (gives > surplus, lambda i: f"gives {amt(gives, i)}, more than its surplus {amt(surplus, i)}"),
        (gets > room, lambda i: f"receives {amt(gets, i)}, more than its room {amt(room, i)}"),
        (final < floor, lambda i: f"final {amt(final, i)} is below its floor {amt(floor, i)}"),
        (has_ceiling & (final > ceiling), lambda i: f"final {amt(final, i)} is above its ceiling {amt(ceiling, i)}"),
    )
    frozen = np.array([ln.frozen for ln in lines], dtype=bool)
    give_only = np.array([ln.give_only for ln in lines], dtype=bool)
    receive_only = np.array([ln.receive_only for ln in lines], dtype=bool)
    checks += (
        (frozen & ((gives > 0) | (gets > 0)), lambda i: "is frozen but moves money"),
        (give_only & (gets > 0), lambda i: f"is give_only but receives {amt(gets, i)}"),
        (receive_only & (gives > 0), lambda i: f"is receive_only but gives {amt(gives, i)}"),
    )
    if scenario.rules.max_transfers_per_line is not None and n_tr:
        k_max = scenario.rules.max_transfers_per_line
        taking_part = np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)
        checks += ((taking_part > k_max, lambda i: f"takes part in {taking_part[i]} transfers, more than {k_max}"),)
    for mask, text in checks:
        out += [f"{here(i)}: {text(i)}" for i in np.flatnonzero(mask).tolist()]
    out += _rule_breaches(scenario, key_of, allocated, capacity, final)
    expected = {
        "allocated": allocated,
        "disbursed": disbursed,
        "capacity": capacity,
        "surplus": surplus,
        "room": room,
        "final": final,
        "change": final - allocated,
        "absorbable_before": np.minimum(allocated, capacity),
        "absorbable_after": np.minimum(final, capacity),
    }
    for name, want in expected.items():
        for i in _mismatches(table[name].tolist(), want, prec):
            out.append(
                f"{here(i)}: {name} is {table[name].iat[i]}, the scenario and transfers give "
                f"{scenario.to_amount(int(want[i]))}"
            )

    before = np.zeros(len(pool_ids), dtype=np.int64)
    after = np.zeros(len(pool_ids), dtype=np.int64)
    np.add.at(before, pool, allocated)
    np.add.at(after, pool, final)
    for p in np.flatnonzero(before != after).tolist():
        key = list(pool_ids)[p]
        diff = scenario.to_amount(int(after[p] - before[p]))
        out.append(f"pool {key}: total differs from its allocated total by {diff} {scenario.unit}")

    # --- summary arithmetic
    def total(units: np.ndarray) -> Decimal:
        return scenario.to_amount(int(np.sum(units, dtype=object)))

    s = plan.summary
    alloc_total = total(allocated)
    ab_before, ab_after = total(expected["absorbable_before"]), total(expected["absorbable_after"])
    want_summary: dict[str, Any] = {
        "allocated": alloc_total,
        "disbursed": total(disbursed),
        "absorbable_before": ab_before,
        "absorbable_after": ab_after,
        "lapse_before": alloc_total - ab_before,
        "lapse_after": alloc_total - ab_after,
        "moved": total(amount),
        "transfer_count": n_tr,
        "transfer_cost": total_cost,
        "rate_before": float(ab_before / alloc_total) if alloc_total else None,
        "rate_after": float(ab_after / alloc_total) if alloc_total else None,
    }
    for name, want_value in want_summary.items():
        got_value = getattr(s, name)
        if got_value != want_value:
            out.append(f"summary.{name} is {got_value}, the lines and transfers give {want_value}")
    return out
