"""Reporters: a committee's team as records, listed, added and marked as having left."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response, status
from temporalio.client import Client

from api.db import Sessions
from api.deps import (
    CurrentUser,
    IdempotencyDep,
    SessionDep,
    SessionsDep,
    SettingsDep,
    TemporalDep,
)
from api.models import ReporterStatus
from api.problems import problem_responses
from api.schemas_rosters import ReporterChanged, ReporterCreate, ReporterLeave, ReporterList
from api.services import rosters, signals
from api.settings import Settings

router = APIRouter(tags=["rosters"])

SIGNAL_WAIT_SECONDS = 10.0  # the committed change waits this long for the cycle to be told


@router.get(
    "/committees/{code}/reporters",
    response_model=ReporterList,
    responses=problem_responses(401, 404, 422),
)
async def list_reporters(
    code: str,
    session: SessionDep,
    user: CurrentUser,
    state: Literal["active", "left", "all"] = Query(default="active", alias="status"),
) -> ReporterList:
    """A committee's reporters, and whether its active team keeps the roster rules."""
    wanted = None if state == "all" else ReporterStatus(state)
    items, roster = await rosters.list_reporters(
        session=session, principal=user, code=code, status=wanted
    )
    return ReporterList(items=items, roster=roster)


@router.post(
    "/committees/{code}/reporters",
    status_code=status.HTTP_201_CREATED,
    response_model=ReporterChanged,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def add_reporter(
    code: str, data: ReporterCreate, session: SessionDep, sessions: SessionsDep,
    settings: SettingsDep, client: TemporalDep, user: CurrentUser, idem: IdempotencyDep,
    response: Response,
) -> ReporterChanged:
    """Add a reporter to a committee's team (its staff, admin); an open consolidation that this
    completes is closed by the cycle."""
    changed = await rosters.add_reporter(
        session=session, client=client, principal=user, code=code, data=data,
        wait_seconds=min(settings.update_timeout_seconds, SIGNAL_WAIT_SECONDS),
    )
    response.headers["Location"] = f"/committees/{code}/reporters"
    await idem.remember(
        status=status.HTTP_201_CREATED, body=changed, session=session,
        headers={"Location": response.headers["Location"]},
    )
    await session.commit()
    await _tell(sessions, client, settings, changed)
    return changed


@router.post(
    "/reporters/{reporter_id}/leave",
    response_model=ReporterChanged,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def reporter_left(
    reporter_id: int, data: ReporterLeave, session: SessionDep, sessions: SessionsDep,
    settings: SettingsDep, client: TemporalDep, user: CurrentUser, idem: IdempotencyDep,
) -> ReporterChanged:
    """Mark a reporter as having left; if the team no longer keeps the roster rules, the
    committee's cycle opens a "consolidate the roster" task with its own due date and ladder."""
    changed = await rosters.mark_left(
        session=session, client=client, principal=user, reporter_id=reporter_id, data=data,
        wait_seconds=min(settings.update_timeout_seconds, SIGNAL_WAIT_SECONDS),
    )
    await idem.remember(status=status.HTTP_200_OK, body=changed, session=session)
    await session.commit()
    await _tell(sessions, client, settings, changed)
    return changed


async def _tell(
    sessions: Sessions, client: Client, settings: Settings, changed: ReporterChanged
) -> None:
    """After the commit, outside any transaction: send the cycle what the change owes it.
    What Temporal does not take stays queued and is sent again; the change stands."""
    if changed.signalled:
        await signals.deliver(
            sessions=sessions, client=client, workflow_ids=changed.signalled,
            wait_seconds=min(settings.update_timeout_seconds, SIGNAL_WAIT_SECONDS),
        )
