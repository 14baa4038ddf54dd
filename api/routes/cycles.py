"""Cycles: starting a committee's year (or everyone's), and reading where each item stands."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from api.deps import (
    CurrentUser,
    IdempotencyDep,
    SessionDep,
    SessionsDep,
    SettingsDep,
    TemporalDep,
)
from api.problems import Unavailable, problem_responses
from api.schemas import (
    Code,
    CycleCreate,
    CycleDetail,
    CyclePage,
    CyclePublic,
    StuckCyclePage,
    YearCyclesCreate,
    YearCyclesStarted,
)
from api.services import cycles, starts, stuck
from api.services.access import Action, read_scope, require

router = APIRouter(tags=["cycles"])


@router.post(
    "/cycles",
    status_code=status.HTTP_201_CREATED,
    response_model=CyclePublic,
    responses={
        200: {"model": CyclePublic, "description": "The cycle was already started"},
        **problem_responses(401, 403, 404, 409, 422, 503),
    },
)
async def start_cycle(
    data: CycleCreate,
    session: SessionDep,
    sessions: SessionsDep,
    settings: SettingsDep,
    client: TemporalDep,
    user: CurrentUser,
    idem: IdempotencyDep,
    response: Response,
) -> CyclePublic:
    """Start a committee's cycle for a year; starting it again returns the same cycle (200).
    A cycle whose workflow ended without closing it (failed, terminated) is resumed (201): a
    new run takes over every task recorded, opening none again and raising no rung twice.

    503 if Temporal does not answer: nothing is written, or (if it failed mid-way) the cycle
    is recorded as `starting`; repeat the request, with any Idempotency-Key, to start it.
    """
    cycle, started = await starts.start_cycle(
        starter=starts.Starter(
            sessions, client, settings.task_queue, settings.search_attributes,
            template_code=settings.cycle_template,
        ), session=session,
        principal=user,
        committee_code=data.committee, year=data.year, seconds_per_day=data.time_scale,
    )
    response.status_code = status.HTTP_201_CREATED if started else status.HTTP_200_OK
    response.headers["Location"] = f"/cycles/{cycle.id}"
    await idem.remember(
        status=response.status_code, body=cycle, headers={"Location": response.headers["Location"]}
    )
    return cycle


@router.post(
    "/years/{year}/cycles",
    response_model=YearCyclesStarted,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def start_year(
    session: SessionDep,
    sessions: SessionsDep,
    settings: SettingsDep,
    client: TemporalDep,
    user: CurrentUser,
    idem: IdempotencyDep,
    year: Annotated[int, Path(ge=2000, le=2200)],
    data: YearCyclesCreate | None = None,
) -> YearCyclesStarted:
    """Start the year's cycle of every active non-root committee; counts started and existing.

    Cycles that failed to start are counted (`failed`, `failures`) and left `starting`, or
    not written at all; repeat the request, with the same or any Idempotency-Key, to start
    them: an answer with failures is not remembered for replay.
    """
    outcome = await starts.start_year(
        starter=starts.Starter(
            sessions, client, settings.task_queue, settings.search_attributes,
            template_code=settings.cycle_template,
        ), session=session,
        principal=user,
        year=year, seconds_per_day=data.time_scale if data else None,
        concurrency=settings.start_concurrency,
    )
    if outcome.committees and outcome.failed == outcome.committees:
        raise Unavailable("no cycle could be started; is Temporal up?", **outcome.model_dump())
    if not outcome.failed:  # a repeat should start the ones that failed, not replay this
        await idem.remember(status=status.HTTP_200_OK, body=outcome)
    return outcome


@router.get(
    "/cycles/stuck", response_model=StuckCyclePage, responses=problem_responses(401, 403, 422)
)
async def list_stuck_cycles(
    session: SessionDep,
    user: CurrentUser,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> StuckCyclePage:
    """Cycles whose last recording the API refused, longest stuck first (board, auditor, admin).

    Each waits and retries until the cause (a service token, a release) is fixed; its first
    recording that succeeds takes it off this list."""
    require(user, Action.AUDIT)
    items = await stuck.list_public(session=session, limit=limit, offset=offset)
    return StuckCyclePage(
        items=items, total=await stuck.count(session=session), limit=limit, offset=offset
    )


@router.get(
    "/cycles/{cycle_id}", response_model=CycleDetail, responses=problem_responses(401, 404, 422)
)
async def get_cycle(
    cycle_id: int, session: SessionDep, settings: SettingsDep, user: CurrentUser, request: Request
) -> CycleDetail:
    """Every item of the cycle with its state, due date and escalation level."""
    scope = await read_scope(session=session, principal=user)
    row = await cycles.get_row(session=session, scope=scope, cycle_id=cycle_id)
    return await cycles.detail(
        session=session, client=getattr(request.app.state, "temporal", None), row=row,
        query_wait=settings.query_timeout_seconds,
    )


@router.get("/cycles", response_model=CyclePage, responses=problem_responses(401, 422))
async def list_cycles(
    session: SessionDep,
    user: CurrentUser,
    committee: Code | None = None,
    year: int | None = Query(default=None, ge=2000, le=2200),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> CyclePage:
    """The cycles the caller can see, newest year first."""
    scope = await read_scope(session=session, principal=user)
    items, total = await cycles.list_public(
        session=session, scope=scope, committee=committee, year=year, limit=limit, offset=offset
    )
    return CyclePage(items=items, total=total, limit=limit, offset=offset)
