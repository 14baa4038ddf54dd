"""The checks the cycle's update validators and handlers share, and the cycle's summary.

Each check raises the ApplicationError the API maps to a problem response; the
`RejectionType` names are the contract (see domain.contracts).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError
from temporalio.exceptions import ApplicationError

from domain.contracts import (
    CommitteeLevel,
    CycleResult,
    ItemState,
    ItemStatus,
    RejectionType,
    RosterTally,
)
from domain.dates import last_due_day
from domain.evidence import RosterEvidence, held_outside_quarter, parse_evidence
from domain.roster import check_tally, describe, tally
from domain.template import EvidenceKind, Template
from workflows.items import CycleItem


def reject(kind: RejectionType, message: str, *details: object) -> ApplicationError:
    return ApplicationError(message, *details, type=kind.value, non_retryable=True)


def check_changeable(
    items: dict[str, CycleItem], key: str, *, must_be_open: bool, or_opening: bool = False
) -> CycleItem:
    """The item a staff or supervisor change is about, if it may change now.

    `or_opening`: an item whose opening is being recorded counts as open. Its task row may
    already exist when the update comes, and an activation applies updates before the
    activity result that marks the item open; the handler then waits for the opening.
    """
    item = items.get(key)
    if item is None:
        raise reject(RejectionType.TASK_NOT_FOUND, f"this cycle has no task {key!r}")
    if item.closed:
        raise reject(RejectionType.TASK_NOT_OPEN, f"task {key!r} is already {item.state}")
    if must_be_open and not item.is_open and not (or_opening and item.opening):
        raise reject(RejectionType.TASK_NOT_OPEN, f"task {key!r} is not open yet")
    if item.change_in_flight is not None:
        raise reject(
            RejectionType.TASK_NOT_OPEN,
            f"task {key!r} is busy: {item.change_in_flight} is in progress",
        )
    return item


def check_evidence(item: CycleItem, evidence: dict[str, Any]) -> BaseModel:
    """The evidence parsed as the item's kind; the rejection names every faulty field."""
    kind = item.template_item.evidence
    try:
        return parse_evidence(kind, evidence, extra="ignore")
    except ValidationError as error:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]) or "evidence", "problem": e["msg"]}
            for e in error.errors()
        ]
        fields = ", ".join(sorted({p["field"] for p in problems}))
        raise reject(
            RejectionType.INVALID_EVIDENCE,
            f"evidence for {item.key!r} is not valid {kind.value} evidence: {fields}",
            problems,
        ) from None


def check_held_in_quarter(item: CycleItem, evidence: BaseModel, *, year: int) -> None:
    """A quarterly conference's evidence names a day in its own quarter (the occurrence)."""
    if item.template_item.recurrence != "quarterly":
        return
    problem = held_outside_quarter(evidence, year=year, quarter=item.obligation.occurrence)
    if problem is not None:
        raise reject(
            RejectionType.INVALID_EVIDENCE,
            f"evidence for {item.key!r} is not valid: {problem}",
            [{"field": "held_on", "problem": problem}],
        )


def check_roster_rule(
    item: CycleItem, evidence: BaseModel, *, level: CommitteeLevel, template: Template,
    team: RosterTally | None,
) -> None:
    """A roster submission must leave a team that keeps the roster rules.

    `team` is the committee's whole active team once the submission is stored, as the API
    counted it; without it, the submitted reporters alone are judged.
    """
    if item.template_item.evidence is not EvidenceKind.ROSTER:
        return
    if team is None:
        assert isinstance(evidence, RosterEvidence)
        team = tally(evidence.reporters)
    violations = check_tally(level, team, template)
    if violations:
        raise reject(
            RejectionType.ROSTER_RULE_BROKEN,
            f"the roster for {item.key!r} breaks the roster rules: {describe(violations)}",
            [v.model_dump(mode="json") for v in violations],
        )


def check_extension(item: CycleItem, new_due_on: date, *, cycle_year: int) -> None:
    """A deadline moves only later, and no further than the end of the next year."""
    if new_due_on <= item.due_on:
        raise reject(
            RejectionType.INVALID_EXTENSION,
            f"the new due date {new_due_on} of {item.key!r} must be after "
            f"its current due date {item.due_on}",
        )
    if new_due_on > last_due_day(cycle_year):
        raise reject(
            RejectionType.INVALID_EXTENSION,
            f"a {cycle_year} task cannot be extended past {last_due_day(cycle_year)}",
        )


def summarise(*, committee: str, year: int, items: list[ItemStatus]) -> CycleResult:
    completed = [s for s in items if s.state is ItemState.COMPLETED]
    return CycleResult(
        committee=committee, year=year, total=len(items),
        on_time=sum(not s.late for s in completed), late=sum(s.late for s in completed),
        waived=sum(s.state is ItemState.WAIVED for s in items), items=items,
    )
