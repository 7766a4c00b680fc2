"""A sweep's results: one row per variant, and what moves the disbursement rate most.

``SweepResult.frame`` holds, per variant: ``variant`` (its position), ``name``, the value of each
axis, ``status`` and ``message`` (as a plan has them; ``invalid`` when the changes cannot be
applied, ``failed`` when the solver broke), every figure of the plan's summary (amounts in the
scenario unit, empty without a plan), and timings (``apply_seconds``, ``solve_seconds``,
``seconds``) with the ``chunk`` that solved it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..labels import check_lang, label, percent_text, phrase
from ..plan import SUMMARY_AMOUNTS
from .variants import SUMMARY_FIELDS, Variant

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from ..plan import Plan
    from ..scenario import Scenario

__all__ = ["AMOUNT_FIELDS", "SweepResult", "axis_kinds", "rows_frame"]

#: summary figures that are amounts in the scenario unit
AMOUNT_FIELDS = SUMMARY_AMOUNTS
_TIMINGS = ("apply_seconds", "solve_seconds", "seconds")


def axis_kinds(variants: Sequence[Variant]) -> dict[str, str]:
    """Each axis and the type of its column: ``bool``, ``int``, ``float`` or ``str`` (an axis
    whose values mix kinds is text)."""
    seen: dict[str, set[str]] = {}
    for v in variants:
        for name, value in v.axes.items():
            kind = "bool" if isinstance(value, bool) else type(value).__name__
            seen.setdefault(name, set()).add(kind if kind in ("bool", "int", "float") else "str")
    out = {}
    for name, kinds in seen.items():
        if len(kinds) == 1:
            out[name] = next(iter(kinds))
        else:
            out[name] = "float" if kinds == {"int", "float"} else "str"
    return out


def _amounts(values: list[Any], precision: Decimal) -> Any:
    import numpy as np
    import pandas as pd

    if precision == precision.to_integral_value():
        ints = [None if v is None else int(v) for v in values]
        if all(v is None or abs(v) < 2**63 for v in ints):
            return pd.array(ints, dtype="Int64")
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def rows_frame(rows: Sequence[Mapping[str, Any]], baseline: Scenario, kinds: Mapping[str, str]) -> pd.DataFrame:
    """The rows of solved variants as a DataFrame with the same columns and types in every chunk."""
    import numpy as np
    import pandas as pd

    def col(name: str) -> list[Any]:
        return [r.get(name) for r in rows]

    data: dict[str, Any] = {
        "variant": np.array(col("variant"), dtype=np.int64),
        "name": pd.array(col("name"), dtype=object),
    }
    for axis, kind in kinds.items():
        values = col(axis)
        if kind == "bool":
            data[axis] = pd.array(values, dtype="boolean")
        elif kind == "int":
            data[axis] = pd.array(values, dtype="Int64")
        elif kind == "float":
            data[axis] = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
        else:
            data[axis] = pd.array([None if v is None else str(v) for v in values], dtype=object)
    data["status"] = pd.array(col("status"), dtype=object)
    data["message"] = pd.array(col("message"), dtype=object)
    for name in SUMMARY_FIELDS:
        values = col(name)
        if name in AMOUNT_FIELDS:
            data[name] = _amounts(values, baseline.precision)
        elif name == "transfer_count":
            data[name] = pd.array(values, dtype="Int64")
        else:
            data[name] = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    for name in _TIMINGS:
        data[name] = np.array([np.nan if v is None else float(v) for v in col(name)], dtype=np.float64)
    data["chunk"] = np.array(col("chunk"), dtype=np.int64)
    return pd.DataFrame(data)


@dataclass(frozen=True, eq=False)
class SweepResult:
    """What :func:`~reallocate.sweep` gave: ``frame`` (one row per variant, in the variants'
    order), where it was written (``path``, and ``folder`` with the chunks and plans), and how it
    ran."""

    frame: pd.DataFrame
    baseline: Scenario
    variants: list[Variant]
    axes: tuple[str, ...]
    path: Path | None
    folder: Path | None
    workers: int
    chunk_size: int
    chunks_solved: int
    chunks_skipped: int
    seconds: float
    worker_pids: frozenset[int]
    solver: str = "highs"
    time_limit: float | None = None

    def __len__(self) -> int:
        return len(self.frame)

    def counts(self) -> dict[str, int]:
        """Variants per status."""
        return {str(k): int(v) for k, v in self.frame["status"].value_counts().items()}

    @property
    def found(self) -> int:
        """Variants with a plan."""
        return int(self.frame["rate_after"].notna().sum())

    def summary_text(self, lang: str = "en") -> str:
        """``2,000 variants: 1,990 with a plan, 10 without`` (in ``lang``)."""
        from ..labels import amount_text

        n, found = len(self), self.found
        return phrase(
            "sweep",
            "summary",
            lang,
            n=amount_text(n, lang),
            found=amount_text(found, lang),
            other=amount_text(n - found, lang),
        )

    # ------------------------------------------------------------------ plans
    def scenario(self, variant: int) -> Scenario:
        """The scenario of variant ``variant`` (its position)."""
        from .worker import variant_scenario

        return variant_scenario(self.baseline, self.variants[variant])

    def plan(self, variant: int) -> Plan:
        """The plan of variant ``variant``, solved again here (solving is deterministic: it is the
        plan the sweep summarised)."""
        from ..solving import solve

        return solve(self.scenario(variant), solver=self.solver, time_limit=self.time_limit)  # type: ignore[arg-type]

    def plan_lines(self) -> pd.DataFrame:
        """The kept plans' lines (``keep_plans=True``), with the ``variant`` of each row."""
        return self._plans("lines")

    def plan_transfers(self) -> pd.DataFrame:
        """The kept plans' transfers (``keep_plans=True``), with the ``variant`` of each row."""
        return self._plans("transfers")

    def _plans(self, kind: str) -> pd.DataFrame:
        import pandas as pd

        folder = None if self.folder is None else self.folder / "plans" / kind
        files = sorted(folder.glob("chunk-*.parquet")) if folder is not None and folder.is_dir() else []
        if not files:
            raise ValueError("no plans were kept: sweep with keep_plans=True and out=...")
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True).sort_values(
            "variant", kind="stable", ignore_index=True
        )

    # ------------------------------------------------------------------ sensitivity
    @cached_property
    def _baseline_plan(self) -> Plan:
        from ..solving import solve

        return solve(self.baseline, solver=self.solver, time_limit=self.time_limit)  # type: ignore[arg-type]

    def sensitivity(self, metric: str = "rate_after", lang: str | None = None) -> pd.DataFrame:
        """Which axes move ``metric`` most: per axis, the mean of ``metric`` (over the variants
        with a plan) at each of its values; the value giving the lowest mean and the highest, and
        the swing between them. Largest swing first. Columns ``axis``, ``low_value``, ``low``,
        ``high_value``, ``high``, ``swing``; headed in ``lang`` ("en", "vi") when it is given."""
        import pandas as pd

        if lang is not None:
            check_lang(lang)
        if metric not in SUMMARY_FIELDS:
            raise ValueError(f"metric must be one of {', '.join(SUMMARY_FIELDS)}; got {metric!r}")
        if not self.axes:
            raise ValueError("the sweep has no axes (a grid's, or the axes given with each variant)")
        ok = self.frame[self.frame[metric].notna()]
        rows = []
        for axis in self.axes:
            groups = ok.groupby(axis, dropna=True)[metric]
            means: dict[Any, float] = {k: float(g.astype("float64").mean()) for k, g in groups}
            if not means:
                continue
            lo, hi = min(means, key=means.__getitem__), max(means, key=means.__getitem__)
            rows.append((axis, lo, means[lo], hi, means[hi], means[hi] - means[lo]))
        keys = ("axis", "low_value", "low", "high_value", "high", "swing")
        frame = pd.DataFrame(rows, columns=list(keys))
        frame = frame.sort_values("swing", ascending=False, kind="stable", ignore_index=True)
        return frame if lang is None else frame.rename(columns={k: phrase("sweep", k, lang) for k in keys})

    def tornado(self, metric: str = "rate_after", lang: str = "en") -> Figure:
        """A tornado chart of :meth:`sensitivity`: one bar per axis from its lowest to its highest
        mean of ``metric``, the largest swing on top, a line at the baseline's own value; in
        ``lang``."""
        from ..charts import _figure, _finish, _s, _titles

        table = self.sensitivity(metric)
        is_rate = metric.startswith("rate_")
        baseline = getattr(self._baseline_plan.summary, metric, None)

        def shown(x: float) -> str:
            if is_rate:
                return percent_text(x, lang)
            from ..labels import amount_text

            return amount_text(round(x), lang)

        n = len(table)
        fig = _figure(10.0, 1.6 + 0.55 * max(n, 1))
        ax = fig.add_subplot()
        lows, highs = [float(x) for x in table["low"]], [float(x) for x in table["high"]]
        for k, (low_value, low, high_value, high) in enumerate(
            zip(table["low_value"], lows, table["high_value"], highs, strict=True)
        ):
            y = n - 1 - k
            ax.barh(y, high - low, left=low, color="#1f5fa8", height=0.55)
            ax.text(low, y, _s(f"{low_value}  {shown(low)} "), ha="right", va="center", fontsize=9)
            ax.text(high, y, _s(f" {shown(high)}  {high_value}"), ha="left", va="center", fontsize=9)
        ax.set_yticks(range(n), [_s(a) for a in reversed(list(table["axis"]))])
        if baseline is not None:
            ax.axvline(float(baseline), color="#333333", linestyle="--", linewidth=1)
            ax.text(
                float(baseline), n - 0.4, _s(phrase("sweep", "baseline", lang)), ha="center", va="bottom", fontsize=9
            )
        ax.set_ylim(-0.6, n + 0.1)
        ends = lows + highs + ([float(baseline)] if baseline is not None else [])
        lo, hi = min(ends), max(ends)
        span = (hi - lo) or abs(hi) * 0.1 or 0.01
        ax.set_xlim(lo - 0.45 * span, hi + 0.45 * span)  # room for the labels at both ends
        ax.xaxis.set_major_formatter(lambda x, _pos: shown(x))
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        name = label(metric, lang)
        found = int(self.frame[metric].notna().sum())
        _titles(
            fig,
            ax,
            phrase("sweep", "tornado_title", lang, metric=name.lower()),
            phrase("sweep", "tornado_subtitle", lang, n=found, total=len(self)),
        )
        return _finish(fig)

    def _repr_html_(self) -> str:
        head = self.summary_text()
        return f"<p>{head}</p>" + str(self.frame.head(20).to_html(max_cols=12))

    def __repr__(self) -> str:
        where = f", written to {self.path}" if self.path else ""
        return f"SweepResult({self.summary_text()}{where})"
