"""The solver service over real HTTP: ``reallocate serve`` started as a process (uvicorn, solver
processes, SQLite) on a free loopback port, talked to with httpx and with ``reallocate.client``."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

import reallocate
from reallocate.client import Client, ServiceError
from reallocate.datasets import quang_nam_2023
from reallocate.io import write_scenario_excel

QN = quang_nam_2023()
QN_JSON = QN.to_json().encode("utf-8")
#: a solve of several seconds (the fewest-transfers search with min_transfer), to catch jobs running
SLOW_JSON = quang_nam_2023(rules={"min_transfer": 500}).to_json().encode("utf-8")
JSON = {"Content-Type": "application/json"}
#: the log file of every service the tests started
SERVICE_LOGS: list[str] = []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(
    db: Path, *options: str, env: dict[str, str] | None = None, up: int = 200
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``reallocate serve`` on a free port, yielded once ``/health`` answers ``up``."""
    port = _free_port()
    cmd = [sys.executable, "-m", "reallocate", "serve", "--port", str(port), "--db", str(db), *options]
    if "--workers" not in options:
        cmd += ["--workers", "2"]
    log = open(db.with_suffix(f".{port}.log"), "wb")  # noqa: SIM115 - closed below
    SERVICE_LOGS.append(str(db.with_suffix(f".{port}.log")))
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == up:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, db.with_suffix(f".{port}.log").read_text()
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("service") / "jobs.sqlite3"
    options = ("--max-body-bytes", "2000000", "--max-lines", "5000", "--max-time-limit", "60")
    # bodies above 200 kB are validated by a solver process, as national files are
    with _server(db, *options, "--inline-validation-bytes", "200000") as (url, _):
        yield url


def _wait_status(
    url: str, job: str, statuses: tuple[str, ...], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        state = httpx.get(f"{url}/v1/jobs/{job}", headers=headers).json()
        if state["status"] in statuses:
            return state
        assert time.monotonic() < deadline, state
        time.sleep(0.05)


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"].startswith("https://")
    return dict(body)


# ------------------------------------------------------------------------------- routes
def test_health_version_schemas_and_openapi(service: str) -> None:
    assert httpx.get(service + "/health").json()["status"] == "ok"
    assert httpx.get(service + "/version").json() == {"version": reallocate.__version__, "api": "v1"}
    assert httpx.get(service + "/v1/schema/scenario").json() == reallocate.Scenario.model_json_schema(by_alias=True)
    from reallocate.plan_schema import plan_schema

    assert httpx.get(service + "/v1/schema/plan").json() == plan_schema()
    paths = httpx.get(service + "/openapi.json").json()["paths"]
    for route in (
        "/v1/solve",
        "/v1/jobs",
        "/v1/jobs/{job_id}",
        "/v1/jobs/{job_id}/plan",
        "/v1/validate",
        "/v1/compare",
    ):
        assert route in paths, route


def test_solve_returns_the_plan_a_local_solve_gives(service: str) -> None:
    response = httpx.post(service + "/v1/solve?wait=30", content=QN_JSON, headers=JSON, timeout=60)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    remote = response.json()
    local = json.loads(reallocate.solve(QN).to_json())
    assert remote["summary"] == local["summary"] and remote["transfers"] == local["transfers"]
    assert remote["lines"] == local["lines"] and remote["status"] == "optimal"


def test_a_refused_scenario_is_a_problem_document_with_every_field_problem(service: str) -> None:
    bad = json.loads(QN_JSON)
    bad["lines"][3]["capacity"] = -5
    bad["lines"][7]["allocated"] = "abc"
    body = _problem(httpx.post(service + "/v1/solve", json=bad), 422)
    paths = {p["path"]: p for p in body["problems"]}
    assert set(paths) == {"lines[3].capacity", "lines[7].allocated"}
    assert paths["lines[3].capacity"]["value"] == -5 and paths["lines[3].capacity"]["message"]
    # the same problems a local validation lists
    with pytest.raises(reallocate.ScenarioError) as local:
        reallocate.Scenario.from_dict(bad)
    assert {p["path"] for p in local.value.to_dict()["problems"]} == set(paths)
    vi = _problem(httpx.post(service + "/v1/validate?lang=vi", json=bad), 422)
    assert any(p["message"] == "phải lớn hơn hoặc bằng 0" for p in vi["problems"])


def test_a_large_body_is_validated_by_a_solver_process_with_the_same_problems(service: str) -> None:
    big = json.loads(QN_JSON)
    big["lines"] = [{**ln, "component": f"c{k}"} for k in range(30) for ln in big["lines"][:90]]
    big["lines"][17]["capacity"] = -5
    assert 200_000 < len(json.dumps(big)) < 2_000_000
    body = _problem(httpx.post(service + "/v1/solve?wait=30", json=big, timeout=60), 422)
    assert [p["path"] for p in body["problems"]] == ["lines[17].capacity"]
    job = httpx.post(service + "/v1/jobs", json=big).json()["id"]  # accepted, then refused by its worker
    assert _wait_status(service, job, ("failed",))["error"]["reason"] == "invalid scenario"
    _problem(httpx.get(f"{service}/v1/jobs/{job}/plan"), 422)


def test_validate_a_good_scenario(service: str) -> None:
    body = httpx.post(service + "/v1/validate", content=QN_JSON, headers=JSON).json()
    assert body["status"] == "valid" and body["lines"] == 92 and body["localities"] == 18


def test_jobs_run_queued_to_done_and_give_every_rendering(service: str) -> None:
    response = httpx.post(service + "/v1/jobs", content=QN_JSON, headers=JSON)
    assert response.status_code == 202
    job = response.json()["id"]
    assert response.headers["location"] == f"/v1/jobs/{job}"
    state = _wait_status(service, job, ("done",))
    assert state["progress"]["stage"] == "done" and state["progress"]["seconds"] >= 0
    plan = httpx.get(f"{service}/v1/jobs/{job}/plan").json()
    assert plan["summary"]["moved"] == 143334
    html = httpx.get(f"{service}/v1/jobs/{job}/plan?format=html&lang=vi")
    assert html.headers["content-type"].startswith("text/html") and "triệu đồng" in html.text
    by_accept = httpx.get(f"{service}/v1/jobs/{job}/plan", headers={"Accept": "text/html"})
    assert by_accept.text == httpx.get(f"{service}/v1/jobs/{job}/plan?format=html").text
    xlsx = httpx.get(f"{service}/v1/jobs/{job}/plan?format=excel")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert {"summary", "lines", "transfers"} <= set(book.sheetnames)
    csv = zipfile.ZipFile(io.BytesIO(httpx.get(f"{service}/v1/jobs/{job}/plan?format=csv").content))
    assert "lines.csv" in csv.namelist()
    text = httpx.get(f"{service}/v1/jobs/{job}/plan?format=text").text
    assert "expected disbursement 57.9% → 63.7%" in text
    _problem(httpx.get(f"{service}/v1/jobs/{job}/plan?format=pdf"), 422)


def test_a_workbook_upload_solves_like_its_json(service: str, tmp_path: Path) -> None:
    path = write_scenario_excel(QN, tmp_path / "qn.xlsx")
    files = {"file": ("qn.xlsx", path.read_bytes())}
    response = httpx.post(service + "/v1/solve?wait=30", files=files, timeout=60)
    assert response.status_code == 200, response.text[:300]
    assert response.json()["summary"]["moved"] == 143334
    _problem(httpx.post(service + "/v1/solve", files={"file": ("qn.pdf", b"%PDF")}), 415)


def test_cancel_a_running_job_and_the_errors_around_it(service: str) -> None:
    job = httpx.post(service + "/v1/jobs", content=SLOW_JSON, headers=JSON).json()["id"]
    _wait_status(service, job, ("running",))
    _problem(httpx.get(f"{service}/v1/jobs/{job}/plan"), 409)  # not ready yet
    cancelled = httpx.delete(f"{service}/v1/jobs/{job}").json()
    assert cancelled["status"] == "cancelled"
    assert httpx.get(f"{service}/v1/jobs/{job}").json()["status"] == "cancelled"
    _problem(httpx.delete(f"{service}/v1/jobs/{job}"), 409)  # finished: nothing to cancel
    _problem(httpx.get(f"{service}/v1/jobs/{job}/plan"), 409)
    # the slot's new worker solves the next job
    assert httpx.post(service + "/v1/solve?wait=30", content=QN_JSON, headers=JSON, timeout=60).status_code == 200


def test_limits_and_bad_requests(service: str) -> None:
    _problem(httpx.get(service + "/v1/jobs/no-such-job"), 404)
    _problem(httpx.post(service + "/v1/solve", content=b"x" * 2_000_001, headers=JSON), 413)
    big = json.loads(QN_JSON)
    big["lines"] = [{**big["lines"][0], "locality": f"l{k}"} for k in range(5001)]
    big.pop("localities", None)
    assert len(json.dumps(big)) > 200_000  # validated by the solver process
    _problem(httpx.post(service + "/v1/solve?wait=30", json=big, timeout=60), 413)  # more lines than --max-lines
    _problem(httpx.post(service + "/v1/solve", content=b"", headers=JSON), 400)
    _problem(httpx.post(service + "/v1/solve?time_limit=61", content=QN_JSON, headers=JSON), 422)
    _problem(httpx.post(service + "/v1/solve?wait=soon", content=QN_JSON, headers=JSON), 422)
    _problem(httpx.post(service + "/v1/solve?lang=fr", content=b"{", headers=JSON), 422)
    _problem(httpx.post(service + "/v1/compare", json={"plans": "none"}), 422)


def test_compare_plans_and_scenarios(service: str) -> None:
    plan = json.loads(reallocate.solve(QN).to_json())
    body = httpx.post(
        service + "/v1/compare", json={"plans": [plan, json.loads(QN_JSON)], "names": ["a", "b"]}, timeout=60
    ).json()
    local = reallocate.compare(reallocate.solve(QN), reallocate.solve(QN), names=["a", "b"])
    assert body["summary"] == json.loads(local.to_json())["summary"]


def test_health_answers_while_every_worker_is_busy(service: str) -> None:
    jobs = [httpx.post(service + "/v1/jobs", content=SLOW_JSON, headers=JSON).json()["id"] for _ in range(2)]
    for job in jobs:
        _wait_status(service, job, ("running",))
    assert httpx.get(service + "/health", timeout=5).json()["running"] == 2
    for job in jobs:
        httpx.delete(f"{service}/v1/jobs/{job}")


# ------------------------------------------------------------------------------- faults
def _spawned(proc: subprocess.Popen[bytes]) -> list[int]:
    """The processes a service spawned (solver processes and the side process)."""
    out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]


def _workers_of(proc: subprocess.Popen[bytes]) -> list[int]:
    """The solver processes of a service: its spawned children that keep the jobs database open
    (the side process, which renders and reads uploads, opens it only while rendering)."""
    pids = []
    for pid in _spawned(proc):
        with contextlib.suppress(OSError):
            files = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
            if any(f.endswith("jobs.sqlite3") for f in files):
                pids.append(int(pid))
    return pids


def test_a_killed_worker_fails_its_job_and_the_service_goes_on(tmp_path: Path) -> None:
    with _server(tmp_path / "jobs.sqlite3", "--workers", "1") as (url, proc):
        job = httpx.post(url + "/v1/jobs", content=SLOW_JSON, headers=JSON).json()["id"]
        _wait_status(url, job, ("running",))
        workers = _workers_of(proc)
        assert len(workers) == 1
        os.kill(workers[0], signal.SIGKILL)
        state = _wait_status(url, job, ("failed",))
        assert state["error"]["reason"] == "worker process died" and "exit code" in state["error"]["detail"]
        assert httpx.post(url + "/v1/solve?wait=30", content=QN_JSON, headers=JSON, timeout=60).status_code == 200


def test_a_restart_keeps_finished_plans_and_requeues_unfinished_jobs(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite3"
    with _server(db, "--workers", "1") as (url, proc):
        done = httpx.post(url + "/v1/jobs", content=QN_JSON, headers=JSON).json()["id"]
        _wait_status(url, done, ("done",))
        plan = httpx.get(f"{url}/v1/jobs/{done}/plan").content
        slow = httpx.post(url + "/v1/jobs", content=SLOW_JSON, headers=JSON).json()["id"]
        queued = httpx.post(url + "/v1/jobs", content=QN_JSON, headers=JSON).json()["id"]
        _wait_status(url, slow, ("running",))
        for pid in _workers_of(proc):
            os.kill(pid, signal.SIGKILL)
        os.kill(proc.pid, signal.SIGKILL)  # no clean shutdown
        proc.wait()
    with _server(db, "--workers", "1") as (url, _):
        assert httpx.get(f"{url}/v1/jobs/{done}/plan").content == plan
        for job in (slow, queued):
            assert _wait_status(url, job, ("done", "failed"))["status"] == "done"


def test_api_keys_guard_every_request_and_every_job(tmp_path: Path) -> None:
    env = {"REALLOCATE_API_KEYS": "key-one,key-two"}
    with _server(tmp_path / "jobs.sqlite3", env=env) as (url, _):
        _problem(httpx.post(url + "/v1/jobs", content=QN_JSON, headers=JSON), 401)
        _problem(httpx.post(url + "/v1/jobs", content=QN_JSON, headers={**JSON, "Authorization": "Bearer nope"}), 401)
        one = {"Authorization": "Bearer key-one"}
        two = {"Authorization": "Bearer key-two"}
        job = httpx.post(url + "/v1/jobs", content=QN_JSON, headers={**JSON, **one}).json()["id"]
        assert _wait_status(url, job, ("done",), one)["status"] == "done"
        _problem(httpx.get(f"{url}/v1/jobs/{job}", headers=two), 404)  # another key never sees it
        _problem(httpx.delete(f"{url}/v1/jobs/{job}", headers=two), 404)
        log = next(tmp_path.glob("jobs.*.log")).read_text()
        assert "key-one" not in log and "key-two" not in log


def test_without_keys_the_service_refuses_to_listen_beyond_the_loopback(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "reallocate", "serve", "--host", "0.0.0.0", "--db", str(tmp_path / "j.sqlite3")],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "REALLOCATE_API_KEYS"},
    )
    assert out.returncode != 0 and "without API keys" in out.stderr


def test_the_log_is_one_json_line_per_request(service: str) -> None:
    response = httpx.post(service + "/v1/solve?wait=30", content=QN_JSON, headers=JSON, timeout=60)
    request_id = response.headers["x-request-id"]
    port = service.rsplit(":", 1)[1]
    log = next(Path(p) for p in SERVICE_LOGS if p.endswith(f".{port}.log"))
    deadline = time.monotonic() + 10
    while True:
        records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        mine = [r for r in records if r["id"] == request_id]
        if mine or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(mine) == 1
    rec = mine[0]
    assert rec["route"] == "/v1/solve" and rec["status"] == 200 and rec["lines"] == 92
    assert rec["solve_seconds"] > 0 and rec["ms"] > 0
    assert all({"id", "route", "status", "ms", "lines", "solve_seconds"} <= set(r) for r in records)


# ------------------------------------------------------------------------------- client
def test_the_client_solves_and_raises_the_librarys_errors(service: str, tmp_path: Path) -> None:
    with Client(service) as client:
        plan = client.solve(QN)
        assert plan.summary == reallocate.solve(QN).summary
        assert client.solve(write_scenario_excel(QN, tmp_path / "qn.xlsx")).summary == plan.summary
        bad = json.loads(QN_JSON)
        bad["lines"][3]["capacity"] = -5
        with pytest.raises(reallocate.ScenarioError) as remote:
            client.solve(bad)
        with pytest.raises(reallocate.ScenarioError) as local:
            reallocate.Scenario.from_dict(bad)
        assert remote.value.messages == local.value.messages
        job = client.submit(SLOW_JSON.decode())
        assert client.status(job)["status"] in ("queued", "running")
        assert client.cancel(job)["status"] == "cancelled"
        with pytest.raises(ServiceError) as caught:
            client.plan(job)
        assert caught.value.status == 409
        done = client.submit(QN)
        _wait_status(service, done, ("done",))
        assert "triệu đồng" in client.plan(done, format="html", lang="vi").decode("utf-8")


def test_a_full_queue_answers_429_with_retry_after(tmp_path: Path) -> None:
    with _server(tmp_path / "jobs.sqlite3", "--workers", "1", "--max-queued", "1") as (url, _):
        running = httpx.post(url + "/v1/jobs", content=SLOW_JSON, headers=JSON).json()["id"]
        _wait_status(url, running, ("running",))
        queued = httpx.post(url + "/v1/jobs", content=QN_JSON, headers=JSON)
        assert queued.status_code == 202
        refused = httpx.post(url + "/v1/jobs", content=QN_JSON, headers=JSON)
        _problem(refused, 429)
        assert int(refused.headers["retry-after"]) > 0
        # the library's client waits out a full queue (Retry-After), or says so after busy_wait
        with Client(url, busy_wait=0) as impatient, pytest.raises(ServiceError) as busy:
            impatient.submit(QN)
        assert busy.value.status == 429
        threading.Timer(1.0, lambda: httpx.delete(f"{url}/v1/jobs/{running}")).start()
        with Client(url, busy_wait=30) as patient:
            later = patient.submit(QN)
            assert _wait_status(url, later, ("done",))["status"] == "done"
        assert _wait_status(url, queued.json()["id"], ("done",))["status"] == "done"


def test_a_parquet_upload_of_lines_solves_like_the_json(service: str, tmp_path: Path) -> None:
    path = tmp_path / "lines.parquet"
    QN.to_frames()["lines"].to_parquet(path)
    response = httpx.post(
        service + "/v1/solve?wait=30", files={"file": ("lines.parquet", path.read_bytes())}, timeout=60
    )
    assert response.status_code == 200, response.text[:300]
    assert response.json()["summary"]["moved"] == json.loads(reallocate.solve(QN).to_json())["summary"]["moved"]


def test_finished_jobs_are_forgotten_after_the_retention_time(tmp_path: Path) -> None:
    with _server(tmp_path / "jobs.sqlite3", "--workers", "1", "--retention", "1") as (url, _):
        job = httpx.post(url + "/v1/jobs", content=QN_JSON, headers=JSON).json()["id"]
        _wait_status(url, job, ("done",))
        deadline = time.monotonic() + 30
        while httpx.get(f"{url}/v1/jobs/{job}").status_code != 404:
            assert time.monotonic() < deadline, "the finished job was never purged"
            time.sleep(0.2)
        _problem(httpx.get(f"{url}/v1/jobs/{job}/plan"), 404)


# ------------------------------------------------------------------------------- lanes
def _small_json() -> bytes:
    """The first 30 lines of the Quảng Nam scenario: a job below ``--big-lines 50``."""
    data = json.loads(QN_JSON)
    data["lines"] = data["lines"][:30]
    return json.dumps(data).encode("utf-8")


def test_small_jobs_go_before_big_ones_that_came_first(tmp_path: Path) -> None:
    with _server(tmp_path / "jobs.sqlite3", "--workers", "1", "--big-lines", "50") as (url, _):
        slow = httpx.post(url + "/v1/jobs", content=SLOW_JSON, headers=JSON).json()["id"]
        _wait_status(url, slow, ("running",))
        big = httpx.post(url + "/v1/jobs", content=QN_JSON, headers=JSON).json()["id"]
        small = httpx.post(url + "/v1/jobs", content=_small_json(), headers=JSON).json()["id"]
        assert httpx.get(url + "/health").json()["queued"] == {"small": 1, "big": 1}
        httpx.delete(f"{url}/v1/jobs/{slow}")
        first, second = (_wait_status(url, job, ("done",)) for job in (small, big))
        assert first["created"] > second["created"] and first["started"] < second["started"]


def test_with_two_workers_one_keeps_to_small_jobs(tmp_path: Path) -> None:
    with _server(tmp_path / "jobs.sqlite3", "--workers", "2", "--big-lines", "50") as (url, _):
        slow = [httpx.post(url + "/v1/jobs", content=SLOW_JSON, headers=JSON).json()["id"] for _ in range(2)]
        _wait_status(url, slow[0], ("running",))
        small = httpx.post(url + "/v1/solve?wait=30", content=_small_json(), headers=JSON, timeout=60)
        assert small.status_code == 200 and small.json()["status"] == "optimal"
        # the second national job waits for the worker that takes big jobs; the other stayed free
        assert httpx.get(f"{url}/v1/jobs/{slow[1]}").json()["status"] == "queued"
        health = httpx.get(url + "/health").json()
        assert health["running"] == 1 and health["queued"] == {"small": 0, "big": 1}
        for job in slow:
            httpx.delete(f"{url}/v1/jobs/{job}")


def test_a_worker_that_cannot_start_is_retried_with_growing_pauses(tmp_path: Path) -> None:
    # 40 MiB of address space cannot hold numpy: the solver process dies before it is ready
    with _server(tmp_path / "jobs.sqlite3", "--workers", "1", "--worker-memory-mb", "40", up=503) as (url, _):
        health = httpx.get(url + "/health")
        assert health.status_code == 503 and health.headers["retry-after"]
        assert health.json()["status"] == "unavailable" and health.json()["ready"] == 0
        job = httpx.post(url + "/v1/jobs", content=QN_JSON, headers=JSON)
        assert job.status_code == 202
        time.sleep(2.5)
        # no worker took it, so it did not fail for a fault of its own
        assert httpx.get(f"{url}/v1/jobs/{job.json()['id']}").json()["status"] == "queued"
    events = [json.loads(line) for line in Path(SERVICE_LOGS[-1]).read_text().splitlines() if "worker_start" in line]
    pauses = [e["retry_in"] for e in events if e.get("event") == "worker_start_failed"]
    assert len(pauses) >= 2 and pauses == sorted(pauses) and pauses[1] > pauses[0]


def test_a_plan_over_a_megabyte_is_streamed_whole(service: str) -> None:
    lines = []
    for k in range(2400):
        surplus = k % 2 == 0
        lines.append(
            {
                "locality": f"district-{k:04d}",
                "program": "ntm",
                "fund": "investment",
                "allocated": "1000" if surplus else "500",
                "capacity": "400" if surplus else "900",
            }
        )
    scenario = reallocate.Scenario.model_validate({"name": "streamed", "lines": lines})
    with httpx.stream(
        "POST", service + "/v1/solve?wait=30", content=scenario.to_json().encode(), headers=JSON, timeout=60
    ) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers and response.headers["transfer-encoding"] == "chunked"
        pieces = list(response.iter_raw())
    body = b"".join(pieces)
    assert len(body) > 1 << 20 and len(pieces) > 1
    assert json.loads(body) == json.loads(reallocate.solve(scenario).to_json(indent=None))


def test_uploads_and_renderings_run_in_a_side_process_that_is_replaced_when_it_dies(tmp_path: Path) -> None:
    with _server(tmp_path / "jobs.sqlite3", "--workers", "1") as (url, proc):
        side = [p for p in _spawned(proc) if p not in _workers_of(proc)]
        assert len(side) == 1, _spawned(proc)
        os.kill(side[0], signal.SIGKILL)
        time.sleep(0.5)
        template = httpx.get(url + "/v1/template?lang=vi", timeout=60)
        assert template.status_code == 200, template.text[:300]
        assert openpyxl.load_workbook(io.BytesIO(template.content)).sheetnames
        job = httpx.post(url + "/v1/jobs", content=QN_JSON, headers=JSON).json()["id"]
        _wait_status(url, job, ("done",))
        page = httpx.get(f"{url}/v1/jobs/{job}/plan?format=html&lang=vi", timeout=60)
        assert page.status_code == 200 and "<html" in page.text
        after = _spawned(proc)
        assert side[0] not in after and len(after) == 2
