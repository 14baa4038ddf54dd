"""What a history reads as: timeline entries, in order, each with its two times."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from domain.contracts import CycleResult
from domain.template import Rung


class EntryKind(StrEnum):
    CYCLE_STARTED = "cycle_started"
    TASK_OPENED = "task_opened"
    TASK_COMPLETED = "task_completed"
    RUNG_REACHED = "rung_reached"
    RUNG_WITHDRAWN = "rung_withdrawn"
    DEADLINE_EXTENDED = "deadline_extended"
    TASK_WAIVED = "task_waived"
    SIGNAL_RECEIVED = "signal_received"
    CODE_PATCHED = "code_patched"
    TIMER_STARTED = "timer_started"
    TIMER_FIRED = "timer_fired"
    CYCLE_CLOSED = "cycle_closed"
    WORKFLOW_ENDED = "workflow_ended"


class Outcome(StrEnum):
    """What became of a decision: the backend recorded it, it is still in flight, or it failed."""

    RECORDED = "recorded"
    PENDING = "pending"
    FAILED = "failed"


class TimelineEntry(BaseModel):
    event_id: int = Field(description="The history event the entry is read from.")
    kind: EntryKind
    summary: str
    event_time: datetime = Field(description="When Temporal wrote the event (Asia/Ho_Chi_Minh).")
    at: datetime | None = Field(
        default=None, description="The calendar instant the workflow recorded (Asia/Ho_Chi_Minh)."
    )
    key: str | None = None
    actor: str | None = None
    rung: Rung | None = None
    escalation_level: int | None = None
    due_on: date | None = None
    new_due_on: date | None = None
    reason: str | None = None
    late: bool | None = None
    evidence: dict[str, Any] | None = None
    submission_ref: str | None = None
    update_id: str | None = None
    outcome: Outcome | None = None
    failure: str | None = None
    recorded_time: datetime | None = Field(
        default=None, description="When the backend's answer reached the workflow."
    )
    details: dict[str, Any] = Field(default_factory=dict)


class Timeline(BaseModel):
    workflow_id: str
    run_id: str
    status: str = Field(description="running, or how the workflow ended.")
    committee: str | None = None
    year: int | None = None
    template_code: str | None = None
    template_version: int | None = None
    seconds_per_day: float | None = None
    result: CycleResult | None = Field(default=None, description="The recorded result, if ended.")
    entries: list[TimelineEntry]
