"""Compare plans: what changed between a baseline plan and its what-ifs, in totals, per line and
per transfer.

    >>> base = reallocate.solve(scenario)                                     # doctest: +SKIP
    >>> what_if = reallocate.solve(scenario.with_changes({"kind": "set_rules",
    ...                                                   "rules": {"pool_by": ["fund"]}}))
    >>> cmp = compare(base, what_if, names=["now", "cross-program"])
    >>> cmp.summary            # one row per summary figure: value per plan, change from the first
    >>> cmp.changed_lines()    # lines whose allocation, capacity, final or absorbable differ
    >>> print(cmp.text())

Plans may come from different scenarios: lines are aligned on their key (locality, program, fund,
component), a line missing from a plan has ``None`` in that plan's columns. A plan without a plan
(infeasible, error) has ``None`` everywhere and its status is shown. Saved plans (``plan.to_json()``,
``reallocate solve --format json``) are read back exactly with :func:`load_plan`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from ._json import dumps
from .errors import ScenarioError
from .labels import amount_text, check_lang, label, percent_text, phrase, unit_text
from .plan import LINE_AMOUNT_COLUMNS, LINE_COLUMNS, TRANSFER_COLUMNS, Plan, Summary, approval, records
from .scenario import LINE_KEYS

__all__ = ["LINE_FIELDS", "SUMMARY_FIELDS", "Comparison", "PlanData", "compare", "load_plan", "looks_like_plan"]

#: Summary figures compared, in order (the fields of :class:`~reallocate.plan.Summary`).
SUMMARY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Summary))
#: Line amounts compared per plan.
LINE_FIELDS: tuple[str, ...] = ("allocated", "capacity", "final", "absorbable_after")

_AMOUNT_SUMMARY = {f for f in SUMMARY_FIELDS if f not in ("transfer_count", "rate_before", "rate_after")}
_TRANSFER_AMOUNTS = ("amount", "unit_cost", "cost")
_FROM = tuple(f"from_{k}" for k in LINE_KEYS)
_TO = tuple(f"to_{k}" for k in LINE_KEYS)


def _word(key: str, lang: str, **kw: Any) -> str:
    return phrase("compare", key, lang, **kw)


# ------------------------------------------------------------------------------------ plan data
@dataclass
class PlanData:
    """What :func:`compare` needs of a plan: a :class:`~reallocate.plan.Plan`'s figures without its
    scenario. :func:`load_plan` returns one; :meth:`from_plan` takes one from a solved plan.
    Amounts are exact ``Decimal`` values, as in a :class:`Plan`."""

    name: str
    unit: str
    precision: Decimal
    status: str
    message: str
    solver: str
    summary: Summary | None
    lines: pd.DataFrame = field(repr=False)
    transfers: pd.DataFrame = field(repr=False)
    #: the plan's ``explain`` section as read from JSON (None when absent)
    explain: dict[str, Any] | None = field(default=None, repr=False)
    #: locality id -> display name (known for solved plans; saved plans carry ids only)
    labels: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def found(self) -> bool:
        """True when the plan holds lines and transfers (status optimal or time_limit)."""
        return self.summary is not None

    @classmethod
    def from_plan(cls, plan: Plan | PlanData) -> PlanData:
        if isinstance(plan, PlanData):
            return plan
        sc = plan.scenario
        return cls(
            name=sc.name,
            unit=sc.unit,
            precision=sc.precision,
            status=plan.status,
            message=plan.message,
            solver=plan.solver,
            summary=plan.summary,
            lines=plan.exact_lines(),
            transfers=plan.exact_transfers(),
            explain=plan.explain.to_dict() if plan.explain is not None else None,
            labels=sc.locality_labels(),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> PlanData:
        """Read plan JSON text (numbers exactly, as decimals)."""
        from ._decode import JSONError, parse_json

        try:
            data = parse_json(text)
        except JSONError as exc:
            raise _bad((), f"not valid JSON: {exc}", "json_invalid") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> PlanData:
        """Read a plan's public JSON shape (``plan.to_dict()`` or parsed ``plan.to_json()``).

        Every problem is reported at once, by path (``lines[3].final: expected a number``): keys
        are text, amounts finite numbers of at most 30 digits, each line appears once, transfers
        move a positive amount between lines of the plan."""
        if not isinstance(data, dict):
            raise _bad((), "a plan is a JSON object", "dict_type")
        missing = [k for k in ("name", "unit", "precision", "status", "summary", "lines", "transfers") if k not in data]
        if missing:
            raise _bad((), f"not a plan: missing {', '.join(missing)}", "missing")
        version = data.get("version", 1)
        if version != 1:
            raise _bad(("version",), "unknown plan version (this reallocate reads version 1)", "version", version)
        problems: list[dict[str, Any]] = []
        for key in ("name", "unit", "status"):
            if not isinstance(data[key], str):
                problems.append(_problem((key,), "expected text", "string_type", data[key]))
        if isinstance(data["status"], str) and data["status"] not in _STATUSES:
            problems.append(_problem(("status",), f"expected one of {', '.join(_STATUSES)}", "status", data["status"]))
        precision = _decimal(data["precision"], ("precision",), problems)
        if precision is not None and precision <= 0:
            problems.append(_problem(("precision",), "expected a positive number", "greater_than", data["precision"]))
        summary = None if data["summary"] is None else _summary(data["summary"], problems)
        lines = _records(data["lines"], "lines", LINE_COLUMNS, LINE_AMOUNT_COLUMNS, problems)
        transfers_raw = data["transfers"]
        if isinstance(transfers_raw, list) and isinstance(data["lines"], list):
            transfers_raw = _expand_compact(transfers_raw, data["lines"], problems)
        transfers = _records(transfers_raw, "transfers", TRANSFER_COLUMNS, _TRANSFER_AMOUNTS, problems)
        if lines is not None and transfers is not None:
            _relations(lines, transfers, problems)
        explain = data.get("explain")
        if explain is not None and not isinstance(explain, dict):
            problems.append(_problem(("explain",), "expected an object or null", "dict_type", None))
        if problems:
            raise ScenarioError(problems, title="invalid plan")
        assert lines is not None and transfers is not None and precision is not None
        return cls(
            name=str(data["name"]),
            unit=str(data["unit"]),
            precision=precision,
            status=str(data["status"]),
            message=str(data.get("message", "")),
            solver=str(data.get("solver", "")),
            summary=summary,
            lines=_frame(lines, "lines", LINE_COLUMNS),
            transfers=_frame(transfers, "transfers", TRANSFER_COLUMNS),
            explain=explain,
        )


_STATUSES = ("optimal", "time_limit", "infeasible", "error")
#: amounts in a plan file: at most this many digits before the point (2^62 units is 19 digits)
_MAX_DIGITS = 30


def _expand_compact(transfers: list[Any], lines: list[Any], problems: list[dict[str, Any]]) -> list[Any]:
    """Transfers of a compact plan (``--compact``) name their lines by position: name them by keys."""
    if not any(isinstance(t, dict) and "from" in t for t in transfers):
        return transfers
    out: list[Any] = []
    for i, rec in enumerate(transfers):
        if not isinstance(rec, dict):
            out.append(rec)  # reported with the other records
            continue
        full = {k: v for k, v in rec.items() if k not in ("from", "to")}
        for end in ("from", "to"):
            pos = rec.get(end)
            if isinstance(pos, bool) or not isinstance(pos, int) or not 0 <= pos < len(lines):
                msg = f"expected the position of a line (0 to {len(lines) - 1})"
                problems.append(_problem(("transfers", i, end), msg, "line_position", pos))
                continue
            line = lines[pos]
            for key in LINE_KEYS:
                full[f"{end}_{key}"] = line.get(key) if isinstance(line, dict) else None
        out.append(full)
    return out


def load_plan(path: str | Path) -> PlanData:
    """Read a plan JSON file written by ``plan.to_json()`` or ``reallocate solve --format json``
    (also ``--compact``, whose transfers name their lines by position).

    Amounts are read exactly (JSON numbers as ``Decimal``), rates as the floats that were written,
    so the figures equal the solved plan's. A file that is not a valid plan raises
    :class:`ScenarioError` titled "invalid plan", naming every field at fault (e.g.
    ``lines[3].final``)."""
    return PlanData.from_json(Path(path).read_bytes())


def looks_like_plan(data: Any) -> bool:
    """Whether parsed JSON is meant as a plan (it has a plan's own parts), not a scenario."""
    return isinstance(data, dict) and "summary" in data and "transfers" in data and "status" in data


def _problem(loc: tuple[str | int, ...], msg: str, kind: str, value: Any = None) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": kind, "input": value}


def _bad(loc: tuple[str | int, ...], msg: str, kind: str, value: Any = None) -> ScenarioError:
    return ScenarioError([_problem(loc, msg, kind, value)], title="invalid plan")


def _decimal(value: Any, loc: tuple[str | int, ...], problems: list[dict[str, Any]]) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, float, str)):
        problems.append(_problem(loc, "expected a number", "decimal_type", value))
        return None
    if isinstance(value, int) and abs(value) >= 10**_MAX_DIGITS:
        problems.append(_problem(loc, f"expected a number of at most {_MAX_DIGITS} digits", "too_large", str(value)))
        return None
    try:
        out = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except ArithmeticError:
        problems.append(_problem(loc, "expected a number", "decimal_parsing", value))
        return None
    if not out.is_finite():
        problems.append(_problem(loc, "expected a finite number", "finite_number", str(value)))
        return None
    if out and out.adjusted() >= _MAX_DIGITS:
        problems.append(_problem(loc, f"expected a number of at most {_MAX_DIGITS} digits", "too_large", str(value)))
        return None
    return out


def _summary(raw: Any, problems: list[dict[str, Any]]) -> Summary | None:
    if not isinstance(raw, dict):
        problems.append(_problem(("summary",), "expected an object", "dict_type"))
        return None
    values: dict[str, Any] = {}
    for name in SUMMARY_FIELDS:
        loc: tuple[str | int, ...] = ("summary", name)
        if name not in raw:
            problems.append(_problem(loc, "missing", "missing"))
            continue
        v = raw[name]
        if name in _AMOUNT_SUMMARY:
            values[name] = _decimal(v, loc, problems)
        elif name == "transfer_count":
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                problems.append(_problem(loc, "expected a whole number of at least 0", "int_type", v))
            values[name] = v
        elif v is None:
            values[name] = None
        else:  # rates: JSON wrote repr(float); float(Decimal(text)) gives that float back exactly
            d = _decimal(v, loc, problems)
            values[name] = None if d is None else float(d)
    if len(values) < len(SUMMARY_FIELDS) or any(
        values[n] is None for n in SUMMARY_FIELDS if n in _AMOUNT_SUMMARY or n == "transfer_count"
    ):
        return None
    return Summary(**values)


def _records(
    raw: Any, where: str, columns: tuple[str, ...], amounts: tuple[str, ...], problems: list[dict[str, Any]]
) -> dict[str, list[Any]] | None:
    """The records' columns, each field checked: amounts as exact decimals, everything else text."""
    if not isinstance(raw, list):
        problems.append(_problem((where,), "expected a list", "list_type"))
        return None
    cols: dict[str, list[Any]] = {c: [] for c in columns}
    before = len(problems)
    for i, rec in enumerate(raw):
        if not isinstance(rec, dict):
            problems.append(_problem((where, i), "expected an object", "dict_type"))
            continue
        for c in columns:
            if c not in rec:
                problems.append(_problem((where, i, c), "missing", "missing"))
                continue
            v = rec[c]
            if c in amounts:
                cols[c].append(_decimal(v, (where, i, c), problems))
            elif not isinstance(v, str):
                problems.append(_problem((where, i, c), "expected text", "string_type", v))
            else:
                cols[c].append(v)
    return cols if len(problems) == before else None


def _relations(lines: dict[str, list[Any]], transfers: dict[str, list[Any]], problems: list[dict[str, Any]]) -> None:
    """Each line once; each transfer a positive amount between two lines of the plan."""
    seen: dict[tuple[str, ...], int] = {}
    for i, key in enumerate(zip(*(lines[k] for k in LINE_KEYS), strict=True)):
        if key in seen:
            problems.append(
                _problem(("lines", i), f"duplicate line {'/'.join(key)}: same keys as lines[{seen[key]}]", "duplicate")
            )
        else:
            seen[key] = i
    for i, amount in enumerate(transfers["amount"]):
        if amount <= 0:
            problems.append(
                _problem(("transfers", i, "amount"), "a transfer moves a positive amount", "greater_than", str(amount))
            )
        for end in ("from", "to"):
            key = tuple(transfers[f"{end}_{k}"][i] for k in LINE_KEYS)
            if key not in seen:
                msg = f"{end} {'/'.join(key)} is not a line of the plan"
                problems.append(_problem(("transfers", i, f"{end}_locality"), msg, "unknown_line", None))


def _frame(cols: dict[str, list[Any]], where: str, columns: tuple[str, ...]) -> pd.DataFrame:
    if not cols[columns[0]]:  # as Plan.empty builds them
        return pd.DataFrame(columns=list(columns))
    frame = pd.DataFrame(cols, columns=list(columns))
    if where == "lines":
        frame.index.name = "line"
    return frame


# ----------------------------------------------------------------------------------- comparison
def _diff(a: Any, b: Any) -> Any:
    """``b - a``, None when either is missing."""
    if a is None or b is None:
        return None
    return b - a


def _default_names(n: int) -> list[str]:
    return [chr(ord("A") + i) if i < 26 else f"P{i + 1}" for i in range(n)]


@dataclass
class Comparison:
    """What changed between plans (the first is the reference).

    - ``plans``: one row per plan: name, scenario, status, message, solver, unit;
    - ``summary``: one row per figure (``status`` and the :class:`Summary` fields), a column per
      plan and a column ``"B - A"`` per later plan with its change from the first;
    - ``lines``: line keys, then ``"<field> <plan>"`` for allocated, capacity, final and
      absorbable_after, ``"<field> B - A"`` differences, and ``changed``;
    - ``transfers``: per (from line, to line) pair: ``"amount <plan>"`` (0 when that plan moves
      nothing between them), ``"amount B - A"``, the ``approval`` the move needs, and ``changed``.

    A plan without a plan has ``None`` in its columns and is left out of ``changed``. Amounts are
    exact ``Decimal`` values; differences are exact.
    """

    names: list[str]
    data: list[PlanData] = field(repr=False)
    plans: pd.DataFrame = field(repr=False)
    summary: pd.DataFrame = field(repr=False)
    lines: pd.DataFrame = field(repr=False)
    transfers: pd.DataFrame = field(repr=False)

    @property
    def unit(self) -> str:
        return self.data[0].unit

    def diff_name(self, name: str) -> str:
        """The column of ``name``'s change from the first plan: ``"B - A"``."""
        return f"{name} - {self.names[0]}"

    def changed_lines(self) -> pd.DataFrame:
        """Only the lines that differ between the plans that were found."""
        return self.lines[self.lines["changed"]]

    def changed_transfers(self) -> pd.DataFrame:
        """Only the (from, to) pairs whose amount differs between the plans that were found."""
        return self.transfers[self.transfers["changed"]]

    # ------------------------------------------------------------------------------ export
    def __repr__(self) -> str:
        names = list(self.plans["plan"]) if "plan" in self.plans else []
        return f"Comparison({', '.join(map(str, names))}: {len(self.changed_lines())} changed lines)"

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.text())}</pre>"

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: ``names``, ``unit``, ``plans``, ``summary`` (one record per figure, with a
        ``figure`` key), ``lines`` and ``transfers`` (one record per row). Amounts stay exact."""
        summary = [{"figure": fig, **rec} for fig, rec in zip(self.summary.index, records(self.summary), strict=True)]
        return {
            "names": list(self.names),
            "unit": self.unit,
            "plans": records(self.plans),
            "summary": summary,
            "lines": records(self.lines),
            "transfers": records(self.transfers),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """JSON text with exact decimal amounts (see :meth:`to_dict`)."""
        return dumps(self.to_dict(), indent=indent)

    def text(self, lang: str = "en", *, top: int = 15) -> str:
        """The comparison for people: a headline per plan, the change of each plan from the
        first, then the lines and transfers that changed most (at most ``top`` of each)."""
        lang = check_lang(lang)
        unit = unit_text(self.unit, lang)
        first = self.names[0]
        out = [_word("title", lang, n=len(self.names), unit=unit), ""]
        for name, plan in zip(self.names, self.data, strict=True):
            out.append(f"{name}: {_headline(plan, lang)}")
        for name, plan in zip(self.names[1:], self.data[1:], strict=True):
            col = self.diff_name(name)
            if not plan.found or not self.data[0].found:
                continue
            d = self.summary[col]
            parts = [
                f"{label('absorbable_after', lang)} {_signed(d['absorbable_after'], lang)}",
                f"{label('rate_after', lang)} {_signed_points(d['rate_after'], lang)}",
                f"{label('lapse_after', lang)} {_signed(d['lapse_after'], lang)}",
                f"{label('moved', lang)} {_signed(d['moved'], lang)}",
                f"{label('transfer_count', lang)} {_signed(d['transfer_count'], lang)}",
            ]
            if d["transfer_cost"]:
                parts.append(f"{label('transfer_cost', lang)} {_signed(d['transfer_cost'], lang)}")
            out.append(f"{name} {_word('vs', lang)} {first}: " + "; ".join(parts))

        labels: dict[str, str] = {}
        for plan in self.data:
            labels.update(plan.labels)
        changed = self.changed_lines()
        out += ["", _word("changed_lines", lang, n=len(changed), total=len(self.lines))]
        if changed.empty:
            out.append(_word("none", lang))
        else:
            diff_cols = [f"final {self.diff_name(n)}" for n in self.names[1:]]
            size = changed[diff_cols].apply(lambda row: max((abs(v) for v in row if v is not None), default=0), axis=1)
            shown = changed.loc[size.sort_values(ascending=False, kind="stable").index[:top]]
            header = [label("locality", lang), label("program", lang), label("fund", lang)]
            header += [f"{label('final', lang)} {n}" for n in self.names]
            header += [f"{label('absorbable_after', lang)} {n}" for n in self.names]
            rows = []
            for rec in records(shown):
                row = [labels.get(rec["locality"], rec["locality"]), _line_rest(rec), label(rec["fund"], lang)]
                row += [_amount(rec[f"final {n}"], lang) for n in self.names]
                row += [_amount(rec[f"absorbable_after {n}"], lang) for n in self.names]
                rows.append(row)
            out += _table(header, rows, right=set(range(3, len(header))))
            if len(changed) > top:
                out.append(_word("more", lang, n=len(changed) - top))

        moved = self.changed_transfers()
        out += ["", _word("changed_transfers", lang, n=len(moved), total=len(self.transfers))]
        if moved.empty:
            out.append(_word("none", lang))
        else:
            diff_cols = [f"amount {self.diff_name(n)}" for n in self.names[1:]]
            size = moved[diff_cols].apply(lambda row: max((abs(v) for v in row if v is not None), default=0), axis=1)
            shown = moved.loc[size.sort_values(ascending=False, kind="stable").index[:top]]
            header = [label("from", lang), label("to", lang), label("approval", lang)]
            header += [f"{label('amount', lang)} {n}" for n in self.names]
            rows = []
            for rec in records(shown):
                src = [rec[c] for c in _FROM]
                dst = [rec[c] for c in _TO]
                row = [_side(labels, src, lang), _side(labels, dst, lang), label(rec["approval"], lang)]
                row += [_amount(rec[f"amount {n}"], lang) for n in self.names]
                rows.append(row)
            out += _table(header, rows, right=set(range(3, len(header))))
            if len(moved) > top:
                out.append(_word("more", lang, n=len(moved) - top))
        return "\n".join(out) + "\n"


def compare(*plans: Plan | PlanData, names: list[str] | tuple[str, ...] | None = None) -> Comparison:
    """Compare two or more plans; the first is the reference for every difference.

    ``plans`` are solved :class:`~reallocate.plan.Plan` objects or :class:`PlanData` read with
    :func:`load_plan`; ``names`` label them (default ``"A"``, ``"B"``, ...). Plans must share the
    unit; they may come from different scenarios (lines are aligned on their key)."""
    if len(plans) < 2:
        raise ValueError(f"compare needs at least two plans; got {len(plans)}")
    data = [PlanData.from_plan(p) for p in plans]
    if names is None:
        names = _default_names(len(data))
    names = [str(n) for n in names]
    if len(names) != len(data):
        raise ValueError(f"got {len(names)} names for {len(data)} plans")
    if len(set(names)) != len(names) or any(not n.strip() for n in names):
        raise ValueError(f"plan names must be distinct and not blank; got {names}")
    units = {p.unit for p in data}
    if len(units) > 1:
        raise ValueError(f"plans have different units ({', '.join(sorted(units))}): their amounts do not compare")
    return Comparison(
        names=names,
        data=data,
        plans=_plans_table(names, data),
        summary=_summary_table(names, data),
        lines=_lines_table(names, data),
        transfers=_transfers_table(names, data),
    )


def _plans_table(names: list[str], data: list[PlanData]) -> pd.DataFrame:
    rows = [
        {"plan": n, "scenario": p.name, "status": p.status, "message": p.message, "solver": p.solver, "unit": p.unit}
        for n, p in zip(names, data, strict=True)
    ]
    return pd.DataFrame(rows, columns=["plan", "scenario", "status", "message", "solver", "unit"])


def _summary_table(names: list[str], data: list[PlanData]) -> pd.DataFrame:
    first = names[0]
    cols: dict[str, list[Any]] = {}
    values = [
        [p.status, *(getattr(p.summary, f) if p.summary is not None else None for f in SUMMARY_FIELDS)] for p in data
    ]
    for name, vals in zip(names, values, strict=True):
        cols[name] = vals
    for name, vals in zip(names[1:], values[1:], strict=True):
        cols[f"{name} - {first}"] = [None, *(_diff(a, b) for a, b in zip(values[0][1:], vals[1:], strict=True))]
    frame = pd.DataFrame(cols, index=pd.Index(["status", *SUMMARY_FIELDS], name="figure"), dtype=object)
    return frame


def _lines_table(names: list[str], data: list[PlanData]) -> pd.DataFrame:
    first = names[0]
    by_plan: list[dict[tuple[str, ...], dict[str, Any]] | None] = []
    order: dict[tuple[str, ...], None] = {}
    for p in data:
        if not p.found:
            by_plan.append(None)
            continue
        rows = {}
        for rec in records(p.lines):
            key = tuple(str(rec[k]) for k in LINE_KEYS)
            rows[key] = rec
            order.setdefault(key, None)
        by_plan.append(rows)
    keys = list(order)
    cols: dict[str, list[Any]] = {k: [key[i] for key in keys] for i, k in enumerate(LINE_KEYS)}
    for f in LINE_FIELDS:
        per_plan = []
        for name, plan_rows in zip(names, by_plan, strict=True):
            column = [None if plan_rows is None or key not in plan_rows else plan_rows[key][f] for key in keys]
            cols[f"{f} {name}"] = column
            per_plan.append(column)
        for name, column in zip(names[1:], per_plan[1:], strict=True):
            cols[f"{f} {name} - {first}"] = [_diff(a, b) for a, b in zip(per_plan[0], column, strict=True)]
    found = [rows for rows in by_plan if rows is not None]

    def changed(key: tuple[str, ...]) -> bool:
        ref = found[0]
        for rows in found[1:]:
            if (key in ref) != (key in rows):
                return True
            if key in ref and any(rows[key][f] != ref[key][f] for f in LINE_FIELDS):
                return True
        return False

    cols["changed"] = [changed(key) for key in keys]
    frame = pd.DataFrame(cols, columns=list(cols), dtype=object)
    frame["changed"] = frame["changed"].astype(bool)
    return frame


def _transfers_table(names: list[str], data: list[PlanData]) -> pd.DataFrame:
    first = names[0]
    by_plan: list[dict[tuple[tuple[str, ...], tuple[str, ...]], Decimal] | None] = []
    order: dict[tuple[tuple[str, ...], tuple[str, ...]], None] = {}
    for p in data:
        if not p.found:
            by_plan.append(None)
            continue
        sums: dict[tuple[tuple[str, ...], tuple[str, ...]], Decimal] = {}
        for rec in records(p.transfers):
            pair = (tuple(str(rec[c]) for c in _FROM), tuple(str(rec[c]) for c in _TO))
            sums[pair] = sums.get(pair, Decimal(0)) + rec["amount"]
            order.setdefault(pair, None)
        by_plan.append(sums)
    pairs = list(order)
    cols: dict[str, list[Any]] = {}
    for i, c in enumerate(_FROM):
        cols[c] = [src[i] for src, _ in pairs]
    for i, c in enumerate(_TO):
        cols[c] = [dst[i] for _, dst in pairs]
    per_plan = []
    zero = Decimal(0)
    for name, plan_sums in zip(names, by_plan, strict=True):
        column = [None if plan_sums is None else plan_sums.get(pair, zero) for pair in pairs]
        cols[f"amount {name}"] = column
        per_plan.append(column)
    for name, column in zip(names[1:], per_plan[1:], strict=True):
        cols[f"amount {name} - {first}"] = [_diff(a, b) for a, b in zip(per_plan[0], column, strict=True)]
    cols["approval"] = [approval(src, dst) for src, dst in pairs]
    found = [col for col, sums in zip(per_plan, by_plan, strict=True) if sums is not None]
    cols["changed"] = [any(col[k] != found[0][k] for col in found[1:]) for k in range(len(pairs))]
    frame = pd.DataFrame(cols, columns=list(cols), dtype=object)
    frame["changed"] = frame["changed"].astype(bool)
    return frame


# ----------------------------------------------------------------------------------------- text
def _amount(value: Any, lang: str) -> str:
    return _word("absent", lang) if value is None else amount_text(value, lang)


def _signed(value: Any, lang: str) -> str:
    if value is None:
        return _word("absent", lang)
    text = amount_text(abs(value), lang)
    return ("+" if value >= 0 else "−") + text


def _signed_points(value: float | None, lang: str) -> str:
    if value is None:
        return _word("absent", lang)
    text = f"{abs(value) * 100:.1f}"
    if lang == "vi":
        text = text.replace(".", ",")
    return ("+" if value >= 0 else "−") + f"{text} {_word('points', lang)}"


def _headline(plan: PlanData, lang: str) -> str:
    s = plan.summary
    if s is None:
        from .messages import translate

        return f"{_word('no_plan', lang)} ({label(plan.status, lang)}) — {translate(plan.message, lang)}"
    moved = f"{label('moved', lang).lower()} {amount_text(s.moved, lang)}"
    return (
        f"{percent_text(s.rate_before, lang)} → {percent_text(s.rate_after, lang)} "
        f"({label('lapse', lang).lower()} {amount_text(s.lapse_before, lang)} → {amount_text(s.lapse_after, lang)}; "
        f"{moved} {_word('in_transfer' if s.transfer_count == 1 else 'in_transfers', lang, n=s.transfer_count)})"
        f" — {plan.name}"
    )


def _line_rest(rec: dict[str, Any]) -> str:
    return rec["program"] + (f" / {rec['component']}" if rec.get("component") else "")


def _side(labels: dict[str, str], key: list[str], lang: str) -> str:
    loc = labels.get(key[0], key[0])
    rest = "/".join(label(k, lang) if i == 1 else k for i, k in enumerate(key[1:]) if k)
    return f"{loc} ({rest})"


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]
