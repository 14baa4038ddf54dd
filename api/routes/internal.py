"""/internal/*: what the worker's activities record. Service token only.

Each route is idempotent twice over: by the event's natural key (a task per cycle and key, a
submission per reference, an escalation per task, rung and due date, ...) and by the
Idempotency-Key header, so a retried activity gets `Recorded(id, created=False)` back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response, status
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import Sessions, run_unit_of_work
from api.deps import ServiceCaller, SessionDep, SessionsDep, SettingsDep, TemporalDep
from api.problems import Unavailable, problem_responses
from api.schemas import YearCyclesStarted
from api.services import idempotency, recording, starts
from api.settings import Settings
from domain.contracts import (
    CompletionRecorded,
    CycleClosed,
    LadderStepRecorded,
    Recorded,
    TaskChanged,
    TaskOpened,
)

router = APIRouter(prefix="/internal", tags=["internal"])

Recorder = Callable[..., Awaitable[Recorded]]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="A repeat with the same key records nothing."),
]
ERRORS: dict[int | str, dict[str, Any]] = {
    201: {"model": Recorded, "description": "Recorded now (200: recorded before)"},
    **problem_responses(401, 403, 404, 409, 422, 503),
}


async def _record(
    *,
    request: Request,
    response: Response,
    sessions: Sessions,
    settings: Settings,
    caller: str,
    event: BaseModel,
    recorder: Recorder,
    key: str | None,
) -> Recorded:
    """Run a recorder once per natural key and per Idempotency-Key, retrying lost races."""
    fingerprint = idempotency.request_hash(
        path=request.url.path, body=event.model_dump(mode="json")
    )
    if key is not None:
        key = idempotency.check_key(key)

    async def work(session: AsyncSession) -> Recorded:
        if key is not None:
            stored = await idempotency.replay(session=session, key=key, fingerprint=fingerprint)
            if stored is not None:
                return Recorded(id=int(stored["id"]), created=False)
        recorded: Recorded = await recorder(session=session, event=event, actor=caller)
        if key is not None:
            await idempotency.remember(
                session=session, key=key, fingerprint=fingerprint,
                status=201 if recorded.created else 200, body=recorded.model_dump(mode="json"),
                ttl=timedelta(hours=settings.idempotency_ttl_hours),
            )
        return recorded

    recorded = await run_unit_of_work(sessions, work)
    response.status_code = status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK
    return recorded


@router.post("/tasks/opened", response_model=Recorded, responses=ERRORS)
async def task_opened(
    event: TaskOpened, request: Request, response: Response, sessions: SessionsDep,
    settings: SettingsDep, caller: ServiceCaller, key: IdempotencyKeyHeader = None,
) -> Recorded:
    """Record that a task opened: its row, a notification to the committee, an audit event."""
    return await _record(
        request=request, response=response, sessions=sessions, settings=settings,
        caller=caller.name, event=event, recorder=recording.record_opened, key=key,
    )


@router.post("/tasks/completed", response_model=Recorded, responses=ERRORS)
async def task_completed(
    event: CompletionRecorded, request: Request, response: Response, sessions: SessionsDep,
    settings: SettingsDep, caller: ServiceCaller, key: IdempotencyKeyHeader = None,
) -> Recorded:
    """Record a completion: the submission, the task closed, its escalations resolved."""
    return await _record(
        request=request, response=response, sessions=sessions, settings=settings,
        caller=caller.name, event=event, recorder=recording.record_completion, key=key,
    )


@router.post("/ladder", response_model=Recorded, responses=ERRORS)
async def ladder_step(
    event: LadderStepRecorded, request: Request, response: Response, sessions: SessionsDep,
    settings: SettingsDep, caller: ServiceCaller, key: IdempotencyKeyHeader = None,
) -> Recorded:
    """Record a ladder step: an escalation to its target, a notification, the task's new rung."""
    return await _record(
        request=request, response=response, sessions=sessions, settings=settings,
        caller=caller.name, event=event, recorder=recording.record_ladder_step, key=key,
    )


@router.post("/tasks/changed", response_model=Recorded, responses=ERRORS)
async def task_changed(
    event: TaskChanged, request: Request, response: Response, sessions: SessionsDep,
    settings: SettingsDep, caller: ServiceCaller, key: IdempotencyKeyHeader = None,
) -> Recorded:
    """Record an extension (the due date moves) or a waiver (the task closes)."""
    return await _record(
        request=request, response=response, sessions=sessions, settings=settings,
        caller=caller.name, event=event, recorder=recording.record_change, key=key,
    )


@router.post("/cycles/closed", response_model=Recorded, responses=ERRORS)
async def cycle_closed(
    event: CycleClosed, request: Request, response: Response, sessions: SessionsDep,
    settings: SettingsDep, caller: ServiceCaller, key: IdempotencyKeyHeader = None,
) -> Recorded:
    """Record that a cycle ended, with its result."""
    return await _record(
        request=request, response=response, sessions=sessions, settings=settings,
        caller=caller.name, event=event, recorder=recording.record_closed, key=key,
    )


@router.post(
    "/years/{year}/cycles",
    response_model=YearCyclesStarted,
    responses=problem_responses(401, 403, 422, 503),
)
async def year_cycles(
    session: SessionDep, sessions: SessionsDep, settings: SettingsDep, client: TemporalDep,
    caller: ServiceCaller, year: Annotated[int, Path(ge=2000, le=2200)],
) -> YearCyclesStarted:
    """Start the year's cycles for the yearly Schedule; 503 (retry) if any failed to start."""
    outcome = await starts.start_year(
        starter=starts.Starter(sessions, client, settings.task_queue), session=session,
        principal=caller,
        year=year, seconds_per_day=None, concurrency=settings.start_concurrency,
    )
    if outcome.failed:
        raise Unavailable(
            f"{outcome.failed} of {outcome.committees} cycles did not start; retry",
            **outcome.model_dump(),
        )
    return outcome

