"""The FastAPI application: `create_app(settings)` wires the database, Temporal and routes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client

from api import docs_offline, problems, refusals
from api.db import make_engine, make_sessions
from api.deps import refuse_unknown_query
from api.metrics import install_metrics
from api.routes import (
    audit,
    committees,
    cycles,
    escalations,
    health,
    internal,
    notifications,
    registers,
    reports,
    rosters,
    tasks,
    templates,
    tree,
    users,
)
from api.services import idempotency, signals
from api.services.dispatch import Dispatcher
from api.settings import Settings
from api.stuck_watch import StuckWatch
from api.temporal import connect_temporal
from api.web import install as install_web


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            scope = {**scope, "yearwheel.body_too_large": True}
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            if scope.get("yearwheel.body_too_large"):
                raise HTTPException(413, f"the body is larger than {self.max_bytes} bytes")
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, f"the body is larger than {self.max_bytes} bytes")
            return message

        await self.app(scope, limited, send)


def create_app(settings: Settings, *, temporal_client: Client | None = None) -> FastAPI:
    """The API; opens one Temporal client in its lifespan unless `temporal_client` is given."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessions = make_sessions(engine)
        # lazy: the API starts, and /health says so, while Temporal is still down.
        app.state.temporal = temporal_client or await connect_temporal(settings, lazy=True)
        redelivery = asyncio.create_task(signals.redeliver_forever(
            sessions=app.state.sessions, client=app.state.temporal,
            wait_seconds=settings.update_timeout_seconds,
            every=settings.signal_redelivery_seconds,
        ))
        dispatching = None
        if settings.notify_dispatch:
            dispatcher = Dispatcher(app.state.sessions, settings)
            dispatching = asyncio.create_task(dispatcher.run_forever(), name="notify-dispatch")
        try:
            yield
        finally:
            for task in (redelivery, dispatching):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await engine.dispose()

    app = FastAPI(
        title="Yearwheel",
        version="0.1.0",
        summary="Committees' yearly oral-propaganda obligations as durable Temporal workflows.",
        lifespan=lifespan,
        docs_url=None,  # served by docs_offline from local assets
        redoc_url=None,
        dependencies=[Depends(refuse_unknown_query)],
    )
    docs_offline.install(app)
    app.state.settings = settings
    problems.install(app)
    refusals.install(app)
    app.add_exception_handler(idempotency.Replay, idempotency.replay_response)
    for module in (health, committees, users, cycles, tasks, escalations, internal, rosters,
                   tree, templates, reports, registers):
        app.include_router(module.router)
    app.include_router(notifications.router)
    app.include_router(audit.router)  # history, timeline, replay, verify, cross-check
    install_web(app)  # the web workspace's pages under /web, outside the OpenAPI schema
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(StuckWatch)  # a refused /internal call marks its cycle stuck
    install_metrics(app)  # outermost: every answer is counted, refusals and 413s too
    return app
