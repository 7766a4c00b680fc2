"""Text reports for people: locality names, thousands separators, the unit, the headline."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from .labels import amount_text as _amount_text
from .labels import check_lang, label, phrase, reason_text, unit_text
from .messages import translate
from .plan import Plan, records
from .risk_report import basis_text, check_risk, outlook_text, risk_sentences, risk_table, top_header, top_rows
from .scenario import LINE_KEYS, Scenario

if TYPE_CHECKING:
    from .uncertainty.risk import Risk

__all__ = ["amount_text", "describe_scenario", "headline", "pool_table", "text_report"]


def amount_text(value: Decimal | int, lang: str = "en") -> str:
    """``1047495`` -> ``1,047,495`` (``1.047.495`` in Vietnamese); decimals keep their digits."""
    return _amount_text(value, lang)


def _title(key: str, lang: str, **values: object) -> str:
    return phrase("report", key, lang, **values)


def headline(plan: Plan, lang: str = "en") -> str:
    """``expected disbursement 57.9% → 63.7% (+143,334 million VND); lapse 1,047,495 → 904,161``
    (``57,9%`` and ``143.334`` in Vietnamese): ``plan.headline_in(lang)``."""
    return plan.headline_in(lang)


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        ).rstrip()

    return [fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]


def pool_table(plan: Plan, lang: str = "en") -> list[list[str]]:
    """Per pool: allocated, surplus, room, moved, lapse before and after."""
    scenario = plan.scenario
    attrs = scenario.rules.pool_by
    sums: dict[tuple[str, ...], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for rec in records(plan.exact_lines()):
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
                amount_text(a["allocated"], lang),
                amount_text(a["surplus"], lang),
                amount_text(a["room"], lang),
                amount_text(a["moved"], lang),
                amount_text(a["allocated"] - a["absorbable_before"], lang),
                amount_text(a["allocated"] - a["absorbable_after"], lang),
            ]
        )
    return rows


def _side(labels: dict[str, str], key: list[str], other: list[str]) -> str:
    """Locality name, plus the program / fund / component where the two sides differ."""
    differ = [a for a, b in zip(key[1:], other[1:], strict=True) if a != b and a]
    return labels.get(key[0], key[0]) + (f" ({' / '.join(differ)})" if differ else "")


def text_report(plan: Plan, lang: str = "en", risk: Risk | None = None) -> str:
    """The whole plan as text (English or Vietnamese): status, headline, pools, transfers, why.

    A plan made for a capacity forecast (``plan.basis``) says that its capacities are planning
    capacities and under which objective; with ``risk`` (``plan.risk(forecast, ...)``) a section
    "Risk of lapse" follows: the rate and lapse over the simulated years, the chance of missing
    the target, the VSS when known and the lines carrying most of the expected lapse."""
    check_lang(lang)
    if risk is not None:
        check_risk(plan, risk)
    sc = plan.scenario
    out = [f"{sc.name} — {label(plan.status, lang)} ({plan.solver})", ""]
    if plan.basis is not None:
        out += [basis_text(plan.basis, lang), ""]
    if risk is not None and plan.summary is not None:
        out += [outlook_text(risk, lang), ""]
    if plan.summary is None:
        out.append(f"{_title('no_plan', lang)}: {label(plan.status, lang)}")
        out += _diagnosis_text(plan, lang)
        if not _diagnosis_text(plan, lang):
            out.append(translate(plan.message, lang))
        return "\n".join(out) + "\n"
    s = plan.summary
    unit = unit_text(sc.unit, lang)
    out.append(headline(plan, lang))
    if plan.explain is not None and plan.explain.gap.get("text"):
        gap = plan.explain.gap
        out.append(translate(gap["text"], lang))
    cost = _title("cost", lang, cost=amount_text(s.transfer_cost, lang)) if s.transfer_cost else ""
    out.append(_title("moved", lang, moved=amount_text(s.moved, lang), unit=unit, count=s.transfer_count) + cost)
    if plan.status != "optimal":
        out.append(_title("note", lang, note=translate(plan.message, lang)))
    by = ", ".join(label(a, lang).lower() for a in sc.rules.pool_by) or "-"
    out += ["", _title("pools", lang, unit=unit, by=by)]
    out += _table(
        [label(k, lang) for k in ("pool", "allocated", "surplus", "room", "moved", "lapse_before", "lapse_after")],
        pool_table(plan, lang),
        right={1, 2, 3, 4, 5, 6},
    )
    labels = sc.locality_labels()
    rows = []
    has_cost = bool(sc.transfer_costs) or any(c > 0 for c in sc.rules.move_costs.values())
    approvals = set(plan.transfers["approval"]) if "approval" in plan.transfers else set()
    show_approval = bool(approvals - {"people_committee"})
    for rec in records(plan.exact_transfers()):
        src = [rec[f"from_{k}"] for k in LINE_KEYS]
        dst = [rec[f"to_{k}"] for k in LINE_KEYS]
        common = [a for a, b in zip(src[1:], dst[1:], strict=True) if a == b and a]
        row = [" / ".join(common), _side(labels, src, dst), _side(labels, dst, src), amount_text(rec["amount"], lang)]
        if has_cost:
            row.append(amount_text(rec["cost"], lang))
        if show_approval:
            row.append(label(str(rec["approval"]), lang))
        rows.append(row)
    out += ["", _title("transfers", lang, unit=unit)]
    keys = ["pool", "from", "to", "amount"] + (["cost"] if has_cost else []) + (["approval"] if show_approval else [])
    header = [label(k, lang) for k in keys]
    if rows:
        out += _table(header, rows, right={3, 4} if has_cost else {3})
    else:
        out.append(_title("none", lang))
    out += _explain_text(plan, lang)
    if risk is not None:
        out += _risk_text(risk, lang)
    return "\n".join(out) + "\n"


def _risk_text(risk: Risk, lang: str) -> list[str]:
    """The section "Risk of lapse": figures over the simulated years, then the lines at risk."""
    out = ["", phrase("risk", "title", lang), *risk_sentences(risk, lang)]
    header, rows = risk_table(risk, lang)
    out += _table(header, rows, right={1, 2, 3, 4})
    top = top_rows(risk, lang)
    out += ["", phrase("risk", "top", lang, unit=unit_text(risk.unit, lang), top=len(top))]
    out += _table(top_header(lang), top, right={1, 2}) if top else [phrase("risk", "no_top", lang)]
    return out


def _explain_text(plan: Plan, lang: str = "en", top: int = 10) -> list[str]:
    """Reasons in short, where ready projects would save the most, and the lapse by pool/locality."""
    e = plan.explain
    if e is None or e.lines.empty:
        return []
    sc = plan.scenario
    labels = sc.locality_labels()
    out = ["", _title("why", lang)]
    counts = e.lines["reason"].value_counts()
    out += [f"  {n:>5}  {reason_text(str(code), lang)}" for code, n in counts.items()]
    ranked = e.ranked.head(top)
    if not ranked.empty:
        out += ["", _title("saves", lang, top=top)]
        rows = [
            [
                labels.get(r["locality"], r["locality"]),
                " / ".join(x for x in (r["program"], r["fund"], r["component"]) if x),
                f"{r['capacity_value']:g}",
                amount_text(r["up_to"], lang),
            ]
            for r in records(ranked)
        ]
        head = [label("locality", lang), _title("line", lang), _title("saves_per_unit", lang), _title("up_to", lang)]
        out += _table(head, rows, right={2, 3})
    lapse = e.lapse.head(top)
    if not lapse.empty:
        out += ["", _title("lapses", lang, unit=unit_text(sc.unit, lang), top=top)]
        rows = [
            [
                r["pool"],
                r["name"],
                amount_text(r["lapse"], lang),
                amount_text(r["no_room"], lang),
                amount_text(r["blocked"], lang),
                translate(r["blocked_by"], lang),
            ]
            for r in records(lapse)
        ]
        head = [label(k, lang) for k in ("pool", "locality", "lapse", "no_room", "blocked", "blocked_by")]
        out += _table(head, rows, right={2, 3, 4})
    if e.notes:
        out += ["", *(_title("note", lang, note=translate(n, lang)) for n in e.notes)]
    return out


def _diagnosis_text(plan: Plan, lang: str = "en") -> list[str]:
    e = plan.explain
    if e is None or not e.diagnosis:
        return []
    out = []
    for d in e.diagnosis.get("targets", []):
        out.append(translate(d["text"], lang))
        for line in d["closest_lines"]:
            out.append(
                _title(
                    "closest",
                    lang,
                    line=line["label"],
                    add=amount_text(line["add_capacity"], lang),
                    lapse=amount_text(line["lapse_left"], lang),
                    capacity=amount_text(line["capacity"], lang),
                )
            )
    conflict = e.diagnosis.get("conflict") or []
    if conflict:
        out += ["", phrase("html", "conflict", lang) + ":"]
        out += [f"  - {translate(c, lang)}" for c in conflict]
    return out


def describe_scenario(scenario: Scenario, lang: str = "en") -> str:
    """One paragraph about a valid scenario (for ``reallocate validate``)."""
    t = scenario.table
    unit = unit_text(scenario.unit, lang)
    surplus = scenario.to_amount(int(t.surplus.sum(dtype=object)))
    room = scenario.to_amount(int(t.room.sum(dtype=object)))
    return _title(
        "valid",
        lang,
        name=repr(scenario.name),
        lines=amount_text(t.size, lang),
        localities=amount_text(len(t.locality_ids), lang),
        pools=amount_text(len(t.pool_keys), lang),
        pool_by=", ".join(scenario.rules.pool_by) or "none",
        surplus=amount_text(surplus, lang),
        room=amount_text(room, lang),
        unit=unit,
    )
