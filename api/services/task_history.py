"""What happened to one task, from the recorded rows: opened, each rung with the committee it
went to, who was told, extensions and waivers with their reasons, and the submission.

For the task's own page; the cycle's full timeline from its Temporal history is
api/services/history (auditors). The caller has checked the task is within reach."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Committee, Escalation, Notification, Submission, Task, TaskChange


@dataclass(frozen=True)
class TaskEvent:
    at: datetime
    kind: str  # opened | rung | told | extended | waived | completed
    actor: str | None = None
    rung: str | None = None
    committee: str | None = None  # a rung's target, or who was told
    reason: str | None = None
    previous_due_on: date | None = None
    new_due_on: date | None = None


async def task_events(*, session: AsyncSession, task_id: int) -> list[TaskEvent]:
    """The task's recorded events, oldest first."""
    task = await session.get(Task, task_id)
    if task is None:
        return []
    # A pending row (changed before it opened) has no opening yet.
    events = [TaskEvent(at=task.opened_at, kind="opened")] if task.opened_at else []
    rungs = await session.execute(
        select(Escalation, Committee.code)
        .join(Committee, Escalation.target_committee_id == Committee.id)
        .where(Escalation.task_id == task_id)
    )
    events += [TaskEvent(at=e.raised_at, kind="rung", rung=e.rung, committee=code)
               for e, code in rungs.tuples()]
    told = await session.execute(
        select(Notification, Committee.code)
        .join(Committee, Notification.recipient_committee_id == Committee.id)
        .where(Notification.task_id == task_id)
    )
    events += [TaskEvent(at=n.created_at, kind="told", rung=n.kind, committee=code)
               for n, code in told.tuples()]
    changes = await session.scalars(select(TaskChange).where(TaskChange.task_id == task_id))
    events += [TaskEvent(at=c.at, kind=c.change, actor=c.actor, reason=c.reason,
                         previous_due_on=c.previous_due_on, new_due_on=c.new_due_on)
               for c in changes]
    submissions = await session.scalars(select(Submission).where(Submission.task_id == task_id))
    events += [TaskEvent(at=s.submitted_at, kind="completed", actor=s.actor) for s in submissions]
    order = {"opened": 0, "rung": 1, "extended": 1, "waived": 1, "completed": 1, "told": 2}
    return sorted(events, key=lambda e: (e.at, order.get(e.kind, 1)))
