"""Watching a faulted run: pending activities, the history's attempts, rows recorded, and a
SQLite write lock that holds the backend's recordings in flight.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.client import Client

from api.db import make_engine, make_sessions
from api.models import Cycle, Escalation, Submission, Task, TaskChange


@dataclass(frozen=True)
class Pending:
    activity_id: str
    name: str
    state: str
    attempt: int
    worker: str


async def pending_activities(client: Client, workflow_id: str) -> list[Pending]:
    described = await client.get_workflow_handle(workflow_id).describe()
    return [
        Pending(
            activity_id=p.activity_id, name=p.activity_type.name,
            state=PendingActivityState.Name(p.state), attempt=p.attempt,
            worker=p.last_worker_identity,
        )
        for p in described.raw_description.pending_activities
    ]


async def started_activities(client: Client, workflow_id: str) -> list[Pending]:
    """Activities a worker has picked up and not finished."""
    return [
        p for p in await pending_activities(client, workflow_id)
        if p.state == "PENDING_ACTIVITY_STATE_STARTED"
    ]


@dataclass(frozen=True)
class Attempted:
    activity_id: str
    name: str
    attempts: int
    worker: str
    outcome: str


_FINISHED = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: ("completed", "activity_task_completed"),
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: ("failed", "activity_task_failed"),
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: ("timed out", "activity_task_timed_out"),
}


async def activity_attempts(client: Client, workflow_id: str) -> list[Attempted]:
    """Each finished activity with the attempt that finished it and the worker that ran it.

    The server writes an activity's Started event only when it ends, with the final attempt.
    """
    scheduled: dict[int, tuple[str, str]] = {}
    started: dict[int, tuple[int, str]] = {}
    finished: list[Attempted] = []
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = (attrs.activity_id, attrs.activity_type.name)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            began = event.activity_task_started_event_attributes
            started[began.scheduled_event_id] = (began.attempt, began.identity)
        elif event.event_type in _FINISHED:
            outcome, field = _FINISHED[event.event_type]
            ended = getattr(event, f"{field}_event_attributes")
            activity_id, name = scheduled[ended.scheduled_event_id]
            attempt, identity = started.get(ended.scheduled_event_id, (0, ""))
            finished.append(Attempted(activity_id, name, attempt, identity, outcome))
    return finished


async def workflow_task_workers(
    client: Client, workflow_id: str, *, since: datetime | None = None
) -> list[str]:
    """The identity of the worker that completed each workflow task (those the server recorded
    after `since`, if given), in order."""
    identities = []
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.event_type != EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            continue
        if since is not None and event.event_time.ToDatetime(tzinfo=UTC) <= since:
            continue
        identities.append(event.workflow_task_completed_event_attributes.identity)
    return identities


@contextlib.contextmanager
def sqlite_write_lock(database_url: str) -> Iterator[None]:
    """Hold SQLite's write lock from another connection, as a backup or a migration would.

    In WAL mode readers go on; every write waits in the API's busy handler until release.
    """
    path = Path(database_url.split(":///", 1)[1])
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


async def rows(database_url: str, *, task_key: str | None = None, rung: str | None = None) -> int:
    """How many escalations there are, optionally for one task and rung."""
    engine = make_engine(database_url)
    try:
        async with make_sessions(engine)() as session:
            query = select(func.count()).select_from(Escalation).join(
                Task, Escalation.task_id == Task.id
            )
            if task_key is not None:
                query = query.where(Task.key == task_key)
            if rung is not None:
                query = query.where(Escalation.rung == rung)
            return int(await session.scalar(query) or 0)
    finally:
        await engine.dispose()


async def recordings(database_url: str) -> int:
    """Every row an activity's recording creates: tasks, submissions, escalations, changes and
    closed cycles. Stable while the write lock is held."""
    engine = make_engine(database_url)
    try:
        async with make_sessions(engine)() as session:
            total = 0
            for model in (Task, Submission, Escalation, TaskChange):
                total += int(await session.scalar(select(func.count()).select_from(model)) or 0)
            closed = select(func.count()).select_from(Cycle).where(Cycle.status == "closed")
            return total + int(await session.scalar(closed) or 0)
    finally:
        await engine.dispose()
