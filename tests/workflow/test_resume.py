"""A resumed cycle: the tasks an earlier run recorded seed the new run, which opens none of them
again, raises no rung they already reached, and goes on from where they stood."""

from __future__ import annotations

from datetime import date, timedelta

from temporalio.testing import WorkflowEnvironment

from domain.contracts import ItemState, SeededItem
from domain.template import Rung
from tests.workflow.support import day, running_cycle


def recorded(year: int) -> list[SeededItem]:
    """Plan overdue (reminder and overdue reached), disseminate completed, review waived, and a
    roster consolidation open."""
    opened = day(year, 1, 1)
    return [
        SeededItem(key="plan", item_key="plan", opens_on=date(year, 1, 1),
                   due_on=date(year, 1, 31), state=ItemState.OVERDUE, opened_at=opened,
                   rungs=[Rung.REMINDER, Rung.OVERDUE]),
        SeededItem(key="disseminate", item_key="disseminate", opens_on=date(year, 1, 1),
                   due_on=date(year, 6, 30), state=ItemState.COMPLETED, opened_at=opened,
                   closed_at=day(year, 1, 10), closed_by="staff"),
        SeededItem(key="review", item_key="review", opens_on=date(year, 1, 1),
                   due_on=date(year, 12, 15), state=ItemState.WAIVED, opened_at=opened,
                   closed_at=day(year, 1, 12), closed_by="supervisor", reason="merged",
                   extensions=1),
        SeededItem(key="consolidate-1", item_key="consolidate", occurrence=1,
                   opens_on=date(year, 1, 5), due_on=date(year, 2, 4), state=ItemState.OPEN,
                   opened_at=day(year, 1, 5)),
    ]


async def test_a_resumed_cycle_opens_nothing_recorded_and_raises_no_rung_twice(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(time_skipping_env, seed=recorded) as cycle:
        y = cycle.year
        await cycle.advance_to(day(y, 2, 15))  # past the plan's board rung (14 February)
        plan = await cycle.wait_for_item("plan", lambda i: i.rung is Rung.BOARD)
        assert (plan.state, plan.opened_at, plan.escalation_level) == (
            ItemState.ESCALATED, day(y, 1, 1), 2)
        assert [s.rung for s in cycle.backend.ladder("plan")] == [Rung.PARENT, Rung.BOARD]
        status = await cycle.settle()
        by_key = {i.key: i for i in status.items}
        assert (by_key["disseminate"].state, by_key["disseminate"].closed_by) == (
            ItemState.COMPLETED, "staff")
        assert (by_key["review"].state, by_key["review"].reason, by_key["review"].extensions) == (
            ItemState.WAIVED, "merged", 1)
        assert by_key["roster"].state is ItemState.PENDING  # its prerequisite, plan, is open
        opened = {e.key for e in cycle.backend.opened()}
        assert opened.isdisjoint({"plan", "disseminate", "review", "consolidate-1"})
        assert "review" not in {e.key for e in cycle.backend.ladder()}
        # The consolidation (due 4 February) climbs its ladder in this run, each rung once.
        rungs = [s.rung for s in cycle.backend.ladder("consolidate-1")]
        assert rungs == [Rung.REMINDER, Rung.OVERDUE, Rung.PARENT]

        await cycle.complete("plan")
        await cycle.wait_for_item("roster", lambda i: i.state is ItemState.OPEN)
        await cycle.roster_changed(total=3, committee_members=3, change="added")
        done = await cycle.wait_for_item("consolidate-1", lambda i: i.state is ItemState.COMPLETED)
        assert done.opened_at == day(y, 1, 5)
        await cycle.roster_changed(total=0, committee_members=0)  # the next one is the second
        await cycle.wait_for_item("consolidate-2", lambda i: i.state is ItemState.OPEN)
        assert [e.key for e in cycle.backend.opened()].count("consolidate-1") == 0
        assert cycle.backend.closed() == []
        assert (await cycle.calendar_now()) < day(y, 3, 1) + timedelta(days=1)
