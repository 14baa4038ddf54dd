"""One obligation's state inside a running cycle: its dates, its ladder, its closing.

Plain Python over domain types: every rule here is deterministic and unit-testable without
a Temporal server. The workflow decides *when* to call these methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from domain.calendar import (
    Obligation,
    due_instant,
    ladder_instants,
    start_of_day,
    withdrawn_by_extension,
)
from domain.contracts import CLOSED_STATES, ItemState, ItemStatus, SeededItem
from domain.template import RUNG_ORDER, LadderStep, Rung, TemplateItem

Change = Literal["completing", "extending", "waiving"]
OPEN_STATES = frozenset({ItemState.OPEN, ItemState.OVERDUE, ItemState.ESCALATED})
_ESCALATION_LEVEL = {Rung.PARENT: 1, Rung.BOARD: 2}


@dataclass
class CycleItem:
    """A task of the cycle, from pending to completed or waived."""

    obligation: Obligation
    template_item: TemplateItem
    steps: tuple[LadderStep, ...]
    due_on: date
    state: ItemState = ItemState.PENDING
    fired: set[Rung] = field(default_factory=set)
    # A rung skipped because a fired rung (the value) reached its body already.
    skipped: dict[Rung, Rung] = field(default_factory=dict)
    plan_version: int = 0
    change_in_flight: Change | None = None
    opening: bool = False
    recording_rung: bool = False
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    late: bool = False
    reason: str | None = None
    extensions: int = 0

    @classmethod
    def create(
        cls, obligation: Obligation, template_item: TemplateItem, steps: tuple[LadderStep, ...]
    ) -> CycleItem:
        return cls(
            obligation=obligation, template_item=template_item, steps=steps,
            due_on=obligation.due_on,
        )

    def restore(self, seed: SeededItem) -> None:
        """Take over what an earlier run of the cycle recorded of this task."""
        self.due_on = seed.due_on
        self.opened_at = seed.opened_at
        self.fired = set(seed.rungs)
        self.extensions, self.reason = seed.extensions, seed.reason
        if seed.state in CLOSED_STATES:
            self.state = seed.state
            self.closed_at, self.closed_by, self.late = seed.closed_at, seed.closed_by, seed.late
        self._refresh()

    @property
    def key(self) -> str:
        return self.obligation.key

    @property
    def closed(self) -> bool:
        return self.state in CLOSED_STATES

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def open_instant(self) -> datetime:
        return start_of_day(self.obligation.opens_on)

    @property
    def due_instant(self) -> datetime:
        return due_instant(self.due_on)

    def rungs(self) -> list[tuple[Rung, datetime]]:
        """Every rung with its instant under the current due date, earliest first."""
        return ladder_instants(self.steps, self.due_on)

    def next_rung(self) -> tuple[Rung, datetime] | None:
        """The earliest rung not yet fired, or None when the ladder is climbed."""
        for rung, instant in self.rungs():
            if rung not in self.fired and rung not in self.skipped:
                return rung, instant
        return None

    def skip(self, rungs: list[Rung], *, reached_by: Rung) -> None:
        """`reached_by` has fired and reached these rungs' body: they are not climbed."""
        if reached_by in self.fired:
            self.skipped.update({rung: reached_by for rung in rungs if rung not in self.fired})

    def rung_instant(self, rung: Rung) -> datetime:
        return dict(self.rungs())[rung]

    @property
    def highest_rung(self) -> Rung | None:
        fired = [r for r in RUNG_ORDER if r in self.fired]
        return fired[-1] if fired else None

    def _refresh(self) -> None:
        """Derive an opened, unclosed item's state from the highest rung it has reached."""
        if self.closed or self.opened_at is None:
            return
        rung = self.highest_rung
        if rung in (None, Rung.REMINDER):
            self.state = ItemState.OPEN
        elif rung is Rung.OVERDUE:
            self.state = ItemState.OVERDUE
        else:
            self.state = ItemState.ESCALATED

    def mark_opened(self, at: datetime) -> None:
        self.opened_at = at
        self._refresh()

    def rung_recorded(self, rung: Rung, *, plan_version: int, calendar_now: datetime) -> None:
        """A rung fired under plan `plan_version`; if the plan moved meanwhile, the new plan
        keeps it only when its new instant has passed too."""
        if plan_version == self.plan_version or self.rung_instant(rung) <= calendar_now:
            self.fired.add(rung)
        self._refresh()

    def withdrawn_by(self, new_due_on: date, *, calendar_now: datetime) -> list[Rung]:
        """The reached rungs a move of the due date to `new_due_on` takes back, lowest first:
        those whose new instant is still ahead (exactly what `extend` un-fires)."""
        return withdrawn_by_extension(self.steps, self.fired, new_due_on, calendar_now)

    def extend(self, new_due_on: date, *, calendar_now: datetime, reason: str) -> None:
        """Move the due date; a fired rung whose new instant is still ahead is un-fired."""
        withdrawn = self.withdrawn_by(new_due_on, calendar_now=calendar_now)
        self.due_on = new_due_on
        self.extensions += 1
        self.plan_version += 1
        self.reason = reason
        self.fired -= set(withdrawn)
        self.skipped = {rung: by for rung, by in self.skipped.items() if by in self.fired}
        self._refresh()

    def complete(self, *, at: datetime, actor: str, late: bool) -> None:
        self.state = ItemState.COMPLETED
        self.closed_at = at
        self.closed_by = actor
        self.late = late

    def waive(self, *, at: datetime, actor: str, reason: str) -> None:
        self.state = ItemState.WAIVED
        self.closed_at = at
        self.closed_by = actor
        self.reason = reason

    def status(self) -> ItemStatus:
        item = self.template_item
        rung = self.highest_rung
        return ItemStatus(
            key=self.key,
            item_key=self.obligation.item_key,
            occurrence=self.obligation.occurrence,
            stage=item.stage,
            evidence=item.evidence,
            title_vi=self.obligation.title_vi,
            title_en=self.obligation.title_en,
            state=self.state,
            opens_on=self.obligation.opens_on,
            due_on=self.due_on,
            prerequisites=list(self.obligation.prerequisites),
            rung=rung,
            escalation_level=_ESCALATION_LEVEL.get(rung, 0) if rung else 0,
            opened_at=self.opened_at,
            closed_at=self.closed_at,
            closed_by=self.closed_by,
            late=self.late,
            reason=self.reason,
            extensions=self.extensions,
        )
