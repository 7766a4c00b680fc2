"""Errors as ``application/problem+json`` (RFC 9457): a type, a title, the HTTP status, a detail,
and for a refused scenario every field problem (path, message, value)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

__all__ = ["ProblemError", "problem_response"]

PROBLEM_BASE = "https://reallocate.readthedocs.io/problems/"


class ProblemError(Exception):
    """An HTTP error the service answers with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        kind: str = "error",
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind
        self.extra = extra or {}
        self.headers = headers or {}


def problem_response(exc: ProblemError, request: Request) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + exc.kind,
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        "instance": request.url.path,
        **exc.extra,
    }
    headers = dict(exc.headers)
    if exc.status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(body, status_code=exc.status, media_type="application/problem+json", headers=headers)
