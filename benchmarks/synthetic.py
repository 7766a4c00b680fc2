"""Synthetic scenarios for the benchmarks: pool-only rules, realistic shapes, any size."""

from __future__ import annotations

from typing import Any

import numpy as np

PROGRAMS = ("ntm", "gnbv", "dtts")
FUNDS = ("investment", "recurrent")


def synthetic_scenario(n_lines: int, seed: int = 0, components: int = 5) -> dict[str, Any]:
    """A JSON-ready scenario of about ``n_lines`` lines (million VND, precision 1).

    Each locality has ``components`` lines in each of the 3 programs x 2 funds, so pools (program,
    fund) hold about n_lines / 6 lines each. Disbursement and capacity ratios vary per line so that
    roughly half the lines have surplus and the rest room.
    """
    rng = np.random.default_rng(seed)
    per_locality = len(PROGRAMS) * len(FUNDS) * components
    n_loc = max(1, -(-n_lines // per_locality))
    lines: list[dict[str, Any]] = []
    for loc in range(n_loc):
        for program in PROGRAMS:
            for fund in FUNDS:
                for comp in range(components):
                    if len(lines) == n_lines:
                        break
                    allocated = int(rng.integers(1_000, 60_000))
                    disbursed = int(allocated * rng.uniform(0.05, 0.6))
                    capacity = max(disbursed, int(allocated * rng.uniform(0.3, 1.8)))
                    lines.append(
                        {
                            "locality": f"L{loc:05d}",
                            "program": program,
                            "fund": fund,
                            "component": f"c{comp}",
                            "allocated": allocated,
                            "disbursed": disbursed,
                            "capacity": capacity,
                        }
                    )
    localities = [
        {"id": f"L{loc:05d}", "name": f"Locality {loc}", "weight": round(float(rng.uniform(0, 1)), 3)}
        for loc in range(n_loc)
    ]
    return {"name": f"synthetic {n_lines} lines", "unit": "million VND", "localities": localities, "lines": lines}
