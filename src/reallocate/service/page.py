"""The planner's page, served at ``/``: plain HTML and a little JavaScript, no build step."""

from __future__ import annotations

__all__ = ["PAGE"]

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>reallocate</title></head>
<body><h1>reallocate</h1><p>The solver service is running. The API is described at
<a href="/docs">/docs</a> (OpenAPI: <a href="/openapi.json">/openapi.json</a>).</p></body></html>
"""
