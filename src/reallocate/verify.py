"""Independent plan verifier: every rule re-checked from the scenario's own fields.

It deliberately shares no code with the optimiser: it recomputes surplus, room, pools, flows and
totals in exact ``Decimal`` arithmetic straight from ``scenario.lines`` and the plan's tables.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .scenario import LINE_KEYS, Scenario

if TYPE_CHECKING:
    from .plan import Plan

__all__ = ["plan_breaches"]

_ZERO = Decimal(0)


def _multiple(value: Decimal, precision: Decimal) -> bool:
    return (value % precision) == 0


def plan_breaches(scenario: Scenario, plan: Plan) -> list[str]:
    """Every rule the plan breaks (empty when the plan is valid)."""
    out: list[str] = []
    if plan.summary is None:
        return out if plan.transfers.empty else ["a plan without summary has transfers"]
    prec = scenario.precision
    lines = scenario.lines
    n = len(lines)
    table = plan.lines
    if len(table) != n:
        return [f"plan has {len(table)} lines, scenario has {n}"]

    key_of = [(ln.locality, ln.program, ln.fund, ln.component) for ln in lines]
    index_of = {k: i for i, k in enumerate(key_of)}
    plan_keys = list(zip(*(table[k].tolist() for k in LINE_KEYS), strict=True))
    for i, (want, got) in enumerate(zip(key_of, plan_keys, strict=True)):
        if want != got:
            out.append(f"lines[{i}]: plan line {got} is not scenario line {want}")
    if out:
        return out

    pool_attr = scenario.rules.pool_by

    def pool(i: int) -> tuple[str, ...]:
        return tuple(getattr(lines[i], a) for a in pool_attr)

    # --- transfers
    inflow: dict[int, Decimal] = defaultdict(lambda: _ZERO)
    outflow: dict[int, Decimal] = defaultdict(lambda: _ZERO)
    costs = {(c.from_, c.to): Decimal(repr(c.cost)) for c in scenario.transfer_costs or ()}
    min_transfer = scenario.rules.min_transfer
    total_cost = _ZERO
    moved = _ZERO
    seen_pairs: set[tuple[int, int]] = set()
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in plan.transfers.to_dict(orient="records")
    ]
    for t, rec in enumerate(records):
        src = tuple(rec[f"from_{k}"] for k in LINE_KEYS)
        dst = tuple(rec[f"to_{k}"] for k in LINE_KEYS)
        amount = rec["amount"]
        where = f"transfers[{t}]"
        if not isinstance(amount, Decimal):
            out.append(f"{where}: amount {amount!r} is not an exact decimal")
            continue
        found_i, found_j = index_of.get(src), index_of.get(dst)  # type: ignore[call-overload]
        if found_i is None or found_j is None:
            out.append(f"{where}: names a line that is not in the scenario ({src} -> {dst})")
            continue
        i, j = found_i, found_j
        if i == j:
            out.append(f"{where}: moves money from a line to itself")
        if (i, j) in seen_pairs:
            out.append(f"{where}: a second transfer between the same two lines")
        seen_pairs.add((i, j))
        if amount <= 0:
            out.append(f"{where}: amount {amount} is not positive")
        if not _multiple(amount, prec):
            out.append(f"{where}: amount {amount} is not a multiple of precision {prec}")
        if min_transfer > 0 and amount < min_transfer:
            out.append(f"{where}: amount {amount} is below min_transfer {min_transfer}")
        if pool(i) != pool(j):
            out.append(f"{where}: moves money between pools {pool(i)} and {pool(j)}")
        unit_cost = costs.get((src[0], dst[0]), _ZERO)
        if rec["unit_cost"] != unit_cost:
            out.append(f"{where}: unit_cost {rec['unit_cost']} differs from the scenario's {unit_cost}")
        if rec["cost"] != amount * unit_cost:
            out.append(f"{where}: cost {rec['cost']} is not amount x unit_cost")
        total_cost += amount * unit_cost
        moved += amount
        outflow[i] += amount
        inflow[j] += amount

    # --- lines
    cols = {c: table[c].tolist() for c in table.columns}
    sums: dict[str, Decimal] = defaultdict(lambda: _ZERO)
    pool_before: dict[tuple[str, ...], Decimal] = defaultdict(lambda: _ZERO)
    pool_after: dict[tuple[str, ...], Decimal] = defaultdict(lambda: _ZERO)
    for i, ln in enumerate(lines):
        where = f"lines[{i}] ({'/'.join(x for x in key_of[i] if x)})"
        floor = ln.floor if ln.floor is not None else ln.disbursed
        surplus = max(ln.allocated - max(ln.capacity, floor), _ZERO)
        holdable = ln.capacity if ln.ceiling is None else min(ln.capacity, ln.ceiling)
        room = max(holdable - ln.allocated, _ZERO)
        gives, gets = outflow[i], inflow[i]
        final = ln.allocated - gives + gets
        if gives > 0 and gets > 0:
            out.append(f"{where}: both gives {gives} and receives {gets}")
        if gives > surplus:
            out.append(f"{where}: gives {gives}, more than its surplus {surplus}")
        if gets > room:
            out.append(f"{where}: receives {gets}, more than its room {room}")
        if final < floor:
            out.append(f"{where}: final {final} is below its floor {floor}")
        if ln.ceiling is not None and final > ln.ceiling:
            out.append(f"{where}: final {final} is above its ceiling {ln.ceiling}")
        expected = {
            "allocated": ln.allocated,
            "disbursed": ln.disbursed,
            "capacity": ln.capacity,
            "surplus": surplus,
            "room": room,
            "final": final,
            "change": final - ln.allocated,
            "absorbable_before": min(ln.allocated, ln.capacity),
            "absorbable_after": min(final, ln.capacity),
        }
        for name, value in expected.items():
            got = cols[name][i]
            if not isinstance(got, Decimal) or got != value:
                out.append(f"{where}: {name} is {got}, the scenario and transfers give {value}")
            elif not _multiple(got, prec):
                out.append(f"{where}: {name} {got} is not a multiple of precision {prec}")
            sums[name] += value
        pool_before[pool(i)] += ln.allocated
        pool_after[pool(i)] += final

    for key, before in pool_before.items():
        if pool_after[key] != before:
            out.append(f"pool {key}: total {pool_after[key]} differs from allocated total {before}")

    # --- summary arithmetic
    s = plan.summary
    allocated = sums["allocated"]
    want_summary: dict[str, Any] = {
        "allocated": allocated,
        "disbursed": sums["disbursed"],
        "absorbable_before": sums["absorbable_before"],
        "absorbable_after": sums["absorbable_after"],
        "lapse_before": allocated - sums["absorbable_before"],
        "lapse_after": allocated - sums["absorbable_after"],
        "moved": moved,
        "transfer_count": len(records),
        "transfer_cost": total_cost,
    }
    for name, want in want_summary.items():
        got = getattr(s, name)
        if got != want:
            out.append(f"summary.{name} is {got}, the lines and transfers give {want}")
    if moved != sum((max(c, _ZERO) for c in (cols["change"])), _ZERO):
        out.append("summary: money received differs from money moved")
    for name, part in (("rate_before", "absorbable_before"), ("rate_after", "absorbable_after")):
        got_rate = getattr(s, name)
        want_rate = float(sums[part] / allocated) if allocated else None
        if got_rate != want_rate:
            out.append(f"summary.{name} is {got_rate}, expected {want_rate}")
    return out
