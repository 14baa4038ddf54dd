"""An extension tells the backend which reached rungs it takes back (patch
"withdraw-rungs-on-extension"): whoever an escalation reached hears that it no longer stands."""

from __future__ import annotations

from datetime import date

from temporalio.testing import WorkflowEnvironment

from domain.contracts import ItemState
from domain.template import Rung
from tests.workflow.support import day, running_cycle


async def test_each_rung_an_extension_takes_back_is_withdrawn_once(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(time_skipping_env) as cycle:
        y = cycle.year
        await cycle.advance_to(day(y, 2, 9))
        await cycle.wait_for_item("plan", lambda i: i.rung is Rung.PARENT)

        extended = await cycle.extend("plan", date(y, 3, 15), reason="Đang kiện toàn")
        assert (extended.state, extended.rung, extended.escalation_level) == (
            ItemState.OPEN, None, 0
        )
        withdrawn = cycle.backend.withdrawals("plan")
        assert [(w.rung, w.due_on, w.new_due_on) for w in withdrawn] == [
            (rung, date(y, 1, 31), date(y, 3, 15))
            for rung in (Rung.REMINDER, Rung.OVERDUE, Rung.PARENT)
        ]
        [change] = cycle.backend.changes()
        assert {(w.at, w.actor, w.reason) for w in withdrawn} == {
            (change.at, "supervisor", "Đang kiện toàn")
        }
        names = [name for name, _ in cycle.backend.calls]
        assert names[-4:] == ["record_task_change"] + ["withdraw_ladder_step"] * 3

        await cycle.advance_to(day(y, 3, 10))
        again = await cycle.wait_for_item("plan", lambda i: i.rung is Rung.REMINDER)
        assert again.state is ItemState.OPEN
        assert len(cycle.backend.withdrawals()) == 3


async def test_rungs_still_past_under_the_new_date_are_not_withdrawn(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(time_skipping_env) as cycle:
        y = cycle.year
        await cycle.advance_to(day(y, 2, 9))
        await cycle.wait_for_item("plan", lambda i: i.rung is Rung.PARENT)
        await cycle.extend("plan", date(y, 2, 3))
        assert [w.rung for w in cycle.backend.withdrawals()] == [Rung.PARENT]
        await cycle.extend("report-h1", date(y, 6, 30))  # pending: nothing to take back
        assert [w.rung for w in cycle.backend.withdrawals()] == [Rung.PARENT]
