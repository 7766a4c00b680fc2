"""Sweeps on a real Dask cluster (two worker processes on the loopback): the rows equal sequential
``solve`` calls, and a worker killed in the middle of a chunk is replaced by Dask, the chunk run
again and the result still complete and identical."""

from __future__ import annotations

import concurrent.futures as cf
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import Client, LocalCluster

import reallocate
from reallocate import Scenario
from reallocate.datasets import quang_nam_2023
from sweep_reference import COUNCIL, MOUNTAIN, TARGET, assert_rows_match, grid_changes, reference_rows

AXES = {"mountain": {"values": [0.6, 0.8, 1], "changes": MOUNTAIN["changes"]}, "council": COUNCIL, "target": TARGET}


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with (
        LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def expected() -> list[dict[str, Any]]:
    return reference_rows(quang_nam_2023(), [c for _, c in grid_changes(AXES)])


def test_a_sweep_on_a_dask_cluster_equals_sequential_solves(client: Client, expected: list[dict[str, Any]]) -> None:
    baseline = quang_nam_2023()
    result = reallocate.sweep(baseline, reallocate.grid(**AXES), executor=client.get_executor(), progress=False)
    assert_rows_match(result.frame, expected)
    assert result.workers == 2 and result.chunk_size == 2  # 12 variants, about 4 chunks per worker
    workers = set(client.run(os.getpid).values())
    assert result.worker_pids <= workers  # solved on the cluster, not here
    assert os.getpid() not in result.worker_pids


def _kill_once_then(marker: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn`` -- except the first time anywhere, when the worker process kills itself."""
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return fn(*args)
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


class _KillOnce(cf.Executor):
    """Dask's executor, each task wrapped so that the first one to start kills its worker."""

    def __init__(self, client: Client, marker: Path) -> None:
        self.inner = client.get_executor()
        self._client = client  # a Dask executor: the sweep scatters the baseline through it
        self.marker = str(marker)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        return self.inner.submit(_kill_once_then, self.marker, fn, *args)


def test_a_worker_killed_mid_sweep_is_replaced_and_the_result_is_complete(
    client: Client, expected: list[dict[str, Any]], tmp_path: Path
) -> None:
    import cloudpickle

    cloudpickle.register_pickle_by_value(__import__(__name__))  # the workers do not import tests
    baseline: Scenario = quang_nam_2023()
    marker = tmp_path / "killed"
    before = set(client.run(os.getpid).values())
    result = reallocate.sweep(
        baseline, reallocate.grid(**AXES), executor=_KillOnce(client, marker), chunk_size=3, progress=False
    )
    killed = int(marker.read_text())
    assert killed in before  # a worker of the cluster did die in the middle of a chunk
    client.wait_for_workers(2, timeout=60)
    after = set(client.run(os.getpid).values())
    assert killed not in after and killed not in result.worker_pids
    assert_rows_match(result.frame, expected)


def test_the_command_line_runs_on_the_scheduler(
    client: Client, expected: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    import pandas as pd

    from reallocate.cli import main

    baseline = tmp_path / "qn.json"
    baseline.write_text(quang_nam_2023().to_json(), encoding="utf-8")
    variants = tmp_path / "grid.json"
    variants.write_text(json.dumps({"grid": AXES}), encoding="utf-8")
    out = tmp_path / "results.parquet"
    address = client.scheduler.address

    def transitions(dask_scheduler: Any) -> int:
        return int(dask_scheduler.transition_counter)

    before = client.run_on_scheduler(transitions)
    code = main(["sweep", str(baseline), str(variants), "--scheduler", address, "--out", str(out), "--no-progress"])
    assert code == 0, capsys.readouterr().err
    assert_rows_match(pd.read_parquet(out), expected)
    assert set(pd.read_parquet(out)["chunk"]) == set(range(6))
    # the six chunks went through the cluster's scheduler (and the cluster is still up: the
    # command closed only its own client)
    assert client.run_on_scheduler(transitions) - before >= 6 * 3
