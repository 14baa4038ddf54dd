"""API fixtures: a fresh, Alembic-migrated database per test on SQLite and PostgreSQL, the app
driven in-process (ASGITransport), and for workflow routes the real app under uvicorn with a
real worker against the dev server.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.engine import make_url
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import BackendActivities
from api.app import create_app
from api.db import Sessions, make_engine, make_sessions
from api.migrate import upgrade_async
from api.models import Cycle
from api.settings import Settings
from tests.api.factories import SERVICE_TOKEN, Factory
from tests.conftest import POSTGRES_URL, database_params, free_port, unique_queue
from workflows import CommitteeCycle
from workflows.sandbox import workflow_runner

UNREACHABLE_TEMPORAL = "127.0.0.1:1"
_years = itertools.count(2030)


def _asyncpg_params(url: str) -> dict[str, object]:
    parsed = make_url(url)
    return {
        "user": parsed.username, "password": parsed.password, "host": parsed.host,
        "port": parsed.port or 5432, "database": parsed.database,
    }


@pytest.fixture(params=database_params())
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database migrated to head: a SQLite file, or a new PostgreSQL schema."""
    async with fresh_database(request.param, tmp_path) as url:
        yield url


@contextlib.asynccontextmanager
async def fresh_database(kind: str, directory: Path) -> AsyncIterator[str]:
    """A database migrated to head, dropped afterwards: a SQLite file in `directory`, or a
    PostgreSQL schema.

    PostgreSQL: a login role of the same name whose search_path is its own empty schema, so
    the app and Alembic, connecting as that role, see nothing else (0.1 s; a database takes 0.5).
    """
    if kind == "sqlite":
        path = f"sqlite+aiosqlite:///{directory / 'api.db'}"
        await upgrade_async(path)
        yield path
        return
    assert POSTGRES_URL is not None
    name = f"yw_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(**_asyncpg_params(POSTGRES_URL))
    try:
        await admin.execute(
            f'CREATE ROLE "{name}" LOGIN; CREATE SCHEMA "{name}" AUTHORIZATION "{name}"; '
            f'ALTER ROLE "{name}" SET search_path = "{name}"'
        )
        url = make_url(POSTGRES_URL).set(username=name, password=None)
        rendered = url.render_as_string(hide_password=False)
        await upgrade_async(rendered)
        yield rendered
    finally:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", name
        )
        await admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE; DROP ROLE IF EXISTS "{name}"')
        await admin.close()


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    """The test's own sessions on the test database, for arranging and inspecting rows."""
    engine = make_engine(database_url)
    try:
        yield make_sessions(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def factory(sessions: Sessions) -> Factory:
    return Factory(sessions)


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url, "service_token": SERVICE_TOKEN,
        "temporal_address": UNREACHABLE_TEMPORAL, "task_queue": unique_queue("api"),
        "query_timeout_seconds": 2.0, "update_timeout_seconds": 20.0,
        "signal_redelivery_seconds": 3600.0,  # a test sends owed signals when it means to
        # The API tests were written for the legacy template; tests of the 1751 calendar say so.
        "cycle_template": "default",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@contextlib.asynccontextmanager
async def asgi_client(
    settings: Settings, *, temporal_client: Client | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process, its lifespan running; Temporal unreachable unless a client is given."""
    app = create_app(settings, temporal_client=temporal_client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app without a reachable Temporal: for every route that needs no workflow."""
    async with asgi_client(settings) as client:
        yield client


@dataclass
class Live:
    """The real app served over HTTP with a real worker polling its task queue."""

    client: httpx.AsyncClient
    url: str
    temporal: Client
    settings: Settings
    year: int  # unique per test: workflow ids outlive a test on the shared dev server


@contextlib.asynccontextmanager
async def served(settings: Settings, temporal: Client) -> AsyncIterator[str]:
    """Serve the app with uvicorn in this event loop on a free port; yields its URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, temporal_client=temporal), host="127.0.0.1", port=port,
        log_level="warning", lifespan="on",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def live(
    dev_env: WorkflowEnvironment, database_url: str, sessions: Sessions
) -> AsyncIterator[Live]:
    settings = make_settings(database_url, task_queue=unique_queue("live"))
    temporal = dev_env.client
    async with served(settings, temporal) as url:
        backend = BackendActivities(api_url=url, service_token=SERVICE_TOKEN)
        worker = Worker(
            temporal, task_queue=settings.task_queue, workflows=[CommitteeCycle],
            activities=backend.all(), workflow_runner=workflow_runner(),
        )
        try:
            async with worker, httpx.AsyncClient(base_url=url, timeout=30) as client:
                try:
                    yield Live(
                        client=client, url=url, temporal=temporal, settings=settings,
                        year=next(_years),
                    )
                finally:
                    await _terminate_cycles(temporal, sessions)
        finally:
            await backend.aclose()


async def _terminate_cycles(temporal: Client, sessions: Sessions) -> None:
    """Stop the test's still-running workflows, so the shared dev server stays quiet."""
    async with sessions() as session:
        ids = (await session.scalars(select(Cycle.workflow_id))).all()
    for workflow_id in ids:
        with contextlib.suppress(Exception):
            await temporal.get_workflow_handle(workflow_id).terminate("test finished")
