"""When no plan exists: what it would take, and which rules conflict."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..formulation import Formulation, Program
from ..scenario import Scenario
from .facts import _line_label, _pool_label

if TYPE_CHECKING:
    pass


#: Every reason code a line can get, with what it means.


# ------------------------------------------------------------------------------------ no plan
def diagnose(
    scenario: Scenario,
    form: Formulation,
    shortfall: dict[int, float],
    final: np.ndarray,
    conflict: list[str] | None,
) -> dict[str, Any]:
    """What it would take to make an infeasible scenario feasible, in the scenario's words.

    ``shortfall`` is, per target, the least money by which it must fall short (the elastic absorb
    program's slack), ``final`` what each line holds in that least-short plan, ``conflict`` the
    named rules of an irreducible infeasible subsystem.
    """
    t = scenario.table
    out: dict[str, Any] = {"targets": [], "conflict": conflict or []}
    lapse_after = np.maximum(final - t.capacity, 0)
    goals = {k: (covered, rate) for k, covered, rate in form.goals}
    for k, short_units in shortfall.items():
        missing = int(np.ceil(short_units - 1e-6))
        if missing <= 0:
            continue
        covered = goals[k][0]
        target = scenario.rules.targets[k] if k >= 0 else None
        rate = target.rate if target is not None else scenario.rules.target_rate
        assert rate is not None
        label = target.label() if target is not None else "all lines"
        where = f"rules.targets[{k}]" if k >= 0 else "rules.target_rate"
        pools: dict[int, int] = {}
        for i in covered.tolist():
            if lapse_after[i] > 0:
                pools[int(t.pool[i])] = pools.get(int(t.pool[i]), 0) + int(lapse_after[i])
        lapsing = [i for i in covered.tolist() if lapse_after[i] > 0]
        # closest: lines that could absorb the whole missing amount with the smallest relative
        # increase of their capacity; failing that, the largest remaining lapses until covered
        alone = sorted(
            (i for i in lapsing if lapse_after[i] >= missing),
            key=lambda i: (missing / max(int(t.capacity[i]), 1), i),
        )
        if alone:
            candidates = alone[:5]
            how = f"e.g. +{scenario.to_amount(missing):,} capacity at {_line_label(scenario, alone[0])}"
        else:
            candidates = []
            covered_so_far = 0
            for i in sorted(lapsing, key=lambda i: (-int(lapse_after[i]), i)):
                candidates.append(i)
                covered_so_far += int(lapse_after[i])
                if covered_so_far >= missing:
                    break
            how = (
                f"spread over {len(candidates)} lines, largest at {_line_label(scenario, candidates[0])}"
                if candidates
                else ""
            )
        less_allocation = int(np.ceil(missing / rate - 1e-9)) if rate else None
        unit = scenario.unit
        out["targets"].append(
            {
                "target": where,
                "selector": label,
                "rate": rate,
                "missing": scenario.to_amount(missing),
                "capacity_needed": scenario.to_amount(missing),
                "allocation_reduction": None if less_allocation is None else scenario.to_amount(less_allocation),
                "pools": [
                    {"pool": _pool_label(t.pool_keys[p]), "lapse_left": scenario.to_amount(v)}
                    for p, v in sorted(pools.items(), key=lambda kv: -kv[1])
                ],
                "closest_lines": [
                    {
                        "line": i,
                        "label": _line_label(scenario, i),
                        "lapse_left": scenario.to_amount(int(lapse_after[i])),
                        "capacity": scenario.to_amount(int(t.capacity[i])),
                        "add_capacity": scenario.to_amount(min(int(lapse_after[i]), missing)),
                    }
                    for i in candidates
                ],
                "text": (
                    f"target {label} ({rate:.0%}) is short by {scenario.to_amount(missing):,} {unit}: it needs "
                    f"{scenario.to_amount(missing):,} {unit} more absorptive capacity on lines that still lapse"
                    + (
                        f" (or {scenario.to_amount(less_allocation):,} {unit} less allocation on them)"
                        if less_allocation is not None
                        else ""
                    )
                    + (f"; {how}" if how else "")
                ),
            }
        )
    return out


def name_conflict(
    scenario: Scenario, form: Formulation, program: Program, rows: list[int], cols: list[int]
) -> list[str]:
    """Rows and column bounds of an infeasible subsystem, named as the rules they come from."""
    t = scenario.table
    names: list[str] = []
    for r in rows:
        kind, _, payload = program.row_group(r)
        if kind == "target":
            k = int(payload)  # type: ignore[call-overload]
            if k >= 0:
                tg = scenario.rules.targets[k]
                names.append(f"rules.targets[{k}]: {tg.label()} must reach {tg.rate:.0%}")
            else:
                names.append(f"rules.target_rate: all lines must reach {scenario.rules.target_rate:.0%}")
        elif kind in ("max_loss", "max_gain"):
            loc = t.locality_ids[int(payload)]  # type: ignore[call-overload]
            units = next(u for kd, lc, u in form.limits if kd == kind and lc == int(payload))  # type: ignore[call-overload]
            names.append(f"{kind} of locality {loc}: {scenario.to_amount(units)}")
        elif kind == "pool":
            names.append(f"pool {_pool_label(t.pool_keys[int(form.pool_index[payload])])}: money moves only inside it")
        elif kind in ("line", "group"):
            # with transfers modelled, "a line's amount is its transfers" stands for its pool's balance
            pool = int(form.g_pool[int(payload)])  # type: ignore[call-overload]
            names.append(f"pool {_pool_label(t.pool_keys[int(form.pool_index[pool])])}: money moves only inside it")
        elif kind in ("min_transfer", "pair_used"):
            names.append(
                f"rules.min_transfer: every transfer is 0 or at least {scenario.rules.min_transfer:,} {scenario.unit}"
            )
        elif kind == "max_transfers_per_line":
            names.append(
                f"rules.max_transfers_per_line: each line takes part in at most "
                f"{scenario.rules.max_transfers_per_line} transfers"
            )
        elif kind:  # pragma: no cover - every row kind of the absorb program is named above
            names.append(f"the rule behind the {kind!r} rows")
    bounds: dict[str, list[tuple[str, int]]] = {"room": [], "surplus": []}
    for c in cols:
        for block in ("lo", "hi"):
            if program.has(block):
                start, stop = program.blocks[block]
                if start <= c < stop:
                    k = int(program.index[block][c - start])
                    if block.startswith("pool"):
                        label = _pool_label(t.pool_keys[int(form.pool_index[k])])
                        what = "room" if block == "pool_in" else "surplus"
                        names.append(f"pool {label}: its total {what}")
                    else:
                        what = "room" if form.g_recipient[k] else "surplus"
                        for i in np.flatnonzero(form.group == k).tolist():
                            bounds[what].append((_line_label(scenario, int(form.line[i])), int(form.bound[i])))
    for what, items in bounds.items():
        if not items:
            continue
        verb = "receive up to its room" if what == "room" else "give only its surplus"
        total = sum(u for _, u in items)
        shown = ", ".join(label for label, _ in items[:3]) + (f" and {len(items) - 3} more" if len(items) > 3 else "")
        names.append(
            f"each line can {verb}: {len(items)} line(s), "
            f"{scenario.to_amount(total):,} {scenario.unit} in all ({shown})"
        )
    return list(dict.fromkeys(names))  # one line of a pool or one rule, named once
