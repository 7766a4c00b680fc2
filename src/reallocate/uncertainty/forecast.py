"""Forecast each line's disbursement by the deadline from its history: ``forecast(history, as_of=)``.

Two methods, one model of the error. Both start from a *point* for the line this year and a
*residual* ``z`` that past years show for it; the residuals are modelled as

    z[line, year] = mu[group] + alpha[line] + delta[group, year] + eps[line, year]

where ``group`` is the line's (program, fund) — the program's pooled profile; ``alpha`` is the
line's own level, shrunk toward 0 (the group) by its number of years (empirical Bayes:
``alpha = tau² / (tau² + sigma²/n) · mean``), ``delta`` a year effect shared by every line of the
group (a slow year is slow everywhere) and ``eps`` the line's own noise ``N(0, sigma²[group])``.

* ``method="ratio"`` (ratio-to-date, the standard S-curve rule): the point is the disbursement to
  date ``D(a)``; the residual is the (empirical) logit of ``r = D(a) / D(T)``, the share of the
  year's disbursement reached by the as-of month ``a`` (``T``: the deadline), with half a unit
  added to both ``D(a)`` and the rest ``D(T) - D(a)`` so that a year finished early stays finite.
  The forecast is ``D(a) / r``.
* ``method="logistic"``: a logistic S-curve ``S(t) = expit(k (t - t0)) / expit(k (T - t0))`` is
  fitted to each group's mean profile; the point is ``C``, the least-squares scale of that curve
  to the line's path this year up to ``a``; the residual is ``log(D(T) / C)``. The forecast is
  ``C · exp(z)``.
* a line that has disbursed nothing yet (both points are 0) is forecast, under either method,
  from its year-end rate of allocation ``D(T) / A(T)`` (same residual model on ``logit``).

Samples are joint: one draw of the year effects serves every line (and both residual models) —
a random combination of the past years' centred effects, scaled to the predictive spread of a
new year (Student t with ``years - 1`` degrees of freedom, ``sqrt(1 + 1/years)``) — plus each
line's own noise (its ``sigma²`` and the uncertainty of its ``alpha``). With one past year the
year effect cannot be estimated and is taken as large as the line noise (stated, not hidden).

Bounds: a draw is never below what the line has disbursed to date, and never above its
allocation at the as-of month; given a ``scenario``, never above the most the line could hold
under the scenario's rules (see :func:`scenario_high`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ScenarioError
from .capacity import CapacityForecast
from .history import History, line_name, load_history

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from ..scenario import Scenario

__all__ = ["METHODS", "ForecastInputs", "forecast", "parse_month", "scenario_high"]

METHODS: tuple[str, ...] = ("ratio", "logistic")
#: shares are kept within [_CLIP, 1 - _CLIP] before their logit
_CLIP = 1e-3
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


def parse_month(value: str | tuple[int, int], what: str = "as_of") -> tuple[int, int]:
    """``"2023-09"`` (or ``(2023, 9)``) as (year, month); anything else is refused, named."""
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        year, month = value
    else:
        m = _MONTH.match(str(value))
        if m is None:
            raise ScenarioError(
                [
                    {
                        "loc": (what,),
                        "msg": "write the month as YYYY-MM (e.g. 2023-09)",
                        "input": str(value),
                        "type": "month",
                    }
                ],
                title="invalid forecast request",
            )
        year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        raise ScenarioError(
            [{"loc": (what,), "msg": "the month must be 1 to 12", "input": f"{year}-{month:02d}", "type": "month"}],
            title="invalid forecast request",
        )
    return year, month


def _refuse(loc: tuple[str | int, ...], msg: str, value: Any) -> ScenarioError:
    return ScenarioError(
        [{"loc": loc, "msg": msg, "input": value, "type": "forecast"}], title="invalid forecast request"
    )


# ----------------------------------------------------------------------------- residual model
@dataclass
class _Effects:
    """The residual model for a set of lines: ``z = base + shock @ u + sd · eps``."""

    base: np.ndarray  # (lines,) mu[group] + alpha[line]
    sd: np.ndarray  # (lines,) line noise (sigma and the uncertainty of alpha)
    shock: np.ndarray  # (lines, years) the group's centred year effects

    def __post_init__(self) -> None:
        # draws are random: single precision is far finer than their spread, and twice as fast
        self.base = np.ascontiguousarray(self.base, dtype=np.float32)
        self.sd = np.ascontiguousarray(self.sd, dtype=np.float32)
        self.shock = np.ascontiguousarray(self.shock.T, dtype=np.float32)  # (years, lines)

    def draw(self, u: np.ndarray, eps: np.ndarray) -> np.ndarray:
        """``base + u @ shock.T + sd · eps``, computed in place in ``eps``."""
        eps *= self.sd
        eps += self.base
        eps += u.astype(np.float32) @ self.shock
        return eps


def _fit(
    z: np.ndarray, li: np.ndarray, gi: np.ndarray, yi: np.ndarray, n_lines: int, n_groups: int, n_years: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit mu, alpha (shrunk), delta (centred per group), sigma² (per group), the variance of
    each alpha, and the number of observations per group."""
    cnt_g = np.bincount(gi, minlength=n_groups).astype(np.float64)
    cnt_l = np.bincount(li, minlength=n_lines).astype(np.float64)
    gy = gi * n_years + yi
    cnt_gy = np.bincount(gy, minlength=n_groups * n_years).reshape(n_groups, n_years)
    has = cnt_gy > 0
    lines_g = np.bincount(gi[np.unique(li, return_index=True)[1]], minlength=n_groups).astype(np.float64)
    years_g = has.sum(axis=1).astype(np.float64)
    safe_g, safe_l = np.maximum(cnt_g, 1), np.maximum(cnt_l, 1)
    mu = np.bincount(gi, z, minlength=n_groups) / safe_g
    alpha = np.zeros(n_lines)
    delta = np.zeros((n_groups, n_years))
    sigma2 = np.ones(n_groups)
    var_alpha = np.zeros(n_lines)
    group_of_line = np.zeros(n_lines, dtype=np.int64)
    group_of_line[li] = gi
    for _ in range(10):
        r = z - mu[gi] - alpha[li]
        delta = (np.bincount(gy, r, minlength=n_groups * n_years) / np.maximum(cnt_gy.reshape(-1), 1)).reshape(
            n_groups, n_years
        )
        centre = (delta * has).sum(axis=1) / np.maximum(years_g, 1)
        delta = np.where(has, delta - centre[:, None], 0.0)
        mu = mu + centre
        r = z - mu[gi] - delta[gi, yi]
        mean_l = np.bincount(li, r, minlength=n_lines) / safe_l
        within = r - mean_l[li]
        dof = np.maximum(cnt_g - lines_g - years_g + 1, 1)
        sigma2 = np.maximum(np.bincount(gi, within**2, minlength=n_groups) / dof, 1e-6)
        seen = cnt_l > 0
        noise_l = sigma2[group_of_line] / safe_l
        spread = np.bincount(group_of_line[seen], mean_l[seen] ** 2, minlength=n_groups) / np.maximum(lines_g, 1)
        tau2 = np.maximum(
            spread - np.bincount(group_of_line[seen], noise_l[seen], minlength=n_groups) / np.maximum(lines_g, 1), 0.0
        )
        tau_l = tau2[group_of_line]
        w = np.where(seen, tau_l / np.maximum(tau_l + noise_l, 1e-12), 0.0)
        alpha = w * mean_l
        var_alpha = np.where(seen, w * noise_l, tau_l)
    return mu, alpha, delta, sigma2, var_alpha, cnt_g


def _effects(
    z: np.ndarray,
    li: np.ndarray,
    gi: np.ndarray,
    yi: np.ndarray,
    group: np.ndarray,
    n_years: int,
    targets: np.ndarray,
) -> tuple[_Effects, np.ndarray]:
    """The residual model of lines ``targets`` (positions among all lines), and whether each
    target's group has any observation."""
    n_lines, n_groups = group.shape[0], int(group.max()) + 1 if group.shape[0] else 0
    if z.shape[0] == 0:
        empty = np.zeros(targets.shape[0])
        return _Effects(empty, np.ones_like(empty), np.zeros((targets.shape[0], n_years))), np.zeros(
            targets.shape[0], dtype=bool
        )
    mu, alpha, delta, sigma2, var_alpha, cnt_g = _fit(z, li, gi, yi, n_lines, n_groups, n_years)
    g = group[targets]
    sd = np.sqrt(sigma2[g] + var_alpha[targets])
    # u ~ N(0, 1) · sqrt((1 + 1/J) / chi²_{J-1}) per year: delta @ u has the predictive spread of a new
    # year; with one past year there is no spread of years to learn from: as large as the line noise
    shock = delta[g] if n_years >= 2 else np.sqrt(sigma2[g])[:, None] * np.ones((1, max(n_years, 1)))
    return _Effects(mu[g] + alpha[targets], sd, shock), cnt_g[g] > 0


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, _CLIP, 1 - _CLIP)
    return np.log(q / (1 - q))


def _expit(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


# --------------------------------------------------------------------------- logistic shape
_K = np.linspace(0.05, 3.0, 60)
_T0 = np.linspace(-6.0, 24.0, 121)


def _shape(d: np.ndarray, group: np.ndarray, n_groups: int, deadline: int) -> np.ndarray:
    """Per group, the fitted logistic share of the year-end reached at months 1..deadline
    (``(groups, deadline)``), from training paths ``d`` of shape ``(lines, years, deadline)``."""
    end = d[:, :, deadline - 1]
    full = (end > 0) & np.all(d >= 0, axis=2)
    share = np.where(full[:, :, None], d / np.maximum(end, 1)[:, :, None], 0.0).sum(axis=1)
    weight = np.bincount(group, full.sum(axis=1), minlength=n_groups).astype(np.float64)
    sums = np.zeros((n_groups, deadline))
    np.add.at(sums, group, share)
    mean = sums[:, :-1] / np.maximum(weight, 1)[:, None]  # (groups, months before the deadline)
    t = np.arange(1, deadline + 1, dtype=np.float64)
    grid = _expit(_K[:, None, None] * (t[None, None, :] - _T0[None, :, None]))
    grid = (grid / grid[:, :, -1:]).reshape(-1, deadline)  # (curves, months), 1 at the deadline
    # squared distance of every group's mean profile to every curve, without a loop over groups
    head = grid[:, :-1]
    sse = (head**2).sum(axis=1)[None, :] - 2 * mean @ head.T + (mean**2).sum(axis=1)[:, None]
    best = np.argmin(sse, axis=1)
    # a group without a full training year takes the first curve; its lines are not forecast by it
    return np.where((weight > 0)[:, None], grid[best], grid[0][None, :])


def _scale(d: np.ndarray, shape: np.ndarray, asof: int) -> np.ndarray:
    """Least-squares scale of the curve to each path's months 1..asof (missing months skipped)."""
    s = shape[..., :asof]
    seen = d[..., :asof] >= 0
    num = np.where(seen, d[..., :asof] * s, 0.0).sum(axis=-1)
    den = np.where(seen, s * s, 0.0).sum(axis=-1)
    return np.where(den > 0, num / np.maximum(den, 1e-300), 0.0)


# ----------------------------------------------------------------------------- the forecast
@dataclass
class ForecastInputs:
    """What a forecast was made from: the lines' disbursed and allocated units at the as-of month."""

    keys: list[tuple[str, str, str, str]]
    disbursed: np.ndarray
    allocated: np.ndarray
    as_of: str
    deadline: str


def _core(
    history: History,
    target_year: int,
    asof: int,
    deadline: int,
    train_years: Sequence[int],
    method: str,
    lines: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """Lines forecast (positions in history.keys), disbursed and allocated to date, and a sampler."""
    if method not in METHODS:
        raise _refuse(("method",), f"the method must be one of {', '.join(METHODS)}", method)
    years = sorted({*train_years, target_year})
    d, a = history.cube(years, deadline)
    ty = years.index(target_year)
    train = [years.index(y) for y in sorted(train_years)]
    n_years = len(train)
    now_d, now_a = d[:, ty, asof - 1], a[:, ty, asof - 1]
    sel = np.flatnonzero(now_d >= 0) if lines is None else lines
    if lines is not None and np.any(now_d[sel] < 0):
        k = int(np.flatnonzero(now_d[sel] < 0)[0])
        raise _refuse(
            ("lines", k),
            "the history has no report for this line at the as-of month",
            line_name(history.keys[int(sel[k])]),
        )
    if sel.shape[0] == 0:
        raise _refuse(("as_of",), "no line has a report at the as-of month", f"{target_year}-{asof:02d}")
    if n_years == 0:
        raise _refuse(("as_of",), "the history has no earlier year to learn from", f"{target_year}-{asof:02d}")
    keys = np.array([k[1:3] for k in history.keys], dtype=object)
    _, group = np.unique(keys[:, 0] + "\x00" + keys[:, 1], return_inverse=True)
    group = group.reshape(-1).astype(np.int64)
    n_groups = int(group.max()) + 1
    dt, at = d[:, train, :], a[:, train, :]
    end = dt[:, :, deadline - 1]
    li, yi = np.nonzero((end > 0) & (dt[:, :, asof - 1] >= 0))
    if method == "ratio":
        # the empirical logit of the share reached (half a unit added to both sides): exact
        # zeros and a year finished early stay finite without an arbitrary clip
        part = dt[li, yi, asof - 1]
        ok = part > 0
        z = np.log((part[ok] + 0.5) / (end[li, yi][ok] - part[ok] + 0.5))
        point = now_d[sel].astype(np.float64)
    else:
        shape = _shape(dt, group, n_groups, deadline)
        c = _scale(dt[li, yi, :], shape[group[li]], asof)
        ok = c > 0
        z = np.log(end[li, yi][ok] / c[ok])
        point = _scale(d[sel, ty, :], shape[group[sel]], asof)
    li_m, yi_m = li[ok], yi[ok]
    main, main_seen = _effects(z, li_m, group[li_m], yi_m, group, n_years, sel)
    # the fallback for lines with nothing disbursed yet: the year-end rate of allocation
    use_rate = np.flatnonzero((point <= 0) | ~main_seen)
    ri, ry = np.nonzero((end >= 0) & (at[:, :, deadline - 1] > 0))
    zr = _logit(end[ri, ry] / at[ri, ry, deadline - 1])
    rate, rate_seen = _effects(zr, ri, group[ri], ry, group, n_years, sel[use_rate])
    main_seen[use_rate] = rate_seen
    missing = np.flatnonzero(~main_seen)
    if missing.shape[0]:
        k = int(missing[0])
        raise _refuse(
            ("lines", k),
            "no earlier year of this line's program and fund has a report at the deadline",
            line_name(history.keys[int(sel[k])]),
        )
    ratio = method == "ratio"
    alloc = now_a[sel][use_rate].astype(np.float64)
    df = n_years - 1

    def sampler(rng: np.random.Generator, n: int) -> np.ndarray:
        u = rng.standard_normal((n, max(n_years, 1)))
        if df >= 1:
            u *= np.sqrt((1.0 + 1.0 / n_years) / rng.chisquare(df, size=(n, 1)))
        eps = rng.standard_normal((n, sel.shape[0]), dtype=np.float32)
        fallback = rate.draw(u, eps[:, use_rate]) if use_rate.shape[0] else None
        zm = main.draw(u, eps)
        if ratio:  # z = log((D(a) + 1/2) / (rest + 1/2)): D(T) = D(a) + (D(a) + 1/2) · exp(-z) - 1/2
            np.clip(zm, -80.0, 80.0, out=zm)
            np.negative(zm, out=zm)
            np.exp(zm, out=zm)
            out = zm * (point + 0.5)
            out += point - 0.5
        else:  # C · exp(z)
            np.exp(np.minimum(zm, 80.0, out=zm), out=zm)
            out = zm * point
        if fallback is not None:
            out[:, use_rate] = alloc * _expit(fallback)
        return out

    return sel, now_d[sel], now_a[sel], sampler


def scenario_high(scenario: Scenario) -> np.ndarray:
    """The most each line of ``scenario`` could hold after any moves its rules allow, in units —
    what "allocated + the room the scenario allows" means for a forecast (capacity-independent):

    * a line with a ``ceiling``: its ceiling;
    * a frozen or give_only line (it never receives): its allocation;
    * any other line: its allocation plus everything the other lines of its pool could give —
      their allocation above their floor (or disbursed), lines that may give only (frozen and
      receive_only lines give nothing)."""
    lines = scenario.lines
    allocated = lines.units("allocated").astype(np.int64)
    pool, _ = lines.key_codes(list(scenario.rules.pool_by))
    gives = ~(lines.flag("frozen") | lines.flag("receive_only"))
    spare = np.where(gives, np.maximum(allocated - lines.floor_or_disbursed, 0), 0)
    per_pool = np.bincount(pool, spare, minlength=int(pool.max()) + 1 if pool.shape[0] else 0).astype(np.int64)
    high = allocated + per_pool[pool] - spare
    high = np.where(lines.flag("frozen") | lines.flag("give_only"), allocated, high)
    return np.where(lines.has_ceiling, lines.units("ceiling"), high).astype(np.int64)


def _deadline(as_year: int, deadline: str | tuple[int, int] | None) -> tuple[int, str]:
    if deadline is None:
        return 13, f"{as_year + 1}-01"
    year, month = parse_month(deadline, "deadline")
    offset = (year - as_year) * 12 + month
    if not 1 <= offset <= 24:
        raise _refuse(("deadline",), "the deadline must fall in the as-of year or the next", f"{year}-{month:02d}")
    return offset, f"{year}-{month:02d}"


def forecast_inputs(
    history: History | str | Path | pd.DataFrame,
    as_of: str | tuple[int, int],
    *,
    scenario: Scenario | None = None,
    method: str = "ratio",
    deadline: str | tuple[int, int] | None = None,
) -> tuple[CapacityForecast, ForecastInputs]:
    """:func:`forecast`, and the disbursed and allocated units it started from."""
    if not isinstance(history, History):
        history = load_history(history)
    year, month = parse_month(as_of)
    offset, deadline_text = _deadline(year, deadline)
    if month >= offset:
        raise _refuse(("as_of",), "the as-of month must come before the deadline", f"{year}-{month:02d}")
    past = [y for y in history.budget_years if y < year]
    lines = None
    if scenario is not None:
        problems: list[dict[str, Any]] = []
        if scenario.unit != history.unit:
            problems.append({"loc": ("unit",), "msg": f"the history is in {history.unit}", "input": scenario.unit})
        if scenario.precision != history.precision:
            problems.append(
                {
                    "loc": ("precision",),
                    "msg": f"the history is in units of {history.precision}",
                    "input": scenario.precision,
                }
            )
        where = {k: i for i, k in enumerate(history.keys)}
        skeys = scenario.lines.keys()
        pos = np.array([where.get(k, -1) for k in skeys], dtype=np.int64)
        for i in np.flatnonzero(pos < 0)[:50].tolist():
            problems.append({"loc": ("lines", i), "msg": "the history has no such line", "input": line_name(skeys[i])})
        if problems:
            raise ScenarioError(
                [{**p, "type": "forecast"} for p in problems], title="the history does not fit the scenario"
            )
        lines = pos
    sel, disbursed, allocated, sampler = _core(history, year, month, offset, past, method, lines)
    high = allocated
    low = disbursed
    if scenario is not None:
        high = scenario_high(scenario)
        low = np.maximum(disbursed, scenario.lines.units("disbursed"))
        bad = np.flatnonzero(low > high)
        if bad.shape[0]:
            i = int(bad[0])
            raise _refuse(
                ("lines", i),
                "disbursed to date is above the most the line may hold",
                line_name(history.keys[int(sel[i])]),
            )
    keys = [history.keys[int(i)] for i in sel]
    as_of_text = f"{year}-{month:02d}"
    fc = CapacityForecast(
        keys,
        low=low,
        high=high,
        sampler=sampler,
        unit=history.unit,
        precision=history.precision,
        method=method,
        as_of=as_of_text,
    )
    return fc, ForecastInputs(keys, disbursed, allocated, as_of_text, deadline_text)


def forecast(
    history: History | str | Path | pd.DataFrame,
    as_of: str | tuple[int, int],
    *,
    scenario: Scenario | None = None,
    method: str = "ratio",
    deadline: str | tuple[int, int] | None = None,
) -> CapacityForecast:
    """Each line's disbursement by the deadline as a joint distribution (a :class:`CapacityForecast`).

    ``history`` is a :class:`History` (or a file or pandas table :func:`load_history` reads).
    ``as_of`` is the month of the last report used (``"2023-09"``): the lines forecast are those
    reported then, learning from the budget years before it. ``deadline`` defaults to January of
    the next year. ``method`` is ``"ratio"`` (ratio-to-date, shrunk toward the program's profile)
    or ``"logistic"`` (a fitted logistic S-curve). With a ``scenario`` the forecast has the
    scenario's lines, in its order, and its upper bounds are :func:`scenario_high`; every line of
    the scenario must be in the history, in the same unit and precision.
    """
    return forecast_inputs(history, as_of, scenario=scenario, method=method, deadline=deadline)[0]
