"""A cycle's state as of any instant, rebuilt from its history alone.

The items start as the template's obligations for the year, pending; then every decision the
backend recorded (a timeline entry whose outcome is `recorded`) up to the instant is applied in
history order, by the rules the workflow keeps: an opened task's state follows the highest rung
it has reached; an extension moves the due date and withdraws every rung whose new instant is
still ahead; completion and waiver close it. A replay compares this with what the workflow code
itself derives, so the two stay honest with each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import BaseModel, Field
from temporalio.client import WorkflowHistory

from api.services.history.models import EntryKind, Outcome, Timeline, TimelineEntry
from api.services.history.payloads import cycle_input
from api.services.history.reader import timeline as read_timeline
from domain.calendar import (
    Obligation,
    ladder_for,
    ladder_instants,
    obligations,
    withdrawn_by_extension,
)
from domain.contracts import CycleInput, ItemState, ItemStatus, SeededItem
from domain.roster import CONSOLIDATE_ITEM_KEY, consolidation
from domain.task_states import CLOSED_STATES, highest_rung, level_of, state_of
from domain.template import EvidenceKind, LadderStep, Rung, Stage, Template


class HistoricState(BaseModel):
    workflow_id: str
    run_id: str
    committee: str | None
    year: int | None
    as_of: datetime | None = Field(description="None: as of the end of the history.")
    status: str = Field(description="The workflow's status at that instant.")
    last_event_id: int = Field(description="The last history event the state reflects.")
    items: list[ItemStatus]


@dataclass
class _Item:
    status: ItemStatus
    steps: tuple[LadderStep, ...]
    fired: set[Rung] = field(default_factory=set)

    def refresh(self) -> None:
        s = self.status
        if s.state in CLOSED_STATES or s.opened_at is None:
            return
        highest = highest_rung(self.fired)
        s.rung = highest
        s.escalation_level = level_of(highest)
        s.state = state_of(highest)

    def instant(self, rung: Rung, due_on: date) -> datetime | None:
        return dict(ladder_instants(self.steps, due_on)).get(rung)


def _pending(template: Template, obligation: Obligation) -> _Item:
    item = template.item(obligation.item_key)
    return _Item(
        status=ItemStatus(
            key=obligation.key, item_key=obligation.item_key, occurrence=obligation.occurrence,
            stage=item.stage, evidence=item.evidence, title_vi=obligation.title_vi,
            title_en=obligation.title_en, state=ItemState.PENDING, opens_on=obligation.opens_on,
            due_on=obligation.due_on, prerequisites=list(obligation.prerequisites),
        ),
        steps=ladder_for(template, obligation.item_key),
    )


class _Fold:
    def __init__(
        self, template: Template | None, year: int | None, level: str | None = None
    ) -> None:
        self.template = template
        self.items: dict[str, _Item] = {}
        if template is not None and year is not None:
            for obligation in obligations(template, year, level):
                self.items[obligation.key] = _pending(template, obligation)

    def _item(self, entry: TimelineEntry) -> _Item | None:
        key = entry.key or ""
        if key not in self.items and entry.kind is EntryKind.TASK_OPENED:
            self.items[key] = self._added(entry)  # a task the workflow added beyond the template
        return self.items.get(key)

    def _added(self, entry: TimelineEntry) -> _Item:
        recorded = entry.details
        item_key = str(recorded.get("item_key", entry.key))
        steps = self.template.ladder if self.template is not None else ()
        if self.template is not None and any(i.key == item_key for i in self.template.items):
            steps = ladder_for(self.template, item_key)
        assert entry.due_on is not None and entry.key is not None
        return _Item(
            status=ItemStatus(
                key=entry.key, item_key=item_key, occurrence=int(recorded.get("occurrence", 1)),
                stage=Stage(recorded.get("stage", "roster")),
                evidence=EvidenceKind(recorded.get("evidence", "roster")),
                title_vi=str(recorded.get("title_vi", entry.key)),
                title_en=str(recorded.get("title_en", entry.key)), state=ItemState.PENDING,
                opens_on=date.fromisoformat(str(recorded.get("opens_on"))),
                due_on=entry.due_on,
            ),
            steps=tuple(sorted(steps, key=lambda s: s.offset_days)),
        )

    def apply(self, entry: TimelineEntry) -> None:
        item = self._item(entry)
        if item is None:
            return
        s = item.status
        if entry.kind is EntryKind.TASK_OPENED:
            s.opened_at = entry.at
        elif entry.kind is EntryKind.RUNG_REACHED and entry.rung is not None:
            # A rung raised under a due date since moved counts only if its new instant passed.
            instant = item.instant(entry.rung, s.due_on)
            if entry.due_on == s.due_on or (instant and entry.at and instant <= entry.at):
                item.fired.add(entry.rung)
        elif entry.kind is EntryKind.RUNG_WITHDRAWN and entry.rung is not None:
            item.fired.discard(entry.rung)
        elif entry.kind is EntryKind.DEADLINE_EXTENDED and entry.new_due_on is not None:
            s.due_on, s.reason, s.extensions = entry.new_due_on, entry.reason, s.extensions + 1
            if entry.at is not None:
                item.fired -= set(
                    withdrawn_by_extension(item.steps, item.fired, s.due_on, entry.at)
                )
        elif entry.kind is EntryKind.TASK_COMPLETED:
            s.state, s.closed_at, s.closed_by = ItemState.COMPLETED, entry.at, entry.actor
            s.late = bool(entry.late)
        elif entry.kind is EntryKind.TASK_WAIVED:
            s.state, s.closed_at, s.closed_by = ItemState.WAIVED, entry.at, entry.actor
            s.reason = entry.reason
        item.refresh()


    def seed(self, seeds: list[SeededItem]) -> None:
        """A resumed run starts from what earlier runs recorded (its input's seed)."""
        for seed in seeds:
            item = self.items.get(seed.key)
            if item is None and self.template is not None and seed.item_key == (
                    CONSOLIDATE_ITEM_KEY):
                obligation, template_item, steps = consolidation(
                    self.template, number=seed.occurrence, opens_on=seed.opens_on)
                item = self.items[seed.key] = _Item(
                    status=ItemStatus(
                        key=seed.key, item_key=seed.item_key, occurrence=seed.occurrence,
                        stage=template_item.stage, evidence=template_item.evidence,
                        title_vi=template_item.title_vi, title_en=template_item.title_en,
                        state=ItemState.PENDING, opens_on=seed.opens_on,
                        due_on=obligation.due_on,
                    ),
                    steps=steps,
                )
            if item is None:
                continue
            s = item.status
            s.due_on, s.opened_at, s.extensions, s.reason = (
                seed.due_on, seed.opened_at, seed.extensions, seed.reason)
            item.fired = set(seed.rungs)
            item.refresh()  # the rung, level and state it reached while open
            if seed.state in CLOSED_STATES:
                s.state, s.closed_at, s.closed_by, s.late = (
                    seed.state, seed.closed_at, seed.closed_by, seed.late)


def fold(
    read: Timeline, cycle: CycleInput | None, *, as_of: datetime | None = None
) -> HistoricState:
    """The items as the recorded decisions up to `as_of` (a calendar instant) leave them."""
    state = _Fold(
        cycle.template if cycle else None, cycle.year if cycle else None,
        cycle.committee_level.value if cycle else None,
    )
    if cycle is not None and cycle.seed:
        state.seed(cycle.seed)
    last_event_id, status = 0, "running"
    for entry in read.entries:
        if as_of is not None and entry.at is not None and entry.at > as_of:
            continue
        last_event_id = entry.event_id
        if entry.kind is EntryKind.WORKFLOW_ENDED:
            status = read.status
        if entry.outcome is Outcome.RECORDED:
            state.apply(entry)
    return HistoricState(
        workflow_id=read.workflow_id, run_id=read.run_id, committee=read.committee,
        year=read.year, as_of=as_of, status=status, last_event_id=last_event_id,
        items=[item.status for item in state.items.values()],
    )


def state_as_of(history: WorkflowHistory, as_of: datetime | None = None) -> HistoricState:
    """The cycle's state as of the calendar instant `as_of` (None: the end of the history)."""
    return fold(read_timeline(history), cycle_input(history), as_of=as_of)
