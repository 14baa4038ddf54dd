"""Roster rules and the consolidation task, as pure functions; report corrections."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from domain.contracts import CommitteeLevel, RosterTally
from domain.evidence import ReportEvidence, ReportFigures, RosterEvidence, corrections_of
from domain.roster import RosterRule, check_roster, check_tally, consolidation
from domain.template import DEFAULT_TEMPLATE, EvidenceKind, Rung
from tests.domain.samples import EVIDENCE


class Person:
    def __init__(self, committee_member: bool) -> None:
        self.committee_member = committee_member


def test_a_grassroots_committee_needs_a_committee_member_reporter() -> None:
    [violation] = check_roster(CommitteeLevel.GRASSROOTS, [Person(False)] * 4, DEFAULT_TEMPLATE)
    assert (violation.rule, violation.required, violation.actual, violation.shortfall) == (
        RosterRule.GRASSROOTS_MEMBER, 1, 0, 1)
    assert "(1 short)" in violation.message
    assert check_roster(CommitteeLevel.GRASSROOTS, [Person(True)], DEFAULT_TEMPLATE) == []


def test_an_upper_committee_needs_a_team_of_the_templates_size() -> None:
    [violation] = check_tally(CommitteeLevel.UPPER, RosterTally(total=1), DEFAULT_TEMPLATE)
    assert (violation.rule, violation.shortfall) == (RosterRule.UPPER_TEAM_SIZE, 2)
    bigger = DEFAULT_TEMPLATE.model_copy(update={"roster_minimum_upper": 5})
    assert check_tally(CommitteeLevel.UPPER, RosterTally(total=3), DEFAULT_TEMPLATE) == []
    assert check_tally(CommitteeLevel.UPPER, RosterTally(total=3), bigger)[0].shortfall == 2
    assert check_tally(CommitteeLevel.ROOT, RosterTally(), DEFAULT_TEMPLATE) == []


def test_the_consolidation_task_is_due_after_the_templates_days_on_its_own_ladder() -> None:
    obligation, item, steps = consolidation(DEFAULT_TEMPLATE, number=2, opens_on=date(2027, 12, 20))
    assert (obligation.key, obligation.item_key, obligation.occurrence) == (
        "consolidate-2", "consolidate", 2)
    assert (obligation.opens_on, obligation.due_on) == (date(2027, 12, 20), date(2028, 1, 19))
    assert (item.evidence, item.due.year_offset) == (EvidenceKind.ROSTER, 1)
    assert [s.rung for s in steps] == [Rung.REMINDER, Rung.OVERDUE, Rung.PARENT, Rung.BOARD]


def test_roster_terms_and_replacements_are_optional_and_checked() -> None:
    sample = RosterEvidence.model_validate({"kind": "roster", **EVIDENCE[EvidenceKind.ROSTER]})
    assert sample.term_start is None and sample.reporters[0].replaces is None
    with pytest.raises(ValidationError):
        RosterEvidence.model_validate({**EVIDENCE[EvidenceKind.ROSTER], "term_end": "2000-01-01"})


def test_a_report_keeps_its_draft_and_names_only_real_corrections() -> None:
    drafted = ReportFigures(reporters_total=3, listeners=550)
    reported = drafted.model_copy(update={"reporters_total": 4})
    corrections = corrections_of(drafted, reported)
    assert {k: (c.draft, c.reported) for k, c in corrections.items()} == {"reporters_total": (3, 4)}
    old = ReportEvidence.model_validate({"kind": "report", **EVIDENCE[EvidenceKind.REPORT]})
    assert (old.draft, old.corrections, old.committee) == (None, {}, None)  # older reports parse
    with pytest.raises(ValidationError):
        ReportEvidence.model_validate({
            **EVIDENCE[EvidenceKind.REPORT], "corrections": {"colour": {"draft": 1, "reported": 2}}
        })
