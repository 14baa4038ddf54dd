"""Prerequisites gate opening; waiving closes a task for good and releases its dependents."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from domain.calendar import start_of_day
from domain.contracts import ItemState
from domain.template import Rung
from tests.workflow.support import day, running_cycle


async def test_tasks_open_only_once_their_prerequisites_are_done(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(time_skipping_env) as cycle:
        y = cycle.year
        await cycle.advance_to(day(y, 2, 10))
        await cycle.wait_for_item("plan", lambda i: i.rung is Rung.PARENT)
        status = {i.key: i for i in (await cycle.status()).items}
        assert status["roster"].state is ItemState.PENDING
        assert status["conference-q1"].state is ItemState.PENDING
        assert "roster" not in {e.key for e in cycle.backend.opened()}

        plan = await cycle.complete("plan")
        assert plan.closed_at is not None
        roster = await cycle.wait_for_item("roster", lambda i: i.state is ItemState.OPEN)
        assert roster.opened_at is not None
        assert plan.closed_at <= roster.opened_at < day(y, 2, 11)

        # Past the first conference's own dates, it still waits for the roster.
        await cycle.advance_to(day(y, 4, 5))
        status = {i.key: i for i in (await cycle.status()).items}
        assert status["conference-q1"].state is ItemState.PENDING
        assert status["conference-q2"].state is ItemState.PENDING

        done = await cycle.complete("roster")
        assert done.closed_at is not None
        q1 = await cycle.wait_for_item("conference-q1", lambda i: i.rung is Rung.OVERDUE)
        assert q1.opened_at is not None
        assert q1.opened_at >= done.closed_at > start_of_day(q1.opens_on)
        # Its reminder and overdue instants had passed: both fire at once, in order.
        assert q1.state is ItemState.OVERDUE
        assert [(s.rung, s.at) for s in cycle.backend.ladder("conference-q1")] == [
            (Rung.REMINDER, q1.opened_at), (Rung.OVERDUE, q1.opened_at),
        ]
        q2 = await cycle.wait_for_item("conference-q2", lambda i: i.state is ItemState.OPEN)
        assert q2.rung is None
        status = {i.key: i for i in (await cycle.status()).items}
        assert status["conference-q3"].state is ItemState.PENDING


async def test_waived_pending_tasks_never_climb_and_release_their_dependents(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(time_skipping_env) as cycle:
        y = cycle.year
        waived = await cycle.waive("report-h1", reason="merged into the annual report")
        assert (waived.state, waived.reason, waived.closed_by) == (
            ItemState.WAIVED, "merged into the annual report", "supervisor",
        )
        await cycle.waive("plan", reason="plan adopted by the parent committee")

        await cycle.advance_to(day(y, 1, 1, hour=9))
        roster = await cycle.wait_for_item("roster", lambda i: i.state is ItemState.OPEN)
        assert roster.opened_at == day(y, 1, 1)  # its prerequisite was done before its day

        disseminate = await cycle.waive("disseminate")
        assert disseminate.state is ItemState.WAIVED

        await cycle.advance_to(day(y, 7, 15))
        await cycle.wait_for_item("conference-q3", lambda i: i.state is ItemState.PENDING)
        opened = {e.key: e for e in cycle.backend.opened()}
        # The backend hears of a task waived before its day at the instant of the waiver.
        assert opened["plan"].opened_at < day(y, 1, 1)
        assert opened["report-h1"].opened_at < day(y, 1, 1)
        assert "disseminate" in opened
        assert cycle.backend.ladder("disseminate") == []
        assert cycle.backend.ladder("plan") == []
        changes = [(c.key, c.change, c.reason) for c in cycle.backend.changes()]
        assert changes == [
            ("report-h1", "waived", "merged into the annual report"),
            ("plan", "waived", "plan adopted by the parent committee"),
            ("disseminate", "waived", "merged"),
        ]
        status = {i.key: i for i in (await cycle.status()).items}
        assert status["report-h1"].state is ItemState.WAIVED
        assert status["report-h1"].opened_at == status["report-h1"].closed_at
        assert status["plan"].closed_at is not None
        assert status["plan"].closed_at < day(y, 1, 1)
