"""Why the plan is what it is: a reason for every line, shadow prices, the lapse that remains and
why, the gap to 100% — and, when no plan exists, what it would take.

Everything here is derived from the scenario, the exact plan (whole units) and, for shadow prices,
the row duals of one extra LP: the absorb stage per line, as a maximisation (see
``Formulation.explain_program``). A column's reduced cost ``c - A^T y`` is the money one more
unit of its bound would absorb; a line that has no column yet is priced the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .diagnosis import diagnose, name_conflict
from .facts import _Facts
from .lapse import _lapse
from .prices import _prices
from .reasons import _reasons
from .tables import REASONS, Explanation, Table

if TYPE_CHECKING:
    import numpy as np

    from ..formulation import Formulation, Program
    from ..scenario import Scenario

__all__ = ["REASONS", "Explanation", "Table", "diagnose", "explain_plan", "name_conflict"]


def explain_plan(
    scenario: Scenario,
    form: Formulation,
    change: np.ndarray,
    program: Program | None,
    duals: np.ndarray | None,
    *,
    exact_pools: bool = False,
) -> Explanation:
    """The explanation of a found plan (``change`` in whole units per line). ``exact_pools``:
    every pool is independent, so its prices are read off its totals (no LP duals needed)."""
    f = _Facts(scenario, form, change)
    codes, texts = _reasons(f)
    prices, pools = _prices(f, program, duals, exact_pools)
    lapse, gap = _lapse(f)
    notes = []
    if (program is None or duals is None) and not exact_pools:
        notes.append("shadow prices from pool totals only (no dual prices were available)")
    if scenario.rules.min_transfer > 0 or scenario.rules.max_transfers_per_line is not None:
        notes.append("shadow prices ignore min_transfer and max_transfers_per_line (LP duals)")
    return Explanation(gap=gap, notes=notes, reasons=codes, _texts=texts, _shadow=prices, _pools=pools, _lapse=lapse)
