"""A committee's inbox, read from its running cycles as GET /cycles/{id} reads them (the
workflow's status, else the recorded rows): tasks overdue, open, waiting on another task, and
coming due. A time-scaled cycle is sorted by its own calendar day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.models import Committee, Cycle
from api.schemas import CycleItemPublic
from api.schemas_reports import SummaryRow
from api.services import cycles
from api.services.access import Scope
from api.web.pages import today
from domain.calendar import HCM
from domain.contracts import CLOSED_STATES, ItemState
from domain.task_states import OPEN_STATES

COMING_DAYS = 30
RECENT_CYCLES = 5


@dataclass
class Waiting:
    item: CycleItemPublic
    on: list[str]  # the titles of the tasks it waits for


@dataclass
class Inbox:
    day: date
    overdue: list[CycleItemPublic] = field(default_factory=list)
    open: list[CycleItemPublic] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    coming: list[CycleItemPublic] = field(default_factory=list)


async def committee_inbox(
    *, session: AsyncSession, client: Client | None, committee: Committee, query_wait: float
) -> Inbox:
    """The committee's tasks from its cycles that have not closed, earliest due first."""
    scope = Scope(frozenset({committee.id}))
    listed, _ = await cycles.list_public(
        session=session, scope=scope, committee=committee.code, year=None,
        limit=RECENT_CYCLES, offset=0,
    )
    inbox = Inbox(day=today())
    for cycle in listed:
        if cycle.status == "closed":
            continue
        row = await cycles.get_row(session=session, scope=scope, cycle_id=cycle.id)
        detail = await cycles.detail(session=session, client=client, row=row,
                                     query_wait=query_wait)
        day = detail.calendar_now.astimezone(HCM).date() if detail.calendar_now else today()
        inbox.day = day
        titles = {item.key: item.title_vi for item in detail.items}
        closed = {item.key for item in detail.items if item.state in CLOSED_STATES}
        for item in sorted(detail.items, key=lambda i: (i.due_on, i.key)):
            if item.state in OPEN_STATES:
                late = item.state is not ItemState.OPEN or item.due_on < day
                (inbox.overdue if late else inbox.open).append(item)
            elif item.state is ItemState.PENDING:
                blockers = [titles.get(key, key) for key in item.prerequisites
                            if key not in closed]
                if blockers and item.opens_on <= day + timedelta(days=COMING_DAYS):
                    inbox.waiting.append(Waiting(item=item, on=blockers))
                elif day <= item.due_on <= day + timedelta(days=COMING_DAYS):
                    inbox.coming.append(item)
    return inbox


async def latest_year(*, session: AsyncSession, scope: Scope) -> int | None:
    """The latest year any committee within `scope` has a cycle for."""
    year = await session.scalar(
        select(func.max(Cycle.year)).where(scope.where(Cycle.committee_id))
    )
    return int(year) if year is not None else None


def by_urgency(rows: list[SummaryRow]) -> list[SummaryRow]:
    """Open escalations first, then tasks overdue now, then by committee."""
    return sorted(rows, key=lambda r: (-r.open_escalations, -r.overdue_now, r.committee))
