"""National-scale benchmark: the CLI from JSON file to JSON plan against the raw solver's floor.

    .venv/bin/python benchmarks/bench_national.py            # the whole table (about 3 minutes)
    .venv/bin/python benchmarks/bench_national.py --quick    # a tenth of every size

Each case is written to a JSON file, then ``reallocate solve FILE --format json --out plan.json`` runs
in a child process; its wall time and peak memory (the child's ``ru_maxrss`` from ``os.wait4``) are
measured. For pool-only cases the floor runs in its own child in the same run: read the JSON
(``json.load``), build the pool LP from numpy arrays (one column per line, one row per pool) and
solve it once with HiGHS, through scipy's ``linprog`` and straight through highspy. The floor does
not round, verify, explain or write anything, so a ratio at or below 1 means the whole plan costs
no more than the bare LP.

Targets (issue 7; figures go in the closing note, nothing here is asserted by the tests):
  1M pool-only lines through the CLI at or below the floor, peak RSS <= 2.5 GB;
  100k pool-only lines through the CLI <= 1.5 s; Quảng Nam (92 lines) in-process <= 3 ms median;
  60k lines with share limits and a target rate <= 6 s, 10x the lines <= 12x the time;
  3,000 lines with dense locality-pair costs <= 2 s; 30,000 lines, 500 localities, dense <= 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import synthetic_scenario


def floor(path: str, engine: str) -> dict[str, float]:
    """Read the JSON, build the pool LP from arrays and solve it once: seconds per phase."""
    import numpy as np

    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        data = json.load(fh)
    t1 = time.perf_counter()
    lines = data["lines"]
    n = len(lines)
    allocated = np.fromiter((ln["allocated"] for ln in lines), np.float64, n)
    capacity = np.fromiter((ln["capacity"] for ln in lines), np.float64, n)
    pools: dict[tuple[str, str], int] = {}
    pool = np.fromiter((pools.setdefault((ln["program"], ln["fund"]), len(pools)) for ln in lines), np.int64, n)
    # x = final - allocated: a line gives at most its surplus and takes at most its room; every
    # pool's moves sum to zero; maximise what the room lines take.
    lower = -np.maximum(allocated - capacity, 0.0)
    upper = np.maximum(capacity - allocated, 0.0)
    cost = -(upper > 0).astype(np.float64)
    t2 = time.perf_counter()
    if engine == "scipy":
        from scipy.optimize import linprog
        from scipy.sparse import csr_matrix

        a_eq = csr_matrix((np.ones(n), (pool, np.arange(n))), shape=(len(pools), n))
        res = linprog(
            cost, A_eq=a_eq, b_eq=np.zeros(len(pools)), bounds=np.column_stack([lower, upper]), method="highs"
        )
        ok = res.status == 0
        moved = -res.fun
    else:
        import highspy

        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.addCols(n, cost, lower, upper, 0, np.array([], np.int32), np.array([], np.int32), np.array([]))
        order = np.argsort(pool, kind="stable").astype(np.int32)
        starts = np.searchsorted(pool[order], np.arange(len(pools))).astype(np.int32)
        h.addRows(len(pools), np.zeros(len(pools)), np.zeros(len(pools)), n, starts, order, np.ones(n))
        h.run()
        ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        moved = -h.getInfo().objective_function_value
    t3 = time.perf_counter()
    if not ok:
        raise SystemExit("floor LP did not solve")
    return {"read": t1 - t0, "arrays": t2 - t1, "solve": t3 - t2, "total": t3 - t0, "moved": moved}


def _child(args: list[str]) -> tuple[float, float, str]:
    """Run a child process: wall seconds, peak RSS in GB, standard output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {err.read().decode()}")
        return wall, usage.ru_maxrss / 1024**2, out.read().decode()


def cli_runs(path: Path, runs: int, *options: str, suffix: str = ".json") -> tuple[list[float], float, int]:
    """The CLI on ``path``, ``runs`` times: wall seconds, the largest peak RSS (GB), plan bytes."""
    times, peak, size = [], 0.0, 0
    for k in range(runs):
        out = path.with_name(f"plan-{k}{suffix}")
        cmd = [sys.executable, "-m", "reallocate", "solve", str(path), *options, "--out", str(out)]
        wall, rss, _ = _child(cmd)
        times.append(wall)
        peak = max(peak, rss)
        # Parsed in a child: a big plan parsed here would raise every later child's peak (a vfork
        # child's peak starts from the parent's).
        plan = _json_child("--check", str(out if suffix == ".json" else out.with_suffix(".json")))
        if plan["status"] != "optimal":
            raise SystemExit(f"{path.name}: plan status {plan['status']}: {plan['message']}")
        written = [out] if suffix == ".json" else [out, out.with_suffix(".transfers.parquet"), out.with_suffix(".json")]
        size = sum(f.stat().st_size for f in written)
        for f in written:
            f.unlink()
    return times, peak, size


def floor_runs(path: Path, engine: str, runs: int) -> tuple[list[float], float]:
    """The floor in a child process, ``runs`` times: wall seconds and the largest peak RSS (GB)."""
    times, peak = [], 0.0
    for _ in range(runs):
        wall, rss, _ = _child([sys.executable, __file__, "--floor", str(path), "--engine", engine])
        times.append(wall)
        peak = max(peak, rss)
    return times, peak


CASES = {
    "pool": lambda n: synthetic_scenario(n, 1),
    "limits": lambda n: synthetic_scenario(n, 2, limits=True, target_rate=0.8),
    "costs": lambda n: synthetic_scenario(n, 3, 5 if n <= 10_000 else 10, dense_costs=True),
}


def write_case(kind: str, n: int, path: str) -> dict[str, Any]:
    scenario = CASES[kind](n)
    Path(path).write_text(json.dumps(scenario), encoding="utf-8")
    return {"localities": len(scenario["localities"]), "costs": len(scenario.get("transfer_costs", ()))}


def to_parquet_folder(path: str, folder: str) -> None:
    """The JSON scenario as a Parquet scenario folder (lines.parquet + scenario.json)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = json.loads(Path(path).read_bytes())
    lines = data.pop("lines")
    out = Path(folder)
    out.mkdir()
    table = pa.table({k: [ln[k] for ln in lines] for k in lines[0]})
    pq.write_table(table, out / "lines.parquet")
    (out / "scenario.json").write_text(json.dumps(data), encoding="utf-8")


def in_process(path: str, runs: int) -> dict[str, Any]:
    """Median seconds of ``solve`` on an already loaded scenario, and the last run's timings."""
    import reallocate

    loaded = reallocate.Scenario.from_json(Path(path).read_text(encoding="utf-8"))
    times = []
    plan = reallocate.solve(loaded)  # warm-up: first-call imports
    for _ in range(runs):
        t0 = time.perf_counter()
        plan = reallocate.solve(loaded)
        times.append(time.perf_counter() - t0)
        if plan.status != "optimal":
            raise SystemExit(f"{path}: {plan.status}: {plan.message}")
    return {"times": times, "timings": dict(plan.timings)}


def quang_nam(runs: int = 200) -> list[float]:
    import reallocate

    scenario = reallocate.datasets.quang_nam_2023()
    reallocate.solve(scenario)  # warm-up: first-call imports
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        reallocate.solve(scenario)
        times.append(time.perf_counter() - t0)
    return times


def _json_child(*args: str) -> Any:
    return json.loads(_child([sys.executable, __file__, *args])[2])


def _fmt(times: list[float]) -> str:
    return f"median {statistics.median(times):.2f} s ({', '.join(f'{t:.2f}' for t in times)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a tenth of every size")
    ap.add_argument("--runs", type=int, default=3, help="CLI and floor runs per case (default 3)")
    ap.add_argument("--floor", help=argparse.SUPPRESS)
    ap.add_argument("--engine", default="scipy", help=argparse.SUPPRESS)
    ap.add_argument("--write", nargs=3, metavar=("KIND", "N", "PATH"), help=argparse.SUPPRESS)
    ap.add_argument("--solve", metavar="PATH", help=argparse.SUPPRESS)
    ap.add_argument("--quang-nam", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--check", metavar="PLAN", help=argparse.SUPPRESS)
    ap.add_argument("--to-parquet", nargs=2, metavar=("JSON", "FOLDER"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.floor:
        print(json.dumps(floor(args.floor, args.engine)))
        return
    if args.write:
        print(json.dumps(write_case(args.write[0], int(args.write[1]), args.write[2])))
        return
    if args.solve:
        print(json.dumps(in_process(args.solve, 1)))
        return
    if args.to_parquet:
        to_parquet_folder(*args.to_parquet)
        return
    if args.check:
        plan = json.loads(Path(args.check).read_bytes())
        print(json.dumps({"status": plan["status"], "message": plan["message"]}))
        return
    if args.quang_nam:
        print(json.dumps(quang_nam()))
        return
    scale = 10 if args.quick else 1

    qn = _json_child("--quang-nam")
    print(
        f"Quảng Nam 2023 (92 lines), solve() in-process (solve, exact rounding, verify, explanation): "
        f"median {statistics.median(qn) * 1e3:.2f} ms, min {min(qn) * 1e3:.2f} ms over {len(qn)} runs "
        "(target <= 3 ms)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        for n in (100_000 // scale, 1_000_000 // scale):
            path = Path(tmp, f"pool-{n}.json")
            _json_child("--write", "pool", str(n), str(path))
            mb = path.stat().st_size / 1e6
            cli, cli_rss, size = cli_runs(path, args.runs, "--format", "json")
            sp, sp_rss = floor_runs(path, "scipy", args.runs)
            hs, hs_rss = floor_runs(path, "highspy", args.runs)
            print(f"\n{n:,} pool-only lines ({mb:.0f} MB JSON in, plan {size / 1e6:.0f} MB, {size / n:.0f} B/line)")
            print(f"  CLI solve --format json : {_fmt(cli)}, peak RSS {cli_rss:.2f} GB")
            print(f"  floor, scipy linprog    : {_fmt(sp)}, peak RSS {sp_rss:.2f} GB")
            print(f"  floor, highspy direct   : {_fmt(hs)}, peak RSS {hs_rss:.2f} GB")
            print(
                f"  ratio CLI / scipy floor {statistics.median(cli) / statistics.median(sp):.2f}, "
                f"CLI / highspy floor {statistics.median(cli) / statistics.median(hs):.2f}"
            )
            small, small_rss, small_size = cli_runs(path, args.runs, "--format", "json", "--compact")
            print(
                f"  CLI --compact           : {_fmt(small)}, peak RSS {small_rss:.2f} GB, "
                f"plan {small_size / 1e6:.0f} MB ({small_size / n:.0f} B/line)"
            )
            folder = Path(tmp, f"pool-{n}")
            _child([sys.executable, __file__, "--to-parquet", str(path), str(folder)])
            pq_t, pq_rss, pq_size = cli_runs(folder, args.runs, suffix=".parquet")
            print(
                f"  CLI Parquet in and out  : {_fmt(pq_t)}, peak RSS {pq_rss:.2f} GB, "
                f"plan {pq_size / 1e6:.0f} MB ({pq_size / n:.0f} B/line)"
            )
            shutil.rmtree(folder)
            path.unlink()

        coupled: dict[int, float] = {}
        for n in (60_000 // scale, 600_000 // scale):
            path = Path(tmp, f"limits-{n}.json")
            _json_child("--write", "limits", str(n), str(path))
            cli, cli_rss, _ = cli_runs(path, 1 if n > 100_000 else args.runs, "--format", "json")
            solved = _json_child("--solve", str(path))
            coupled[n] = statistics.median(cli)
            print(f"\n{n:,} lines, share limits (lose <= 30%, gain <= 50%) and target rate 0.8")
            print(f"  CLI solve --format json : {_fmt(cli)}, peak RSS {cli_rss:.2f} GB")
            print(f"  solve() in-process      : {solved['times'][0]:.2f} s ({_phases(solved['timings'])})")
            path.unlink()
        small, large = sorted(coupled)
        print(f"  10x the lines costs {coupled[large] / coupled[small]:.1f}x the CLI time (target <= 12x)")

        for n in (3_000 // scale, 30_000 // scale):
            path = Path(tmp, f"costs-{n}.json")
            made = _json_child("--write", "costs", str(n), str(path))
            cli, cli_rss, _ = cli_runs(path, args.runs, "--format", "json")
            solved = _json_child("--solve", str(path))
            print(f"\n{n:,} lines, {made['localities']} localities, {made['costs']:,} locality-pair costs")
            print(f"  CLI solve --format json : {_fmt(cli)}, peak RSS {cli_rss:.2f} GB")
            print(f"  solve() in-process      : {solved['times'][0]:.2f} s ({_phases(solved['timings'])})")
            path.unlink()


def _phases(timings: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in timings.items() if k != "total" and v >= 0.005)


if __name__ == "__main__":
    main()
