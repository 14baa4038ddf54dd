"""Decoding a history's payloads with the project's pydantic data converter, and its calendar."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from temporalio.api.common.v1 import Payloads
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.calendar import HCM, cycle_start
from domain.contracts import (
    ACTIVITY_CLOSE_CYCLE,
    ACTIVITY_OPEN_TASK,
    ACTIVITY_RECORD_COMPLETION,
    ACTIVITY_RECORD_LADDER_STEP,
    ACTIVITY_RECORD_TASK_CHANGE,
    ACTIVITY_WITHDRAW_LADDER_STEP,
    UPDATE_COMPLETE,
    UPDATE_EXTEND,
    UPDATE_WAIVE,
    CompleteTask,
    CompletionRecorded,
    CycleClosed,
    CycleInput,
    ExtendDeadline,
    LadderStepRecorded,
    LadderStepWithdrawn,
    TaskChanged,
    TaskOpened,
    WaiveTask,
    cycle_workflow_id,
)

_converter = pydantic_data_converter.payload_converter


def event_time(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=UTC).astimezone(HCM)


def decode(payloads: Payloads, kind: type[Any] | None = None) -> Any:
    """The first payload, as `kind` when given (else plain JSON values); None if there is none."""
    if not payloads.payloads:
        return None
    return _converter.from_payloads(list(payloads.payloads)[:1], [kind] if kind else None)[0]


def typed(payloads: Payloads, kind: type[BaseModel]) -> Any:
    """`kind` if the payload is one (a history written by other code may not be), else JSON."""
    raw = decode(payloads)
    try:
        return kind.model_validate(raw)
    except ValidationError:
        return raw


ACTIVITY_INPUTS: dict[str, type[BaseModel]] = {
    ACTIVITY_OPEN_TASK: TaskOpened, ACTIVITY_RECORD_COMPLETION: CompletionRecorded,
    ACTIVITY_RECORD_LADDER_STEP: LadderStepRecorded, ACTIVITY_RECORD_TASK_CHANGE: TaskChanged,
    ACTIVITY_CLOSE_CYCLE: CycleClosed, ACTIVITY_WITHDRAW_LADDER_STEP: LadderStepWithdrawn,
}
UPDATE_INPUTS: dict[str, type[BaseModel]] = {
    UPDATE_COMPLETE: CompleteTask, UPDATE_EXTEND: ExtendDeadline, UPDATE_WAIVE: WaiveTask,
}


def cycle_input(history: WorkflowHistory) -> CycleInput | None:
    """The cycle's input from its start event, or None if the history is not a cycle's."""
    first = history.events[0] if history.events else None
    if first is None or not first.HasField("workflow_execution_started_event_attributes"):
        return None
    found = typed(first.workflow_execution_started_event_attributes.input, CycleInput)
    return found if isinstance(found, CycleInput) else None


def workflow_id_of(history: WorkflowHistory) -> str:
    """The history's workflow id: the one it carries, else the cycle id its input names."""
    if history.workflow_id:
        return history.workflow_id
    first = history.events[0] if history.events else None
    if first is not None and first.workflow_execution_started_event_attributes.workflow_id:
        return str(first.workflow_execution_started_event_attributes.workflow_id)
    cycle = cycle_input(history)
    return cycle_workflow_id(cycle.committee, cycle.year) if cycle else ""


def load(text: str | dict[str, Any], workflow_id: str = "") -> WorkflowHistory:
    """A history from its JSON (ours, the CLI's or the UI's); the id is read from it if unknown."""
    history = WorkflowHistory.from_json(workflow_id, text)
    return history if workflow_id else WorkflowHistory(workflow_id_of(history), history.events)


class Calendar:
    """The cycle's calendar at a real instant: the clock the workflow keeps (workflows/clock.py),
    computed again from the start event so the history is read without the workflow code."""

    def __init__(self, cycle: CycleInput | None, started: datetime) -> None:
        self.started = started
        self.seconds_per_day = cycle.seconds_per_day if cycle else None
        origin = cycle.calendar_origin if cycle else None
        self.origin = origin or (cycle_start(cycle.year) if cycle else started)

    def at(self, real: datetime) -> datetime:
        if self.seconds_per_day is None:
            return real.astimezone(HCM)
        factor = 86_400 / self.seconds_per_day
        return (self.origin + (real - self.started) * factor).astimezone(HCM)
