"""Capacity as a forecast: its distribution, plans that allow for it, and the risk of lapse."""

from __future__ import annotations

from .capacity import CapacityForecast

__all__ = ["CapacityForecast"]
