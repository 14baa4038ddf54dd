"""Timelines and past states read from the saved histories alone, without the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from api.services.history import EntryKind, Outcome, load, state_as_of, timeline
from api.services.history.state import HistoricState
from domain.calendar import HCM
from domain.contracts import ItemState, ItemStatus
from tests.replay.test_histories import HISTORIES, saved

SEVEN_HOURS = timedelta(hours=7)


def item(state: HistoricState, key: str) -> ItemStatus:
    return next(i for i in state.items if i.key == key)


def when(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=HCM)


def test_a_late_plan_climbs_every_rung_in_order_then_comes_in_late() -> None:
    read = timeline(saved("late"))
    y = read.year
    assert y is not None and (read.status, read.committee) == ("completed", "LATE")
    plan = [e for e in read.entries if e.key == "plan"]
    assert [(e.kind.value, e.rung and e.rung.value) for e in plan] == [
        ("task_opened", None), ("rung_reached", "reminder"), ("rung_reached", "overdue"),
        ("rung_reached", "parent"), ("rung_reached", "board"), ("task_completed", None),
    ]
    assert [e.at for e in plan[1:5]] == [
        when(y, 1, 25), when(y, 2, 1), when(y, 2, 8), when(y, 2, 15)
    ]
    assert [e.escalation_level for e in plan[1:5]] == [0, 0, 1, 2]
    done = plan[-1]
    assert done.at is not None and done.at.tzinfo is HCM
    assert (done.actor, done.late, done.at.replace(microsecond=0)) == (
        "staff-LATE", True, when(y, 2, 20, 9)
    )
    assert done.evidence is not None and done.evidence["document_number"]
    assert done.update_id and done.update_id.startswith("complete/")
    assert done.submission_ref and done.outcome is Outcome.RECORDED
    for entry in read.entries:  # both clocks are read in Asia/Ho_Chi_Minh
        assert entry.event_time.utcoffset() == SEVEN_HOURS
        assert entry.at is None or entry.at.utcoffset() == SEVEN_HOURS
    assert [e.event_id for e in read.entries] == sorted(e.event_id for e in read.entries)
    assert read.result is not None and (read.result.on_time, read.result.late) == (8, 2)


def test_extensions_and_waivers_carry_who_and_why() -> None:
    extended = timeline(saved("extended"))
    change = next(e for e in extended.entries if e.kind is EntryKind.DEADLINE_EXTENDED)
    assert (change.key, change.actor, str(change.due_on), str(change.new_due_on)) == (
        "plan", "supervisor-demo", f"{extended.year}-01-31", f"{extended.year}-03-15"
    )
    assert change.reason and "kiện toàn" in change.reason
    waived = timeline(saved("waived"))
    waivers = [(e.key, e.actor, e.reason) for e in waived.entries
               if e.kind is EntryKind.TASK_WAIVED]
    assert [(k, a) for k, a, _ in waivers] == [
        ("roster", "supervisor-demo"), ("conference-q4", "supervisor-demo"),
        ("review", "board-demo"),
    ]
    assert all(reason for _, _, reason in waivers)


def test_a_roster_signal_and_the_task_it_opens_are_on_the_timeline() -> None:
    read = timeline(saved("roster-consolidation"))
    signals = [e for e in read.entries if e.kind is EntryKind.SIGNAL_RECEIVED]
    assert [("left" in e.summary, "added" in e.summary) for e in signals] == [
        (True, False), (False, True)
    ]
    added = [e for e in read.entries if e.key == "consolidate-1"]
    assert [e.kind for e in added] == [
        EntryKind.TASK_OPENED, EntryKind.RUNG_REACHED, EntryKind.TASK_COMPLETED
    ]


def test_timers_are_listed_on_request_with_the_calendar_instant_they_wake_at() -> None:
    history = saved("late-running")
    assert not [e for e in timeline(history).entries if e.kind is EntryKind.TIMER_STARTED]
    timers = [e for e in timeline(history, timers=True).entries
              if e.kind is EntryKind.TIMER_STARTED]
    wakes = {e.details["wakes_at"].replace(microsecond=0) for e in timers}
    y = timeline(history).year
    assert y is not None
    assert {when(y, 1, 1), when(y, 1, 25), when(y, 2, 1), when(y, 2, 8), when(y, 2, 15)} <= wakes


def test_the_state_as_of_any_instant_follows_the_plan_up_its_ladder() -> None:
    history = saved("late")
    y = timeline(history).year
    assert y is not None
    before = state_as_of(history, when(y - 1, 12, 31))
    assert {i.state for i in before.items} == {ItemState.PENDING}
    steps = [
        (when(y, 1, 20), ItemState.OPEN, None, 0),
        (when(y, 1, 26), ItemState.OPEN, "reminder", 0),
        (when(y, 2, 2), ItemState.OVERDUE, "overdue", 0),
        (when(y, 2, 10), ItemState.ESCALATED, "parent", 1),
        (when(y, 2, 16), ItemState.ESCALATED, "board", 2),
        (when(y, 2, 21), ItemState.COMPLETED, "board", 2),
    ]
    for instant, state, rung, level in steps:
        plan = item(state_as_of(history, instant), "plan")
        assert (plan.state, plan.rung, plan.escalation_level) == (state, rung, level), instant
    assert item(state_as_of(history, when(y, 2, 21)), "roster").state is ItemState.OPEN
    end = state_as_of(history)
    assert end.status == "completed" and end.as_of is None
    assert {i.state for i in end.items} == {ItemState.COMPLETED}


def test_an_extension_takes_the_plan_back_down_its_ladder() -> None:
    history = saved("extended")
    y = timeline(history).year
    assert y is not None
    escalated = item(state_as_of(history, when(y, 2, 9)), "plan")
    assert (escalated.state, escalated.escalation_level) == (ItemState.ESCALATED, 1)
    after = item(state_as_of(history, when(y, 2, 11)), "plan")
    assert (after.state, after.rung, after.escalation_level) == (ItemState.OPEN, None, 0)
    assert (str(after.due_on), after.extensions) == (f"{y}-03-15", 1)
    assert after.reason and "kiện toàn" in after.reason


def test_a_waived_task_is_closed_by_whoever_waived_it() -> None:
    history = saved("waived")
    y = timeline(history).year
    assert y is not None
    review = item(state_as_of(history, when(y, 12, 10)), "review")
    assert (review.state, review.closed_by, review.escalation_level) == (
        ItemState.WAIVED, "board-demo", 1
    )
    assert item(state_as_of(history, when(y, 12, 10)), "report-year").state is ItemState.OPEN


def test_histories_load_without_knowing_their_workflow_id() -> None:
    for path in HISTORIES.glob("*.json"):
        history = load(path.read_text())
        assert history.workflow_id.startswith("cycle/") and history.workflow_id.endswith("/2027")
