"""Liveness of the parts the API needs: the database and Temporal."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.db import ping
from api.problems import problem_response, problem_responses
from api.schemas import Health

router = APIRouter(tags=["health"])


async def _temporal_ok(request: Request) -> bool:
    client = getattr(request.app.state, "temporal", None)
    if client is None:
        return False
    try:
        async with asyncio.timeout(3):
            return bool(await client.service_client.check_health(timeout=timedelta(seconds=2)))
    except Exception:
        return False


@router.get("/health", response_model=Health, responses=problem_responses(503))
async def health(request: Request) -> Health | JSONResponse:
    """Whether the database and Temporal answer; 503 names the part that is down."""
    database_ok, temporal_ok = await asyncio.gather(
        ping(request.app.state.engine), _temporal_ok(request)
    )
    report = Health(
        status="ok" if database_ok and temporal_ok else "degraded",
        database="ok" if database_ok else "down",
        temporal="ok" if temporal_ok else "down",
    )
    if report.status == "ok":
        return report
    down = [name for name, ok in (("database", database_ok), ("temporal", temporal_ok)) if not ok]
    return problem_response(
        request, status=503, title="Service unavailable", slug="unhealthy",
        detail=f"down: {', '.join(down)}", database=report.database, temporal=report.temporal,
    )
