"""The as-of summary over random histories: at every day's end of the year, the items counted
as done on time, done late, overdue or waived are exactly the items due by then; an item done
before its day does not count until its day has come."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from api.models import Task, TaskChange
from api.services.summary import tally_cycle
from domain.calendar import due_instant, start_of_day
from domain.contracts import ItemState

YEAR = 2025
FIRST = date(YEAR, 1, 1)
DAYS = 365


def _day(offset: int) -> date:
    return FIRST + timedelta(days=offset)


def _instant(offset_hours: int) -> datetime:
    return start_of_day(FIRST) + timedelta(hours=offset_hours)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[tuple[str, date]], list[Task],
                                         dict[int, list[TaskChange]]]:
    """Planned items; some opened, some extended, some completed (on time or late) or waived."""
    planned: list[tuple[str, date]] = []
    tasks: list[Task] = []
    changes: dict[int, list[TaskChange]] = {}
    for number in range(draw(st.integers(min_value=0, max_value=12))):
        key = f"item-{number}"
        opens = draw(st.integers(min_value=0, max_value=DAYS - 2))
        due = _day(draw(st.integers(min_value=opens, max_value=DAYS - 1)))
        planned.append((key, due))
        if not draw(st.booleans()):
            continue  # never opened: counted from the plan
        opened_at = start_of_day(_day(opens))
        task = Task(id=number + 1, key=key, state=ItemState.OPEN.value, due_on=due,
                    opened_at=opened_at, closed_at=None, late=False)
        if draw(st.booleans()):  # extended once, some time after it opened
            new_due = due + timedelta(days=draw(st.integers(min_value=1, max_value=60)))
            at = opened_at + timedelta(hours=draw(st.integers(min_value=1, max_value=24 * 90)))
            changes[task.id] = [TaskChange(task_id=task.id, change="extended", at=at,
                                           previous_due_on=due, new_due_on=new_due)]
            task.due_on = new_due
        outcome = draw(st.sampled_from(["open", ItemState.COMPLETED, ItemState.WAIVED]))
        if outcome != "open":
            closed_at = opened_at + timedelta(
                hours=draw(st.integers(min_value=1, max_value=24 * 400)))
            task.state = outcome.value
            task.closed_at = closed_at
            task.late = outcome is ItemState.COMPLETED and closed_at >= due_instant(task.due_on)
        tasks.append(task)
    return planned, tasks, changes


@settings(max_examples=150, deadline=None)
@given(histories())
def test_on_time_late_overdue_and_waived_add_up_to_due_at_every_day(
    history: tuple[list[tuple[str, date]], list[Task], dict[int, list[TaskChange]]],
) -> None:
    planned, tasks, changes = history
    for offset in range(0, DAYS + 40, 3):
        at = start_of_day(_day(offset) + timedelta(days=1))  # the end of that day
        counts = tally_cycle(planned=planned, tasks=tasks, changes=changes, escalations=[],
                             at=at).counts
        parts = (counts["done_on_time"], counts["done_late"], counts["overdue_now"],
                 counts["waived"])
        assert sum(parts) == counts["items_due"] <= counts["items_total"], (_day(offset), counts)
        assert counts["items_total"] == len(planned)


def test_an_item_done_before_its_day_counts_only_once_due() -> None:
    due = date(YEAR, 6, 30)
    task = Task(id=1, key="report-h1", state=ItemState.COMPLETED.value, due_on=due,
                opened_at=_instant(24 * 100), closed_at=_instant(24 * 150), late=False)
    before, after = (
        tally_cycle(planned=[("report-h1", due)], tasks=[task], changes={}, escalations=[],
                    at=start_of_day(day)).counts
        for day in (date(YEAR, 6, 20), date(YEAR, 7, 1))
    )
    assert (before["items_due"], before["done_on_time"]) == (0, 0)
    assert (after["items_due"], after["done_on_time"]) == (1, 1)
