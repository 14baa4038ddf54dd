"""The web workspace: server-rendered pages under /web, clients of the same services as the
API (permissions, validation, version checks, idempotency, audit). No CDN, no build step: the
templates and the one stylesheet ship in this package."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.web import routes, task_routes

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Serve the pages and their static assets under /web (left out of the OpenAPI schema)."""
    app.include_router(routes.router)
    app.include_router(task_routes.router)
    app.mount("/web/static", StaticFiles(directory=STATIC), name="web-static")
