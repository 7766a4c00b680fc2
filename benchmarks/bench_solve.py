"""Speed benchmark: validation, build, solve, report — and HiGHS straight from arrays as the floor.

    .venv/bin/python benchmarks/bench_solve.py                 # 100, 10k, 100k lines + Quảng Nam + CLI
    .venv/bin/python benchmarks/bench_solve.py --sizes 100 10000 --no-cli

Targets (issue 2): the ~100-line Quảng Nam scenario under 50 ms median in-process; a 100k-line
pool-only scenario end to end through the CLI (JSON in, JSON out) under 15 s on a 2-core machine.
Nothing here is asserted by the test suite; the figures go in closing notes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import highspy
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reallocate
from reallocate.backend import highs_model
from reallocate.formulation import Formulation, Program
from reallocate.report import text_report
from synthetic import synthetic_scenario


def _floor_solve(program: Program) -> tuple[float, np.ndarray]:
    """The same program solved directly by highspy from its arrays (no PuLP): seconds, values."""
    began = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highs_model(program)
    if program.is_mip:
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in program.integer.tolist()
        ]
    h.passModel(lp)
    h.run()
    x = np.array(h.getSolution().col_value)
    return time.perf_counter() - began, x


def _floor(scenario: reallocate.Scenario, plan: reallocate.Plan) -> float:
    """Re-run the plan's stages from arrays straight into HiGHS; total solver seconds."""
    form = Formulation(scenario)
    kept: list[tuple[str, float]] = []
    total = 0.0
    for report in plan.stages:
        program = form.program(report.stage, kept)
        seconds, x = _floor_solve(program)
        total += seconds
        kept.append((report.stage, float(program.cost @ x)))
        if report.stage == "absorb":
            form.set_targets(form.pool_moved(program, x))
    return total


def bench_size(n: int, seed: int = 0) -> dict[str, Any]:
    text = json.dumps(synthetic_scenario(n, seed))
    t0 = time.perf_counter()
    scenario = reallocate.Scenario.from_json(text)
    validate = time.perf_counter() - t0
    plan = reallocate.solve(scenario)
    assert plan.status == "optimal", plan.message
    t0 = time.perf_counter()
    out = plan.to_json()
    text_report(plan)
    report = time.perf_counter() - t0
    model = sum(s.model_seconds for s in plan.stages)
    solver = sum(s.seconds for s in plan.stages) - model
    floor = _floor(scenario, plan)
    t = plan.timings
    return {
        "lines": n,
        "json_in_MB": len(text) / 1e6,
        "validate": validate,
        "build": t["formulate"] + t["build"],
        "pulp_model": model,
        "solver": solver,
        "exact+plan": t["round"],
        "verify": t["verify"],
        "explain": t.get("explain", 0.0),
        "report": report,
        "total": validate + t["total"] + report,
        "floor": floor,
        "ratio": (model + solver) / floor if floor > 0 else float("nan"),
        "cols": max((s.cols for s in plan.stages), default=0),
        "json_out_MB": len(out) / 1e6,
    }


def bench_quang_nam(runs: int = 50) -> dict[str, float]:
    scenario = reallocate.datasets.quang_nam_2023()
    reallocate.solve(scenario)  # warm-up (imports, HiGHS banner guard)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        reallocate.solve(scenario)
        times.append(time.perf_counter() - t0)
    return {"median_ms": statistics.median(times) * 1e3, "min_ms": min(times) * 1e3, "max_ms": max(times) * 1e3}


def bench_cli(n: int, runs: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp, "in.json"), Path(tmp, "out.json")
        src.write_text(json.dumps(synthetic_scenario(n, 1)), encoding="utf-8")
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "reallocate", "solve", str(src), "--format", "json", "--out", str(dst)],
                capture_output=True,
                text=True,
            )
            times.append(time.perf_counter() - t0)
            if done.returncode != 0:
                raise SystemExit(f"CLI failed ({done.returncode}): {done.stderr}")
        json.loads(dst.read_text(encoding="utf-8"))
        return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000, 100_000])
    ap.add_argument("--cli-lines", type=int, default=100_000)
    ap.add_argument("--cli-runs", type=int, default=3)
    ap.add_argument("--no-cli", action="store_true")
    args = ap.parse_args()

    qn = bench_quang_nam()
    print(
        f"Quảng Nam 2023 (92 lines), solve() in-process: median {qn['median_ms']:.1f} ms "
        f"(min {qn['min_ms']:.1f}, max {qn['max_ms']:.1f}; target < 50 ms)"
    )
    print()
    cols = [
        "lines",
        "validate",
        "build",
        "pulp_model",
        "solver",
        "exact+plan",
        "verify",
        "explain",
        "report",
        "total",
        "floor",
        "ratio",
        "cols",
    ]
    print(
        "seconds per phase; floor = the same stage LPs passed from arrays straight to HiGHS; "
        "ratio = (pulp_model + solver) / floor"
    )
    print("  ".join(f"{c:>10}" for c in cols))
    for n in args.sizes:
        r = bench_size(n)
        print("  ".join(f"{r[c]:>10.3f}" if isinstance(r[c], float) else f"{r[c]:>10}" for c in cols))
    if not args.no_cli:
        times = bench_cli(args.cli_lines, args.cli_runs)
        print()
        print(
            f"CLI end to end, {args.cli_lines:,} lines (JSON in, JSON out): median {statistics.median(times):.2f} s "
            f"over {len(times)} runs ({', '.join(f'{t:.2f}' for t in times)}); target < 15 s"
        )


if __name__ == "__main__":
    main()
