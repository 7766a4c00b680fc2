"""The solver service for planning tools: ``reallocate serve`` (FastAPI on uvicorn).

Needs the ``service`` extra (``pip install reallocate[service]``). ``create_app(settings)`` is the
ASGI app; :func:`serve` runs it.
"""

from __future__ import annotations

from .settings import LOOPBACK, ServiceSettings

__all__ = ["LOOPBACK", "ServiceSettings", "create_app", "serve"]


def create_app(settings: ServiceSettings | None = None):  # type: ignore[no-untyped-def]
    """The ASGI app (imports FastAPI only when called)."""
    from .app import create_app as make

    return make(settings)


def serve(settings: ServiceSettings) -> None:
    """Run the service in the foreground until interrupted. Without API keys it listens on the
    loopback only, and says so."""
    import logging
    import sys

    import uvicorn

    if settings.open_to_all and settings.host not in LOOPBACK:
        raise SystemExit(
            f"reallocate serve: refusing to listen on {settings.host} without API keys "
            "(set REALLOCATE_API_KEYS or --api-keys-file, or listen on 127.0.0.1)"
        )
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    where = f"http://{settings.host}:{settings.port}"
    access = "API keys required" if settings.api_keys else "no API keys: loopback only"
    print(
        f"reallocate serve: {where} ({settings.workers} solver processes; {access}; jobs in {settings.db})",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning", access_log=False)
