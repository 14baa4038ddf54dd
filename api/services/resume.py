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

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from api.models import Cycle, Escalation, Task, TaskChange
from domain.calendar import cycle_start
from domain.contracts import ItemState, SeededItem
from domain.template import Rung

log = logging.getLogger(__name__)

# How long after a run ended a recording it had in flight may still land: the activity's
# start-to-close timeout (30 s, workflows/cycle.py) and a margin.
IN_FLIGHT_GRACE = timedelta(seconds=35)
_ENDED_BY_HAND_OR_FAILURE = frozenset({
    WorkflowExecutionStatus.FAILED, WorkflowExecutionStatus.TERMINATED,
    WorkflowExecutionStatus.CANCELED, WorkflowExecutionStatus.TIMED_OUT,
})


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


def in_flight(history: WorkflowHistory) -> list[str]:
    """The activities a run had scheduled and never heard the end of, by name."""
    scheduled: dict[int, str] = {}
    for event in history.events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            attrs = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = attrs.activity_type.name
        for field in ("activity_task_completed_event_attributes",
                      "activity_task_failed_event_attributes",
                      "activity_task_timed_out_event_attributes",
                      "activity_task_canceled_event_attributes"):
            if event.HasField(field):
                scheduled.pop(getattr(event, field).scheduled_event_id, None)
    return list(scheduled.values())


async def still_landing(
    *, client: Client, workflow_id: str, wait_seconds: float, now: datetime | None = None
) -> tuple[str, datetime] | None:
    """If the cycle's last run ended (failed, terminated) less than IN_FLIGHT_GRACE ago with
    recordings in flight, why a resume must wait, and until when; else None (a running or
    unknown workflow included: the start itself deals with those)."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        async with asyncio.timeout(wait_seconds):
            described = await handle.describe()
            if described.status not in _ENDED_BY_HAND_OR_FAILURE or described.close_time is None:
                return None
            until = described.close_time + IN_FLIGHT_GRACE
            if (now or datetime.now(UTC)) >= until:
                return None
            pending = in_flight(await handle.fetch_history())
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            log.warning("could not read the last run of %s: %r", workflow_id, exc)
        return None
    except (TimeoutError, RuntimeError) as exc:
        log.warning("could not read the last run of %s: %r", workflow_id, exc)
        return None
    if not pending:
        return None
    return (
        f"the last run of cycle {workflow_id} ended at {described.close_time.isoformat()} with "
        f"{len(pending)} recording(s) in flight ({', '.join(sorted(set(pending)))}), which may "
        f"still land; start it again after {until.isoformat()} to resume it from what it "
        "recorded", until,
    )
