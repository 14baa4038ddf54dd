"""Registers a committee office keeps: reporter activities, recorded, listed, corrected and
withdrawn with a reason."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Path, Query, Response, status

from api.deps import CurrentUser, IdempotencyDep, SessionDep
from api.problems import problem_responses
from api.schemas_registers import (
    ActivityCorrect,
    EntryDetail,
    EntryPage,
    EntryPublic,
    EntryWithdraw,
)
from api.services import registers
from domain.calendar import HCM
from domain.dates import IsoDate
from domain.registers import ActivityBody, ActivityForm, RegisterKind

router = APIRouter(tags=["registers"])

ACTIVITIES = "/committees/{code}/registers/activities"
ACTIVITY = ACTIVITIES + "/{entry_id}"
WRITE_PROBLEMS = problem_responses(401, 403, 404, 409, 422)


def _today() -> date:
    return datetime.now(HCM).date()


@router.post(ACTIVITIES, status_code=status.HTTP_201_CREATED, response_model=EntryPublic,
             responses=WRITE_PROBLEMS)
async def record_activity(
    code: str, data: ActivityBody, session: SessionDep, user: CurrentUser, idem: IdempotencyDep,
    response: Response,
) -> EntryPublic:
    """Record a session of oral propaganda given by the committee's reporters (its staff)."""
    entry = await registers.record_entry(session=session, principal=user, code=code,
                                         kind=RegisterKind.ACTIVITY, body=data, today=_today())
    response.headers["Location"] = ACTIVITY.format(code=code, entry_id=entry.id)
    await idem.remember(status=status.HTTP_201_CREATED, body=entry, session=session,
                        headers={"Location": response.headers["Location"]})
    await session.commit()
    return entry


@router.get(ACTIVITIES, response_model=EntryPage, responses=problem_responses(401, 404, 422))
async def list_activities(
    code: str, session: SessionDep, user: CurrentUser,
    start: IsoDate | None = Query(default=None, alias="from", description="From this day on."),
    end: IsoDate | None = Query(default=None, alias="to", description="Up to this day."),
    reporter: int | None = Query(default=None, ge=1, description="Naming this reporter."),
    form: ActivityForm | None = Query(default=None, description="in_person, online or both."),
    state: Literal["current", "withdrawn", "all"] = Query(
        default="current", alias="status",
        description="current (recorded or corrected; the default), withdrawn or all.",
    ),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> EntryPage:
    """A committee's reporter activities by day, filtered by days, reporter and form."""
    return await registers.list_entries(
        session=session, principal=user, code=code, kind=RegisterKind.ACTIVITY, start=start,
        end=end, reporter=reporter, form=form, status=state, limit=limit, offset=offset,
    )


@router.get(ACTIVITY, response_model=EntryDetail, responses=problem_responses(401, 404, 422))
async def get_activity(
    code: str, session: SessionDep, user: CurrentUser, entry_id: int = Path(ge=1),
) -> EntryDetail:
    """One reporter activity and every version of it."""
    return await registers.get_entry(session=session, principal=user, code=code,
                                     kind=RegisterKind.ACTIVITY, entry_id=entry_id)


@router.post(ACTIVITY + "/correct", response_model=EntryPublic, responses=WRITE_PROBLEMS)
async def correct_activity(
    code: str, data: ActivityCorrect, session: SessionDep, user: CurrentUser,
    idem: IdempotencyDep, entry_id: int = Path(ge=1),
) -> EntryPublic:
    """Correct a reporter activity, with a reason; the previous version is kept."""
    entry = await registers.correct_entry(
        session=session, principal=user, code=code, kind=RegisterKind.ACTIVITY,
        entry_id=entry_id, version=data.version, reason=data.reason, body=data.entry,
        today=_today(),
    )
    await idem.remember(status=status.HTTP_200_OK, body=entry, session=session)
    await session.commit()
    return entry


@router.post(ACTIVITY + "/withdraw", response_model=EntryPublic, responses=WRITE_PROBLEMS)
async def withdraw_activity(
    code: str, data: EntryWithdraw, session: SessionDep, user: CurrentUser,
    idem: IdempotencyDep, entry_id: int = Path(ge=1),
) -> EntryPublic:
    """Withdraw a reporter activity, with a reason: it stays listed as withdrawn, uncounted."""
    entry = await registers.withdraw_entry(
        session=session, principal=user, code=code, kind=RegisterKind.ACTIVITY,
        entry_id=entry_id, version=data.version, reason=data.reason,
    )
    await idem.remember(status=status.HTTP_200_OK, body=entry, session=session)
    await session.commit()
    return entry
