"""Reading escalations within the caller's reach."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from api.models import Committee, Cycle, Escalation, Task
from api.schemas import EscalationPublic
from api.services.access import Scope
from domain.template import Rung

Target = aliased(Committee)


async def list_public(
    *,
    session: AsyncSession,
    scope: Scope,
    committee: str | None = None,
    status: Literal["open", "resolved"] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[EscalationPublic], int]:
    """Escalations on tasks within `scope`, newest first, and how many match in all."""
    query = (
        select(Escalation, Task, Cycle, Committee, Target.code)
        .join(Task, Escalation.task_id == Task.id)
        .join(Cycle, Task.cycle_id == Cycle.id)
        .join(Committee, Cycle.committee_id == Committee.id)
        .join(Target, Escalation.target_committee_id == Target.id)
        .where(scope.where(Committee.id))
    )
    if committee is not None:
        query = query.where(Committee.code == committee)
    if status == "open":
        query = query.where(Escalation.resolved_at.is_(None))
    elif status == "resolved":
        query = query.where(Escalation.resolved_at.is_not(None))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(Escalation.raised_at.desc(), Escalation.id.desc())
        .limit(limit)
        .offset(offset)
    )
    items = [
        EscalationPublic(
            id=e.id, task_id=t.id, task_key=t.key, committee=c.code, year=cy.year,
            rung=Rung(e.rung), level=e.level, target_committee=target, due_on=e.due_on,
            raised_at=e.raised_at, resolved_at=e.resolved_at,
        )
        for e, t, cy, c, target in rows.tuples()
    ]
    return items, int(total or 0)
