"""Reading workflow histories: what ran (activities, updates) and when (server event times)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory


def event_time(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime().replace(tzinfo=UTC)


@dataclass(frozen=True)
class Actions:
    """A workflow's actions as the benchmark counts them: activities scheduled, updates accepted."""

    activities: int
    updates: int

    @property
    def total(self) -> int:
        return self.activities + self.updates


def count_actions(history: WorkflowHistory) -> Actions:
    activities = updates = 0
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            activities += 1
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            updates += 1
    return Actions(activities=activities, updates=updates)


@dataclass(frozen=True)
class ActivityRun:
    """One activity: its name, its decoded input and when it was scheduled and completed."""

    name: str
    input: Any
    scheduled: datetime
    completed: datetime | None


async def activity_runs(
    client: Client, history: WorkflowHistory, input_types: dict[str, type]
) -> list[ActivityRun]:
    """Every activity of the history whose name is in `input_types`, its input decoded."""
    scheduled: dict[int, tuple[str, Any, datetime]] = {}
    completed: dict[int, datetime] = {}
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            name = attrs.activity_type.name
            if name not in input_types:
                continue
            [value] = await client.data_converter.decode(
                attrs.input.payloads, [input_types[name]]
            )
            scheduled[event.event_id] = (name, value, event_time(event))
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            attrs_done = event.activity_task_completed_event_attributes
            completed[attrs_done.scheduled_event_id] = event_time(event)
    return [
        ActivityRun(name=name, input=value, scheduled=at, completed=completed.get(event_id))
        for event_id, (name, value, at) in scheduled.items()
    ]


async def workflow_input(client: Client, history: WorkflowHistory, input_type: type) -> Any:
    first = history.events[0]
    attrs = first.workflow_execution_started_event_attributes
    [value] = await client.data_converter.decode(attrs.input.payloads, [input_type])
    return value


def started_at(history: WorkflowHistory) -> datetime:
    return event_time(history.events[0])


async def fetch(client: Client, workflow_ids: Sequence[str]) -> list[WorkflowHistory]:
    return [await client.get_workflow_handle(wid).fetch_history() for wid in workflow_ids]


def durations(history: WorkflowHistory) -> dict[str, list[float]]:
    """Seconds from each activity's scheduling to its completion, and from each update's
    acceptance to its completion: where a workflow's actions spend their time."""
    scheduled: dict[int, datetime] = {}
    accepted: dict[str, datetime] = {}
    found: dict[str, list[float]] = {"activity": [], "update": []}
    for event in history.events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled[event.event_id] = event_time(event)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            begun = scheduled.get(event.activity_task_completed_event_attributes.scheduled_event_id)
            if begun is not None:
                found["activity"].append((event_time(event) - begun).total_seconds())
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            attrs = event.workflow_execution_update_accepted_event_attributes
            accepted[attrs.accepted_request.meta.update_id] = event_time(event)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            update_id = event.workflow_execution_update_completed_event_attributes.meta.update_id
            begun = accepted.get(update_id)
            if begun is not None:
                found["update"].append((event_time(event) - begun).total_seconds())
    return found


def median_ms(all_histories: Sequence[WorkflowHistory]) -> dict[str, float | None]:
    """Median activity and update durations over many histories, in milliseconds."""
    pooled: dict[str, list[float]] = {"activity": [], "update": []}
    for history in all_histories:
        for kind, values in durations(history).items():
            pooled[kind].extend(values)
    result: dict[str, float | None] = {}
    for kind, values in pooled.items():
        ordered = sorted(values)
        result[f"{kind}_median_ms"] = (
            round(1000 * ordered[len(ordered) // 2], 1) if ordered else None
        )
    return result
