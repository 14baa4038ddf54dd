"""Recording a rung an extension took back: its target hears the escalation is withdrawn.

The workflow decides which reached rungs an extension takes back (domain.calendar.
withdrawn_by_extension) and sends each one here after the extension itself; the extension's
recording only moves the due date. This resolves the escalation, settles the task's state on
the rungs that still stand, tells whoever the escalation reached (the committee, its parent,
the Board) that it no longer stands, and audits it. Idempotent by the escalation: one
`escalation_withdrawn` notification per escalation.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Committee, Cycle, Escalation, Notification, Task
from api.services import recording
from api.services.audit import append_audit
from domain.contracts import LadderStepWithdrawn, Recorded
from domain.template import Rung

KIND = "escalation_withdrawn"


async def record_withdrawal(
    *, session: AsyncSession, event: LadderStepWithdrawn, actor: str
) -> Recorded:
    """Resolve the escalation if still open, notify its target and audit it, once."""
    rows = (
        await session.execute(
            select(Escalation, Task, Committee)
            .join(Task, Escalation.task_id == Task.id)
            .join(Cycle, Task.cycle_id == Cycle.id)
            .join(Committee, Cycle.committee_id == Committee.id)
            .where(
                Cycle.workflow_id == event.workflow_id, Task.key == event.key,
                Escalation.rung == event.rung.value,
                or_(Escalation.due_on == event.due_on, Escalation.resolved_at.is_(None)),
            )
            .order_by(Escalation.id)
        )
    ).all()
    # The rung raised under the due date the event names; else the one still standing (a rung
    # kept by an earlier extension was raised under the due date before that one).
    row = next((r for r in rows if r[0].due_on == event.due_on), rows[-1] if rows else None)
    if row is None:  # nothing was raised, so nothing stands to withdraw
        return Recorded(id=0, created=False)
    escalation, task, committee = row
    told = await session.scalar(
        select(Notification.id).where(
            Notification.escalation_id == escalation.id, Notification.kind == KIND
        )
    )
    if told is not None:
        return Recorded(id=escalation.id, created=False)
    if escalation.resolved_at is None:
        escalation.resolved_at = event.at
        await session.flush()
        standing = await recording.open_rungs(session=session, task=task)
        recording.settle(task, {Rung(e.rung) for e in standing})
    session.add(
        Notification(
            recipient_committee_id=escalation.target_committee_id, task_id=task.id,
            escalation_id=escalation.id, kind=KIND, created_at=event.at,
            message=(
                f"{committee.code}: {task.title_en} — the {event.rung.value} escalation is "
                f"withdrawn: {event.actor} moved the due date from {event.due_on.isoformat()} "
                f"to {event.new_due_on.isoformat()}: {event.reason}"
            )[:1000],
        )
    )
    await session.flush()
    await append_audit(
        session=session, actor=event.actor, action="escalation.withdrawn",
        subject=f"{event.workflow_id}/{event.key}",
        payload={**event.model_dump(mode="json"), "escalation_id": escalation.id,
                 "recorded_by": actor},
    )
    return Recorded(id=escalation.id, created=True)
