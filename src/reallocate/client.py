"""A client of the solver service (``reallocate serve``): the library's own calls over HTTP.

    client = Client("http://127.0.0.1:8000", api_key=None)
    plan = client.solve(scenario)          # a Scenario, a dict, JSON text, or a file path
    job = client.submit("province.xlsx")   # then client.status(job), client.plan(job), client.cancel(job)

A refused scenario raises :class:`~reallocate.ScenarioError` with the same problems a local solve
would list; a solve that failed raises :class:`~reallocate.OptimizationError`; anything else the
service refuses raises :class:`ServiceError` with its HTTP status and problem document. Long solves
are polled with backoff, never held on one connection. Needs httpx (the ``service`` extra).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .errors import OptimizationError, ReallocateError, ScenarioError

__all__ = ["Client", "ServiceError"]

#: files sent as an upload (multipart); JSON files are sent as the body
_UPLOADS = (".xlsx", ".xlsm", ".csv", ".parquet")


class ServiceError(ReallocateError):
    """The service answered with an error (``status``, and its problem document in ``problem``)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(f"{status} {problem.get('title', 'error')}: {problem.get('detail', '')}".rstrip(": "))


class Client:
    """The service at ``url``; ``api_key`` when the service has keys.

    A busy service (429: its queue is full; 503: no solver process is up) is asked again after
    the ``Retry-After`` it sends, for at most ``busy_wait`` seconds; then ``ServiceError``."""

    def __init__(self, url: str, api_key: str | None = None, *, timeout: float = 60.0, busy_wait: float = 30.0) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.url = url.rstrip("/")
        self.busy_wait = busy_wait
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------ calls
    def solve(
        self, scenario: Any, *, wait: float = 600.0, time_limit: float | None = None, solver: str = "highs"
    ) -> Any:
        """Solve ``scenario`` on the service and return its plan (a :class:`~reallocate.PlanData`);
        waits at most ``wait`` seconds in all (``TimeoutError`` after, the job left running)."""
        began = time.monotonic()
        params = self._params(time_limit, solver)
        params["wait"] = str(min(wait, 20.0))
        response = self._send("/v1/solve", scenario, params)
        if response.status_code == 200:
            return self._plan_data(response.json())
        job = response.json()["id"]
        delay = 0.05
        while True:
            state = self.status(job)
            if state["status"] == "done":
                return self.plan(job)
            if state["status"] in ("failed", "cancelled"):
                self.plan(job)  # raises the job's own error
                raise OptimizationError(f"job {job} {state['status']}")
            if time.monotonic() - began > wait:
                raise TimeoutError(f"job {job} is still {state['status']} after {wait} s")
            time.sleep(delay)
            delay = min(delay * 1.6, 2.0)

    def submit(self, scenario: Any, *, time_limit: float | None = None, solver: str = "highs") -> str:
        """Queue a solve; the job's id."""
        response = self._send("/v1/jobs", scenario, self._params(time_limit, solver))
        return str(response.json()["id"])

    def status(self, job: str) -> dict[str, Any]:
        """The job: status (queued, running, done, failed, cancelled) and progress."""
        return dict(self._check(self._http.get(f"/v1/jobs/{job}")).json())

    def plan(self, job: str, *, format: str = "json", lang: str = "en") -> Any:
        """The job's plan: a :class:`~reallocate.PlanData` (``format="json"``), else the bytes of
        the rendering ("html", "excel", "csv" (a zip), "text")."""
        response = self._check(self._http.get(f"/v1/jobs/{job}/plan", params={"format": format, "lang": lang}))
        return self._plan_data(response.json()) if format == "json" else response.content

    def cancel(self, job: str) -> dict[str, Any]:
        return dict(self._check(self._http.delete(f"/v1/jobs/{job}")).json())

    def validate(self, scenario: Any) -> dict[str, Any]:
        return dict(self._send("/v1/validate", scenario, {}).json())

    # ------------------------------------------------------------------------------ helpers
    @staticmethod
    def _params(time_limit: float | None, solver: str) -> dict[str, str]:
        params = {"solver": solver}
        if time_limit is not None:
            params["time_limit"] = str(time_limit)
        return params

    def _send(self, route: str, scenario: Any, params: dict[str, str]) -> Any:
        from .scenario import Scenario

        if isinstance(scenario, Scenario):
            body: bytes | None = scenario.to_json().encode("utf-8")
        elif isinstance(scenario, dict):
            body = json.dumps(scenario, default=str).encode("utf-8")
        elif isinstance(scenario, (str, Path)) and Path(scenario).suffix.lower() in _UPLOADS:
            path = Path(scenario)
            files = {"file": (path.name, path.read_bytes())}
            return self._post(route, params=params, files=files)
        elif isinstance(scenario, Path) or (isinstance(scenario, str) and not scenario.lstrip().startswith("{")):
            body = Path(scenario).read_bytes()
        else:
            body = scenario.encode("utf-8") if isinstance(scenario, str) else bytes(scenario)
        headers = {"Content-Type": "application/json"}
        return self._post(route, params=params, content=body, headers=headers)

    def _post(self, route: str, **request: Any) -> Any:
        """POST, asking again while the service is busy (429, 503), as long as ``busy_wait`` allows."""
        deadline = time.monotonic() + self.busy_wait
        while True:
            response = self._http.post(route, **request)
            if response.status_code not in (429, 503):
                return self._check(response)
            after = response.headers.get("retry-after", "1")
            pause = float(after) if after.replace(".", "", 1).isdigit() else 1.0
            if time.monotonic() + pause > deadline:
                return self._check(response)
            time.sleep(pause)

    @staticmethod
    def _plan_data(data: dict[str, Any]) -> Any:
        from .comparison import PlanData

        return PlanData.from_dict(data)

    @staticmethod
    def _check(response: Any) -> Any:
        if response.status_code < 400:
            return response
        try:
            problem = response.json()
        except ValueError:
            problem = {"title": response.reason_phrase, "detail": response.text[:200]}
        if response.status_code == 422 and "problems" in problem:
            errors = [
                {
                    "loc": tuple(p.get("loc", ())),
                    "msg": p.get("message", ""),
                    "type": p.get("type", ""),
                    "input": p.get("value"),
                }
                for p in problem["problems"]
            ]
            raise ScenarioError(errors, title=str(problem.get("title", "invalid scenario")))
        if str(problem.get("type", "")).endswith("/solve-failed"):
            raise OptimizationError(f"{problem.get('title')}: {problem.get('detail')}")
        raise ServiceError(response.status_code, problem)
