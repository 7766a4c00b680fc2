"""The risk of lapse as the reports show it (text, HTML, workbook), in English or Vietnamese.

Two parts: the *basis* — how a plan made for a capacity forecast allowed for it (its objective and
parameters), said by every report of such a plan, since the capacities it shows are planning
capacities; and the *risk* — the lapse and disbursement rate of the plan over the forecast's
simulated years (:class:`reallocate.uncertainty.Risk`): mean, P10, P50, P90, the chance of missing
the target, the VSS when known, and the lines that carry most of the expected lapse. This module
gives the texts and figures; :mod:`reallocate.report`, :mod:`reallocate.html` and the workbook lay
them out.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from .labels import amount_text, check_lang, label, percent_text, phrase, unit_text

if TYPE_CHECKING:
    from .plan import Plan
    from .uncertainty.planning import PlanningBasis
    from .uncertainty.risk import Risk

__all__ = [
    "TOP_LINES",
    "basis_text",
    "check_risk",
    "method_text",
    "money",
    "objective_text",
    "outlook_text",
    "risk_items",
    "risk_json",
    "risk_sentences",
    "risk_table",
    "top_header",
    "top_rows",
]

#: lines shown in the reports' table of expected lapse
TOP_LINES = 10


def _r(key: str, lang: str, **values: object) -> str:
    return phrase("risk", key, lang, **values)


def _number(value: float, lang: str) -> str:
    """``0.2`` (en) or ``0,2`` (vi)."""
    text = f"{value:g}"
    return text.replace(".", ",") if lang == "vi" else text


def _share(rate: float, lang: str) -> str:
    """A percent without decimals when it has none: ``80%``, ``12.5%``."""
    whole = abs(rate * 100 - round(rate * 100)) < 1e-9
    return percent_text(rate, lang, digits=0 if whole else 1)


def money(value: float, precision: Decimal) -> Decimal:
    """An amount in the scenario's unit (a mean or quantile over draws) rounded to the precision."""
    return Decimal(round(value / float(precision))) * precision


def objective_text(basis: PlanningBasis, lang: str = "en") -> str:
    """``under the objective 'expected': ...`` — the objective and its parameters, in ``lang``."""
    check_lang(lang)
    if basis.objective == "quantile":
        eps = float(basis.epsilon or 0.0)
        return _r("objective_quantile", lang, epsilon=_number(eps, lang), sure=_share(1 - eps, lang))
    if basis.objective == "cvar":
        return _r(
            "objective_cvar",
            lang,
            worst=_share(float(basis.alpha or 0.0), lang),
            samples=amount_text(int(basis.samples or 0), lang),
            alpha=_number(float(basis.alpha or 0.0), lang),
            omega=_number(float(basis.omega or 0.0), lang),
            seed=basis.seed,
        )
    return _r("objective_expected", lang, breakpoints=basis.breakpoints)


def method_text(method: str, lang: str = "en") -> str:
    """The forecast's method in ``lang`` ("ratio-to-date"); a method the catalogue does not know
    (a user's own forecast) as it is named."""
    key = f"method_{method}"
    text = phrase("forecast", key, lang)
    return method if text == key else text


def basis_text(basis: PlanningBasis, lang: str = "en") -> str:
    """The sentence every report of a plan made for a forecast carries: its capacities are
    planning capacities, from which forecast and under which objective."""
    return _r("basis", lang, method=method_text(basis.forecast, lang), objective=objective_text(basis, lang))


def check_risk(plan: Plan, risk: Risk) -> None:
    """``ValueError`` unless ``risk`` was assessed for ``plan``'s lines (same scenario, same lines)."""
    if risk.scenario_name != plan.scenario.name or risk.keys != plan.scenario.lines.keys():
        raise ValueError("the risk was assessed for another plan: its scenario or lines differ")


def _quantiles(values: np.ndarray) -> list[float]:
    return [float(values.mean()), *(float(q) for q in np.quantile(values, [0.1, 0.5, 0.9]))]


def risk_table(risk: Risk, lang: str = "en") -> tuple[list[str], list[list[str]]]:
    """Header and rows: the disbursement rate and the lapse, each by mean, P10, P50, P90."""
    header = [_r("figure", lang), _r("mean", lang), *(phrase("forecast", q, lang) for q in ("p10", "p50", "p90"))]
    rate = [percent_text(v, lang) for v in _quantiles(risk.rate)]
    lapse = [amount_text(money(v, risk.precision), lang) for v in _quantiles(risk.lapse)]
    unit = unit_text(risk.unit, lang)
    return header, [[_r("rate", lang), *rate], [_r("lapse", lang, unit=unit), *lapse]]


def outlook_text(risk: Risk, lang: str = "en") -> str:
    """One sentence under the headline (which is measured against planning capacities): the rate
    and lapse the plan may expect under the forecast, and where the section is."""
    rate = _quantiles(risk.rate)
    return _r(
        "outlook",
        lang,
        samples=amount_text(risk.samples, lang),
        mean=percent_text(rate[0], lang),
        p10=percent_text(rate[1], lang),
        p90=percent_text(rate[3], lang),
        lapse=amount_text(money(float(risk.lapse.mean()), risk.precision), lang),
        unit=unit_text(risk.unit, lang),
        title=_r("title", lang),
    )


def risk_sentences(risk: Risk, lang: str = "en") -> list[str]:
    """The draws, the expected disbursement, the chance of missing the target and the VSS."""
    unit = unit_text(risk.unit, lang)
    seed = "-" if risk.seed is None else risk.seed
    mean = money(float(risk.absorbed.mean()) * float(risk.precision), risk.precision)
    out = [
        _r("simulated", lang, samples=amount_text(risk.samples, lang), seed=seed),
        _r("absorbed_mean", lang, amount=amount_text(mean, lang), unit=unit),
    ]
    if risk.target is not None:
        out.append(
            _r(
                "below_target",
                lang,
                target=_share(risk.target, lang),
                probability=percent_text(risk.below(risk.target), lang),
            )
        )
    if risk.vss is not None:
        out.append(_r("vss", lang, vss=amount_text(money(float(risk.vss), risk.precision), lang), unit=unit))
    return out


def _line_text(key: tuple[str, ...], name: str, lang: str) -> str:
    """``Nam Trà My (dtts / recurrent)``, the fund in ``lang``."""
    _, program, fund, component = key
    rest = " / ".join(x for x in (program, label(fund, lang) if fund else "", component) if x)
    return f"{name} ({rest})" if rest else name


def top_rows(risk: Risk, lang: str = "en", n: int = TOP_LINES) -> list[list[str]]:
    """The lines carrying most of the expected lapse: line, expected lapse, share of the total."""
    frame = risk.top_lines(n)
    rows = []
    for key, name, lapse, share in zip(
        frame.index, frame["name"], frame["expected_lapse"], frame["share"], strict=True
    ):
        rows.append(
            [
                _line_text(tuple(key), str(name), lang),
                amount_text(money(float(lapse), risk.precision), lang),
                percent_text(float(share), lang),
            ]
        )
    return rows


def top_header(lang: str = "en") -> list[str]:
    """The header of :func:`top_rows`."""
    return [_r("line", lang), _r("expected_lapse", lang), _r("share", lang)]


def risk_items(plan: Plan, risk: Risk | None, lang: str = "en") -> list[tuple[str, str, Any, str]]:
    """(key, label, value, kind) rows of the workbook's risk sheet: the basis and its parameters,
    then, with ``risk``, the draws and the figures (rates as fractions, amounts as decimals)."""
    out: list[tuple[str, str, Any, str]] = []

    def add(key: str, value: Any, kind: str) -> None:
        out.append((key, _r(f"item_{key}", lang), value, kind))

    basis = plan.basis
    if basis is not None:
        add("basis", basis_text(basis, lang), "text")
        add("objective", _r(f"name_{basis.objective}", lang), "text")
        add("forecast", method_text(basis.forecast, lang), "text")
        if basis.as_of is not None:
            add("as_of", basis.as_of, "text")
        for key in ("breakpoints", "epsilon", "alpha", "omega"):
            value = getattr(basis, key)
            if value is not None:
                add(key, value, "number")
        if basis.samples is not None:
            add("cvar_samples", basis.samples, "count")
            add("cvar_seed", basis.seed, "number")
    if risk is None:
        return out
    add("samples", risk.samples, "count")
    add("seed", risk.seed, "number")
    rate, lapse = _quantiles(risk.rate), _quantiles(risk.lapse)
    for suffix, value in zip(("mean", "p10", "p50", "p90"), rate, strict=True):
        add(f"rate_{suffix}", value, "percent")
    for suffix, value in zip(("mean", "p10", "p50", "p90"), lapse, strict=True):
        add(f"lapse_{suffix}", money(value, risk.precision), "amount")
    add("absorbed_mean", money(float(risk.absorbed.mean()) * float(risk.precision), risk.precision), "amount")
    if risk.target is not None:
        add("target", risk.target, "percent")
        add("probability_below_target", risk.below(risk.target), "percent")
    if risk.vss is not None:
        add("vss", money(float(risk.vss), risk.precision), "amount")
    return out


def risk_json(risk: Risk, top: int = TOP_LINES) -> dict[str, Any]:
    """The risk as plan JSON carries it (``"risk"``): :meth:`Risk.summary` with its amounts as
    decimals rounded to the scenario's precision, and the ``top`` lines carrying most of the
    expected lapse."""
    out = dict(risk.summary())
    p = risk.precision
    for key in ("lapse_mean", "lapse_p10", "lapse_p50", "lapse_p90", "absorbed_mean"):
        out[key] = money(out[key], p)
    if risk.vss is not None:
        out["vss"] = money(float(risk.vss), p)
    frame = risk.top_lines(top)
    out["top_lines"] = [
        {
            "locality": key[0],
            "program": key[1],
            "fund": key[2],
            "component": key[3],
            "name": str(name),
            "expected_lapse": money(float(lapse), p),
            "share": float(share),
        }
        for key, name, lapse, share in zip(
            frame.index, frame["name"], frame["expected_lapse"], frame["share"], strict=True
        )
    ]
    return out
