"""GET /health: 200 when the database and Temporal answer, 503 naming the part that is down."""

from __future__ import annotations

from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from api.settings import Settings
from tests.api.conftest import asgi_client, make_settings
from tests.api.factories import bearer


async def test_healthy_when_database_and_temporal_answer(
    settings: Settings, dev_env: WorkflowEnvironment
) -> None:
    async with asgi_client(settings, temporal_client=dev_env.client) as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok", "database": "ok", "temporal": "ok", "stuck_cycles": 0
    }


async def test_503_names_temporal_when_it_is_down(api: httpx.AsyncClient) -> None:
    response = await api.get("/health")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["database"], body["temporal"]) == (503, "ok", "down")
    assert body["detail"] == "down: temporal"


async def test_503_when_the_database_is_unreachable(
    database_url: str, tmp_path: Path, dev_env: WorkflowEnvironment
) -> None:
    if database_url.startswith("sqlite"):
        broken = f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'api.db'}"
    else:
        broken = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"
    async with asgi_client(make_settings(broken), temporal_client=dev_env.client) as client:
        health = await client.get("/health")
        route = await client.get("/committees", headers=bearer("some-token"))
    assert health.status_code == 503
    assert (health.json()["database"], health.json()["temporal"]) == ("down", "ok")
    assert route.status_code == 503
    assert route.headers["content-type"] == "application/problem+json"
    assert route.json()["type"] == "/problems/database-unavailable"
