"""The service's CPU-bound work other than solves, in a process of its own.

Reading an uploaded workbook, validating a large scenario, rendering a plan as Excel or HTML and
comparing plans each take from milliseconds (a province) to many seconds (a nation). In the
service's own process they would hold its interpreter, and ``/health`` and every other request
would wait; solver processes may be busy for minutes. So they run here: one spawned process (two
on machines with many cores), started with the service. Each function returns
``("ok", value)`` or ``("problem", fields)``: a problem crosses the process boundary as plain data
and becomes the same ``ProblemError`` the route would have raised.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing as mp
import pickle
import tempfile
import zipfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from ..errors import ScenarioError
from .problems import ProblemError

__all__ = [
    "UPLOAD_SUFFIXES",
    "SideWork",
    "check_scenario",
    "compare_plans",
    "describe",
    "refused",
    "render_plan",
    "scenario_of_upload",
    "template",
    "warm",
]

UPLOAD_SUFFIXES = (".json", ".xlsx", ".xlsm", ".csv", ".parquet")

Outcome = tuple[str, Any]


class SideWork:
    """The process (pool) that does the service's side work; restarted if it dies."""

    def __init__(self, processes: int = 1) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=mp.get_context("spawn"))
        return self._pool

    async def run(self, fn: Callable[..., Outcome], *args: Any) -> Any:
        """``fn(*args)`` in the side process; its value, or its problem raised as ``ProblemError``.
        A side process found dead (killed, out of memory) is replaced and the work tried once more."""
        for attempt in (1, 2):
            try:
                outcome = await asyncio.wrap_future(self._executor().submit(fn, *args))
                break
            except BrokenProcessPool:
                self.shutdown()
                if attempt == 2:
                    raise ProblemError(
                        500, "the service's side process died", "try again", kind="side-work-failed"
                    ) from None
        kind, value = outcome
        if kind == "problem":
            raise ProblemError(
                value["status"],
                value["title"],
                value["detail"],
                kind=value["kind"],
                extra=value["extra"],
                headers=value["headers"],
            )
        return value

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _outcome(fn: Callable[[], Any]) -> Outcome:
    try:
        return "ok", fn()
    except ProblemError as exc:
        fields = {
            "status": exc.status,
            "title": exc.title,
            "detail": exc.detail,
            "kind": exc.kind,
            "extra": exc.extra,
            "headers": exc.headers,
        }
        return "problem", fields


def refused(exc: ScenarioError, lang: str, where: str = "") -> ProblemError:
    """A refused scenario as a 422 problem with every field problem, in ``lang``."""
    problems = exc.to_dict(lang)["problems"]
    if where:
        for p in problems:
            p["path"] = where + ("." + p["path"] if p["path"] and p["path"] != "(scenario)" else "")
    detail = f"{where}: {len(problems)} problems" if where else f"{len(exc.errors)} problems"
    return ProblemError(422, exc.title, detail, kind="invalid-scenario", extra={"problems": problems})


# ---------------------------------------------------------------------------------- the work
def warm() -> Outcome:
    """Import what the side work needs, so the first upload does not wait for it."""
    from .. import html, io, report, scenario  # noqa: F401

    return "ok", None


def describe(scenario: Any, lang: str) -> dict[str, Any]:
    """What ``POST /v1/validate`` answers for a valid scenario."""
    from ..report import describe_scenario

    return {
        "status": "valid",
        "lines": len(scenario.lines),
        "localities": len(scenario.table.locality_ids),
        "pools": len(scenario.table.pool_keys),
        "message": describe_scenario(scenario, lang),
    }


def check_scenario(text: bytes, lang: str) -> Outcome:
    """Validate a scenario's JSON: what ``POST /v1/validate`` answers."""
    from ..scenario import Scenario

    def work() -> dict[str, Any]:
        try:
            return describe(Scenario.from_json(text), lang)
        except ScenarioError as exc:
            raise refused(exc, lang) from None

    return _outcome(work)


def scenario_of_upload(raw: bytes, content_type: str, lang: str) -> Outcome:
    """The scenario of a multipart upload (field ``file``: a workbook, CSV, Parquet or JSON),
    validated: its JSON and its number of lines."""

    def work() -> tuple[bytes, int]:
        try:
            scenario = _read_upload(raw, content_type)
        except ScenarioError as exc:
            raise refused(exc, lang) from None
        return scenario.to_json().encode("utf-8"), len(scenario.lines)

    return _outcome(work)


def _read_upload(raw: bytes, content_type: str) -> Any:
    from email.parser import BytesParser
    from email.policy import default

    from ..io import read_scenario

    message = BytesParser(policy=default).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    files = [p for p in message.iter_parts() if p.get_filename()]
    if not files:
        raise ProblemError(400, "no file", "upload the scenario as the multipart field 'file'", kind="bad-request")
    part = files[0]
    name = Path(str(part.get_filename())).name
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise ProblemError(
            415, "unsupported file", f"upload .json, .xlsx, .csv or .parquet; got {name!r}", kind="unsupported"
        )
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    with tempfile.TemporaryDirectory(prefix="reallocate-upload-") as tmp:
        target = Path(tmp) / ("lines.csv" if suffix == ".csv" else f"scenario{suffix}")
        target.write_bytes(data)
        return read_scenario(target)


def render_plan(db: str, job_id: str, fmt: str, lang: str) -> Outcome:
    """A rendering (html, text, excel, csv as a zip) of a plan kept by the service: the pickle is
    read from the job store here (one the service's own solver process wrote)."""
    from .store import JobStore

    def work() -> bytes:
        store = JobStore(db)
        try:
            blob = store.plan_pickle(job_id)
        finally:
            store.close()
        if blob is None:
            raise ProblemError(404, "no such plan", f"job {job_id} has no plan", kind="not-found")
        return _render(pickle.loads(blob), fmt, lang)

    return _outcome(work)


def _render(plan: Any, fmt: str, lang: str) -> bytes:
    if fmt == "html":
        from ..html import plan_html

        return plan_html(plan, lang).encode("utf-8")
    if fmt == "text":
        from ..report import text_report

        return text_report(plan, lang).encode("utf-8")
    with tempfile.TemporaryDirectory(prefix="reallocate-render-") as tmp:
        if fmt == "excel":
            from ..io import write_excel

            return Path(write_excel(plan, Path(tmp) / "plan.xlsx", lang)).read_bytes()
        from ..io import write_csv

        folder = Path(write_csv(plan, Path(tmp) / "plan", lang))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(folder.iterdir()):
                zf.write(f, f.name)
        return out.getvalue()


def template(lang: str) -> Outcome:
    """The empty, documented Excel template in ``lang``."""
    from ..io import write_template

    def work() -> bytes:
        with tempfile.TemporaryDirectory(prefix="reallocate-template-") as tmp:
            return Path(write_template(Path(tmp) / "template.xlsx", lang)).read_bytes()

    return _outcome(work)


def compare_plans(data: dict[str, Any], lang: str) -> Outcome:
    """``POST /v1/compare``: plans (or scenarios, solved here) compared; the comparison's JSON."""
    from ..comparison import PlanData, compare, looks_like_plan
    from ..scenario import Scenario
    from ..solving import solve

    def work() -> bytes:
        plans: list[Any] = []
        for k, item in enumerate(data["plans"]):
            try:
                plans.append(PlanData.from_dict(item) if looks_like_plan(item) else solve(Scenario.from_dict(item)))
            except ScenarioError as exc:
                raise refused(exc, lang, f"plans[{k}]") from None
        try:
            comparison = compare(*plans, names=data.get("names"))
        except ValueError as exc:
            raise ProblemError(422, "cannot compare", str(exc), kind="bad-request") from None
        return comparison.to_json().encode("utf-8")

    return _outcome(work)
