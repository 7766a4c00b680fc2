"""Text reports for people: locality names, thousands separators, the unit, the headline."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from .plan import Plan, records
from .scenario import LINE_KEYS, Scenario

__all__ = ["amount_text", "describe_scenario", "headline", "pool_table", "text_report"]


def amount_text(value: Decimal | int) -> str:
    """``1047495`` -> ``1,047,495``; decimals keep their digits: ``1234.5`` -> ``1,234.5``."""
    d = Decimal(value)
    if d == d.to_integral_value():
        d = d.quantize(Decimal(1))
    return f"{d:,}"


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.1f}%"


def headline(plan: Plan) -> str:
    """``expected disbursement 57.9% → 63.7% (+143,334 million VND); lapse 1,047,495 → 904,161``"""
    s = plan.summary
    if s is None:
        return f"no plan: {plan.status} — {plan.message}"
    unit = plan.scenario.unit
    gain = s.absorbable_after - s.absorbable_before
    return (
        f"expected disbursement {_pct(s.rate_before)} → {_pct(s.rate_after)} "
        f"(+{amount_text(gain)} {unit}); lapse {amount_text(s.lapse_before)} → {amount_text(s.lapse_after)} {unit}"
    )


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        ).rstrip()

    return [fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]


def pool_table(plan: Plan) -> list[list[str]]:
    """Per pool: allocated, surplus, room, moved, lapse before and after."""
    scenario = plan.scenario
    attrs = scenario.rules.pool_by
    sums: dict[tuple[str, ...], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for rec in records(plan.lines):
        key = tuple(rec[a] for a in attrs)
        agg = sums[key]
        for col in ("allocated", "surplus", "room", "absorbable_before", "absorbable_after"):
            agg[col] += rec[col]
        agg["moved"] += max(rec["change"], Decimal(0))
    rows = []
    for key in sorted(sums):
        a = sums[key]
        rows.append(
            [
                " / ".join(x for x in key if x) or "(all lines)",
                amount_text(a["allocated"]),
                amount_text(a["surplus"]),
                amount_text(a["room"]),
                amount_text(a["moved"]),
                amount_text(a["allocated"] - a["absorbable_before"]),
                amount_text(a["allocated"] - a["absorbable_after"]),
            ]
        )
    return rows


def _side(labels: dict[str, str], key: list[str], other: list[str]) -> str:
    """Locality name, plus the program / fund / component where the two sides differ."""
    differ = [a for a, b in zip(key[1:], other[1:], strict=True) if a != b and a]
    return labels.get(key[0], key[0]) + (f" ({' / '.join(differ)})" if differ else "")


def text_report(plan: Plan) -> str:
    """The whole plan as text: status, headline, pools, transfers."""
    sc = plan.scenario
    out = [f"{sc.name} — {plan.status} ({plan.solver})", ""]
    if plan.summary is None:
        out.append(f"no plan: {plan.status}")
        out += _diagnosis_text(plan)
        if not _diagnosis_text(plan):
            out.append(plan.message)
        return "\n".join(out) + "\n"
    s = plan.summary
    out.append(headline(plan))
    if plan.explain is not None and plan.explain.gap.get("text"):
        out.append(plan.explain.gap["text"])
    cost = f"; transfer cost {amount_text(s.transfer_cost)}" if sc.transfer_costs else ""
    out.append(f"moved {amount_text(s.moved)} {sc.unit} in {s.transfer_count} transfers{cost}")
    if plan.status != "optimal":
        out.append(f"note: {plan.message}")
    out += ["", f"Pools ({sc.unit}; money moves only inside a pool: same {', '.join(sc.rules.pool_by) or 'nothing'})"]
    out += _table(
        ["pool", "allocated", "surplus", "room", "moved", "lapse before", "lapse after"],
        pool_table(plan),
        right={1, 2, 3, 4, 5, 6},
    )
    labels = sc.locality_labels()
    rows = []
    has_cost = bool(sc.transfer_costs) or any(c > 0 for c in sc.rules.move_costs.values())
    approvals = set(plan.transfers["approval"]) if "approval" in plan.transfers else set()
    show_approval = bool(approvals - {"people_committee"})
    for rec in records(plan.transfers):
        src = [rec[f"from_{k}"] for k in LINE_KEYS]
        dst = [rec[f"to_{k}"] for k in LINE_KEYS]
        common = [a for a, b in zip(src[1:], dst[1:], strict=True) if a == b and a]
        row = [" / ".join(common), _side(labels, src, dst), _side(labels, dst, src), amount_text(rec["amount"])]
        if has_cost:
            row.append(amount_text(rec["cost"]))
        if show_approval:
            row.append(str(rec["approval"]).replace("_", " "))
        rows.append(row)
    out += ["", f"Transfers ({sc.unit})"]
    header = ["pool", "from", "to", "amount"] + (["cost"] if has_cost else []) + (["approval"] if show_approval else [])
    if rows:
        out += _table(header, rows, right={3, 4} if has_cost else {3})
    else:
        out.append("(none: no pool has both surplus and room)")
    out += _explain_text(plan)
    return "\n".join(out) + "\n"


def _explain_text(plan: Plan, top: int = 10) -> list[str]:
    """Reasons in short, where ready projects would save the most, and the lapse by pool/locality."""
    e = plan.explain
    if e is None or e.lines.empty:
        return []
    sc = plan.scenario
    labels = sc.locality_labels()
    out = ["", "Why (lines by reason)"]
    counts = e.lines["reason"].value_counts()
    out += [f"  {n:>5}  {str(code).replace('_', ' ')}" for code, n in counts.items()]
    ranked = e.ranked.head(top)
    if not ranked.empty:
        out += ["", f"Where ready projects would save the most money (per extra unit of capacity; top {top})"]
        rows = [
            [
                labels.get(r["locality"], r["locality"]),
                " / ".join(x for x in (r["program"], r["fund"], r["component"]) if x),
                f"{r['capacity_value']:g}",
                amount_text(r["up_to"]),
            ]
            for r in records(ranked)
        ]
        out += _table(["locality", "line", "saves per unit", "up to"], rows, right={2, 3})
    lapse = e.lapse.head(top)
    if not lapse.empty:
        out += ["", f"Money that still lapses ({sc.unit}; largest {top})"]
        rows = [
            [
                r["pool"],
                r["name"],
                amount_text(r["lapse"]),
                amount_text(r["no_room"]),
                amount_text(r["blocked"]),
                r["blocked_by"],
            ]
            for r in records(lapse)
        ]
        out += _table(["pool", "locality", "lapse", "no room in pool", "blocked", "blocked by"], rows, right={2, 3, 4})
    if e.notes:
        out += ["", *("note: " + n for n in e.notes)]
    return out


def _diagnosis_text(plan: Plan) -> list[str]:
    e = plan.explain
    if e is None or not e.diagnosis:
        return []
    out = []
    for d in e.diagnosis.get("targets", []):
        out.append(d["text"])
        for line in d["closest_lines"]:
            out.append(
                f"  - {line['label']}: +{amount_text(line['add_capacity'])} capacity "
                f"(lapses {amount_text(line['lapse_left'])} of capacity {amount_text(line['capacity'])})"
            )
    conflict = e.diagnosis.get("conflict") or []
    if conflict:
        out += ["", "The smallest set of rules that conflict:"]
        out += [f"  - {c}" for c in conflict]
    return out


def describe_scenario(scenario: Scenario) -> str:
    """One paragraph about a valid scenario (for ``reallocate validate``)."""
    t = scenario.table
    unit = scenario.unit
    surplus = scenario.to_amount(int(t.surplus.sum(dtype=object)))
    room = scenario.to_amount(int(t.room.sum(dtype=object)))
    n_loc = len(t.locality_ids)
    return (
        f"valid scenario {scenario.name!r}: {t.size} lines, {n_loc} localities, {len(t.pool_keys)} pools "
        f"(pool_by: {', '.join(scenario.rules.pool_by) or 'none'}); "
        f"surplus {amount_text(surplus)} {unit}, room {amount_text(room)} {unit}"
    )
