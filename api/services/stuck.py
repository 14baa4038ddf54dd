"""Stuck cycles: what the API refused each cycle last, kept until the cycle records again.

The worker retries a refused recording (401, 403, 404, 409, 422) until a person fixes its
cause, naming its cycle in X-Yearwheel-Cycle. The API keeps one row per cycle (first and last
refusal, how many, the last answer) and deletes it when one of that cycle's calls succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Cycle, StuckCycle
from api.schemas import StuckCyclePublic

REFUSALS = frozenset({401, 403, 404, 409, 422})
MAX_WORKFLOW_ID = 200
MAX_DETAIL = 2000


@dataclass(frozen=True)
class Refusal:
    """One refused call: which cycle it named, what was asked and what was answered."""

    workflow_id: str
    status: int
    method: str
    path: str
    detail: str


async def note(*, session: AsyncSession, refusal: Refusal, at: datetime, known_only: bool) -> bool:
    """Count `refusal` against its cycle; with `known_only`, only for a cycle the API has.

    `known_only` is for callers the API could not identify (401): their header may name
    anything, so it only ever marks a cycle that exists. True when a row was written.
    """
    if known_only and not await session.scalar(
        select(exists().where(Cycle.workflow_id == refusal.workflow_id))
    ):
        return False
    values = {
        "status": refusal.status, "method": refusal.method, "path": refusal.path[:300],
        "detail": refusal.detail[:MAX_DETAIL], "last_seen": at,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(StuckCycle).values(
        workflow_id=refusal.workflow_id, first_seen=at, count=1, **values
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[StuckCycle.workflow_id],
            set_={**values, "count": StuckCycle.count + 1},
        )
    )
    return True


async def is_stuck(*, session: AsyncSession, workflow_id: str) -> bool:
    """Whether a refusal of `workflow_id` is on record (a read: no write lock taken)."""
    return bool(
        await session.scalar(select(exists().where(StuckCycle.workflow_id == workflow_id)))
    )


async def clear(*, session: AsyncSession, workflow_id: str) -> None:
    """The cycle recorded again: forget its refusals."""
    await session.execute(delete(StuckCycle).where(StuckCycle.workflow_id == workflow_id))


async def count(*, session: AsyncSession) -> int:
    """How many cycles are stuck."""
    return int(await session.scalar(select(func.count()).select_from(StuckCycle)) or 0)


async def last_refusal(*, session: AsyncSession, workflow_id: str) -> StuckCyclePublic | None:
    """The cycle's last refusal, if it is stuck."""
    row = await session.get(StuckCycle, workflow_id)
    return None if row is None else to_public(row)


async def list_public(*, session: AsyncSession, limit: int, offset: int) -> list[StuckCyclePublic]:
    """Stuck cycles, the longest stuck first."""
    rows = await session.scalars(
        select(StuckCycle).order_by(StuckCycle.first_seen, StuckCycle.workflow_id)
        .limit(limit).offset(offset)
    )
    return [to_public(row) for row in rows]


def to_public(row: StuckCycle) -> StuckCyclePublic:
    return StuckCyclePublic(
        workflow_id=row.workflow_id, first_seen=row.first_seen, last_seen=row.last_seen,
        status=row.status, method=row.method, path=row.path, detail=row.detail, count=row.count,
    )
