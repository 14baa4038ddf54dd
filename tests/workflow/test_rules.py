"""The update checks and the cycle summary, without a server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest
from temporalio.exceptions import ApplicationError

from domain.calendar import HCM, ladder_for, obligations
from domain.contracts import RejectionType
from domain.template import DEFAULT_TEMPLATE, EvidenceKind
from tests.domain.samples import EVIDENCE
from workflows.items import CycleItem
from workflows.rules import (
    check_changeable,
    check_evidence,
    check_extension,
    check_held_in_quarter,
    summarise,
)

NOON = datetime(2027, 1, 2, 12, tzinfo=HCM)


def cycle_items() -> dict[str, CycleItem]:
    return {
        o.key: CycleItem.create(
            o, DEFAULT_TEMPLATE.item(o.item_key), ladder_for(DEFAULT_TEMPLATE, o.item_key)
        )
        for o in obligations(DEFAULT_TEMPLATE, 2027)
    }


def rejected(
    kind: RejectionType, check: Callable[..., object], *args: object, **kwargs: object
) -> str:
    with pytest.raises(ApplicationError) as caught:
        check(*args, **kwargs)
    assert caught.value.type == kind.value and caught.value.non_retryable
    return caught.value.message


def test_which_items_may_change() -> None:
    items = cycle_items()
    rejected(RejectionType.TASK_NOT_FOUND, check_changeable, items, "nope", must_be_open=False)
    assert check_changeable(items, "plan", must_be_open=False).key == "plan"
    assert "not open yet" in rejected(
        RejectionType.TASK_NOT_OPEN, check_changeable, items, "plan", must_be_open=True
    )
    items["plan"].mark_opened(NOON)
    items["plan"].change_in_flight = "completing"
    assert "completing is in progress" in rejected(
        RejectionType.TASK_NOT_OPEN, check_changeable, items, "plan", must_be_open=True
    )
    items["plan"].change_in_flight = None
    items["plan"].waive(at=NOON, actor="sup", reason="r")
    assert "already waived" in rejected(
        RejectionType.TASK_NOT_OPEN, check_changeable, items, "plan", must_be_open=False
    )


def test_evidence_rejections_carry_every_problem() -> None:
    plan = cycle_items()["plan"]
    message = rejected(RejectionType.INVALID_EVIDENCE, check_evidence, plan, {"summary": ""})
    assert message.endswith("document_date, document_number, summary")
    with pytest.raises(ApplicationError) as caught:
        check_evidence(plan, {"summary": ""})
    [problems] = caught.value.details
    assert {p["field"] for p in problems} == {"document_date", "document_number", "summary"}


def test_extensions() -> None:
    plan = cycle_items()["plan"]
    check_extension(plan, date(2028, 12, 31), cycle_year=2027)
    for too_early_or_late in (date(2027, 1, 31), date(2027, 1, 1), date(2029, 1, 1)):
        rejected(
            RejectionType.INVALID_EXTENSION, check_extension, plan, too_early_or_late,
            cycle_year=2027,
        )


def test_summary_counts() -> None:
    items = cycle_items()
    items["plan"].complete(at=NOON, actor="a", late=False)
    items["roster"].complete(at=NOON, actor="a", late=True)
    items["review"].waive(at=NOON, actor="s", reason="r")
    result = summarise(
        committee="c", year=2027, items=[i.status() for i in items.values()]
    )
    assert (result.total, result.on_time, result.late, result.waived) == (10, 1, 1, 1)


@pytest.mark.parametrize(
    ("key", "held_on", "inside"),
    [("conference-q1", "2027-01-01", True), ("conference-q1", "2027-03-31", True),
     ("conference-q1", "2027-04-01", False), ("conference-q2", "2027-03-31", False),
     ("conference-q4", "2027-12-31", True), ("conference-q4", "2028-01-02", False),
     ("conference-q3", "2026-08-15", False)],
)
def test_a_quarters_conference_is_held_in_that_quarter(
    key: str, held_on: str, inside: bool
) -> None:
    item = cycle_items()[key]
    evidence = check_evidence(item, {**EVIDENCE[EvidenceKind.CONFERENCE], "held_on": held_on})
    if inside:
        check_held_in_quarter(item, evidence, year=2027)
        return
    message = rejected(
        RejectionType.INVALID_EVIDENCE, check_held_in_quarter, item, evidence, year=2027
    )
    assert f"held_on {held_on} is not in quarter {key[-1]} of 2027" in message


def test_the_quarter_rule_leaves_other_tasks_alone() -> None:
    plan = cycle_items()["plan"]
    check_held_in_quarter(plan, check_evidence(plan, EVIDENCE[EvidenceKind.PLAN]), year=2027)
