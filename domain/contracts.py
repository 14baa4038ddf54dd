"""The workflow's input, status and result, its update inputs, and its activities' inputs.

One model in and one out for every workflow, update, query and activity, so fields can be
added later without breaking running histories. New fields always get defaults.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from domain.template import EvidenceKind, Rung, Stage, Template

WORKFLOW_NAME = "CommitteeCycle"
# Search attributes each cycle is started with, so an operator finds a committee's cycles in
# the Temporal UI and CLI (`CommitteeId='GR' AND CycleYear=2026`). Registered in the namespace
# by `yearwheel dev` and by docker-compose's namespace job: name -> Temporal type.
SEARCH_ATTRIBUTES = {"CommitteeId": "Keyword", "CommitteeLevel": "Keyword", "CycleYear": "Int"}
TASK_QUEUE = "yearwheel"


def cycle_workflow_id(committee: str, year: int) -> str:
    return f"cycle/{committee}/{year}"


class Contract(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CommitteeLevel(StrEnum):
    ROOT = "root"
    UPPER = "upper"
    GRASSROOTS = "grassroots"


class ItemState(StrEnum):
    PENDING = "pending"
    OPEN = "open"
    OVERDUE = "overdue"
    ESCALATED = "escalated"
    COMPLETED = "completed"
    WAIVED = "waived"


CLOSED_STATES = frozenset({ItemState.COMPLETED, ItemState.WAIVED})


class SeededItem(Contract):
    """A task a failed run of the cycle left recorded, as the resumed run takes it over: opened
    (and maybe closed) already, or changed before it opened (pending, no `opened_at`), with its
    due date, extensions and the rungs it reached."""

    key: str
    item_key: str
    occurrence: int = 1
    opens_on: date
    due_on: date
    state: ItemState
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    late: bool = False
    reason: str | None = None
    extensions: int = 0
    rungs: list[Rung] = Field(
        default_factory=list, description="Rungs reached and not withdrawn by an extension."
    )


class CycleInput(Contract):
    committee: str
    year: int = Field(ge=2000, le=2200)
    committee_level: CommitteeLevel = CommitteeLevel.GRASSROOTS
    template: Template
    seconds_per_day: float | None = Field(
        default=None, gt=0, description="Time scale: one calendar day lasts this many seconds."
    )
    calendar_origin: datetime | None = Field(
        default=None,
        description="The calendar instant at the workflow's start when time-scaled; "
        "defaults to the first instant of the cycle year.",
    )
    seed: list[SeededItem] | None = Field(
        default=None,
        description="A resumed cycle: every task an earlier run recorded. The run opens none "
        "of them again and records no rung they already reached.",
    )


class ItemStatus(Contract):
    key: str
    item_key: str
    occurrence: int = 1
    stage: Stage
    evidence: EvidenceKind
    title_vi: str
    title_en: str
    state: ItemState
    opens_on: date
    due_on: date
    prerequisites: list[str] = Field(default_factory=list)
    rung: Rung | None = None
    escalation_level: int = Field(default=0, description="0 none, 1 parent, 2 board.")
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    late: bool = False
    reason: str | None = None
    extensions: int = 0


class CycleStatus(Contract):
    committee: str
    year: int
    template_code: str
    template_version: int
    calendar_now: datetime
    finished: bool
    items: list[ItemStatus]


class CycleResult(Contract):
    committee: str
    year: int
    total: int
    on_time: int
    late: int
    waived: int
    items: list[ItemStatus]


# Updates: staff and supervisors, through the API.


class RosterTally(Contract):
    """A committee's reporter team reduced to what the roster rules look at."""

    total: int = Field(default=0, ge=0)
    committee_members: int = Field(default=0, ge=0)


class CompleteTask(Contract):
    key: str
    actor: str = Field(min_length=1, max_length=200)
    evidence: dict[str, Any]
    submission_ref: str = Field(min_length=1, max_length=100)
    team: RosterTally | None = Field(
        default=None,
        description="A roster submission: the committee's active team once it is stored. "
        "None: the validator checks the submitted reporters alone.",
    )


class ExtendDeadline(Contract):
    key: str
    actor: str = Field(min_length=1, max_length=200)
    new_due_on: date
    reason: str = Field(min_length=1, max_length=2000)


class WaiveTask(Contract):
    key: str
    actor: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


# Signals: the API tells a cycle what changed outside it.


class RosterChanged(Contract):
    """A reporter left or joined; the tally is the committee's active team after the change."""

    change: Literal["left", "added"] = "left"
    reporter: str = ""
    actor: str = "system"
    team: RosterTally = Field(default_factory=RosterTally)


# Activities: what the workflow asks the backend to record.


class TaskDescribed(Contract):
    """A task of the cycle as the workflow describes it, opened or not."""

    workflow_id: str
    committee: str
    year: int
    key: str
    item_key: str
    occurrence: int
    stage: Stage
    evidence: EvidenceKind
    title_vi: str
    title_en: str
    opens_on: date
    due_on: date
    template_code: str | None = Field(
        default=None, description="The template the workflow runs (None: a worker before this)."
    )
    template_version: int | None = None


class TaskOpened(TaskDescribed):
    opened_at: datetime


class CompletionRecorded(Contract):
    workflow_id: str
    key: str
    actor: str
    evidence: dict[str, Any]
    submission_ref: str
    completed_at: datetime
    late: bool
    event_id: int = Field(description="The workflow history event that accepted the completion.")


class LadderStepRecorded(Contract):
    workflow_id: str
    key: str
    rung: Rung
    due_on: date
    at: datetime


class LadderStepWithdrawn(Contract):
    """An extension took back a rung the task had reached: its new instant is still ahead."""

    workflow_id: str
    key: str
    rung: Rung
    due_on: date = Field(description="The due date the rung was raised under.")
    new_due_on: date
    at: datetime
    actor: str
    reason: str


class TaskChanged(Contract):
    """A supervisor's extension or waiver, as the backend records it."""

    workflow_id: str
    key: str
    change: Literal["extended", "waived"]
    actor: str
    reason: str
    at: datetime
    new_due_on: date | None = None
    previous_due_on: date | None = None
    task: TaskDescribed | None = Field(
        default=None,
        description="Sent with a change to a task not yet opened: the backend keeps its row, "
        "pending, from this description until the task opens.",
    )


class CycleClosed(Contract):
    workflow_id: str
    result: CycleResult
    at: datetime


class Recorded(Contract):
    """What a recording activity returns: the backend's row id, and whether it was new."""

    id: int
    created: bool
    also_reached: list[Rung] = Field(
        default_factory=list,
        description="A rung: the later rungs whose body it reached too (skipped by the cycle).",
    )

    @model_serializer(mode="wrap")
    def _without_empty(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Written only when it says something: answers and histories stay as they were."""
        data: dict[str, Any] = handler(self)
        if not self.also_reached:
            data.pop("also_reached", None)
        return data


# Names the API uses to talk to the workflow without importing it.
UPDATE_COMPLETE = "complete_task"
UPDATE_EXTEND = "extend_deadline"
UPDATE_WAIVE = "waive_task"
QUERY_STATUS = "status"
SIGNAL_ROSTER_CHANGED = "roster_changed"


class RejectionType(StrEnum):
    """ApplicationError types the workflow's update validators and handlers raise."""

    TASK_NOT_FOUND = "TaskNotFound"
    TASK_NOT_OPEN = "TaskNotOpen"
    INVALID_EVIDENCE = "InvalidEvidence"
    INVALID_EXTENSION = "InvalidExtension"
    ROSTER_RULE_BROKEN = "RosterRuleBroken"

# Activity names, so workflows refer to activities without importing their HTTP code.
ACTIVITY_OPEN_TASK = "open_task"
ACTIVITY_RECORD_COMPLETION = "record_completion"
ACTIVITY_RECORD_LADDER_STEP = "record_ladder_step"
ACTIVITY_RECORD_TASK_CHANGE = "record_task_change"
ACTIVITY_CLOSE_CYCLE = "close_cycle"
ACTIVITY_WITHDRAW_LADDER_STEP = "withdraw_ladder_step"

ACTIVITY_START_YEAR = "start_year_cycles"
YEAR_WORKFLOW_NAME = "OpenYear"
YEAR_SCHEDULE_ID = "yearwheel-open-year"


class OpenYearInput(Contract):
    """Start every active committee's cycle for a year; the year defaults to the scheduled one."""

    year: int | None = Field(default=None, ge=2000, le=2200)


class YearStarted(Contract):
    year: int
    started: int
    existing: int
