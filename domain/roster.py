"""Roster rules: who a committee's reporter team must include, and the task that restores it.

Pure functions over template data: the API checks a roster before it sends it on, the workflow's
validator checks it again, and both name the rule and the shortfall in the same words.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from domain.calendar import Obligation
from domain.contracts import CommitteeLevel, RosterTally
from domain.template import EvidenceKind, LadderStep, MonthDay, Stage, Template, TemplateItem

CONSOLIDATE_ITEM_KEY = "consolidate"


class RosterRule(StrEnum):
    GRASSROOTS_MEMBER = "grassroots-committee-member-reporter"
    UPPER_TEAM_SIZE = "upper-team-size"


class Member(Protocol):
    @property
    def committee_member(self) -> bool: ...


class RosterViolation(BaseModel):
    """One broken rule: which, what it requires, what the team has, and how far short it is."""

    model_config = ConfigDict(frozen=True)

    rule: RosterRule
    required: int
    actual: int
    shortfall: int
    message: str


def tally(reporters: Iterable[Member]) -> RosterTally:
    """Count a team: everyone, and the committee members among them."""
    people = list(reporters)
    return RosterTally(
        total=len(people), committee_members=sum(bool(p.committee_member) for p in people)
    )


def check_tally(
    level: CommitteeLevel, team: RosterTally, template: Template
) -> list[RosterViolation]:
    """The rules a team of this size breaks at this level; empty when the roster holds."""
    if level is CommitteeLevel.GRASSROOTS:
        need, have = template.roster_minimum_grassroots_members, team.committee_members
        if have < need:
            return [
                RosterViolation(
                    rule=RosterRule.GRASSROOTS_MEMBER, required=need, actual=have,
                    shortfall=need - have,
                    message=f"a grassroots committee needs at least {need} reporter(s) who "
                    f"are committee members; the roster has {have} ({need - have} short)",
                )
            ]
    elif level is CommitteeLevel.UPPER:
        need, have = template.roster_minimum_upper, team.total
        if have < need:
            return [
                RosterViolation(
                    rule=RosterRule.UPPER_TEAM_SIZE, required=need, actual=have,
                    shortfall=need - have,
                    message=f"an upper-grassroots committee needs a team of at least {need} "
                    f"reporters; the roster has {have} ({need - have} short)",
                )
            ]
    return []


def check_roster(
    level: CommitteeLevel, reporters: Iterable[Member], template: Template
) -> list[RosterViolation]:
    """The rules a list of reporters breaks at this level; empty when the roster holds."""
    return check_tally(level, tally(reporters), template)


def describe(violations: Iterable[RosterViolation]) -> str:
    return "; ".join(v.message for v in violations)


def consolidation(
    template: Template, *, number: int, opens_on: date
) -> tuple[Obligation, TemplateItem, tuple[LadderStep, ...]]:
    """The `number`th "consolidate the roster" task of a cycle, opening on `opens_on`.

    It is due `template.consolidation_days` later and climbs the template's ladder.
    """
    due_on = opens_on + timedelta(days=template.consolidation_days)
    item = TemplateItem(
        key=CONSOLIDATE_ITEM_KEY, stage=Stage.ROSTER, evidence=EvidenceKind.ROSTER,
        title_vi="Kiện toàn, bổ sung, thay thế báo cáo viên",
        title_en="Consolidate the reporter team",
        opens=MonthDay(month=opens_on.month, day=opens_on.day),
        due=MonthDay(
            month=due_on.month, day=due_on.day,
            year_offset=max(-1, min(1, due_on.year - opens_on.year)),
        ),
    )
    obligation = Obligation(
        key=f"{CONSOLIDATE_ITEM_KEY}-{number}", item_key=CONSOLIDATE_ITEM_KEY,
        occurrence=number, opens_on=opens_on, due_on=due_on, prerequisites=(),
        title_vi=item.title_vi, title_en=item.title_en,
    )
    return obligation, item, tuple(sorted(template.ladder, key=lambda s: s.offset_days))

