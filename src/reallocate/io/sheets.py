"""The tables written for people: columns with kinds and number formats, for scenarios and plans
(the same layout in Excel and CSV)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..labels import amount_text, check_lang, phrase, reason_text, unit_text
from ..messages import translate
from ..plan import LINE_AMOUNT_COLUMNS, SUMMARY_AMOUNTS, Plan, records
from ..risk_report import basis_text, check_risk, money, risk_items
from ..rules import GOAL_ORDER
from ..scenario import LINE_KEYS, Limit, Scenario, Target
from .cells import _plain, _sig_digits
from .layout import (
    _LINE_AMOUNTS,
    _MOVE_COSTS,
    EXCEL_DIGITS,
    FLAGS,
    KNOWN_FUNDS,
    KNOWN_PROGRAMS,
    LINE_COLUMNS,
    RULES,
    SETTINGS,
    _help,
    _label,
    _pair,
)

if TYPE_CHECKING:
    from ..uncertainty.risk import Risk


@dataclass
class _Column:
    """One column to write: its header, values and how to show them."""

    key: str
    header: str
    values: list[Any]
    kind: str = "text"  # text | amount | signed | number | count | percent | rate | flag | limit
    note: str | None = None
    decimals: int | None = None  # decimals shown for amounts (None: as many as each value has)
    kinds: list[str] | None = None  # per-row kinds (summary values)
    width_cap: int = 60
    left: bool = False  # every cell aligned left and top, long texts wrapped (a column of mixed values)
    excel: bool = True  # written to Excel
    csv: bool = True  # written to CSV


@dataclass
class _Sheet:
    name: str
    columns: list[_Column]
    validations: list[tuple[str, str, str, str]] = field(default_factory=list)  # col key, formula1, style, prompt
    list_rows: int = 0  # how many rows the drop-downs and column formats cover


def _places_of(d: Decimal) -> int:
    exp = d.normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def _amount_format(decimals: int, signed: bool = False) -> str:
    body = "#,##0" + ("." + "0" * decimals if decimals else "")
    return f"+{body};-{body};0" if signed else body


def _percent_format(decimals: int) -> str:
    return "0" + ("." + "0" * decimals if decimals else "") + "%"


def _percent_text(rate: float) -> str:
    """0.3 -> ``30%``, 0.125 -> ``12.5%``: exact (the rate's shortest repr, times 100)."""
    return _plain(Decimal(repr(rate)) * 100) + "%"


def _share_decimals(rate: float) -> int:
    return _places_of(Decimal(repr(rate)) * 100)


def _exact_in_excel(d: Decimal) -> bool:
    return _sig_digits(d) <= EXCEL_DIGITS and abs(d) < Decimal("1e300")


def _excel_cell_value(value: Any, kind: str, decimals: int | None) -> tuple[Any, str | None, bool]:
    """(cell value, number format, written as text) for one value.

    Kinds: ``percent`` shows a rate with one decimal, ``rate`` with every digit it has."""
    if value is None:
        return None, None, False
    if isinstance(value, Limit):
        if value.share is not None:
            return value.share, _percent_format(_share_decimals(value.share)), False
        value = value.amount
        kind = "amount"
    if isinstance(value, Decimal):
        places = _places_of(value) if decimals is None or kind == "cost" else decimals
        fmt = _amount_format(places, signed=kind == "signed")
        if not _exact_in_excel(value):
            return _plain(value), None, True
        return (int(value) if value == value.to_integral_value() else float(value)), fmt, False
    if isinstance(value, bool):
        return value, None, False
    if kind == "percent" and isinstance(value, float):
        return value, _percent_format(1), False
    if kind == "rate" and isinstance(value, (int, float)):
        return value, _percent_format(_share_decimals(float(value))), False
    if isinstance(value, float):
        exact = _sig_digits(Decimal(repr(value))) <= EXCEL_DIGITS
        return (value if exact else repr(value)), None, not exact
    if isinstance(value, int) and kind in ("count", "amount"):
        return value, "#,##0", False
    return value, None, False


def _display_width(value: Any, kind: str) -> int:
    if value is None:
        return 0
    if isinstance(value, Limit):
        return len(_percent_text(value.share)) if value.share is not None else _display_width(value.amount, "amount")
    if isinstance(value, Decimal):
        return len(amount_text(value)) + (1 if kind == "signed" else 0)
    if isinstance(value, bool):
        return 5
    if kind == "percent" and isinstance(value, float):
        return 7
    if kind == "rate" and isinstance(value, (int, float)):
        return len(_percent_text(float(value)))
    if isinstance(value, float):
        return len(format(value, ",g"))
    if isinstance(value, int):
        return len(f"{value:,}")
    return max((len(part) for part in str(value).splitlines()), default=0)


def _scenario_sheets(scenario: Scenario | None, lang: str) -> list[_Sheet]:
    """The input tables of ``scenario`` (or an empty template) as sheets with notes and drop-downs."""
    rows = 0 if scenario is None else len(scenario.lines)
    list_rows = max(1000, rows + 500)
    dec = 0 if scenario is None else _places_of(scenario.precision)

    def col(table: str, key: str, values: list[Any], kind: str = "text") -> _Column:
        note = f"{_label(key, lang)} — {_help(f'{table}.{key}', lang)}"
        return _Column(key, key, values, kind=kind, note=note, decimals=dec if kind in ("amount", "limit") else None)

    lines = list(scenario.lines) if scenario is not None else []
    line_cols = []
    for key in LINE_COLUMNS:
        if key in FLAGS:
            line_cols.append(col("lines", key, [True if getattr(x, key) else None for x in lines], "flag"))
        elif key in _LINE_AMOUNTS:
            line_cols.append(col("lines", key, [getattr(x, key) for x in lines], "amount"))
        else:
            line_cols.append(col("lines", key, [getattr(x, key) or None for x in lines]))
    fund_msg = _pair(
        "Known funds are investment and recurrent. Keep this value?",
        "Nguồn vốn thường dùng: investment, recurrent. Giữ giá trị này?",
        lang,
    )
    program_msg = _pair(
        "Known programs: ntm, gnbv, dtts. Another program id is fine.",
        "Chương trình thường dùng: ntm, gnbv, dtts. Có thể dùng mã khác.",
        lang,
    )
    flag_msg = _pair("TRUE, FALSE or empty.", "TRUE, FALSE hoặc để trống.", lang)
    amount_msg = _pair(
        "An amount is a number >= 0 (amounts over 15 digits: type them as text).",
        "Số tiền là số >= 0 (số có hơn 15 chữ số: nhập dạng văn bản).",
        lang,
    )
    validations = [
        ("fund", '"' + ",".join(KNOWN_FUNDS) + '"', "warning", fund_msg),
        ("program", '"' + ",".join(KNOWN_PROGRAMS) + '"', "information", program_msg),
        *((f, '"TRUE,FALSE"', "stop", flag_msg) for f in FLAGS),
        *((a, "decimal>=0", "warning", amount_msg) for a in _LINE_AMOUNTS),
    ]
    sheets = [_Sheet("lines", line_cols, validations, list_rows)]

    locs = list(scenario.localities or ()) if scenario is not None else []
    tag_keys: list[str] = []
    for loc in locs:
        for k in loc.tags:
            if k not in tag_keys:
                tag_keys.append(k)
    loc_cols = [
        col("localities", "id", [x.id for x in locs]),
        col("localities", "name", [x.name for x in locs]),
        col("localities", "weight", [x.weight for x in locs], "number"),
        col("localities", "max_loss", [x.max_loss for x in locs], "limit"),
        col("localities", "max_gain", [x.max_gain for x in locs], "limit"),
    ]
    tag_note = _help("localities.tags", lang)
    loc_cols += [_Column(k, k, [x.tags.get(k) for x in locs], note=tag_note) for k in tag_keys]
    weight_msg = _pair("A weight is a number >= 0.", "Trọng số là số >= 0.", lang)
    sheets.append(_Sheet("localities", loc_cols, [("weight", "decimal>=0", "warning", weight_msg)], list_rows))

    costs = list(scenario.transfer_costs or ()) if scenario is not None else []
    sheets.append(
        _Sheet(
            "transfer_costs",
            [
                col("transfer_costs", "from", [c.from_ for c in costs]),
                col("transfer_costs", "to", [c.to for c in costs]),
                col("transfer_costs", "cost", [c.cost for c in costs], "number"),
            ],
            [("cost", "decimal>=0", "warning", weight_msg)],
            list_rows,
        )
    )

    rules = scenario.rules if scenario is not None else None
    names: list[str] = []
    values: list[Any] = []
    for name in RULES:
        if name == "target":
            targets: list[Target | None] = list(rules.targets) if rules is not None else []
            for t in targets or [None]:
                names.append("target")
                values.append(
                    None
                    if t is None
                    else "; ".join([*(f"{k}={v}" for k, v in t.selector.items()), f"rate={_percent_text(t.rate)}"])
                )
            continue
        names.append(name)
        if rules is None:
            default = {
                "pool_by": "program, fund",
                "recipients": "proportional",
                "donors": "proportional",
                "order": ", ".join(GOAL_ORDER),
            }
            values.append(Decimal(0) if name == "min_transfer" else default.get(name))
        elif name == "pool_by":
            values.append(", ".join(rules.pool_by) or "none")
        elif name == "order":
            values.append(", ".join(rules.order))
        elif name in _MOVE_COSTS:
            values.append(rules.move_costs.get(name.split(".", 1)[1]))  # type: ignore[call-overload]
        elif name == "target_rate":
            values.append(rules.target_rate)
        else:
            values.append(getattr(rules, name))
    kinds = ["rate" if n == "target_rate" else "count" if n == "max_transfers_per_line" else "text" for n in names]
    share_msg = _pair("proportional or priority.", "proportional hoặc priority.", lang)
    rule_validations = [
        ("value", f'cells:"proportional,priority":B{names.index(n) + 2}', "stop", share_msg)
        for n in ("recipients", "donors")
    ]
    sheets.append(
        _Sheet(
            "rules",
            [
                _Column("rule", "rule", names, note=_help("rules.rule", lang)),
                _Column("value", "value", values, note=_help("rules.value", lang), kinds=kinds, width_cap=40),
                _Column("note", "note", [_help(f"rules.{n}", lang) for n in names], note=_help("rules.note", lang)),
            ],
            rule_validations,
        )
    )
    settings = [
        scenario.name if scenario is not None else None,
        scenario.unit if scenario is not None else unit_text("million VND", lang),
        scenario.precision if scenario is not None else Decimal(1),
    ]
    sheets.append(
        _Sheet(
            "scenario",
            [
                _Column("setting", "setting", list(SETTINGS), note=_help("scenario.setting", lang)),
                _Column("value", "value", settings, note=_help("scenario.value", lang), width_cap=40),
                _Column(
                    "note", "note", [_help(f"scenario.{s}", lang) for s in SETTINGS], note=_help("scenario.note", lang)
                ),
            ],
        )
    )
    guide: list[tuple[str, str, str]] = []
    for sheet in sheets:
        guide.append((sheet.name, "", _help(f"sheet.{sheet.name}", lang)))
        if sheet.name in ("lines", "localities", "transfer_costs"):
            for c in sheet.columns:
                if c.key in tag_keys:
                    continue
                guide.append((sheet.name, c.key, _help(f"{sheet.name}.{c.key}", lang)))
            if sheet.name == "localities":
                guide.append((sheet.name, "…", _help("localities.tags", lang)))
    sheets.append(
        _Sheet(
            "guide",
            [
                _Column("sheet", _label("sheet", lang), [g[0] for g in guide]),
                _Column("column", _label("column", lang), [g[1] or None for g in guide]),
                _Column("meaning", _label("meaning", lang), [g[2] for g in guide], width_cap=100),
            ],
        )
    )
    return sheets


def _pool_label(key: Sequence[str], lang: str = "en") -> str:
    return " / ".join(k for k in key if k) or f"({phrase('html', 'all_lines', lang)})"


def _summary_rows(plan: Plan, lang: str) -> list[tuple[str, Any, str]]:
    """(key, value, kind) rows of the summary."""
    sc = plan.scenario
    rows: list[tuple[str, Any, str]] = [
        ("scenario", sc.name, "text"),
        ("unit", unit_text(sc.unit, lang), "text"),
        ("status", _label(plan.status, lang), "text"),
        ("solver", plan.solver, "text"),
        ("message", translate(plan.message, lang), "text"),
    ]
    if plan.basis is not None:  # the capacities are planning capacities: say how they were made
        rows.append(("basis", basis_text(plan.basis, lang), "text"))
    s = plan.summary
    if s is not None:
        for key in SUMMARY_AMOUNTS:
            rows.append((key, getattr(s, key), "amount"))
        rows.append(("transfer_count", s.transfer_count, "count"))
        rows.append(("transfer_cost", s.transfer_cost, "cost"))
        rows.append(("rate_before", s.rate_before, "percent"))
        rows.append(("rate_after", s.rate_after, "percent"))
    e = plan.explain
    if e is not None:
        if e.gap.get("text"):
            rows.append(("gap", translate(e.gap["text"], lang), "text"))
        for note in e.notes:
            rows.append(("note", translate(note, lang), "text"))
        if e.diagnosis:
            for d in e.diagnosis.get("targets", []):
                rows.append(("diagnosis", translate(d.get("text", ""), lang), "text"))
            for c in e.diagnosis.get("conflict", []) or []:
                rows.append(("conflict", translate(c, lang), "text"))
    return rows


def _plan_sheets(plan: Plan, lang: str, risk: Risk | None = None) -> list[_Sheet]:
    check_lang(lang)
    if risk is not None:
        check_risk(plan, risk)
    sc = plan.scenario
    names = sc.locality_labels()

    def h(key: str) -> str:
        return _label(key, lang)

    dec = _places_of(sc.precision)

    def amounts(key: str, values: list[Any], kind: str = "amount") -> _Column:
        return _Column(key, h(key), values, kind, decimals=dec)

    def costs(key: str, values: list[Any]) -> _Column:
        places = max((_places_of(v) for v in values if isinstance(v, Decimal)), default=0)
        return _Column(key, h(key), values, "amount", decimals=min(places, 6))

    # summary
    srows = _summary_rows(plan, lang)
    summary = _Sheet(
        "summary",
        [
            _Column("key", h("key"), [r[0] for r in srows], excel=False),
            _Column("label", h("item"), [h(r[0]) for r in srows]),
            _Column(
                "value",
                h("value"),
                [r[1] for r in srows],
                kinds=[r[2] for r in srows],
                width_cap=70,
                decimals=dec,
                left=True,
            ),
        ],
    )

    # lines
    recs = records(plan.exact_lines())
    explain_lines = plan.explain.lines if plan.explain is not None and not plan.explain.lines.empty else None
    line_cols = [
        _Column("locality", h("locality"), [r["locality"] for r in recs]),
        _Column("name", h("name"), [names.get(r["locality"], r["locality"]) for r in recs]),
        _Column("program", h("program"), [r["program"] for r in recs]),
        _Column("fund", h("fund"), [r["fund"] for r in recs]),
        _Column("component", h("component"), [r["component"] or None for r in recs]),
    ]
    for key in LINE_AMOUNT_COLUMNS:
        line_cols.append(amounts(key, [r[key] for r in recs], "signed" if key == "change" else "amount"))
        if key == "capacity" and plan.basis is not None:
            line_cols[-1].header = phrase("risk", "planning_capacity", lang)
    if explain_lines is not None:
        # the reason code for tools in English; what it means for a Vietnamese reader
        codes = [str(c) for c in explain_lines["reason"].tolist()]
        line_cols.append(
            _Column("reason", h("reason"), codes if lang == "en" else [reason_text(c, lang) for c in codes])
        )
        line_cols.append(
            _Column("text", h("text"), [translate(str(x), lang) for x in explain_lines["text"].tolist()], width_cap=100)
        )

    # transfers
    trecs = records(plan.exact_transfers())
    t_cols: list[_Column] = []
    for side in ("from", "to"):
        for key in LINE_KEYS:
            t_cols.append(_Column(f"{side}_{key}", f"{h(side)}: {h(key)}", [r[f"{side}_{key}"] or None for r in trecs]))
            if key == "locality":
                t_cols.append(
                    _Column(
                        f"{side}_name",
                        f"{h(side)}: {h('name')}",
                        [names.get(r[f"{side}_locality"], r[f"{side}_locality"]) for r in trecs],
                    )
                )
    t_cols += [
        amounts("amount", [r["amount"] for r in trecs]),
        costs("unit_cost", [r["unit_cost"] for r in trecs]),
        costs("cost", [r["cost"] for r in trecs]),
        _Column("approval", h("approval"), [h(r["approval"]) for r in trecs]),
    ]

    # lapse by pool
    pools: dict[tuple[str, ...], dict[str, Decimal]] = {}
    zero = Decimal(0)
    if recs:
        for pool_key in sc.table.pool_keys:
            pools[tuple(pool_key)] = {}
        for r in recs:
            agg = pools.setdefault(tuple(r[a] for a in sc.rules.pool_by), {})
            for c in ("allocated", "surplus", "room"):
                agg[c] = agg.get(c, zero) + r[c]
            agg["moved"] = agg.get("moved", zero) + max(r["change"], zero)
            agg["lapse_before"] = agg.get("lapse_before", zero) + r["allocated"] - r["absorbable_before"]
            agg["lapse_after"] = agg.get("lapse_after", zero) + r["final"] - r["absorbable_after"]
    lapse = plan.explain.lapse if plan.explain is not None and not plan.explain.lapse.empty else None
    split: dict[str, dict[str, Any]] = {}
    if lapse is not None:
        for r in records(lapse):
            s = split.setdefault(r["pool"], {"no_room": zero, "blocked": zero, "blocked_by": []})
            s["no_room"] += r["no_room"]
            s["blocked"] += r["blocked"]
            for b in (x.strip() for x in str(r["blocked_by"]).split(",")):
                if b and b not in s["blocked_by"]:
                    s["blocked_by"].append(b)
    keys = [_pool_label(k) for k in pools]  # as the lapse table names them
    p_cols = [_Column("pool", h("pool"), [_pool_label(k, lang) for k in pools])]
    for key in ("allocated", "surplus", "room", "moved", "lapse_before", "lapse_after"):
        p_cols.append(amounts(key, [a.get(key, zero) for a in pools.values()]))
    if plan.explain is not None and plan.found:
        p_cols.append(amounts("no_room", [split.get(x, {}).get("no_room", zero) for x in keys]))
        p_cols.append(amounts("blocked", [split.get(x, {}).get("blocked", zero) for x in keys]))
        p_cols.append(
            _Column(
                "blocked_by",
                h("blocked_by"),
                [translate(", ".join(split.get(x, {}).get("blocked_by", [])), lang) or None for x in keys],
            )
        )
    sheets = [
        summary,
        _Sheet("lines", line_cols),
        _Sheet("transfers", t_cols),
        _Sheet("lapse", p_cols),
    ]
    if lapse is not None:
        lrecs = records(lapse)
        sheets.append(
            _Sheet(
                "lapse_by_locality",
                [
                    _Column("pool", h("pool"), [r["pool"] for r in lrecs]),
                    _Column("locality", h("locality"), [r["locality"] for r in lrecs]),
                    _Column("name", h("name"), [r["name"] for r in lrecs]),
                    amounts("lapse", [r["lapse"] for r in lrecs]),
                    amounts("no_room", [r["no_room"] for r in lrecs]),
                    amounts("blocked", [r["blocked"] for r in lrecs]),
                    _Column("blocked_by", h("blocked_by"), [translate(r["blocked_by"], lang) or None for r in lrecs]),
                ],
            )
        )
    if plan.basis is not None or risk is not None:
        sheets += _risk_sheets(plan, risk, lang)
    return sheets


def _risk_sheets(plan: Plan, risk: Risk | None, lang: str) -> list[_Sheet]:
    """``risk``: how the plan allowed for the forecast and, with ``risk``, its figures over the
    simulated years; ``risk_lines``: every line with an expected lapse, largest first."""
    items = risk_items(plan, risk, lang)
    dec = _places_of(plan.scenario.precision)
    sheets = [
        _Sheet(
            "risk",
            [
                _Column("key", _label("key", lang), [r[0] for r in items], excel=False),
                _Column("label", _label("item", lang), [r[1] for r in items]),
                _Column(
                    "value",
                    _label("value", lang),
                    [r[2] for r in items],
                    kinds=[r[3] for r in items],
                    width_cap=70,
                    decimals=dec,
                    left=True,
                ),
            ],
        )
    ]
    if risk is None:
        return sheets
    frame = risk.top_lines(len(risk.keys))
    keys = [tuple(k) for k in frame.index]
    p = risk.precision
    sheets.append(
        _Sheet(
            "risk_lines",
            [
                *(_Column(k, _label(k, lang), [key[i] or None for key in keys]) for i, k in enumerate(LINE_KEYS)),
                _Column("name", _label("name", lang), [str(x) for x in frame["name"]]),
                _Column(
                    "expected_lapse",
                    phrase("risk", "expected_lapse", lang),
                    [money(float(x), p) for x in frame["expected_lapse"]],
                    "amount",
                    decimals=dec,
                ),
                _Column("share", phrase("risk", "share", lang), [float(x) for x in frame["share"]], "percent"),
            ],
        )
    )
    return sheets
