"""Sweeps: thousands of what-ifs of one baseline, on one machine's cores or on a Dask cluster.

    >>> import reallocate
    >>> grid = reallocate.grid(mountain={"values": [0.6, 0.8, 1], "changes": [
    ...     {"kind": "scale_capacity", "where": {"tag": {"mountainous": True}}, "factor": "$value"}]})
    >>> result = reallocate.sweep(baseline, grid)  # doctest: +SKIP
    >>> result.frame[["mountain", "status", "rate_after"]]  # doctest: +SKIP

``reallocate.sweep`` is this package, and calling it calls :func:`sweep` (the package is named
after what it does; ``reallocate.sweep.sweep`` is the same function).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .result import SweepResult
from .run import SweepOutputError, default_chunk_size, output_folder, sweep
from .variants import CapacitySamples, Grid, Variant, forecast_samples, grid, load_variants

__all__ = [
    "CapacitySamples",
    "Grid",
    "SweepOutputError",
    "SweepResult",
    "Variant",
    "default_chunk_size",
    "forecast_samples",
    "grid",
    "load_variants",
    "output_folder",
    "sweep",
]


class _CallableModule(types.ModuleType):
    """``reallocate.sweep(baseline, variants)`` calls :func:`sweep`."""

    def __call__(self, *args: Any, **kwargs: Any) -> SweepResult:
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
