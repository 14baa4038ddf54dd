"""/internal/*: what the worker's activities record. Service token only.

Each recording is idempotent twice over: by the event's natural key (a task per cycle and key, a
submission per reference, an escalation per task, rung and due date, ...), so a retried
activity gets `Recorded(id, created=False)` back; and by the Idempotency-Key header, so a
repeat of one attempt gets that attempt's own answer back. A key already answered is replayed
before anything else; otherwise the event is recorded and the answer remembered for the key in
one short transaction, so no claim is committed first and a failed recording leaves its key
free. Every recording route has one shape: its event, and `Recording` for the rest.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response, status
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
from api.services import idempotency, recording, starts, withdrawals
from api.services.access import Principal
from api.services.idempotency import KeyedRequest, Replay
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


@dataclass(frozen=True)
class Recording:
    """One recording request: who sends it, with which Idempotency-Key, and where it answers."""

    sessions: Sessions
    caller: Principal
    keyed: KeyedRequest | None
    ttl: timedelta
    response: Response

    async def __call__(self, recorder: Recorder, event: BaseModel) -> Recorded:
        """Record `event` and remember the answer for the key, in one transaction; a repeat of
        the key that raced it replays that answer instead (marked Idempotent-Replayed)."""
        attempts = 0

        async def work(session: AsyncSession) -> Recorded | Replay:
            nonlocal attempts
            attempts += 1
            keyed = self.keyed
            if keyed is not None and attempts > 1:  # the race lost may be to this very request
                replay = await idempotency.answer_within(session=session, keyed=keyed)
                if replay is not None:
                    return replay
            recorded: Recorded = await recorder(
                session=session, event=event, actor=self.caller.name
            )
            if keyed is not None:
                await idempotency.remember_with(
                    session=session, keyed=keyed, status=_status(recorded), body=recorded,
                    ttl=self.ttl,
                )
            return recorded

        outcome = await run_unit_of_work(self.sessions, work)
        if isinstance(outcome, Replay):
            raise outcome  # answered by idempotency.replay_response
        self.response.status_code = _status(outcome)
        return outcome


def _status(recorded: Recorded) -> int:
    return status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK


async def get_recording(
    request: Request,
    response: Response,
    sessions: SessionsDep,
    settings: SettingsDep,
    caller: ServiceCaller,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="The activity's attempt, e.g. `{run id}/{activity id}`. A repeat with "
            "the same key and body gets the first answer back (Idempotent-Replayed: true); the "
            "same key with another body is 422.",
        ),
    ] = None,
) -> Recording:
    """The recording's caller and key; 403 unless it is the worker, 422 for an unusable key or
    one used with another request. A key already answered is replayed at once."""
    keyed = None
    if key is not None:
        keyed = await idempotency.keyed_request(request=request, principal=caller, key=key)
        replay = await idempotency.answer_before(sessions=sessions, keyed=keyed)
        if replay is not None:
            raise replay
    return Recording(
        sessions=sessions, caller=caller, keyed=keyed,
        ttl=timedelta(hours=settings.idempotency_ttl_hours), response=response,
    )


RecordingDep = Annotated[Recording, Depends(get_recording)]


@router.post("/tasks/opened", response_model=Recorded, responses=ERRORS)
async def task_opened(event: TaskOpened, record: RecordingDep) -> Recorded:
    """Record that a task opened: its row, a notification to the committee, an audit event."""
    return await record(recording.record_opened, event)


@router.post("/tasks/completed", response_model=Recorded, responses=ERRORS)
async def task_completed(event: CompletionRecorded, record: RecordingDep) -> Recorded:
    """Record a completion: the submission, the task closed, its escalations resolved."""
    return await record(recording.record_completion, event)


@router.post("/ladder", response_model=Recorded, responses=ERRORS)
async def ladder_step(event: LadderStepRecorded, record: RecordingDep) -> Recorded:
    """Record a ladder step: an escalation to its target, a notification, the task's new rung."""
    return await record(recording.record_ladder_step, event)


@router.post("/tasks/changed", response_model=Recorded, responses=ERRORS)
async def task_changed(event: TaskChanged, record: RecordingDep) -> Recorded:
    """Record an extension (the due date moves) or a waiver (the task closes)."""
    return await record(recording.record_change, event)


@router.post("/ladder/withdrawn", response_model=Recorded, responses=ERRORS)
async def ladder_step_withdrawn(event: LadderStepWithdrawn, record: RecordingDep) -> Recorded:
    """Record that an extension took back a rung: its target is told, the escalation resolved."""
    return await record(withdrawals.record_withdrawal, event)


@router.post("/cycles/closed", response_model=Recorded, responses=ERRORS)
async def cycle_closed(event: CycleClosed, record: RecordingDep) -> Recorded:
    """Record that a cycle ended, with its result."""
    return await record(recording.record_closed, event)


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
        starter=starts.Starter(
            sessions, client, settings.task_queue, settings.search_attributes,
            template_code=settings.cycle_template,
        ), session=session,
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

