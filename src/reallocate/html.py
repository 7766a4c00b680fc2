"""A plan as ONE self-contained HTML file: inline CSS, the charts as PNG data URIs, no script and
no request to anything outside the file — it can be mailed, archived and opened offline.

Sections: the headline, status and message, the gap to 100%, the summary, the three charts
(:mod:`reallocate.charts`), the transfers, every line before and after with its reason, the lapse
by pool and locality; for a plan without a plan (infeasible, error) the diagnosis instead: per
target the missing amount, the pools and closest lines, and the conflicting rules. A plan made for
a capacity forecast says that its capacities are planning capacities (``plan.basis``); given its
risk, a section "Risk of lapse" with the histogram of the rate (:mod:`reallocate.risk_report`).

Labels and number formats follow ``lang`` ("en" or "vi"). The sentences that
:mod:`reallocate.explain` writes (a line's explanation, the conflicting rules) are English.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .charts import KINDS, plot, png_bytes, pool_names, risk_chart
from .labels import amount_text, check_lang, label, percent_text, phrase, reason_text, unit_text
from .messages import translate
from .plan import records
from .risk_report import basis_text, check_risk, outlook_text, risk_sentences, risk_table, top_header, top_rows
from .scenario import LINE_KEYS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .plan import Plan
    from .scenario import Scenario
    from .uncertainty.risk import Risk

__all__ = ["MAX_TABLE_ROWS", "headline", "plan_html", "write_html"]

#: Tables longer than this show their first rows and say how many there are.
MAX_TABLE_ROWS = 2000
#: Chart resolution in the report (dots per inch).
CHART_DPI = 110


_CSS = """
:root { --ink: #1d2430; --muted: #5b6473; --line: #d9dee5; --head: #eef2f7; --accent: #1f5fa8; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1180px; padding: 24px 28px 48px; color: var(--ink); background: #fff;
  font: 15px/1.5 "Segoe UI", "Noto Sans", Roboto, "Helvetica Neue", Arial, "DejaVu Sans", sans-serif; }
h1 { font-size: 26px; margin: 0 0 2px; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 8px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.headline { font-size: 19px; font-weight: 600; color: var(--accent); margin: 12px 0; }
.status { margin: 6px 0; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 13px; font-weight: 600;
  background: #e3f1e5; color: #1e6b2c; }
.badge.bad { background: #fbe4e2; color: #9b2118; }
.badge.warn { background: #fdf0d8; color: #8a5a00; }
.gap, .basis { margin: 6px 0; }
.basis a { color: var(--accent); text-decoration: none; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 7px; vertical-align: top; }
th { background: var(--head); text-align: left; position: sticky; top: 0; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
td.why { min-width: 300px; color: var(--muted); }
td.why .reason { display: block; color: var(--ink); font-weight: 600; }
tr.total td { font-weight: 600; background: #f7f9fb; }
table.summary th { background: none; position: static; font-weight: normal; padding-right: 24px; }
figure { margin: 18px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; }
.note { color: var(--muted); font-size: 13px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@page { size: A4 landscape; margin: 12mm; }
@media print { body { max-width: none; padding: 0; font-size: 11px; } h1 { font-size: 20px; }
  h2 { font-size: 15px; margin-top: 18px; break-after: avoid; } .headline { font-size: 14px; }
  .scroll { overflow: visible; } table { font-size: 9.5px; width: 100%; } table.summary { width: auto; }
  th, td { padding: 2px 4px; }
  th { position: static; } tr { break-inside: avoid; } td.why { min-width: 0; }
  figure { break-inside: avoid; } figure img { max-height: 160mm; width: auto; } }
"""


def _t(key: str, lang: str) -> str:
    return phrase("html", key, lang)


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# ------------------------------------------------------------------------------------ pieces
def headline(plan: Plan, lang: str = "en") -> str:
    """The headline in ``lang``: ``plan.headline_in(lang)`` (one wording everywhere)."""
    return plan.headline_in(lang)


def _gap_text(plan: Plan, lang: str) -> str:
    e = plan.explain
    if e is None or not e.gap:
        return ""
    gap = e.gap
    if not gap.get("amount"):
        return _t("gap_none", lang)
    pools = pool_names(plan.scenario, lang)
    pool = gap["largest_pool"]
    loc = gap["largest_locality"]
    return _t("gap", lang).format(
        amount=amount_text(gap["amount"], lang),
        unit=unit_text(plan.scenario.unit, lang),
        share=percent_text(gap["share"], lang),
        no_room=amount_text(gap["no_room"], lang),
        blocked=amount_text(gap["blocked"], lang),
        pool=pools.get(pool["pool"], pool["pool"]),
        pool_lapse=amount_text(pool["lapse"], lang),
        locality=loc["name"],
        locality_lapse=amount_text(loc["lapse"], lang),
    )


class _Markup(str):
    """A cell that is already HTML (built from escaped parts): written as it is."""


def _table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: set[int],
    *,
    lang: str,
    classes: dict[int, str] | None = None,
    total: Sequence[str] | None = None,
) -> str:
    """An HTML table; every cell is escaped (but ``_Markup``). ``numeric`` columns are right-aligned."""
    classes = classes or {}

    def cls(i: int) -> str:
        names = (["num"] if i in numeric else []) + ([classes[i]] if i in classes else [])
        return f' class="{" ".join(names)}"' if names else ""

    out = ['<div class="scroll"><table>', "<thead><tr>"]
    out += [f"<th{cls(i) if i in numeric else ''}>{_e(h)}</th>" for i, h in enumerate(header)]
    out.append("</tr></thead><tbody>")
    shown = rows[:MAX_TABLE_ROWS]
    for row in shown:
        out.append("<tr>" + "".join(f"<td{cls(i)}>{_cell(c)}</td>" for i, c in enumerate(row)) + "</tr>")
    if total is not None:
        out.append('<tr class="total">' + "".join(f"<td{cls(i)}>{_e(c)}</td>" for i, c in enumerate(total)) + "</tr>")
    out.append("</tbody></table></div>")
    if len(rows) > len(shown):
        note = _t("shown_first", lang).format(shown=amount_text(len(shown), lang), total=amount_text(len(rows), lang))
        out.append(f'<p class="note">{_e(note)}</p>')
    return "\n".join(out)


def _cell(value: str) -> str:
    return value if isinstance(value, _Markup) else _e(value)


def _line_name(scenario: Scenario, i: int, lang: str) -> str:
    """``Nam Trà My (dtts / recurrent)`` with the fund in ``lang``."""
    key = scenario.table.keys[i]
    name = scenario.locality_labels().get(key[0], key[0])
    rest = _key_text(key, lang)
    return f"{name} ({rest})" if rest else name


def _key_text(key: Sequence[str], lang: str) -> str:
    """program / fund / component of a line key (without the locality), fund in ``lang``."""
    _, program, fund, component = key
    return " / ".join(x for x in (program, label(fund, lang) if fund else "", component) if x)


# ------------------------------------------------------------------------------------ sections
def _summary(plan: Plan, lang: str) -> str:
    s = plan.summary
    assert s is not None
    sc = plan.scenario

    def a(value: Decimal | int, unit: bool = True) -> str:
        return amount_text(value, lang) + (f" {unit_text(sc.unit, lang)}" if unit else "")

    rows = [
        [label("allocated", lang), a(s.allocated)],
        [label("disbursed", lang), a(s.disbursed)],
        [label("absorbable_before", lang), a(s.absorbable_before)],
        [label("absorbable_after", lang), a(s.absorbable_after)],
        [label("rate_before", lang), percent_text(s.rate_before, lang)],
        [label("rate_after", lang), percent_text(s.rate_after, lang)],
        [label("lapse_before", lang), a(s.lapse_before)],
        [label("lapse_after", lang), a(s.lapse_after)],
        [label("moved", lang), a(s.moved)],
        [label("transfer_count", lang), a(s.transfer_count, unit=False)],
    ]
    if sc.transfer_costs or any(c > 0 for c in sc.rules.move_costs.values()):
        rows.append([label("transfer_cost", lang), a(s.transfer_cost)])
    out = [f"<h2>{_e(label('summary', lang))}</h2>", '<div class="scroll"><table class="summary"><tbody>']
    for name, value in rows:
        out.append(f'<tr><th scope="row">{_e(name)}</th><td class="num">{_e(value)}</td></tr>')
    out.append("</tbody></table></div>")
    return "\n".join(out)


def _charts(plan: Plan, lang: str) -> str:
    out = [f"<h2>{_e(_t('charts', lang))}</h2>"]
    if not plan.found:
        out.append(f'<p class="note">{_e(_t("no_charts", lang))}</p>')
        return "\n".join(out)
    for kind in KINDS:
        out.append(_figure(plot(plan, kind, lang), kind, label(f"chart_{kind}", lang)))
    return "\n".join(out)


def _transfers(plan: Plan, lang: str) -> str:
    sc = plan.scenario
    names = sc.locality_labels()
    head = f"<h2>{_e(label('transfers', lang))} ({_e(unit_text(sc.unit, lang))})</h2>"
    recs = records(plan.exact_transfers())
    if not recs:
        return head + f"\n<p>{_e(_t('no_transfers', lang).format(message=translate(plan.message, lang)))}</p>"
    has_cost = bool(sc.transfer_costs) or any(c > 0 for c in sc.rules.move_costs.values())
    rows = []
    for rec in recs:
        src = [rec[f"from_{k}"] for k in LINE_KEYS]
        dst = [rec[f"to_{k}"] for k in LINE_KEYS]
        same = [a if a == b else "" for a, b in zip(src, dst, strict=True)]
        pool = _key_text(same, lang)

        def side(key: list[str], other: list[str]) -> str:
            differ = ["", *(a if a != b else "" for a, b in zip(key[1:], other[1:], strict=True))]
            extra = _key_text(differ, lang)
            return names.get(key[0], key[0]) + (f" ({extra})" if extra else "")

        row = [side(src, dst), side(dst, src), pool, amount_text(rec["amount"], lang)]
        if has_cost:
            row.append(amount_text(rec["cost"], lang))
        row.append(label(str(rec["approval"]), lang))
        rows.append(row)
    header = [label("from", lang), label("to", lang), label("pool", lang), label("amount", lang)]
    numeric = {3}
    if has_cost:
        header.append(label("cost", lang))
        numeric.add(4)
    header.append(label("approval", lang))
    s = plan.summary
    assert s is not None
    total = ["", "", "", amount_text(s.moved, lang)] + ([amount_text(s.transfer_cost, lang)] if has_cost else []) + [""]
    return head + "\n" + _table(header, rows, numeric, lang=lang, total=total)


def _lines(plan: Plan, lang: str) -> str:
    """Every line before and after, and why: the reason and its sentence share one wide column, so
    neither is squeezed to a word per row at 1280 px nor needs the table to scroll."""
    sc = plan.scenario
    names = sc.locality_labels()
    e = plan.explain
    reasons = e.lines["reason"].tolist() if e is not None and not e.lines.empty else None
    texts = e.lines["text"].tolist() if e is not None and not e.lines.empty else None
    recs = records(plan.exact_lines())
    # the component column only when some line has one
    keys = ["locality", "program", "fund"] + (["component"] if any(r["component"] for r in recs) else [])
    amounts = ("allocated", "capacity", "final", "change", "absorbable_before", "absorbable_after")
    rows = []
    for i, rec in enumerate(recs):
        change = rec["change"]
        row: list[str] = [
            names.get(rec["locality"], rec["locality"]),
            rec["program"],
            label(rec["fund"], lang) if rec["fund"] else "",
            *([rec["component"]] if "component" in keys else []),
            *(amount_text(rec[c], lang) for c in ("allocated", "capacity", "final")),
            ("+" if change > 0 else "") + amount_text(change, lang),
            *(amount_text(rec[c], lang) for c in ("absorbable_before", "absorbable_after")),
        ]
        if reasons is not None and texts is not None:
            why = translate(str(texts[i]), lang)
            row.append(_Markup(f'<span class="reason">{_e(reason_text(str(reasons[i]), lang))}</span>{_e(why)}'))
        rows.append(row)
    header = [label(k, lang) for k in (*keys, *amounts)]
    if plan.basis is not None:  # the capacities are the plan's planning capacities
        header[len(keys) + 1] = phrase("risk", "planning_capacity", lang)
    first = len(keys)
    classes: dict[int, str] = {}
    if reasons is not None:
        header.append(label("reason", lang))
        classes = {len(header) - 1: "why"}
    return f"<h2>{_e(label('lines', lang))} ({_e(unit_text(sc.unit, lang))})</h2>\n" + _table(
        header, rows, set(range(first, first + len(amounts))), lang=lang, classes=classes
    )


def _lapse(plan: Plan, lang: str) -> str:
    sc = plan.scenario
    pools = pool_names(sc, lang)
    out = [f"<h2>{_e(label('lapse_by_pool', lang))} ({_e(unit_text(sc.unit, lang))})</h2>"]
    # per pool: allocated, surplus, room, moved, lapse before and after (from the lines)
    attrs = sc.rules.pool_by
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for rec in records(plan.exact_lines()):
        key = " / ".join(str(rec[a]) for a in attrs if rec[a]) or "(all lines)"
        agg = sums[key]
        for col in ("allocated", "surplus", "room", "absorbable_before", "absorbable_after"):
            agg[col] += rec[col]
        agg["moved"] += max(rec["change"], Decimal(0))
    a = amount_text
    rows = []
    for key in sorted(sums, key=lambda k: (-(sums[k]["allocated"] - sums[k]["absorbable_after"]), k)):
        g = sums[key]
        rows.append(
            [
                pools.get(key, key),
                a(g["allocated"], lang),
                a(g["surplus"], lang),
                a(g["room"], lang),
                a(g["moved"], lang),
                a(g["allocated"] - g["absorbable_before"], lang),
                a(g["allocated"] - g["absorbable_after"], lang),
            ]
        )
    header = [label(k, lang) for k in ("pool", "allocated", "surplus", "room", "moved", "lapse_before", "lapse_after")]
    out.append(_table(header, rows, set(range(1, 7)), lang=lang))
    e = plan.explain
    lapse = e.lapse if e is not None else None
    out.append(f"<h3>{_e(_t('lapse_detail', lang))}</h3>")
    if lapse is None or lapse.empty:
        out.append(f"<p>{_e(_t('no_lapse', lang))}</p>")
        return "\n".join(out)
    rows = [
        [
            pools.get(r["pool"], r["pool"]),
            r["name"],
            a(r["lapse"], lang),
            a(r["no_room"], lang),
            a(r["blocked"], lang),
            translate(r["blocked_by"], lang),
        ]
        for r in records(lapse)
    ]
    header = [label(k, lang) for k in ("pool", "locality", "lapse", "no_room", "blocked", "blocked_by")]
    s = plan.summary
    total = None
    if s is not None and e is not None:
        total = ["", "", a(e.gap["amount"], lang), a(e.gap["no_room"], lang), a(e.gap["blocked"], lang), ""]
    out.append(_table(header, rows, {2, 3, 4}, lang=lang, total=total))
    return "\n".join(out)


def _diagnosis(plan: Plan, lang: str) -> str:
    e = plan.explain
    if e is None or not e.diagnosis:
        return ""
    sc = plan.scenario
    unit = unit_text(sc.unit, lang)
    a = amount_text
    pools = pool_names(sc, lang)
    out = [f"<h2>{_e(_t('diagnosis', lang))}</h2>"]
    for d in e.diagnosis.get("targets", []):
        reduction = ""
        if d.get("allocation_reduction") is not None:
            reduction = _t("or_less_allocation", lang).format(amount=a(d["allocation_reduction"], lang), unit=unit)
        selector = _t("all_lines", lang) if d["selector"] == "all lines" else d["selector"]
        text = _t("target_short", lang).format(
            selector=selector,
            rate=percent_text(d["rate"], lang, digits=0),
            missing=a(d["missing"], lang),
            unit=unit,
            reduction=reduction,
        )
        out.append(f"<h3>{_e(d['target'])}</h3>\n<p>{_e(text)}</p>")
        if d.get("pools"):
            rows = [[pools.get(p["pool"], p["pool"]), a(p["lapse_left"], lang)] for p in d["pools"]]
            out.append(_table([label("pool", lang), _t("lapse_left", lang)], rows, {1}, lang=lang))
        if d.get("closest_lines"):
            out.append(f"<h3>{_e(_t('closest_lines', lang))}</h3>")
            rows = [
                [
                    _line_name(sc, int(c["line"]), lang),
                    a(c["lapse_left"], lang),
                    a(c["capacity"], lang),
                    a(c["add_capacity"], lang),
                ]
                for c in d["closest_lines"]
            ]
            header = [_t("line", lang), _t("lapse_left", lang), label("capacity", lang), _t("add_capacity", lang)]
            out.append(_table(header, rows, {1, 2, 3}, lang=lang))
    conflict = e.diagnosis.get("conflict") or []
    if conflict:
        out.append(f"<h3>{_e(_t('conflict', lang))}</h3>\n<ul>")
        out += [f"<li>{_e(translate(c, lang))}</li>" for c in conflict]
        out.append("</ul>")
    return "\n".join(out)


def _saves(plan: Plan, lang: str, top: int = 10) -> str:
    """Where ready projects would save the most money: the shadow prices the notes speak of."""
    e = plan.explain
    if e is None or e.lines.empty:
        return ""
    ranked = e.ranked.head(top)
    if ranked.empty:
        return ""
    names = plan.scenario.locality_labels()
    rows = [
        [
            names.get(r["locality"], r["locality"]),
            " / ".join(
                label(x, lang) if x in ("investment", "recurrent") else x
                for x in (r["program"], r["fund"], r["component"])
                if x
            ),
            f"{r['capacity_value']:g}".replace(".", "," if lang == "vi" else "."),
            amount_text(r["up_to"], lang),
        ]
        for r in records(ranked)
    ]
    header = [
        label("locality", lang),
        phrase("report", "line", lang),
        phrase("report", "saves_per_unit", lang),
        phrase("report", "up_to", lang),
    ]
    head = f"<h2>{_e(_cap(phrase('report', 'saves', lang, top=top)))}</h2>"
    note = f'<p class="note">{_e(_t("saves_note", lang))}</p>'
    return head + "\n" + note + "\n" + _table(header, rows, {2, 3}, lang=lang)


def _figure(fig: Figure, key: str, title: str) -> str:
    data = base64.b64encode(png_bytes(fig, dpi=CHART_DPI)).decode("ascii")
    width = round(fig.get_figwidth() * CHART_DPI)
    return (
        f'<figure id="chart-{key}"><img src="data:image/png;base64,{data}" alt="{_e(title)}" '
        f'width="{width}"><figcaption>{_e(title)}</figcaption></figure>'
    )


def _risk(plan: Plan, risk: Risk, lang: str) -> str:
    """The risk of lapse over the forecast's simulated years: figures, the histogram of the rate
    and the lines carrying most of the expected lapse."""
    out = [f'<h2 id="risk">{_e(phrase("risk", "title", lang))}</h2>']
    if plan.basis is not None:
        out.append(f"<p>{_e(basis_text(plan.basis, lang))}</p>")
    out += [f"<p>{_e(text)}</p>" for text in risk_sentences(risk, lang)]
    header, rows = risk_table(risk, lang)
    out.append(_table(header, rows, {1, 2, 3, 4}, lang=lang))
    out.append(_figure(risk_chart(risk, lang), "risk", phrase("chart", "risk_title", lang)))
    top = top_rows(risk, lang)
    out.append(f"<h3>{_e(phrase('risk', 'top', lang, unit=unit_text(risk.unit, lang), top=len(top)))}</h3>")
    if top:
        out.append(_table(top_header(lang), top, {1, 2}, lang=lang))
    else:
        out.append(f"<p>{_e(phrase('risk', 'no_top', lang))}</p>")
    return "\n".join(out)


def _notes(plan: Plan, lang: str) -> str:
    e = plan.explain
    if e is None or not e.notes:
        return ""
    items = "".join(f"<li>{_e(translate(n, lang))}</li>" for n in e.notes)
    return f'<h2>{_e(_t("notes", lang))}</h2>\n<ul class="note">{items}</ul>'


# ------------------------------------------------------------------------------------ public
def plan_html(plan: Plan, lang: str = "en", risk: Risk | None = None) -> str:
    """The whole plan as one self-contained HTML document (UTF-8 text), labels in ``lang``: the
    headline, the summary figures, the three charts (inline PNG), the lines and transfers tables
    and the explanation; for a plan without a solution, its status and diagnosis. Every name from
    the scenario is escaped. :func:`write_html` writes it to a file atomically.

    A plan made for a capacity forecast (``plan.basis``) says under the headline that its
    capacities are planning capacities, and under which objective; with ``risk``
    (``plan.risk(forecast, ...)``) a section "Risk of lapse" follows the lapse tables: the rate
    and lapse over the simulated years, the chance of missing the target, the VSS when known, the
    histogram of the rate and the lines carrying most of the expected lapse."""
    check_lang(lang)
    if risk is not None:
        check_risk(plan, risk)
    sc = plan.scenario
    title = f"{sc.name} — {_t('report', lang)}"
    badge = "" if plan.status == "optimal" else (" warn" if plan.found else " bad")
    parts: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(sc.name)}</h1>",
        f'<p class="sub">{_e(_t("report", lang))} · {_e(label("unit", lang))}: {_e(unit_text(sc.unit, lang))} · '
        f"{_e(_t('solver', lang))}: {_e(plan.solver)}</p>",
    ]
    # with a risk, the headline is what the forecast expects; the figures against the planning
    # capacities follow it, named as such
    outlook = risk is not None and plan.found
    if outlook:
        assert risk is not None
        parts.append(f'<p class="headline"><a href="#risk">{_e(outlook_text(risk, lang))}</a></p>')
    parts += [
        f'<p class="{"basis" if outlook else "headline"}">{_e(_cap(headline(plan, lang)))}</p>',
        f'<p class="status">{_e(label("status", lang))}: <span class="badge{badge}">'
        f"{_e(label(plan.status, lang))}</span> — {_e(translate(plan.message, lang))}</p>",
    ]
    if plan.basis is not None:
        parts.append(f'<p class="basis">{_e(basis_text(plan.basis, lang))}</p>')
    gap = _gap_text(plan, lang)
    if gap:
        parts.append(f'<p class="gap">{_e(gap)}</p>')
    if plan.found:
        parts += [
            _summary(plan, lang),
            _charts(plan, lang),
            _transfers(plan, lang),
            _lines(plan, lang),
            _lapse(plan, lang),
            _saves(plan, lang),
            _risk(plan, risk, lang) if risk is not None else "",
        ]
    else:
        parts += [_charts(plan, lang), _diagnosis(plan, lang)]
    parts += [
        _notes(plan, lang),
        f"<footer>{_e(_t('made_by', lang).format(version=__version__))}</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def write_html(plan: Plan, path: str | Path, lang: str = "en", risk: Risk | None = None) -> Path:
    """Write :func:`plan_html` to ``path`` (UTF-8); returns the path."""
    from .atomic import atomic_file

    out = Path(path)
    text = plan_html(plan, lang, risk)
    with atomic_file(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return out
