"""How far from its cycle year a date may lie (domain.dates)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.dates import dates_outside_window, evidence_window, last_due_day
from domain.evidence import parse_evidence
from domain.template import EvidenceKind

pytestmark = pytest.mark.reliability


def test_a_deadline_moves_at_most_to_the_end_of_the_next_year() -> None:
    assert last_due_day(2031) == date(2032, 12, 31)


def test_the_evidence_window_of_a_year() -> None:
    assert evidence_window(2031) == (date(2000, 1, 1), date(2033, 12, 31))


@pytest.mark.parametrize(
    ("day", "inside"),
    [("2031-03-20", True), ("2026-05-01", True), ("2033-12-31", True), ("2034-01-01", False),
     ("2301-03-20", False), ("1999-12-31", False), ("0001-01-01", False),
     ("9999-12-31", False)],
)
def test_a_conference_date_far_from_its_year_is_outside(day: str, inside: bool) -> None:
    evidence = parse_evidence(
        EvidenceKind.CONFERENCE,
        {"held_on": day, "attendees": 40, "topics": ["Chỉ thị 30"], "listeners": 300},
    )
    found = dates_outside_window(evidence, cycle_year=2031)
    assert found == ([] if inside else [("held_on", date.fromisoformat(day))])


def test_optional_dates_are_walked() -> None:
    evidence = parse_evidence(
        EvidenceKind.REPORT,
        {"period": "h1", "figures": {"reporters_total": 5}, "decision_date": "2999-01-01"},
    )
    assert dates_outside_window(evidence, cycle_year=2031) == [
        ("decision_date", date(2999, 1, 1))
    ]
