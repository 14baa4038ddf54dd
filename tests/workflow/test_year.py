"""A whole year: every task done on time, and a mixed year's counts."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from domain.calendar import start_of_day
from domain.contracts import CLOSED_STATES, ItemState
from domain.template import Rung
from tests.workflow.support import OPEN_STATES, RunningCycle, day, running_cycle

ALL_KEYS = [
    "plan", "disseminate", "roster", "conference-q1", "conference-q2", "conference-q3",
    "conference-q4", "review", "report-h1", "report-year",
]


async def complete_everything_as_it_opens(cycle: RunningCycle) -> None:
    """Complete each task the moment it opens, skipping time to the next opening day."""
    while True:
        status = await cycle.settle()
        opened = [i for i in status.items if i.state in OPEN_STATES]
        for item in opened:
            await cycle.complete(item.key)
        if opened:
            continue
        if all(i.state in CLOSED_STATES for i in status.items):
            return
        now = await cycle.calendar_now()
        upcoming = [
            start_of_day(i.opens_on) for i in status.items
            if i.state is ItemState.PENDING and start_of_day(i.opens_on) > now
        ]
        assert upcoming, f"nothing left to open at {now}: {status.items}"
        await cycle.advance_to(min(upcoming))


async def test_a_year_completed_on_time(time_skipping_env: WorkflowEnvironment) -> None:
    async with running_cycle(time_skipping_env) as cycle:
        y = cycle.year
        await complete_everything_as_it_opens(cycle)
        result = await cycle.handle.result()

        assert (result.total, result.on_time, result.late, result.waived) == (10, 10, 0, 0)
        assert [i.key for i in result.items] == ALL_KEYS
        assert all(i.state is ItemState.COMPLETED and not i.late for i in result.items)
        # Only reminders can have fired; nothing was ever overdue.
        assert {s.rung for s in cycle.backend.ladder()} <= {Rung.REMINDER}

        opened = {e.key: e.opened_at for e in cycle.backend.opened()}
        assert len(cycle.backend.opened()) == len(opened) == 10
        # Roster and the first conference open once their prerequisites are done, that day.
        for key in ("roster", "conference-q1"):
            assert day(y, 1, 1) < opened[key] < day(y, 1, 2), key
        for key, month in [("plan", 1), ("conference-q2", 4), ("report-h1", 6),
                           ("conference-q3", 7), ("conference-q4", 10), ("report-year", 12)]:
            assert opened[key] == day(y, month, 1), key

        [closed] = cycle.backend.closed()
        assert closed.result == result
        assert len(cycle.backend.completions()) == 10
        final = await cycle.status()
        assert final.finished


async def test_result_counts_on_time_late_and_waived(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(time_skipping_env) as cycle:
        y = cycle.year
        for key in ALL_KEYS[2:]:
            await cycle.waive(key)
        await cycle.advance_to(day(y, 1, 1, hour=9))
        await cycle.settle()
        on_time = await cycle.complete("plan")
        assert (on_time.state, on_time.late) == (ItemState.COMPLETED, False)

        await cycle.advance_to(day(y, 7, 2))
        await cycle.wait_for_item("disseminate", lambda i: i.state is ItemState.OVERDUE)
        late = await cycle.complete("disseminate")
        assert late.late

        result = await cycle.handle.result()
        assert (result.total, result.on_time, result.late, result.waived) == (10, 1, 1, 8)
        [closed] = cycle.backend.closed()
        assert closed.result == result and closed.at >= day(y, 7, 2)
