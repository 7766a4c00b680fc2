"""Synthetic scenarios for the benchmarks: realistic shapes, any size, optional coupling rules."""

from __future__ import annotations

from typing import Any

import numpy as np

PROGRAMS = ("ntm", "gnbv", "dtts")
FUNDS = ("investment", "recurrent")


def synthetic_scenario(
    n_lines: int,
    seed: int = 0,
    components: int = 5,
    *,
    limits: bool = False,
    target_rate: float | None = None,
    dense_costs: bool = False,
) -> dict[str, Any]:
    """A JSON-ready scenario of about ``n_lines`` lines (million VND, precision 1).

    Each locality has ``components`` lines in each of the 3 programs x 2 funds, so pools (program,
    fund) hold about n_lines / 6 lines each. Disbursement and capacity ratios vary per line so that
    roughly half the lines have surplus and the rest room.

    ``limits`` adds locality share limits (lose at most 30%, gain at most 50% of what a locality
    holds), ``target_rate`` a rate all lines must reach, ``dense_costs`` a cost for every ordered
    pair of localities (distance on a ring, so the cheapest moves are between neighbours). Each of
    these ties pools together, so the plan needs the LP instead of the closed form.
    """
    rng = np.random.default_rng(seed)
    per_locality = len(PROGRAMS) * len(FUNDS) * components
    n_loc = max(1, -(-n_lines // per_locality))
    # Drawn as whole arrays: building the dicts is then the only per-line Python work.
    allocated = rng.integers(1_000, 60_000, n_lines)
    disbursed = (allocated * rng.uniform(0.05, 0.6, n_lines)).astype(np.int64)
    capacity = np.maximum(disbursed, (allocated * rng.uniform(0.3, 1.8, n_lines)).astype(np.int64))
    keys = [
        (f"L{loc:05d}", program, fund, f"c{comp}")
        for loc in range(n_loc)
        for program in PROGRAMS
        for fund in FUNDS
        for comp in range(components)
    ][:n_lines]
    lines = [
        {
            "locality": loc,
            "program": program,
            "fund": fund,
            "component": comp,
            "allocated": a,
            "disbursed": d,
            "capacity": c,
        }
        for (loc, program, fund, comp), a, d, c in zip(
            keys, allocated.tolist(), disbursed.tolist(), capacity.tolist(), strict=True
        )
    ]
    localities = [
        {"id": f"L{loc:05d}", "name": f"Locality {loc}", "weight": round(float(rng.uniform(0, 1)), 3)}
        for loc in range(n_loc)
    ]
    scenario: dict[str, Any] = {
        "name": f"synthetic {n_lines} lines",
        "unit": "million VND",
        "localities": localities,
        "lines": lines,
    }
    rules: dict[str, Any] = {}
    if limits:
        rules["max_loss"] = {"share": 0.3}
        rules["max_gain"] = {"share": 0.5}
    if target_rate is not None:
        rules["target_rate"] = target_rate
    if rules:
        scenario["rules"] = rules
    if dense_costs:
        ids = [loc["id"] for loc in localities]
        scenario["transfer_costs"] = [
            {"from": a, "to": b, "cost": 1 + min(abs(i - j), n_loc - abs(i - j))}
            for i, a in enumerate(ids)
            for j, b in enumerate(ids)
            if i != j
        ]
    return scenario
