"""The solvers never touch the process's standard output: no banner, and no other thread's output
lost while a solver object is created (the old way pointed file descriptor 1 at /dev/null)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import os, sys, threading
    import reallocate

    written = 0
    started, stop = threading.Event(), threading.Event()

    def chatter():
        # writes until every solve is done, so it writes while the first solver object is made
        global written
        started.set()
        while not stop.is_set():
            os.write(1, f"line {written}\\n".encode())
            written += 1

    t = threading.Thread(target=chatter)
    t.start()
    started.wait()
    scenario = reallocate.datasets.quang_nam_2023()
    for method, solver in (("auto", "highs"), ("lp", "highs"), ("pulp", "highs"), ("pulp", "cbc")):
        plan = reallocate.solve(scenario, method=method, solver=solver)
        assert plan.status == "optimal", plan.message
    infeasible = scenario.with_changes({"kind": "set_rules", "rules": {"target_rate": 1.0}})
    assert reallocate.solve(infeasible).status == "infeasible"  # the conflict search runs HiGHS too
    stop.set()
    t.join()
    print(written, file=sys.stderr)
    """
)


def test_no_banner_and_no_lost_output_from_other_threads() -> None:
    for _ in range(5):
        done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
        written = int(done.stderr.split()[-1])
        assert "HiGHS" not in done.stdout
        lines = done.stdout.splitlines()
        assert len(lines) == written
        assert lines == [f"line {k}" for k in range(written)]
