"""The timeline: one pass over a history's events, in the order the workflow decided."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

from api.services.history.models import EntryKind, Outcome, Timeline, TimelineEntry
from api.services.history.payloads import (
    ACTIVITY_INPUTS,
    UPDATE_INPUTS,
    Calendar,
    cycle_input,
    decode,
    event_time,
    typed,
    workflow_id_of,
)
from domain.calendar import HCM
from domain.contracts import (
    SIGNAL_ROSTER_CHANGED,
    UPDATE_COMPLETE,
    UPDATE_EXTEND,
    UPDATE_WAIVE,
    CompletionRecorded,
    CycleClosed,
    CycleResult,
    LadderStepRecorded,
    LadderStepWithdrawn,
    RosterChanged,
    TaskChanged,
    TaskOpened,
)
from domain.task_states import level_of
from domain.template import Rung

_E = EventType
UPDATE_KINDS = {UPDATE_COMPLETE: EntryKind.TASK_COMPLETED, UPDATE_EXTEND:
                EntryKind.DEADLINE_EXTENDED, UPDATE_WAIVE: EntryKind.TASK_WAIVED}


def timeline(history: WorkflowHistory, *, timers: bool = False) -> Timeline:
    """Every decision of the cycle in history order; the workflow's timers too when `timers`."""
    return _Reader(history, timers=timers).read()


_RUNG_SAID = {
    Rung.REMINDER: "reminder sent to the committee", Rung.OVERDUE: "overdue",
    Rung.PARENT: "escalated to the parent committee", Rung.BOARD: "escalated to the Board",
}
_ENDED = {
    _E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "completed",
    _E.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "failed",
    _E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: "terminated",
    _E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: "canceled",
    _E.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: "timed_out",
    _E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "continued_as_new",
}
_ACTIVITY_ENDED = {
    _E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "activity_task_completed_event_attributes",
    _E.EVENT_TYPE_ACTIVITY_TASK_FAILED: "activity_task_failed_event_attributes",
    _E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "activity_task_timed_out_event_attributes",
    _E.EVENT_TYPE_ACTIVITY_TASK_CANCELED: "activity_task_canceled_event_attributes",
}


class _Reader:
    """One pass over the events; activity and update entries are completed as answers arrive."""

    def __init__(self, history: WorkflowHistory, *, timers: bool) -> None:
        self.history = history
        self.timers = timers
        self.cycle = cycle_input(history)
        self.entries: list[TimelineEntry] = []
        self.activities: dict[int, TimelineEntry] = {}
        self.updates: dict[str, TimelineEntry] = {}  # update id -> its entry
        self.unlinked: list[tuple[str, BaseModel, TimelineEntry]] = []  # accepted, no activity yet
        self.task_started: datetime | None = None
        self.status = "running"
        self.result: CycleResult | None = None
        started = history.events[0].event_time.ToDatetime(tzinfo=UTC) if history.events else None
        self.calendar = Calendar(self.cycle, started or datetime.now(UTC))

    def read(self) -> Timeline:
        for event in self.history.events:
            self._event(event)
        cycle = self.cycle
        return Timeline(
            workflow_id=workflow_id_of(self.history),
            run_id=self.history.run_id if self.history.events else "", status=self.status,
            committee=cycle.committee if cycle else None, year=cycle.year if cycle else None,
            template_code=cycle.template.code if cycle else None,
            template_version=cycle.template.version if cycle else None,
            seconds_per_day=cycle.seconds_per_day if cycle else None,
            result=self.result, entries=self.entries,
        )

    def _add(
        self, event: HistoryEvent, kind: EntryKind, summary: str, **fields: Any
    ) -> TimelineEntry:
        real = event_time(event)
        at = fields.get("at") or self.calendar.at(real)
        fields["at"] = at.astimezone(HCM)  # recorded with an offset: named in the zone again
        entry = TimelineEntry(event_id=event.event_id, kind=kind, summary=summary,
                              event_time=real, **fields)
        self.entries.append(entry)
        return entry

    def _event(self, event: HistoryEvent) -> None:
        kind = event.event_type
        if kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            self._started(event)
        elif kind == _E.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            self.task_started = event_time(event)
        elif kind == _E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            self._scheduled(event)
        elif kind in _ACTIVITY_ENDED:
            self._activity_ended(event, getattr(event, _ACTIVITY_ENDED[kind]))
        elif kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            self._accepted(event)
        elif kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            self._update_completed(event)
        elif kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            self._signalled(event)
        elif kind == _E.EVENT_TYPE_MARKER_RECORDED:
            self._marker(event)
        elif kind in (_E.EVENT_TYPE_TIMER_STARTED, _E.EVENT_TYPE_TIMER_FIRED):
            self._timer(event)
        elif kind in _ENDED:
            self._ended(event, _ENDED[kind])

    def _started(self, event: HistoryEvent) -> None:
        cycle = self.cycle
        if cycle is None:
            self._add(event, EntryKind.CYCLE_STARTED, "workflow started (not a cycle)")
            return
        scale = f"; 1 day = {cycle.seconds_per_day:g} s" if cycle.seconds_per_day else ""
        self._add(
            event, EntryKind.CYCLE_STARTED,
            f"cycle of {cycle.committee} for {cycle.year} started with template "
            f"{cycle.template.code} v{cycle.template.version}{scale}",
            details={"committee_level": cycle.committee_level.value,
                     "obligations": len(cycle.template.items)},
        )

    def _scheduled(self, event: HistoryEvent) -> None:
        attrs = event.activity_task_scheduled_event_attributes
        name = attrs.activity_type.name
        model = ACTIVITY_INPUTS.get(name)
        value = typed(attrs.input, model) if model else decode(attrs.input)
        entry = self._activity_entry(event, name, value)
        if entry is not None:
            entry.outcome = Outcome.PENDING
            entry.details.setdefault("activity", name)
            self.activities[event.event_id] = entry

    def _activity_entry(self, event: HistoryEvent, name: str, value: Any) -> TimelineEntry | None:
        if isinstance(value, TaskOpened):
            return self._add(
                event, EntryKind.TASK_OPENED,
                f"{value.key} opened: {value.title_en}; due {value.due_on.isoformat()}",
                at=value.opened_at, key=value.key, due_on=value.due_on,
                details=value.model_dump(
                    mode="json", include={"item_key", "occurrence", "stage", "evidence",
                                          "title_vi", "title_en", "opens_on"}),
            )
        if isinstance(value, LadderStepRecorded):
            return self._add(
                event, EntryKind.RUNG_REACHED,
                f"{value.key}: {_RUNG_SAID[value.rung]} (due {value.due_on.isoformat()})",
                at=value.at, key=value.key, rung=value.rung,
                escalation_level=level_of(value.rung), due_on=value.due_on,
            )
        if isinstance(value, CompletionRecorded):
            return self._linked(event, UPDATE_COMPLETE, EntryKind.TASK_COMPLETED,
                f"{value.key} completed by {value.actor} ({'late' if value.late else 'on time'})",
                at=value.completed_at, key=value.key, actor=value.actor, late=value.late,
                evidence=value.evidence, submission_ref=value.submission_ref)
        if isinstance(value, TaskChanged) and value.change == "extended":
            return self._linked(event, UPDATE_EXTEND, EntryKind.DEADLINE_EXTENDED,
                f"{value.key} extended by {value.actor} from {value.previous_due_on} to "
                f"{value.new_due_on}: {value.reason}", at=value.at, key=value.key,
                actor=value.actor, due_on=value.previous_due_on, new_due_on=value.new_due_on,
                reason=value.reason)
        if isinstance(value, TaskChanged):
            return self._linked(event, UPDATE_WAIVE, EntryKind.TASK_WAIVED,
                f"{value.key} waived by {value.actor}: {value.reason}", at=value.at,
                key=value.key, actor=value.actor, reason=value.reason)
        if isinstance(value, CycleClosed):
            r = value.result
            return self._add(
                event, EntryKind.CYCLE_CLOSED, f"cycle closed: {r.total} tasks, {r.on_time} on "
                f"time, {r.late} late, {r.waived} waived", at=value.at,
                details={"total": r.total, "on_time": r.on_time, "late": r.late,
                         "waived": r.waived},
            )
        if isinstance(value, LadderStepWithdrawn):
            return self._add(
                event, EntryKind.RUNG_WITHDRAWN,
                f"{value.key}: the {value.rung.value} rung is withdrawn; {value.actor} moved the "
                f"due date to {value.new_due_on}", at=value.at, key=value.key, rung=value.rung,
                escalation_level=level_of(value.rung), due_on=value.due_on,
                new_due_on=value.new_due_on, actor=value.actor, reason=value.reason,
            )
        return None

    def _linked(self, event: HistoryEvent, update: str, kind: EntryKind, summary: str,
                **fields: Any) -> TimelineEntry:
        """The entry of an activity an accepted update asked for: the update's entry, filled."""
        key = fields["key"]
        for index, (name, command, entry) in enumerate(self.unlinked):
            if name == update and getattr(command, "key", None) == key:
                del self.unlinked[index]
                self.entries.remove(entry)
                linked = self._add(event, kind, summary, update_id=entry.update_id, **fields)
                linked.details["accepted_event_id"] = entry.event_id
                linked.details["accepted_time"] = entry.event_time.isoformat()
                self.updates[entry.update_id or ""] = linked
                return linked
        return self._add(event, kind, summary, **fields)

    def _accepted(self, event: HistoryEvent) -> None:
        request = event.workflow_execution_update_accepted_event_attributes.accepted_request
        name, update_id = request.input.name, request.meta.update_id
        model = UPDATE_INPUTS.get(name)
        command = typed(request.input.args, model) if model else decode(request.input.args)
        key = getattr(command, "key", None)
        actor = getattr(command, "actor", None)
        entry = self._add(
            event, UPDATE_KINDS.get(name, EntryKind.SIGNAL_RECEIVED),
            f"{key}: {name} requested by {actor}", key=key, actor=actor, update_id=update_id,
            outcome=Outcome.PENDING, reason=getattr(command, "reason", None),
            new_due_on=getattr(command, "new_due_on", None),
            details={"update": name, "accepted_event_id": event.event_id},
        )
        self.updates[update_id] = entry
        if isinstance(command, BaseModel):
            self.unlinked.append((name, command, entry))

    def _update_completed(self, event: HistoryEvent) -> None:
        attrs = event.workflow_execution_update_completed_event_attributes
        entry = self.updates.get(attrs.meta.update_id)
        if entry is None or not attrs.outcome.HasField("failure"):
            return
        failure = attrs.outcome.failure
        entry.outcome = Outcome.FAILED
        entry.failure = failure.message
        entry.summary += f" — refused: {failure.message}"
        self.unlinked = [u for u in self.unlinked if u[2] is not entry]

    def _activity_ended(self, event: HistoryEvent, attrs: Any) -> None:
        entry = self.activities.get(attrs.scheduled_event_id)
        if entry is None:
            return
        entry.recorded_time = event_time(event)
        if event.event_type == _E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            entry.outcome = Outcome.RECORDED
            entry.details["recorded"] = decode(attrs.result)
            return
        entry.outcome = Outcome.FAILED
        failure = getattr(attrs, "failure", None)
        cause = failure.cause.message if failure is not None and failure.HasField("cause") else ""
        entry.failure = (failure.message if failure is not None else "") + (
            f": {cause}" if cause else "") or "the activity did not finish"

    def _signalled(self, event: HistoryEvent) -> None:
        attrs = event.workflow_execution_signaled_event_attributes
        payload = decode(attrs.input)
        summary = f"signal {attrs.signal_name} received"
        actor = None
        if attrs.signal_name == SIGNAL_ROSTER_CHANGED:
            change = typed(attrs.input, RosterChanged)
            if isinstance(change, RosterChanged):
                actor = change.actor
                summary = (
                    f"roster: {change.reporter or 'a reporter'} {change.change} "
                    f"(told by {change.actor}); the active team is {change.team.total}, "
                    f"{change.team.committee_members} of them committee members"
                )
        self._add(event, EntryKind.SIGNAL_RECEIVED, summary, actor=actor,
                  details={"signal": attrs.signal_name, "input": payload})

    def _marker(self, event: HistoryEvent) -> None:
        attrs = event.marker_recorded_event_attributes
        patch = decode(attrs.details["patch-data"]) if "patch-data" in attrs.details else None
        patch_id = patch.get("id") if isinstance(patch, dict) else None
        self._add(event, EntryKind.CODE_PATCHED,
                  f"workflow code patch {patch_id or attrs.marker_name!r} in effect from here",
                  details={"marker": attrs.marker_name, "patch": patch_id})

    def _timer(self, event: HistoryEvent) -> None:
        if not self.timers:
            return
        if event.event_type == _E.EVENT_TYPE_TIMER_FIRED:
            timer_id = event.timer_fired_event_attributes.timer_id
            self._add(event, EntryKind.TIMER_FIRED, f"timer {timer_id} fired",
                      details={"timer_id": timer_id})
            return
        attrs = event.timer_started_event_attributes
        wake = (self.task_started or event_time(event)) + attrs.start_to_fire_timeout.ToTimedelta()
        self._add(event, EntryKind.TIMER_STARTED,
                  f"timer {attrs.timer_id} set to wake at {self.calendar.at(wake):%Y-%m-%d %H:%M}",
                  details={"timer_id": attrs.timer_id, "wakes_at": self.calendar.at(wake)})

    def _ended(self, event: HistoryEvent, status: str) -> None:
        self.status = status
        details: dict[str, Any] = {}
        if event.event_type == _E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            result = typed(event.workflow_execution_completed_event_attributes.result,
                            CycleResult)
            self.result = result if isinstance(result, CycleResult) else None
        elif event.event_type == _E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
            details["reason"] = event.workflow_execution_terminated_event_attributes.reason
        elif event.event_type == _E.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
            details["failure"] = event.workflow_execution_failed_event_attributes.failure.message
        said = f": {next(iter(details.values()))}" if details else ""
        self._add(event, EntryKind.WORKFLOW_ENDED, f"workflow {status}{said}", details=details)
