"""Load on the solver service, loopback only, bounded in count and time.

Starts ``reallocate serve`` on a free 127.0.0.1 port (its own SQLite file in a temporary folder),
then at once: ``--solves`` province solves (the bundled Quảng Nam scenario, ``POST /v1/solve``)
from ``--clients`` concurrent clients, and ``--big`` jobs of ``--big-lines`` lines each
(``POST /v1/jobs``, then polled). Reports latency (p50, p99), throughput, errors, lost or
duplicated jobs (every job id must come back exactly once, done), the service's peak memory
(server and solver processes, from /proc), and the ratio of a service province solve to an
in-process ``solve`` (target: p50 <= 3 x in-process + 5 ms).

    .venv/bin/python benchmarks/load_service.py              # 500 solves, 32 clients, 3 x 100k
    .venv/bin/python benchmarks/load_service.py --solves 50 --big 0
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

import reallocate
from reallocate.datasets import quang_nam_2023
from synthetic import synthetic_scenario


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (from /proc)."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        todo += [int(c) for c in children]
    return total


class _Peak(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, False

    def run(self) -> None:
        while not self.stop:
            self.peak = max(self.peak, _tree_rss(self.pid))
            time.sleep(0.05)


#: times GET /health every 100 ms until a line arrives on standard input; prints the times (JSON)
_PING = """
import json, sys, threading, time, httpx
url, times, stop = sys.argv[1], [], threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
with httpx.Client(base_url=url, timeout=10) as http:
    while not stop.is_set():
        t0 = time.perf_counter()
        http.get("/health")
        times.append(time.perf_counter() - t0)
        time.sleep(0.1)
print(json.dumps(times))
"""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


async def _province_solves(url: str, body: bytes, n: int, clients: int, out: list[float], errors: list[str]) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for k in range(n):
        queue.put_nowait(k)

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            while True:
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                began = time.perf_counter()
                r = await http.post("/v1/solve?wait=60", content=body, headers={"Content-Type": "application/json"})
                out.append(time.perf_counter() - began)
                if r.status_code != 200 or r.json().get("status") != "optimal":
                    errors.append(f"{r.status_code} {r.text[:120]}")

    await asyncio.gather(*(client() for _ in range(clients)))


async def _big_jobs(url: str, bodies: list[bytes], seen: dict[str, int], errors: list[str], times: list[float]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=600) as http:
        began = time.perf_counter()
        ids = []
        for body in bodies:
            r = await http.post("/v1/jobs", content=body, headers={"Content-Type": "application/json"})
            if r.status_code != 202:
                errors.append(f"big: {r.status_code} {r.text[:120]}")
                continue
            ids.append(r.json()["id"])
        pending = set(ids)
        while pending:
            for job in list(pending):
                state = (await http.get(f"/v1/jobs/{job}")).json()
                if state["status"] in ("done", "failed", "cancelled"):
                    pending.discard(job)
                    times.append(time.perf_counter() - began)
                    if state["status"] != "done":
                        errors.append(f"big job {job}: {state['status']} {state.get('error')}")
                    plan = await http.get(f"/v1/jobs/{job}/plan")
                    seen[job] = seen.get(job, 0) + (1 if plan.status_code == 200 else 0)
            await asyncio.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--solves", type=int, default=500)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--big", type=int, default=3)
    parser.add_argument("--big-lines", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    qn = quang_nam_2023()
    body = qn.to_json().encode("utf-8")
    reallocate.solve(qn)
    in_process = []
    for _ in range(50):
        t0 = time.perf_counter()
        reallocate.solve(reallocate.Scenario.from_json(body))
        in_process.append(time.perf_counter() - t0)
    inproc = statistics.median(in_process)
    bigs = [json.dumps(synthetic_scenario(args.big_lines, seed=k), default=str).encode() for k in range(args.big)]

    with tempfile.TemporaryDirectory(prefix="reallocate-load-") as tmp:
        port = _free_port()
        cmd = [
            sys.executable,
            "-m",
            "reallocate",
            "serve",
            "--port",
            str(port),
            "--db",
            f"{tmp}/jobs.sqlite3",
            "--max-queued",
            "10000",
        ]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        log = open(f"{tmp}/serve.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the service did not start")
                time.sleep(0.1)
            # warm every solver process
            for _ in range(4):
                httpx.post(url + "/v1/solve?wait=60", content=body, headers={"Content-Type": "application/json"})
            # a quiet p50 first (one client), then the load
            quiet: list[float] = []
            errors: list[str] = []
            asyncio.run(_province_solves(url, body, 50, 1, quiet, errors))
            peak = _Peak(proc.pid)
            peak.start()
            latencies: list[float] = []
            seen: dict[str, int] = {}
            big_times: list[float] = []

            async def everything() -> None:
                await asyncio.gather(
                    _province_solves(url, body, args.solves, args.clients, latencies, errors),
                    _big_jobs(url, bigs, seen, errors, big_times),
                )

            # /health is timed from a process of its own: in this one, the 32 clients' loop would
            # hold the interpreter and the figure would be the load generator's, not the service's
            pinger = subprocess.Popen(
                [sys.executable, "-c", _PING, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            began = time.perf_counter()
            asyncio.run(everything())
            out, _ = pinger.communicate("stop\n", timeout=60)
            health: list[float] = json.loads(out)
            wall = time.perf_counter() - began
            peak.stop = True
            peak.join()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()

    lost = args.big - sum(1 for v in seen.values() if v >= 1)
    duplicated = sum(1 for v in seen.values() if v > 1)
    quiet_p50 = statistics.median(quiet)
    print(f"in-process solve (Quảng Nam, 92 lines): median {inproc * 1000:.2f} ms over 50")
    print(
        f"service, one client: p50 {quiet_p50 * 1000:.1f} ms  -> ratio {quiet_p50 / inproc:.1f}x in-process; "
        f"target <= 3 x in-process + 5 ms = {(3 * inproc + 0.005) * 1000:.1f} ms: "
        f"{'met' if quiet_p50 <= 3 * inproc + 0.005 else 'missed'}"
    )
    print(
        f"under load: {len(latencies)} province solves from {args.clients} clients + {args.big} jobs of "
        f"{args.big_lines:,} lines, in {wall:.1f} s"
    )
    p50, p99 = _percentile(latencies, 0.5) * 1000, _percentile(latencies, 0.99) * 1000
    print(f"  province latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, throughput {len(latencies) / wall:.1f} solves/s")
    if big_times:
        print(f"  big jobs finished after {', '.join(f'{t:.1f}' for t in sorted(big_times))} s")
    if health:
        print(
            f"  /health during the load: p50 {_percentile(health, 0.5) * 1000:.1f} ms, p99 "
            f"{_percentile(health, 0.99) * 1000:.1f} ms, max {max(health) * 1000:.1f} ms over {len(health)} calls"
        )
    print(f"  errors {len(errors)}, lost jobs {lost}, duplicated jobs {duplicated}")
    print(f"  peak memory (server + solver processes) {peak.peak / 2**20:.0f} MiB")
    for e in errors[:5]:
        print("  error:", e)


if __name__ == "__main__":
    main()
