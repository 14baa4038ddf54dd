"""The escalation ladder: a late task climbs every rung at its instant; an extension moves it."""

from __future__ import annotations

from datetime import date
from functools import partial

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.contracts import ItemState, ItemStatus
from domain.template import Rung
from tests.workflow.fakes import FakeBackend
from tests.workflow.support import day, running_cycle


def reached(rung: Rung, item: ItemStatus) -> bool:
    return item.rung is rung


# Unscaled, and one calendar day per real second: the same calendar instants either way.
MODES = [pytest.param(None, id="unscaled"), pytest.param(1.0, id="scaled")]


@pytest.mark.parametrize("seconds_per_day", MODES)
async def test_late_task_climbs_every_rung_then_completes_late(
    time_skipping_env: WorkflowEnvironment, seconds_per_day: float | None
) -> None:
    async with running_cycle(time_skipping_env, seconds_per_day=seconds_per_day) as cycle:
        y = cycle.year
        expected = [
            (day(y, 1, 25), Rung.REMINDER, ItemState.OPEN, 0),
            (day(y, 2, 1), Rung.OVERDUE, ItemState.OVERDUE, 0),
            (day(y, 2, 8), Rung.PARENT, ItemState.ESCALATED, 1),
            (day(y, 2, 15), Rung.BOARD, ItemState.ESCALATED, 2),
        ]
        for instant, rung, state, level in expected:
            await cycle.advance_to(instant.replace(hour=1))
            plan = await cycle.wait_for_item("plan", partial(reached, rung))
            assert (plan.state, plan.escalation_level) == (state, level)

        assert [(s.rung, s.at, s.due_on) for s in cycle.backend.ladder("plan")] == [
            (rung, instant, date(y, 1, 31)) for instant, rung, _, _ in expected
        ]
        assert cycle.backend.ladder() == cycle.backend.ladder("plan")

        done = await cycle.complete("plan")
        assert (done.state, done.late, done.closed_by) == (ItemState.COMPLETED, True, "staff")
        assert done.closed_at is not None and done.closed_at >= day(y, 2, 15)
        [recorded] = cycle.backend.completions()
        assert recorded.late and recorded.completed_at == done.closed_at
        assert recorded.event_id > 0


@pytest.mark.parametrize("seconds_per_day", MODES)
async def test_extension_moves_the_ladder_to_the_new_due_date(
    time_skipping_env: WorkflowEnvironment, seconds_per_day: float | None
) -> None:
    async with running_cycle(time_skipping_env, seconds_per_day=seconds_per_day) as cycle:
        y = cycle.year
        await cycle.advance_to(day(y, 2, 2))
        await cycle.wait_for_item("plan", lambda i: i.state is ItemState.OVERDUE)

        extended = await cycle.extend("plan", date(y, 3, 10), reason="Tết holiday")
        # Both fired rungs now lie ahead again: the task is simply open.
        assert (extended.state, extended.rung, extended.escalation_level) == (
            ItemState.OPEN, None, 0,
        )
        assert (extended.due_on, extended.extensions, extended.reason) == (
            date(y, 3, 10), 1, "Tết holiday",
        )
        [change] = cycle.backend.changes()
        assert (change.change, change.key, change.actor) == ("extended", "plan", "supervisor")
        assert (change.previous_due_on, change.new_due_on) == (date(y, 1, 31), date(y, 3, 10))

        await cycle.advance_to(day(y, 3, 26))
        await cycle.wait_for_item("plan", lambda i: i.rung is Rung.BOARD)
        assert [(s.rung, s.at, s.due_on) for s in cycle.backend.ladder("plan")] == [
            (Rung.REMINDER, day(y, 1, 25), date(y, 1, 31)),
            (Rung.OVERDUE, day(y, 2, 1), date(y, 1, 31)),
            (Rung.REMINDER, day(y, 3, 4), date(y, 3, 10)),
            (Rung.OVERDUE, day(y, 3, 11), date(y, 3, 10)),
            (Rung.PARENT, day(y, 3, 18), date(y, 3, 10)),
            (Rung.BOARD, day(y, 3, 25), date(y, 3, 10)),
        ]


async def test_rungs_already_past_under_the_new_date_stay_fired(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(time_skipping_env) as cycle:
        y = cycle.year
        await cycle.advance_to(day(y, 2, 9))
        await cycle.wait_for_item("plan", lambda i: i.rung is Rung.PARENT)

        extended = await cycle.extend("plan", date(y, 2, 3))
        assert (extended.state, extended.rung, extended.escalation_level) == (
            ItemState.OVERDUE, Rung.OVERDUE, 0,
        )
        await cycle.advance_to(day(y, 2, 12))
        again = await cycle.wait_for_item("plan", lambda i: i.rung is Rung.PARENT)
        assert (again.state, again.escalation_level) == (ItemState.ESCALATED, 1)
        assert [(s.rung, s.at) for s in cycle.backend.ladder("plan")][3:] == [
            (Rung.PARENT, day(y, 2, 11)),
        ]


async def test_a_rung_whose_body_was_reached_is_skipped(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    backend = FakeBackend()
    backend.also_reached = {Rung.PARENT: [Rung.BOARD]}  # the parent is the root itself
    async with running_cycle(time_skipping_env, backend=backend) as cycle:
        y = cycle.year
        await cycle.advance_to(day(y, 2, 8, hour=1))
        plan = await cycle.wait_for_item("plan", partial(reached, Rung.PARENT))
        await cycle.advance_to(day(y, 2, 20))
        plan = await cycle.item("plan")
        assert (plan.rung, plan.escalation_level, plan.state) == (
            Rung.PARENT, 1, ItemState.ESCALATED)
        assert [s.rung for s in backend.ladder("plan")] == [
            Rung.REMINDER, Rung.OVERDUE, Rung.PARENT]
        # An extension that takes the parent rung back climbs it, and skips the Board, again.
        await cycle.extend("plan", date(y, 3, 31))
        await cycle.advance_to(day(y, 4, 20))
        plan = await cycle.wait_for_item("plan", partial(reached, Rung.PARENT))
        assert [(s.rung, s.due_on) for s in backend.ladder("plan")][3:] == [
            (Rung.REMINDER, date(y, 3, 31)), (Rung.OVERDUE, date(y, 3, 31)),
            (Rung.PARENT, date(y, 3, 31))]
