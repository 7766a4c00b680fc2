"""The HTTP API (FastAPI): scenarios in, plans out, jobs kept in SQLite, errors as problem+json.

Routes live under ``/v1``; ``/health`` and ``/version`` beside them; the planner's page at ``/``.
Every solve goes through the job queue and the solver processes: ``POST /v1/solve?wait=S`` only
waits (at most S seconds) for the job it creates, then answers 200 with the plan or 202 with the
job's address, so no client holds a connection for minutes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..errors import ScenarioError
from . import side_work
from .problems import ProblemError, problem_response
from .settings import ServiceSettings
from .side_work import SideWork
from .store import JobStore
from .workers import WorkerPool

__all__ = ["create_app"]

log = logging.getLogger("reallocate.service")

_FORMATS = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "excel": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "application/zip",
    "text": "text/plain; charset=utf-8",
}
_ACCEPT = {
    "text/html": "html",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "excel",
    "application/zip": "csv",
    "text/csv": "csv",
    "text/plain": "text",
}


class _Service:
    """What the routes share: settings, the store, the workers, and who waits for which job."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.store = JobStore(settings.db)
        self.owners = settings.owners()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.waiters: dict[str, list[asyncio.Future[None]]] = {}
        self.side = SideWork()
        self.pool = WorkerPool(
            self.store,
            settings.workers,
            on_finish=self._finished,
            big_lines=settings.big_lines,
            nice=settings.worker_nice,
            memory_mb=settings.worker_memory_mb,
        )

    def _finished(self, job_id: str) -> None:
        """Called from a dispatcher thread: wake whoever waits for this job, on the loop."""
        loop = self.loop
        if loop is None:
            return

        def wake() -> None:
            for fut in self.waiters.pop(job_id, []):
                if not fut.done():
                    fut.set_result(None)

        loop.call_soon_threadsafe(wake)

    async def get(self, job_id: str) -> Any:
        """The job, read off the event loop (SQLite may be busy storing a large plan)."""
        return await run_in_threadpool(self.store.get, job_id)

    async def wait(self, job_id: str, seconds: float) -> None:
        job = await self.get(job_id)
        if job is None or job.status in ("done", "failed", "cancelled") or seconds <= 0:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(job_id, []).append(fut)
        # a job may have finished between the read above and the registration
        job = await self.get(job_id)
        if job is not None and job.status in ("done", "failed", "cancelled"):
            return
        with suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(fut), timeout=seconds)

    def owner(self, request: Request) -> str:
        """The caller's owner id; with keys configured, a valid ``Authorization: Bearer`` key."""
        if not self.owners:
            return "anyone"
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise ProblemError(401, "API key required", "send Authorization: Bearer <key>", kind="unauthorized")
        owner = self.owners.get(key.strip())
        if owner is None:
            raise ProblemError(
                401, "unknown API key", "the key sent is not one of this service's keys", kind="unauthorized"
            )
        return owner


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The service as an ASGI app (``uvicorn`` serves it; ``reallocate serve`` starts both)."""
    settings = settings or ServiceSettings()
    service = _Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.loop = asyncio.get_running_loop()
        service.pool.start()
        purge = asyncio.create_task(_purge_forever(service))
        # the side process starts now (and imports the library), not on the first upload
        warm = asyncio.create_task(service.side.run(side_work.warm))
        try:
            yield
        finally:
            purge.cancel()
            warm.cancel()
            service.side.shutdown()
            await run_in_threadpool(service.pool.stop)
            service.store.close()

    app = FastAPI(
        title="reallocate",
        version=__version__,
        description="Reallocate public capital so that as little as possible lapses: a solver service.",
        lifespan=lifespan,
    )
    app.state.service = service

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> Response:
        return problem_response(exc, request)

    @app.middleware("http")
    async def _log_and_limit(request: Request, call_next: Any) -> Response:
        began = time.perf_counter()
        request.state.id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        request.state.lines = None
        request.state.solve_seconds = None
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > settings.max_body_bytes:
            response: Response = problem_response(
                ProblemError(
                    413, "request body too large", f"at most {settings.max_body_bytes} bytes", kind="too-large"
                ),
                request,
            )
        else:
            try:
                response = await call_next(request)
            except ProblemError as exc:
                response = problem_response(exc, request)
        response.headers["X-Request-Id"] = request.state.id
        route = request.scope.get("route")
        log.info(
            json.dumps(
                {
                    "id": request.state.id,
                    "method": request.method,
                    "route": getattr(route, "path", request.url.path),
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - began) * 1000, 2),
                    "lines": request.state.lines,
                    "solve_seconds": request.state.solve_seconds,
                }
            )
        )
        return response

    # ------------------------------------------------------------------------------ plain
    @app.get("/health")
    async def health() -> Response:
        pool = service.pool
        ready = pool.ready()
        body = {
            "status": "ok" if ready else "unavailable",
            "workers": len(pool.slots),
            "ready": ready,
            "running": pool.running(),
            "queued": pool.queue.waiting(),
        }
        if not ready:
            # jobs are still accepted and wait in the queue; a balancer should send work elsewhere
            body["detail"] = "no solver process is running; restarting"
            return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
        return JSONResponse(body)

    @app.get("/version")
    async def version() -> dict[str, Any]:
        return {"version": __version__, "api": "v1"}

    @app.get("/v1/schema/scenario")
    async def scenario_schema() -> dict[str, Any]:
        from ..scenario import Scenario

        return Scenario.model_json_schema(by_alias=True)

    @app.get("/v1/schema/plan")
    async def plan_schema() -> dict[str, Any]:
        from ..plan_schema import plan_schema as schema

        return schema()

    # ------------------------------------------------------------------------------ scenarios
    @app.post("/v1/validate")
    async def validate(request: Request) -> dict[str, Any]:
        service.owner(request)
        lang = _lang(request)
        scenario, text, _ = await _read_scenario(request, service, defer=True)
        if scenario is None:  # an upload, or a large body: checked by the side process
            info: dict[str, Any] = await service.side.run(side_work.check_scenario, text, lang)
            _check_size(int(info["lines"]), settings)
        else:
            info = await run_in_threadpool(side_work.describe, scenario, lang)
        request.state.lines = info["lines"]
        return info

    @app.post("/v1/solve")
    async def solve(request: Request) -> Response:
        owner = service.owner(request)
        wait = min(max(_number(request, "wait", 10.0), 0.0), settings.max_wait)
        fmt = _wanted_format(request)
        # the waiter is registered before the job can start: no read is needed to know it ended
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        job_id = await _submit(request, service, owner, fut if wait > 0 else None)
        with suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(fut), timeout=wait)
        job, body = await run_in_threadpool(_job_and_plan, service.store, job_id, fmt == "json")
        assert job is not None
        if job.status == "done":
            request.state.solve_seconds = job.solve_seconds
            if body is not None:
                return Response(body, media_type=_FORMATS["json"])
            return await _plan_response(request, service, job_id)
        if job.status == "failed":
            raise _failure(job.error or {})
        return _accepted(job.public(), job_id)

    @app.post("/v1/jobs", status_code=202)
    async def submit(request: Request) -> Response:
        owner = service.owner(request)
        job_id = await _submit(request, service, owner)
        job = await service.get(job_id)
        assert job is not None
        return _accepted(job.public(), job_id)

    @app.get("/v1/jobs/{job_id}")
    async def status(job_id: str, request: Request) -> dict[str, Any]:
        job = await _own_job(service, request, job_id)
        return job.public()

    @app.get("/v1/jobs/{job_id}/plan")
    async def plan(job_id: str, request: Request) -> Response:
        job = await _own_job(service, request, job_id)
        if job.status == "failed":
            raise _failure(job.error or {})
        if job.status != "done":
            raise ProblemError(
                409, "no plan yet", f"the job is {job.status}", kind="not-ready", extra={"job": job.public()}
            )
        request.state.solve_seconds = job.solve_seconds
        return await _plan_response(request, service, job_id)

    @app.delete("/v1/jobs/{job_id}")
    async def cancel(job_id: str, request: Request) -> dict[str, Any]:
        job = await _own_job(service, request, job_id)
        before = await run_in_threadpool(service.pool.cancel, job_id)
        if before is None:
            raise ProblemError(409, "the job has finished", f"the job is {job.status}", kind="finished")
        after = await service.get(job_id)
        assert after is not None
        return after.public()

    @app.post("/v1/compare")
    async def compare(request: Request) -> Response:
        service.owner(request)
        body = await _body(request, settings)
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise ProblemError(400, "not JSON", str(exc), kind="bad-request") from None
        if not isinstance(data, dict) or not isinstance(data.get("plans"), list):
            raise ProblemError(422, "give plans to compare", 'send {"plans": [plan, plan, ...], "names": [...]}')
        result = await service.side.run(side_work.compare_plans, data, _lang(request))
        return Response(result, media_type="application/json")

    @app.get("/v1/demo")
    async def demo() -> Response:
        """The bundled Quảng Nam 2023 scenario, as JSON."""
        from ..datasets import quang_nam_2023

        text = await run_in_threadpool(lambda: quang_nam_2023().to_json())
        return Response(text, media_type="application/json")

    @app.get("/v1/template")
    async def template(request: Request) -> Response:
        """An empty, documented Excel template in ``lang``."""
        lang = _lang(request)
        data = await service.side.run(side_work.template, lang)
        return Response(
            data,
            media_type=_FORMATS["excel"],
            headers={"Content-Disposition": f'attachment; filename="reallocate-template-{lang}.xlsx"'},
        )

    @app.get("/", response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        from .page import PAGE

        return HTMLResponse(PAGE)

    return app


# ---------------------------------------------------------------------------------- helpers
async def _purge_forever(service: _Service) -> None:
    while True:
        await run_in_threadpool(service.store.purge, time.time() - service.settings.retention)
        await asyncio.sleep(min(3600.0, max(1.0, service.settings.retention / 10)))


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang", "en")
    if lang not in ("en", "vi"):
        raise ProblemError(422, "unknown language", f"lang must be en or vi; got {lang!r}", kind="bad-parameter")
    return lang


def _number(request: Request, name: str, default: float) -> float:
    text = request.query_params.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ProblemError(422, f"{name} must be a number", f"got {text!r}", kind="bad-parameter") from None
    if value != value or value < 0:
        raise ProblemError(422, f"{name} must be a number >= 0", f"got {text!r}", kind="bad-parameter")
    return value


def _accepted(body: dict[str, Any], job_id: str) -> JSONResponse:
    return JSONResponse(body, status_code=202, headers={"Location": f"/v1/jobs/{job_id}"})


async def _own_job(service: _Service, request: Request, job_id: str) -> Any:
    owner = service.owner(request)
    job = await service.get(job_id)
    if job is None or (service.owners and job.owner != owner):
        raise ProblemError(404, "no such job", f"no job {job_id!r} for this key", kind="not-found")
    return job


def _failure(error: dict[str, Any]) -> ProblemError:
    if error.get("reason") == "too many lines":
        return ProblemError(413, "too many lines", str(error.get("detail", "")), kind="too-large")
    if error.get("reason") == "invalid scenario":
        return ProblemError(
            422,
            "invalid scenario",
            f"{len(error.get('problems', []))} problems",
            kind="invalid-scenario",
            extra={"problems": error.get("problems", [])},
        )
    return ProblemError(500, error.get("reason", "the solve failed"), str(error.get("detail", "")), kind="solve-failed")


async def _body(request: Request, settings: ServiceSettings) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > settings.max_body_bytes:
            raise ProblemError(
                413, "request body too large", f"at most {settings.max_body_bytes} bytes", kind="too-large"
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_scenario(request: Request, service: _Service, *, defer: bool = False) -> tuple[Any, bytes, int]:
    """The scenario of a request (JSON body, or an uploaded file), its JSON and its lines.

    A JSON body up to ``inline_validation_bytes`` is validated here (a 422 at once) and comes back
    as a ``Scenario``. An upload is read and validated by the side process (a workbook can take
    seconds) and comes back as its JSON only (scenario None). With ``defer``, a larger JSON body is
    left for a solver process to validate (scenario None): validating a national file here would
    hold the service's interpreter for seconds. Its lines are then counted by their one required
    amount — a scan in C, no parse — to pick the job's lane and show its size."""
    from ..scenario import Scenario

    settings = service.settings
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        raw = await _body(request, settings)
        content_type = request.headers.get("content-type", "")
        text, lines = await service.side.run(side_work.scenario_of_upload, raw, content_type, _lang(request))
        _check_size(lines, settings)
        return None, text, lines
    text = await _body(request, settings)
    if not text.strip():
        raise ProblemError(
            400, "no scenario", "send a scenario as JSON, or upload a file (multipart)", kind="bad-request"
        )
    if defer and len(text) > settings.inline_validation_bytes:
        return None, text, text.count(b'"allocated"')
    try:
        scenario = await run_in_threadpool(Scenario.from_json, text)
    except ScenarioError as exc:
        raise side_work.refused(exc, _lang(request)) from None
    _check_size(len(scenario.lines), settings)
    return scenario, text, len(scenario.lines)


def _check_size(lines: int, settings: ServiceSettings) -> None:
    if lines > settings.max_lines:
        raise ProblemError(413, "too many lines", f"at most {settings.max_lines} lines; got {lines}", kind="too-large")


def _job_and_plan(store: JobStore, job_id: str, with_plan: bool) -> tuple[Any, bytes | None]:
    """The job, and its plan JSON when it is done, wanted and at most one piece (larger plans are
    streamed): one trip off the event loop."""
    job = store.get(job_id)
    if not with_plan or job is None or job.status != "done":
        return job, None
    where = store.plan_json_size(job_id)
    body = store.plan_json_piece(where[0], 0, where[1]) if where is not None and where[1] <= _CHUNK else None
    return job, body


def _create_job(store: JobStore, max_queued: int, owner: str, text: bytes, lines: int, options: dict[str, Any]) -> Any:
    if store.count("queued") >= max_queued:
        raise ProblemError(
            429,
            "too many queued jobs",
            f"{max_queued} jobs are waiting; try again shortly",
            kind="busy",
            headers={"Retry-After": "5"},
        )
    return store.create(owner, text, lines, options)


async def _submit(request: Request, service: _Service, owner: str, waiter: asyncio.Future[None] | None = None) -> str:
    settings = service.settings
    scenario, text, lines = await _read_scenario(request, service, defer=True)
    request.state.lines = lines or None
    limit = _number(request, "time_limit", settings.max_time_limit)
    if limit <= 0 or limit > settings.max_time_limit:
        raise ProblemError(
            422,
            "time_limit out of range",
            f"between 0 and {settings.max_time_limit} seconds; got {limit}",
            kind="bad-parameter",
        )
    solver = request.query_params.get("solver", "highs")
    if solver not in ("highs", "cbc"):
        raise ProblemError(422, "unknown solver", f"solver must be highs or cbc; got {solver!r}", kind="bad-parameter")
    options = {"time_limit": limit, "solver": solver, "max_lines": settings.max_lines}
    job = await run_in_threadpool(_create_job, service.store, settings.max_queued, owner, text, lines, options)
    if waiter is not None:
        service.waiters.setdefault(job.id, []).append(waiter)
    service.pool.submit(job.id, scenario, lines)
    return str(job.id)


def _wanted_format(request: Request) -> str:
    fmt = request.query_params.get("format")
    if fmt is None:
        accept = request.headers.get("accept", "")
        for media in (m.split(";")[0].strip().lower() for m in accept.split(",")):
            if media in _ACCEPT:
                return _ACCEPT[media]
        return "json"
    fmt = {"xlsx": "excel"}.get(fmt, fmt)
    if fmt not in _FORMATS:
        raise ProblemError(
            422, "unknown format", f"format must be one of {', '.join(_FORMATS)}; got {fmt!r}", kind="bad-parameter"
        )
    return fmt


async def _plan_response(request: Request, service: _Service, job_id: str) -> Response:
    fmt = _wanted_format(request)
    lang = _lang(request)
    if fmt == "json":
        where = await run_in_threadpool(service.store.plan_json_size, job_id)
        assert where is not None
        rowid, size = where
        if size > _CHUNK:
            # a national plan (tens of MB) is read and sent a piece at a time: the service's
            # interpreter is never held for the whole of it, and others are served in between
            return StreamingResponse(_pieces(service.store, rowid, size), media_type=_FORMATS["json"])
        body = await run_in_threadpool(service.store.plan_json_piece, rowid, 0, size)
        return Response(body, media_type=_FORMATS["json"])
    data = await service.side.run(side_work.render_plan, service.store.path, job_id, fmt, lang)
    headers = {}
    if fmt in ("excel", "csv", "html"):
        suffix = {"excel": "xlsx", "csv": "zip", "html": "html"}[fmt]
        headers["Content-Disposition"] = f'attachment; filename="plan-{job_id[:8]}.{suffix}"'
    return Response(data, media_type=_FORMATS[fmt], headers=headers)


_CHUNK = 1 << 20


async def _pieces(store: JobStore, rowid: int, size: int) -> AsyncIterator[bytes]:
    for start in range(0, size, _CHUNK):
        yield await run_in_threadpool(store.plan_json_piece, rowid, start, min(_CHUNK, size - start))
