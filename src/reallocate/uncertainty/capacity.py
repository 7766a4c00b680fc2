"""``CapacityForecast``: what each line can disburse by the deadline, as a distribution.

A plan trusts one ``capacity`` per line; a forecast replaces it with a distribution per line,
jointly sampled (a bad year is bad for many lines at once). Every forecast, whatever made it
(the history methods of :mod:`reallocate.uncertainty.forecast`, or a user's own Monte Carlo via
:meth:`CapacityForecast.from_samples`), answers the same questions in whole units of the
scenario's ``precision``:

* ``quantile_units(q)``: the q-quantile of each line (the planning LPs use K of them);
* ``samples(n, seed=)``: joint draws, in blocks small enough for 10^5 lines (risk, CVaR);
* ``expected_units``: the mean of each line.

Every draw lies inside ``[low, high]`` per line: never less than already disbursed, never more
than the line may hold. Draws are reproducible: the same ``seed`` gives the same draws whatever
block size a caller reads them in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ScenarioError

if TYPE_CHECKING:
    import pandas as pd

    from ..scenario import Scenario

__all__ = ["REFERENCE_DRAWS", "CapacityForecast", "Sampler"]

#: a sampler draws ``n`` joint samples of every line's capacity, in units (floats allowed)
Sampler = Callable[[np.random.Generator, int], np.ndarray]

#: draws behind the quantiles and the mean of a sampled forecast (fixed seed: deterministic), at
#: most ``REFERENCE_CELLS`` draws x lines (4,000 draws up to 10^4 lines, 400 at 10^5: 320 MB)
REFERENCE_DRAWS = 4000
REFERENCE_CELLS = 40_000_000
_MIN_REFERENCE = 200
_REFERENCE_SEED = 20240131
#: cells (draws x lines) per block of samples: 4·10^6 int64 = 32 MB
_BLOCK_CELLS = 4_000_000

Key = tuple[str, str, str, str]


class CapacityForecast:
    """A joint distribution of every line's capacity at the deadline.

    ``keys`` are the lines' (locality, program, fund, component); ``low``/``high`` their bounds in
    whole units of ``precision`` (``low`` = already disbursed, ``high`` = the most the line may
    hold). ``sampler(rng, n)`` returns an ``(n, lines)`` array of capacities in units; draws are
    rounded down to whole units and kept inside the bounds (the forecast's support, not a fix of
    bad input). ``method`` names how it was made; ``as_of`` the month it was made at.
    """

    def __init__(
        self,
        keys: Sequence[Key],
        *,
        low: np.ndarray,
        high: np.ndarray,
        sampler: Sampler,
        unit: str = "million VND",
        precision: Decimal = Decimal(1),
        method: str = "samples",
        as_of: str | None = None,
    ) -> None:
        self.keys: list[Key] = [tuple(k) for k in keys]  # type: ignore[misc]
        n = len(self.keys)
        self.low = np.asarray(low, dtype=np.int64).reshape(-1)
        self.high = np.asarray(high, dtype=np.int64).reshape(-1)
        if self.low.shape[0] != n or self.high.shape[0] != n:
            raise ValueError(
                f"low and high need one value per line ({n}); got {self.low.shape[0]}, {self.high.shape[0]}"
            )
        if np.any(self.low > self.high):
            i = int(np.flatnonzero(self.low > self.high)[0])
            raise ValueError(f"line {self.keys[i]}: low {self.low[i]} above high {self.high[i]}")
        if len(set(self.keys)) != n:
            raise ValueError("a forecast holds each line once")
        self._sampler = sampler
        self.unit = unit
        self.precision = Decimal(precision)
        self.method = method
        self.as_of = as_of
        self._reference: np.ndarray | None = None
        self._sorted: np.ndarray | None = None
        self._low_f = self.low.astype(np.float64)
        self._high_f = self.high.astype(np.float64)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_samples(
        cls,
        keys: Sequence[Key],
        samples: np.ndarray,
        *,
        low: np.ndarray | None = None,
        high: np.ndarray | None = None,
        unit: str = "million VND",
        precision: Decimal = Decimal(1),
    ) -> CapacityForecast:
        """An empirical forecast: ``samples`` is ``(draws, lines)`` in whole units, equally likely.

        Quantiles and the mean are those of the given draws; ``samples(n)`` resamples whole rows
        (so the lines' dependence is kept)."""
        draws = np.asarray(samples)
        if draws.ndim != 2 or draws.shape[1] != len(keys) or draws.shape[0] == 0:
            raise ValueError(f"samples must be (draws, {len(keys)}); got {draws.shape}")
        whole = np.issubdtype(draws.dtype, np.integer) or (
            np.all(np.isfinite(draws)) and np.all(draws == np.floor(draws))
        )
        if not whole:
            raise ValueError("samples must be whole units of precision")
        draws = draws.astype(np.int64)
        lo = draws.min(axis=0) if low is None else np.asarray(low, dtype=np.int64)
        hi = draws.max(axis=0) if high is None else np.asarray(high, dtype=np.int64)
        if np.any(draws < lo) or np.any(draws > hi):
            raise ValueError("every sample must lie within low and high")

        def resample(rng: np.random.Generator, n: int) -> np.ndarray:
            return draws[rng.integers(0, draws.shape[0], size=n)]

        out = cls(keys, low=lo, high=hi, sampler=resample, unit=unit, precision=precision, method="samples")
        out._reference = draws
        return out

    # ------------------------------------------------------------------ draws
    @property
    def n_lines(self) -> int:
        return len(self.keys)

    @property
    def block_rows(self) -> int:
        """Draws per block: blocks stay near 32 MB whatever the number of lines."""
        return max(1, min(1000, _BLOCK_CELLS // max(1, self.n_lines)))

    def _block(self, seq: np.random.SeedSequence, rows: int) -> np.ndarray:
        raw = np.asarray(self._sampler(np.random.default_rng(seq), rows))
        if raw.shape != (rows, self.n_lines):
            raise ValueError(f"the sampler gave {raw.shape}, expected {(rows, self.n_lines)}")
        if np.issubdtype(raw.dtype, np.integer):
            return np.clip(raw, self.low, self.high).astype(np.int64, copy=False)
        # in place, one array: these blocks are the bulk of a 10^9-cell risk run
        units = np.array(raw, dtype=np.float64, copy=True)
        np.nan_to_num(units, copy=False, nan=0.0, posinf=float(2**62), neginf=0.0)
        np.floor(units, out=units)
        np.clip(units, self._low_f, self._high_f, out=units)
        return units.astype(np.int64)

    def samples(self, n: int, *, seed: int | None = None) -> Iterator[np.ndarray]:
        """``n`` joint draws in blocks of ``block_rows`` (the last may be shorter). Block ``j`` is
        drawn from the ``j``-th child of ``SeedSequence(seed)``: the draws depend on ``seed`` only, and
        ``sample(m)`` is the start of ``sample(n)`` for ``m <= n``."""
        if n < 0:
            raise ValueError(f"n must be >= 0; got {n}")
        rows = self.block_rows
        children = np.random.SeedSequence(seed).spawn(-(-n // rows)) if n else []
        for j, child in enumerate(children):
            # every block is drawn whole and cut: the first m draws are the same for every n >= m
            yield self._block(child, rows)[: n - j * rows]

    def sample(self, n: int, *, seed: int | None = None) -> np.ndarray:
        """``n`` joint draws as one ``(n, lines)`` int64 array of units."""
        blocks = list(self.samples(n, seed=seed))
        return np.concatenate(blocks) if blocks else np.zeros((0, self.n_lines), dtype=np.int64)

    @property
    def reference(self) -> np.ndarray:
        """The fixed draws behind ``quantile_units`` and ``expected_units``."""
        if self._reference is None:
            draws = max(_MIN_REFERENCE, min(REFERENCE_DRAWS, REFERENCE_CELLS // max(1, self.n_lines)))
            self._reference = self.sample(draws, seed=_REFERENCE_SEED)
        return self._reference

    def quantile_units(self, q: float | Sequence[float]) -> np.ndarray:
        """The ``q``-quantile of each line in whole units (a value some draw takes: the inverse
        CDF). A list of ``q`` gives a ``(len(q), lines)`` array."""
        qs = np.atleast_1d(np.asarray(q, dtype=np.float64))
        if np.any((qs < 0) | (qs > 1)) or not np.all(np.isfinite(qs)):
            raise ValueError(f"quantiles must be within [0, 1]; got {q!r}")
        ordered = self._ordered()
        n = ordered.shape[1]
        # the inverse CDF of the reference draws: the ceil(q n)-th smallest (as numpy's
        # "inverted_cdf"), read off draws sorted once per forecast
        at = np.clip(np.ceil(qs * n - 1e-9).astype(np.int64) - 1, 0, n - 1)
        out = np.ascontiguousarray(ordered[:, at].T)
        return out[0] if np.ndim(q) == 0 else out

    def _ordered(self) -> np.ndarray:
        """The reference draws of each line, sorted: (lines, draws)."""
        if self._sorted is None:
            self._sorted = np.sort(np.ascontiguousarray(self.reference.T), axis=1)
        return self._sorted

    @property
    def expected_units(self) -> np.ndarray:
        """The mean of each line, in units (float)."""
        return np.asarray(self.reference.mean(axis=0), dtype=np.float64)

    def quantiles(self, q: Sequence[float] = (0.1, 0.5, 0.9)) -> pd.DataFrame:
        """A table per line: low, mean, the quantiles (``p10``…), high; amounts in ``unit``."""
        import pandas as pd

        from ..rules import LINE_KEYS

        p = float(self.precision)
        cols = {"low": self.low * p, "mean": self.expected_units * p}
        for name, row in zip(_names(q), self.quantile_units(list(q)), strict=True):
            cols[name] = row * p
        cols["high"] = self.high * p
        index = pd.MultiIndex.from_tuples(self.keys, names=list(LINE_KEYS))
        return pd.DataFrame(cols, index=index)

    # ------------------------------------------------------------------ scenarios
    def positions(self, scenario: Scenario) -> np.ndarray:
        """For each line of ``scenario``, the forecast's column. Every line must be forecast, in
        the same unit and precision; a missing line is named in the error."""
        problems = []
        if scenario.precision != self.precision:
            problems.append(
                {
                    "loc": ("precision",),
                    "msg": f"the forecast is in units of {self.precision}",
                    "input": scenario.precision,
                    "type": "forecast_precision",
                }
            )
        if scenario.unit != self.unit:
            problems.append(
                {
                    "loc": ("unit",),
                    "msg": f"the forecast is in {self.unit}",
                    "input": scenario.unit,
                    "type": "forecast_unit",
                }
            )
        where = {k: i for i, k in enumerate(self.keys)}
        keys = scenario.lines.keys()
        out = np.empty(len(keys), dtype=np.int64)
        for i, k in enumerate(keys):
            j = where.get(k, -1)
            out[i] = j
            if j < 0 and len(problems) < 50:
                problems.append(
                    {
                        "loc": ("lines", i),
                        "msg": "the forecast has no such line",
                        "input": "/".join(k),
                        "type": "forecast_line",
                    }
                )
        if problems:
            raise ScenarioError(problems, title="the forecast does not fit the scenario")
        return out

    def __repr__(self) -> str:
        return f"CapacityForecast({self.n_lines} lines, method={self.method!r}, as_of={self.as_of!r})"


def _names(q: Sequence[float]) -> list[str]:
    return [f"p{round(x * 100):d}" if abs(x * 100 - round(x * 100)) < 1e-9 else f"p{x * 100:g}" for x in q]
