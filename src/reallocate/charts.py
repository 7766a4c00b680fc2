"""Charts of a plan: matplotlib figures that need no display (the Agg canvas, never pyplot).

Three kinds, in English or Vietnamese (``lang="en" | "vi"``):

* ``"absorbable"``: expected disbursement (absorbable money) before and after the moves, per
  locality — a pair of horizontal bars per locality, largest on top, with the change written next
  to each pair;
* ``"flows"``: the transfers as a from/to matrix heatmap (rows: localities that give, columns:
  localities that receive, all pools added up), each cell annotated with its amount, and each
  row's and column's total;
* ``"lapse"``: the money that still lapses, per pool, split into "no room in pool" and "blocked by
  a rule" (stacked bars, from ``plan.explain.lapse``), with a marker at what lapsed before the moves.

Every text is drawn in DejaVu Sans (bundled with matplotlib), which has the Vietnamese letters,
whatever the caller's ``rcParams`` say. A plan without transfers (or without lapse) gives a figure
that says so; a plan without a plan (``infeasible`` / ``error``) has nothing to draw and raises
:class:`~reallocate.errors.OptimizationError` — its explanation is ``plan.explain.diagnosis``
(and the HTML report shows it).
"""

from __future__ import annotations

import io
import textwrap
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter

from .errors import OptimizationError
from .labels import amount_text, check_lang, label, percent_text, phrase, unit_text

if TYPE_CHECKING:
    from .plan import Plan
    from .scenario import Scenario
    from .uncertainty.risk import Risk

__all__ = ["FONT", "KINDS", "ChartFigure", "plot", "png_bytes", "pool_names", "risk_chart", "save_all", "save_png"]

#: The chart kinds :func:`plot` draws, in the order :func:`save_all` writes them.
KINDS: tuple[str, ...] = ("absorbable", "flows", "lapse")

#: The font of every text: bundled with matplotlib and it has every Vietnamese letter.
FONT = "DejaVu Sans"

#: At most this many localities (pools) are drawn; the rest are named in the subtitle.
MAX_ROWS = 40
#: The flows matrix keeps at most this many givers and receivers; cells are annotated up to it.
MAX_MATRIX = 30

_BEFORE, _AFTER = "#b3bcc8", "#1f5fa8"
_GAIN, _LOSS = "#2e7d32", "#b3261e"
_NO_ROOM, _BLOCKED, _MARK = "#e08a2c", "#7b3fa0", "#333333"
_GREY = "#555555"


def _t(key: str, lang: str) -> str:
    return phrase("chart", key, lang)


def _s(text: object) -> str:
    """Text as matplotlib should draw it: NFC (precomposed Vietnamese letters) and ``$`` literal."""
    return unicodedata.normalize("NFC", str(text)).replace("$", r"\$")


class ChartFigure(Figure):
    """A :class:`matplotlib.figure.Figure` on the Agg canvas that shows itself in notebooks
    (``_repr_png_``) without pyplot."""

    def _repr_png_(self) -> bytes:
        return png_bytes(self, dpi=100)


def png_bytes(fig: Figure, dpi: float = 150) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _figure(width: float, height: float) -> ChartFigure:
    fig = ChartFigure(figsize=(width, height), layout=ConstrainedLayoutEngine(h_pad=0.08, w_pad=0.1))
    FigureCanvasAgg(fig)
    return fig


def _finish(fig: Figure) -> Figure:
    """Draw every text (tick labels made later copy these) in :data:`FONT`."""
    for text in fig.findobj(Text):
        assert isinstance(text, Text)
        text.set_fontfamily(FONT)
    return fig


def _titles(fig: Figure, ax: Axes | None, title: str, subtitle: str) -> None:
    """The title (figure-wide) and a subtitle above the axes, wrapped to the figure's width."""
    fig.suptitle(_s(title), x=0.01, ha="left", fontsize=14, fontweight="bold")
    if ax is not None and subtitle:
        chars = max(40, int((fig.get_figwidth() - 2.2) * 13))
        lines = textwrap.wrap(_s(subtitle), chars)
        ax.set_title("\n".join(lines), loc="left", fontsize=9.5, color=_GREY, pad=10)


def _amount_formatter(lang: str) -> FuncFormatter:
    return FuncFormatter(lambda x, _pos: amount_text(round(x), lang) if abs(x) >= 1 or x == 0 else f"{x:g}")


def _float(value: Decimal) -> float:
    return float(value)


# ------------------------------------------------------------------------------------ public
def plot(plan: Plan, kind: str = "absorbable", lang: str = "en") -> Figure:
    """The ``kind`` chart of ``plan`` (one of :data:`KINDS`) as a new figure, labels in ``lang``.

    Raises :class:`~reallocate.errors.OptimizationError` when the plan has no plan (status
    ``infeasible`` or ``error``): there is nothing to draw, and ``plan.explain.diagnosis`` says
    what it would take. ``ValueError`` for an unknown ``kind`` or ``lang``.
    """
    check_lang(lang)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if not plan.found:
        raise OptimizationError(
            f"{_t('no_plan', 'en')}: the plan is {plan.status} ({plan.message}); "
            "plan.explain.diagnosis says what it would take"
        )
    if kind == "absorbable":
        fig = _absorbable(plan, lang)
    elif kind == "flows":
        fig = _flows(plan, lang)
    else:
        fig = _lapse(plan, lang)
    return _finish(fig)


def save_png(plan: Plan, path: str | Path, kind: str = "absorbable", lang: str = "en", *, dpi: float = 150) -> Path:
    """Write the ``kind`` chart of ``plan`` to ``path`` as PNG; returns the path."""
    fig = plot(plan, kind, lang)
    out = Path(path)
    out.write_bytes(png_bytes(fig, dpi=dpi))
    return out


def save_all(plan: Plan, folder: str | Path, lang: str = "en", *, dpi: float = 150) -> dict[str, Path]:
    """Write the three charts to ``folder`` (created if missing) as ``absorbable.png``,
    ``flows.png`` and ``lapse.png``; returns the paths by kind. Nothing is written for a plan
    without a plan (:class:`~reallocate.errors.OptimizationError`)."""
    if not plan.found:
        plot(plan, KINDS[0], lang)  # raises the no-plan error
    figures = {kind: plot(plan, kind, lang) for kind in KINDS}
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    from .atomic import atomic_file

    for kind, fig in figures.items():
        paths[kind] = out / f"{kind}.png"
        data = png_bytes(fig, dpi=dpi)
        with atomic_file(paths[kind]) as tmp:
            tmp.write_bytes(data)
    return paths


# ------------------------------------------------------------------------------------ helpers
def _column(plan: Plan, name: str) -> list[Any]:
    return plan.lines[name].tolist()


def pool_names(scenario: Scenario, lang: str = "en") -> dict[str, str]:
    """Display name of every pool label that ``plan.explain`` uses (``"ntm / investment"``):
    locality names and fund labels in ``lang``."""
    attrs = scenario.rules.pool_by
    names = scenario.locality_labels()
    out: dict[str, str] = {}
    for line in scenario.lines:
        key = [str(getattr(line, a)) for a in attrs]
        raw = " / ".join(k for k in key if k) or "(all lines)"
        if raw in out:
            continue
        shown = []
        for attr, value in zip(attrs, key, strict=True):
            if not value:
                continue
            if attr == "locality":
                shown.append(names.get(value, value))
            elif attr == "fund":
                shown.append(label(value, lang))
            else:
                shown.append(value)
        out[raw] = " / ".join(shown) or ("(tất cả các dòng)" if lang == "vi" else "(all lines)")
    return out


def _limited(what: str, shown: int, total: int, lang: str) -> str:
    if shown >= total:
        return ""
    return "; " + _t("largest_of", lang).format(shown=shown, total=f"{total} {_t(what, lang)}")


def _message_axes(fig: Figure, text: str) -> None:
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, _s(text), ha="center", va="center", fontsize=12, color=_GREY, wrap=True, transform=ax.transAxes)


# ------------------------------------------------------------------------------------ absorbable
def _absorbable(plan: Plan, lang: str) -> Figure:
    sc = plan.scenario
    names = sc.locality_labels()
    before: dict[str, Decimal] = defaultdict(Decimal)
    after: dict[str, Decimal] = defaultdict(Decimal)
    for loc, b, a in zip(
        _column(plan, "locality"), _column(plan, "absorbable_before"), _column(plan, "absorbable_after"), strict=True
    ):
        before[loc] += b
        after[loc] += a
    order = sorted(after, key=lambda loc: (-after[loc], -before[loc], names.get(loc, loc)))
    total = len(order)
    order = order[:MAX_ROWS]
    n = len(order)
    fig = _figure(10.5, max(3.8, 0.42 * n + 2.2))
    ax = fig.add_subplot()
    y = np.arange(n)[::-1].astype(float)  # largest on top
    h = 0.38
    vb = [_float(before[loc]) for loc in order]
    va = [_float(after[loc]) for loc in order]
    ax.barh(y + h / 2, vb, height=h, color=_BEFORE, label=_s(label("before", lang)))
    ax.barh(y - h / 2, va, height=h, color=_AFTER, label=_s(label("after", lang)))
    top = max([*vb, *va, 1.0])
    for yi, loc in zip(y, order, strict=True):
        change = after[loc] - before[loc]
        text = amount_text(after[loc], lang)
        color = "#222222"
        if change:
            sign = "+" if change > 0 else "−"
            text += f"  ({sign}{amount_text(abs(change), lang)})"
            color = _GAIN if change > 0 else _LOSS
        x = max(_float(after[loc]), _float(before[loc]))
        ax.text(x + top * 0.01, yi, _s(text), va="center", ha="left", fontsize=8, color=color)
    ax.set_yticks(y, [_s(names.get(loc, loc)) for loc in order], fontsize=9)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlim(0, top * 1.22)
    ax.xaxis.set_major_formatter(_amount_formatter(lang))
    ax.set_xlabel(_s(f"{_t('axis_absorbable', lang)} ({unit_text(sc.unit, lang)})"))
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    s = plan.summary
    assert s is not None
    subtitle = (
        f"{sc.name} — {label('headline', lang)} {percent_text(s.rate_before, lang)} → "
        f"{percent_text(s.rate_after, lang)} {_t('of_allocation', lang)}; "
        f"{amount_text(s.absorbable_before, lang)} → {amount_text(s.absorbable_after, lang)} {unit_text(sc.unit, lang)}"
        f"{_limited('localities_n', n, total, lang)}"
    )
    _titles(fig, ax, label("chart_absorbable", lang), subtitle)
    fig.legend(loc="outside lower center", ncols=2, frameon=False, fontsize=9)
    return fig


# ------------------------------------------------------------------------------------ flows
def _flows(plan: Plan, lang: str) -> Figure:
    sc = plan.scenario
    names = sc.locality_labels()
    s = plan.summary
    assert s is not None
    cells: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for src, dst, amount in zip(
        plan.transfers["from_locality"].tolist(),
        plan.transfers["to_locality"].tolist(),
        plan.transfers["amount"].tolist(),
        strict=True,
    ):
        cells[(src, dst)] += amount
    if not cells:
        fig = _figure(9, 3.2)
        _message_axes(fig, f"{_t('no_transfers', lang)}: {plan.message}")
        _titles(fig, None, label("chart_flows", lang), "")
        return fig
    given: dict[str, Decimal] = defaultdict(Decimal)
    taken: dict[str, Decimal] = defaultdict(Decimal)
    for (src, dst), amount in cells.items():
        given[src] += amount
        taken[dst] += amount
    rows = sorted(given, key=lambda k: (-given[k], names.get(k, k)))
    cols = sorted(taken, key=lambda k: (-taken[k], names.get(k, k)))
    n_rows_all, n_cols_all = len(rows), len(cols)
    rows, cols = rows[:MAX_MATRIX], cols[:MAX_MATRIX]
    matrix = np.zeros((len(rows), len(cols)))
    ri = {k: i for i, k in enumerate(rows)}
    ci = {k: j for j, k in enumerate(cols)}
    for (src, dst), amount in cells.items():
        if src in ri and dst in ci:
            matrix[ri[src], ci[dst]] = _float(amount)
    nr, nc = matrix.shape
    fig = _figure(max(7.5, 0.62 * nc + 4.4), max(4.5, 0.4 * nr + 3.2))
    ax = fig.add_subplot()
    positive = matrix[matrix > 0]
    lo, hi = float(positive.min()), float(positive.max())
    norm: Normalize = LogNorm(vmin=lo, vmax=hi) if hi > 20 * lo else Normalize(vmin=0, vmax=hi)
    shown = np.ma.masked_less_equal(matrix, 0)
    image = ax.imshow(shown, cmap="Blues", norm=norm, aspect="auto", interpolation="nearest")
    size = 7.5 if max(nr, nc) <= 20 else 6
    for i in range(nr):
        for j in range(nc):
            v = matrix[i, j]
            if v <= 0:
                continue
            dark = float(norm(v)) > 0.6
            ax.text(
                j,
                i,
                amount_text(round(v), lang),
                ha="center",
                va="center",
                fontsize=size,
                color="white" if dark else "#1a1a1a",
            )
    ax.set_xticks(np.arange(nc), [_s(names.get(k, k)) for k in cols], rotation=40, ha="right", fontsize=9)
    ax.set_yticks(np.arange(nr), [_s(names.get(k, k)) for k in rows], fontsize=9)
    ax.tick_params(length=0)
    ax.set_xticks(np.arange(nc + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(nr + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="#e6e6e6", linewidth=0.6)
    ax.tick_params(which="minor", length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_xlabel(_s(_t("to_axis", lang)), fontsize=10)
    ax.set_ylabel(_s(_t("from_axis", lang)), fontsize=10)
    # totals: received above each column, given at the right of each row (secondary axes, so the
    # layout makes room for them)
    top_axis = ax.secondary_xaxis("top")
    top_axis.set_xticks(
        np.arange(nc), [amount_text(taken[k], lang) for k in cols], fontsize=size, rotation=90 if nc > 12 else 0
    )
    top_axis.set_xlabel(_s(_t("total_received", lang)), fontsize=9)
    right_axis = ax.secondary_yaxis("right")
    right_axis.set_yticks(np.arange(nr), [amount_text(given[k], lang) for k in rows], fontsize=size)
    right_axis.set_ylabel(_s(_t("total_given", lang)), fontsize=9)
    for extra in (top_axis, right_axis):
        extra.tick_params(length=0)
        for side in extra.spines.values():
            side.set_visible(False)
    ax.set_xlim(-0.5, nc - 0.5)
    ax.set_ylim(nr - 0.5, -0.5)
    bar = fig.colorbar(image, ax=ax, shrink=0.5, aspect=25, pad=0.02, format=_amount_formatter(lang))
    bar.set_label(_s(f"{label('amount', lang)} ({unit_text(sc.unit, lang)})"), fontsize=9)
    bar.ax.tick_params(labelsize=8)
    limited = _limited("givers_n", nr, n_rows_all, lang) + _limited("receivers_n", nc, n_cols_all, lang)
    subtitle = (
        f"{sc.name} — {s.transfer_count} {_t('transfers_n', lang)}, {_t('moved_n', lang)} "
        f"{amount_text(s.moved, lang)} {unit_text(sc.unit, lang)}; {_t('all_pools', lang)}{limited}"
    )
    _titles(fig, ax, label("chart_flows", lang), subtitle)
    return fig


# ------------------------------------------------------------------------------------ lapse
def _lapse(plan: Plan, lang: str) -> Figure:
    sc = plan.scenario
    s = plan.summary
    assert s is not None
    pools = pool_names(sc, lang)
    no_room: dict[str, Decimal] = defaultdict(Decimal)
    blocked: dict[str, Decimal] = defaultdict(Decimal)
    lapse = plan.explain.lapse if plan.explain is not None else None
    if lapse is not None and not lapse.empty:
        for pool, nr_, bl in zip(
            lapse["pool"].tolist(), lapse["no_room"].tolist(), lapse["blocked"].tolist(), strict=True
        ):
            no_room[pool] += nr_
            blocked[pool] += bl
    keys = [p for p in no_room if no_room[p] + blocked[p] > 0]
    if not keys:
        fig = _figure(9, 3.2)
        _message_axes(fig, _t("no_lapse", lang))
        _titles(fig, None, label("chart_lapse", lang), "")
        return fig
    before = _lapse_before(plan)
    order = sorted(keys, key=lambda p: (-(no_room[p] + blocked[p]), p))
    total = len(order)
    order = order[:MAX_ROWS]
    n = len(order)
    fig = _figure(10.5, max(3.6, (0.5 if n <= 12 else 0.36) * n + 2.3))
    ax = fig.add_subplot()
    y = np.arange(n)[::-1].astype(float)
    a = [_float(no_room[p]) for p in order]
    b = [_float(blocked[p]) for p in order]
    ax.barh(y, a, height=0.6, color=_NO_ROOM, label=_s(label("no_room", lang)))
    ax.barh(y, b, left=a, height=0.6, color=_BLOCKED, label=_s(label("blocked", lang)))
    marks = [_float(before.get(p, Decimal(0))) for p in order]
    ax.scatter(
        marks, y, marker="|", s=450, linewidths=2, color=_MARK, zorder=3, label=_s(_t("lapse_before_mark", lang))
    )
    top = max([*(x + z for x, z in zip(a, b, strict=True)), *marks, 1.0])
    for yi, p, mark in zip(y, order, marks, strict=True):
        amount = no_room[p] + blocked[p]
        text = amount_text(amount, lang)
        if blocked[p]:
            text += f"  ({label('blocked', lang).lower()}: {amount_text(blocked[p], lang)})"
        x = max(_float(amount), mark)
        ax.text(x + top * 0.012, yi, _s(text), va="center", ha="left", fontsize=8.5)
    ax.set_yticks(y, [_s(pools.get(p, p)) for p in order], fontsize=9)
    ax.set_ylim(-0.6, n - 0.1)
    ax.set_xlim(0, top * 1.25)
    ax.xaxis.set_major_formatter(_amount_formatter(lang))
    ax.set_xlabel(_s(f"{_t('axis_lapse', lang)} ({unit_text(sc.unit, lang)})"))
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    gap_no_room = sum(no_room.values(), Decimal(0))
    gap_blocked = sum(blocked.values(), Decimal(0))
    subtitle = (
        f"{sc.name} — {label('lapse', lang).lower()} {amount_text(s.lapse_before, lang)} → "
        f"{amount_text(s.lapse_after, lang)} {unit_text(sc.unit, lang)}: {label('no_room', lang).lower()} "
        f"{amount_text(gap_no_room, lang)}, {label('blocked', lang).lower()} {amount_text(gap_blocked, lang)}"
        f"{_limited('pools_n', n, total, lang)}"
    )
    _titles(fig, ax, label("chart_lapse", lang), subtitle)
    handles, labels_ = ax.get_legend_handles_labels()
    order_ = [1, 2, 0]  # the two bar kinds, then the marker
    fig.legend(
        [handles[i] for i in order_],
        [labels_[i] for i in order_],
        loc="outside lower center",
        ncols=3,
        frameon=False,
        fontsize=9,
        markerscale=0.5,
    )
    return fig


def _lapse_before(plan: Plan) -> dict[str, Decimal]:
    """Per pool label: allocated − absorbable before the moves."""
    attrs = plan.scenario.rules.pool_by
    out: dict[str, Decimal] = defaultdict(Decimal)
    columns: Sequence[Iterable[Any]] = [_column(plan, a) for a in attrs]
    for *key, allocated, absorbable in zip(
        *columns, _column(plan, "allocated"), _column(plan, "absorbable_before"), strict=True
    ):
        out[" / ".join(k for k in key if k) or "(all lines)"] += allocated - absorbable
    return out


def risk_chart(risk: Risk, lang: str = "en") -> Figure:
    """A histogram of the disbursement rate over the forecast's simulated years, with its P10,
    P50 and P90, and the target when one was given."""
    check_lang(lang)
    rate = risk.rate * 100
    fig = _figure(9, 4.6)
    ax = fig.add_subplot()
    weights = np.full(rate.shape[0], 1 / max(rate.shape[0], 1))
    span = float(rate.max() - rate.min()) if rate.shape[0] else 0.0
    bins = 40 if span > 0 else 1
    ax.hist(rate, bins=bins, weights=weights, color=_AFTER, alpha=0.85)
    quantiles = np.quantile(rate, [0.1, 0.5, 0.9]) if rate.shape[0] else np.zeros(3)
    for value, style in zip(quantiles, (":", "-", ":"), strict=True):
        ax.axvline(value, color=_MARK, linestyle=style, linewidth=1.2)
    if risk.target is not None:
        ax.axvline(risk.target * 100, color=_LOSS, linewidth=1.6)
        text = phrase(
            "chart",
            "risk_target",
            lang,
            target=percent_text(risk.target, lang),
            share=percent_text(risk.below(risk.target), lang),
        )
        ax.annotate(
            _s(text),
            (risk.target * 100, 1),
            xycoords=("data", "axes fraction"),
            xytext=(4, -12),
            textcoords="offset points",
            color=_LOSS,
            fontsize=9,
        )
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: percent_text(x / 100, lang)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: percent_text(y, lang)))
    ax.set_xlabel(_s(_t("risk_axis_rate", lang)))
    ax.set_ylabel(_s(_t("risk_axis_share", lang)))
    ax.spines[["top", "right"]].set_visible(False)
    subtitle = phrase(
        "chart",
        "risk_subtitle",
        lang,
        samples=amount_text(risk.samples, lang),
        mean=percent_text(float(risk.rate.mean()) if rate.shape[0] else 0.0, lang),
        p10=percent_text(quantiles[0] / 100, lang),
        p90=percent_text(quantiles[2] / 100, lang),
    )
    # the scenario's name in the subtitle, as the plan's charts have it (wrapped, never cut off)
    _titles(fig, ax, _t("risk_title", lang), f"{risk.scenario_name} — {subtitle}")
    return _finish(fig)
