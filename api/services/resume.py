"""Resuming a cycle whose workflow ended without closing it (failed under an earlier release,
terminated by hand, timed out): what its runs recorded seeds the next run.

A start of such a cycle (POST /cycles, a bulk start, the yearly Schedule) starts a new run of
the same workflow id. Its input carries every task the database holds for the cycle: opened,
completed or waived, its due date (as extended), its extensions and the rungs still standing
(raised and not withdrawn by an extension; a closed task keeps those it reached). The new run opens
none of them again and raises no rung they already reached; a time-scaled rehearsal resumes
its calendar at the last instant recorded, so nothing recorded lies in the new run's future.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Cycle, Escalation, Task, TaskChange
from domain.calendar import cycle_start
from domain.contracts import ItemState, SeededItem
from domain.template import Rung

log = logging.getLogger(__name__)


async def seeds(
    *, session: AsyncSession, cycles: Sequence[Cycle]
) -> dict[int, list[SeededItem]]:
    """Each open cycle's recorded tasks, by cycle id; a cycle with none is left out."""
    ids = [c.id for c in cycles if c.result is None]
    if not ids:
        return {}
    tasks = list((await session.scalars(
        select(Task).where(Task.cycle_id.in_(ids)).order_by(Task.id)
    )).all())
    if not tasks:
        return {}
    task_ids = [t.id for t in tasks]
    extensions: dict[int, list[datetime]] = {}
    reasons: dict[int, str] = {}
    for change in (await session.scalars(
        select(TaskChange).where(TaskChange.task_id.in_(task_ids))
        .order_by(TaskChange.at, TaskChange.id)
    )).all():
        reasons[change.task_id] = change.reason
        if change.change == "extended":
            extensions.setdefault(change.task_id, []).append(change.at)
    # A rung stands unless an extension withdrew it (resolved it at the extension's instant);
    # a closing resolves the rest, which the closed task keeps as the rungs it reached.
    standing: dict[int, set[Rung]] = {}
    for e in (await session.scalars(
        select(Escalation).where(Escalation.task_id.in_(task_ids))
    )).all():
        if e.resolved_at is None or e.resolved_at not in extensions.get(e.task_id, ()):
            standing.setdefault(e.task_id, set()).add(Rung(e.rung))
    found: dict[int, list[SeededItem]] = {}
    for task in tasks:
        found.setdefault(task.cycle_id, []).append(SeededItem(
            key=task.key, item_key=task.item_key, occurrence=task.occurrence,
            opens_on=task.opens_on, due_on=task.due_on, state=ItemState(task.state),
            opened_at=task.opened_at, closed_at=task.closed_at, closed_by=task.closed_by,
            late=task.late, reason=reasons.get(task.id),
            extensions=len(extensions.get(task.id, ())),
            rungs=sorted(standing.get(task.id, ()), key=list(Rung).index),
        ))
    return found


async def last_recorded(*, session: AsyncSession, cycle: Cycle) -> datetime:
    """The latest calendar instant the cycle's tasks record (their year's first instant if
    none): where a time-scaled rehearsal's calendar resumes."""
    instants: list[datetime] = [cycle_start(cycle.year)]
    tasks = list((await session.scalars(select(Task).where(Task.cycle_id == cycle.id))).all())
    ids = [t.id for t in tasks]
    for task in tasks:
        instants += [i for i in (task.opened_at, task.closed_at) if i is not None]
    if ids:
        instants += list((await session.scalars(
            select(Escalation.raised_at).where(Escalation.task_id.in_(ids))
        )).all())
        instants += list((await session.scalars(
            select(TaskChange.at).where(TaskChange.task_id.in_(ids))
        )).all())
    return max(instants)
