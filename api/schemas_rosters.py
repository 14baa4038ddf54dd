"""Request and response bodies for rosters, templates and the tree over time.

Same conventions as api.schemas: requests strict and bounded, dates as strings.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from api.schemas import Code, Reason, Strict, UserName
from domain.dates import IsoDate
from domain.roster import RosterViolation

Day = IsoDate  # YYYY-MM-DD; never a number read as a timestamp


# Reporters and the roster rule.


class ReporterCreate(Strict):
    name: UserName
    position: UserName
    committee_member: bool
    level: Literal["central", "provincial", "district"] = "central"
    decision_number: UserName = Field(description="The recognition decision's number.")
    decision_date: Day
    term_start: Day | None = Field(default=None, description="Default: the decision date.")
    term_end: Day | None = None
    replaces: int | None = Field(
        default=None, ge=1, description="The id of the reporter (who has left) this one replaces."
    )

    @model_validator(mode="after")
    def _term_in_order(self) -> ReporterCreate:
        if self.term_end is not None and self.term_end < (self.term_start or self.decision_date):
            raise ValueError("term_end cannot be before the term starts")
        return self


class ReporterLeave(Strict):
    left_on: Day = Field(description="The day the reporter stopped serving.")
    reason: Reason


class ReporterPublic(BaseModel):
    id: int
    committee: str
    name: str
    position: str
    committee_member: bool
    level: str
    decision_number: str
    decision_date: date
    term_start: date
    term_end: date | None
    status: Literal["active", "left"]
    left_on: date | None
    left_reason: str | None
    replaces: int | None
    submission_id: int | None = Field(description="The roster submission that named them.")
    created_at: datetime
    created_by: str


class RosterStatus(BaseModel):
    """The committee's active team against the roster rules of its cycle's template."""

    committee: str
    level: str
    active: int
    committee_members: int
    holds: bool
    violations: list[RosterViolation]
    template_code: str
    template_version: int


class ReporterList(BaseModel):
    items: list[ReporterPublic]
    roster: RosterStatus


class ReporterChanged(BaseModel):
    reporter: ReporterPublic
    roster: RosterStatus
    signalled: list[str] = Field(
        description="The cycles told of the change (workflow ids): a leave that breaks the "
        "rule opens a consolidation task there; an addition that restores it closes one. "
        "They are told once the change has committed; one Temporal did not take is told again "
        "later (every signal_redelivery_seconds), the change standing meanwhile."
    )


# Templates.


class TemplateSummary(BaseModel):
    code: str
    version: int
    items: int
    created_at: datetime


class TemplateList(BaseModel):
    items: list[TemplateSummary]


class TemplatePublic(TemplateSummary):
    body: dict[str, Any] = Field(description="The template, as domain.template.Template.")


# The tree over time.


class MoveCreate(Strict):
    parent: Code = Field(description="The new parent committee's code.")
    effective_on: Day = Field(description="From this day on, the committee is under `parent`.")
    reason: Reason


class ParentLink(BaseModel):
    parent: str
    valid_from: date
    valid_until: date | None = Field(description="The last day of this link; None: current.")
    reason: str
    created_at: datetime
    created_by: str


class ParentHistory(BaseModel):
    committee: str
    name: str
    parent: str | None = Field(description="The parent now (the latest link).")
    links: list[ParentLink]

