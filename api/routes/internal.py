"""/internal/*: what the worker's activities record. Service token only.

Each route is idempotent twice over: by the event's natural key (a task per cycle and key, a
submission per reference, an escalation per task, rung and due date, ...), so a retried
activity gets `Recorded(id, created=False)` back; and by the Idempotency-Key header, so a
repeat of one attempt gets that attempt's own answer back (and 409 while it is still running).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import Sessions, run_unit_of_work
from api.deps import (
    IdempotencyDep,
    ServiceCaller,
    SessionDep,
    SessionsDep,
    SettingsDep,
    TemporalDep,
)
from api.problems import Unavailable, problem_responses
from api.schemas import YearCyclesStarted
from api.services import recording, starts, withdrawals
from api.services.idempotency import Idempotency
from domain.contracts import (
    CompletionRecorded,
    CycleClosed,
    LadderStepRecorded,
    LadderStepWithdrawn,
    Recorded,
    TaskChanged,
    TaskOpened,
)

router = APIRouter(prefix="/internal", tags=["internal"])

Recorder = Callable[..., Awaitable[Recorded]]
ERRORS: dict[int | str, dict[str, Any]] = {
    201: {"model": Recorded, "description": "Recorded now (200: recorded before)"},
    **problem_responses(401, 403, 404, 409, 422, 503),
}


async def _record(
    *,
    response: Response,
    sessions: Sessions,
    caller: str,
    event: BaseModel,
    recorder: Recorder,
    idem: Idempotency,
) -> Recorded:
    """Run a recorder once per natural key, retrying lost races; the answer is remembered for
    the Idempotency-Key in the same transaction as the rows it answers for."""

    async def work(session: AsyncSession) -> Recorded:
        recorded: Recorded = await recorder(session=session, event=event, actor=caller)
        await idem.remember(
            status=201 if recorded.created else 200, body=recorded, session=session
        )
        return recorded

    recorded = await run_unit_of_work(sessions, work)
    response.status_code = status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK
    return recorded


@router.post("/tasks/opened", response_model=Recorded, responses=ERRORS)
async def task_opened(
    event: TaskOpened, response: Response, sessions: SessionsDep, caller: ServiceCaller,
    idem: IdempotencyDep,
) -> Recorded:
    """Record that a task opened: its row, a notification to the committee, an audit event."""
    return await _record(
        response=response, sessions=sessions, caller=caller.name, event=event,
        recorder=recording.record_opened, idem=idem,
    )


@router.post("/tasks/completed", response_model=Recorded, responses=ERRORS)
async def task_completed(
    event: CompletionRecorded, response: Response, sessions: SessionsDep, caller: ServiceCaller,
    idem: IdempotencyDep,
) -> Recorded:
    """Record a completion: the submission, the task closed, its escalations resolved."""
    return await _record(
        response=response, sessions=sessions, caller=caller.name, event=event,
        recorder=recording.record_completion, idem=idem,
    )


@router.post("/ladder", response_model=Recorded, responses=ERRORS)
async def ladder_step(
    event: LadderStepRecorded, response: Response, sessions: SessionsDep, caller: ServiceCaller,
    idem: IdempotencyDep,
) -> Recorded:
    """Record a ladder step: an escalation to its target, a notification, the task's new rung."""
    return await _record(
        response=response, sessions=sessions, caller=caller.name, event=event,
        recorder=recording.record_ladder_step, idem=idem,
    )


@router.post("/tasks/changed", response_model=Recorded, responses=ERRORS)
async def task_changed(
    event: TaskChanged, response: Response, sessions: SessionsDep, caller: ServiceCaller,
    idem: IdempotencyDep,
) -> Recorded:
    """Record an extension (the due date moves) or a waiver (the task closes)."""
    return await _record(
        response=response, sessions=sessions, caller=caller.name, event=event,
        recorder=recording.record_change, idem=idem,
    )


@router.post("/ladder/withdrawn", response_model=Recorded, responses=ERRORS)
async def ladder_step_withdrawn(
    event: LadderStepWithdrawn, response: Response, sessions: SessionsDep,
    caller: ServiceCaller, idem: IdempotencyDep,
) -> Recorded:
    """Record that an extension took back a rung: its target is told, the escalation resolved."""
    return await _record(
        response=response, sessions=sessions, caller=caller.name, event=event,
        recorder=withdrawals.record_withdrawal, idem=idem,
    )


@router.post("/cycles/closed", response_model=Recorded, responses=ERRORS)
async def cycle_closed(
    event: CycleClosed, response: Response, sessions: SessionsDep, caller: ServiceCaller,
    idem: IdempotencyDep,
) -> Recorded:
    """Record that a cycle ended, with its result."""
    return await _record(
        response=response, sessions=sessions, caller=caller.name, event=event,
        recorder=recording.record_closed, idem=idem,
    )


@router.post(
    "/years/{year}/cycles",
    response_model=YearCyclesStarted,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def year_cycles(
    session: SessionDep, sessions: SessionsDep, settings: SettingsDep, client: TemporalDep,
    caller: ServiceCaller, idem: IdempotencyDep, year: Annotated[int, Path(ge=2000, le=2200)],
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
    await idem.remember(status=status.HTTP_200_OK, body=outcome)
    return outcome

