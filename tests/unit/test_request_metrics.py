"""The API's request metrics: counted per route template and status, in Prometheus text."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI, HTTPException

from api.metrics import install_metrics


def small_app() -> FastAPI:
    """An app whose routes come from an included router, as the API's do."""
    app = FastAPI()
    router = APIRouter()

    @router.get("/tasks/{task_id}")
    async def get_task(task_id: int) -> dict[str, int]:
        if task_id == 404:
            raise HTTPException(404)
        return {"id": task_id}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(router)
    install_metrics(app)
    return app


async def test_requests_are_counted_by_route_template_and_status() -> None:
    app = small_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for task_id in (1, 2, 404):
            await client.get(f"/tasks/{task_id}")
        await client.get("/health")
        await client.get("/nowhere")
        text = (await client.get("/metrics")).text

    counted = 'yearwheel_http_requests_total{method="GET",route="/tasks/{task_id}",status='
    assert counted + '"200"} 2.0' in text
    assert counted + '"404"} 1.0' in text
    assert 'route="/health",status="200"} 1.0' in text
    assert 'route="unmatched",status="404"} 1.0' in text
    assert 'yearwheel_http_request_seconds_count{method="GET",route="/tasks/{task_id}"} 3.0' in text


async def test_each_app_counts_alone() -> None:
    first, second = small_app(), small_app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=first), base_url="http://test"
    ) as client:
        await client.get("/tasks/1")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=second), base_url="http://test"
    ) as client:
        text = (await client.get("/metrics")).text
    assert 'route="/tasks/{task_id}"' not in text
