"""The reallocation model as arrays: whole blocks of columns and rows, one sparse matrix per stage.

Only lines that can move money take part: a *donor* has surplus > 0 and a *recipient* has room > 0
in a pool where the other side exists. Each group of interchangeable lines has an ``amount``
(given or received), bounded by its lines' surplus or room, so "gives only its surplus, receives
only up to its room, never both" holds by construction. Money moves only inside a pool:

* without pairs, one row per pool: sum(received) - sum(given) = 0;
* with line pairs (``min_transfer`` / ``max_transfers_per_line``, or a few costed pairs whose
  count can be minimised), one column per (donor, recipient) of a pool and one row per line:
  amount - sum(its pairs) = 0;
* with *flows* (costs at scale): costs are per locality pair and per changed attribute, so one
  column per (donor group, recipient group) of a pool and one row per group: amount - sum(its
  flows) = 0. 3,000 lines with dense locality-pair costs need ~6·10^4 flow columns instead of
  ~4·10^5 line pairs.

The stages of "best plan" (DOMAIN.md) are solved one after the other:

``absorb``     maximise the money recipients receive (= total absorbable gain);
``approval``   minimise the move costs (``rules.move_costs``: the approval tiers a move needs);
``settle``     (rules couple pools) a generic split of the optimum so far between pools;
``share``      minimise the deviation from each group's fair target (proportional or priority),
               the targets being whole units apportioned from the pool totals;
``cost``       minimise the transfer costs (``transfer_costs``);
``count``      minimise the number of transfers (a MILP, only with few line pairs);
``canonical``  a fixed generic tie-break so every solver returns the same plan among equals.

``approval``, ``share`` and ``cost`` come in the order of ``rules.order`` (by default as listed:
approvals are law, fairness is policy); ``settle`` comes right before ``share``, and a priced stage
before the shares leaves the amounts unsplit (the fair targets are drawn only after it). A stage
runs only when something is priced in it.

A later stage must keep every earlier optimum. The reference path (PuLP, CBC) adds each earlier
objective as a row ``objective <= optimum + tolerance``. The HiGHS path keeps the *optimal face*
instead (``Face``): fixing the bounds of columns with non-zero reduced costs and making rows with
non-zero duals equalities describes exactly the earlier optima, with no dense row and no tolerance.

The deviation |amount - target| needs no extra rows: the amount is split into ``lo`` in
[0, target] and ``hi`` in [0, bound - target], and the stage minimises ``hi - lo``. Whenever
``hi > 0`` while ``lo < target`` the pair (lo + e, hi - e) is strictly better, so at an optimum
``hi - lo + target`` is exactly the deviation.
"""

from .costs import CostModel
from .model import Formulation
from .program import (
    COUNT_MAX_PAIRS,
    SOLVER_DIGITS,
    STAGES,
    Face,
    Program,
    generic_weights,
    replace_program,
    snap_tolerance,
    stage_tolerance,
)

__all__ = [
    "COUNT_MAX_PAIRS",
    "SOLVER_DIGITS",
    "STAGES",
    "CostModel",
    "Face",
    "Formulation",
    "Program",
    "generic_weights",
    "replace_program",
    "snap_tolerance",
    "stage_tolerance",
]
