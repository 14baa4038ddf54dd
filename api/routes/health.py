"""Liveness of the parts the API needs (the database and Temporal), and stuck cycles.

A stuck cycle makes the report degraded but still 200: the API itself works, and a probe
that took it out of service would not unstick anything. 503 is for a part that is down.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.db import ping
from api.problems import problem_response, problem_responses
from api.schemas import Health
from api.services import stuck

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


async def _stuck_cycles(request: Request) -> int | None:
    try:
        async with asyncio.timeout(3), request.app.state.sessions() as session:
            return await stuck.count(session=session)
    except Exception:
        return None


@router.get("/health", response_model=Health, responses=problem_responses(503))
async def health(request: Request) -> Health | JSONResponse:
    """Whether the database and Temporal answer, and how many cycles are stuck; 503 names the
    part that is down, stuck cycles alone answer 200 `degraded`."""
    database_ok, temporal_ok, stuck_cycles = await asyncio.gather(
        ping(request.app.state.engine), _temporal_ok(request), _stuck_cycles(request)
    )
    report = Health(
        status="ok" if database_ok and temporal_ok and not stuck_cycles else "degraded",
        database="ok" if database_ok else "down",
        temporal="ok" if temporal_ok else "down",
        stuck_cycles=stuck_cycles,
    )
    if database_ok and temporal_ok:
        return report
    down = [name for name, ok in (("database", database_ok), ("temporal", temporal_ok)) if not ok]
    return problem_response(
        request, status=503, title="Service unavailable", slug="unhealthy",
        detail=f"down: {', '.join(down)}", database=report.database, temporal=report.temporal,
        stuck_cycles=stuck_cycles,
    )
