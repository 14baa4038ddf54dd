"""One task's state rules, without a server: opening, the ladder, extensions, closing."""

from __future__ import annotations

from datetime import date, datetime

from domain.calendar import HCM, ladder_for, obligations
from domain.contracts import ItemState
from domain.template import DEFAULT_TEMPLATE, Rung
from workflows.items import CycleItem


def at(month: int, dom: int, year: int = 2027) -> datetime:
    return datetime(year, month, dom, tzinfo=HCM)


def plan_item() -> CycleItem:
    obligation = next(o for o in obligations(DEFAULT_TEMPLATE, 2027) if o.key == "plan")
    return CycleItem.create(
        obligation, DEFAULT_TEMPLATE.item("plan"), ladder_for(DEFAULT_TEMPLATE, "plan")
    )


def climbed(item: CycleItem, *rungs: Rung) -> CycleItem:
    for rung in rungs:
        item.rung_recorded(rung, plan_version=item.plan_version, calendar_now=at(3, 1))
    return item


def test_state_follows_the_highest_rung() -> None:
    item = plan_item()
    assert item.status().state is ItemState.PENDING
    assert item.next_rung() == (Rung.REMINDER, at(1, 25))
    item.mark_opened(at(1, 1))
    expected = [
        (Rung.REMINDER, ItemState.OPEN, 0),
        (Rung.OVERDUE, ItemState.OVERDUE, 0),
        (Rung.PARENT, ItemState.ESCALATED, 1),
        (Rung.BOARD, ItemState.ESCALATED, 2),
    ]
    for rung, state, level in expected:
        climbed(item, rung)
        status = item.status()
        assert (status.rung, status.state, status.escalation_level) == (rung, state, level)
    assert item.next_rung() is None


def test_an_extension_unfires_only_the_rungs_now_ahead() -> None:
    item = climbed(plan_item(), Rung.REMINDER, Rung.OVERDUE, Rung.PARENT)
    item.mark_opened(at(1, 1))
    assert item.state is ItemState.ESCALATED
    item.extend(date(2027, 2, 3), calendar_now=at(2, 9), reason="Tết")
    # Reminder (Jan 28) and overdue (Feb 4) stay; parent moves to Feb 11, ahead.
    assert item.fired == {Rung.REMINDER, Rung.OVERDUE}
    assert item.state is ItemState.OVERDUE
    assert item.next_rung() == (Rung.PARENT, at(2, 11))
    assert (item.extensions, item.plan_version, item.reason) == (1, 1, "Tết")


def test_a_rung_recorded_under_an_old_plan_counts_only_if_still_past() -> None:
    item = plan_item()
    item.mark_opened(at(1, 1))
    old_plan = item.plan_version
    item.extend(date(2027, 3, 10), calendar_now=at(1, 26), reason="r")
    item.rung_recorded(Rung.REMINDER, plan_version=old_plan, calendar_now=at(1, 26))
    assert item.fired == set() and item.state is ItemState.OPEN
    item.rung_recorded(Rung.REMINDER, plan_version=old_plan, calendar_now=at(3, 5))
    assert item.fired == {Rung.REMINDER}


def test_closing_keeps_the_state_whatever_the_ladder_does() -> None:
    item = plan_item()
    item.mark_opened(at(1, 1))
    item.complete(at=at(2, 2), actor="staff", late=True)
    climbed(item, Rung.OVERDUE)
    status = item.status()
    assert (status.state, status.late, status.closed_by) == (ItemState.COMPLETED, True, "staff")
    waived = plan_item()
    waived.waive(at=at(1, 2), actor="sup", reason="merged")
    assert waived.closed and waived.status().reason == "merged"
