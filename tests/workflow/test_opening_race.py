"""A completion that arrives while the task's opening is being recorded is accepted.

The task row exists as soon as the backend records it, so staff can act on it before the
workflow has applied the activity's result; an activation applies updates first.
"""

from __future__ import annotations

import asyncio

from temporalio import activity
from temporalio.client import WorkflowUpdateStage
from temporalio.testing import WorkflowEnvironment

from domain.contracts import (
    ACTIVITY_OPEN_TASK,
    ACTIVITY_RECORD_COMPLETION,
    UPDATE_COMPLETE,
    ItemState,
    ItemStatus,
    Recorded,
    TaskOpened,
)
from tests.workflow.fakes import FakeBackend
from tests.workflow.support import day, running_cycle


class GatedBackend(FakeBackend):
    """Holds the recording of one task's opening until the test lets it through."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    @activity.defn(name=ACTIVITY_OPEN_TASK)
    async def open_task(self, event: TaskOpened) -> Recorded:
        if event.key == self.key:
            self.entered.set()
            await self.gate.wait()
        return self._record(ACTIVITY_OPEN_TASK, event)


async def test_a_completion_during_the_opening_waits_for_it_and_succeeds(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    backend = GatedBackend("roster")
    async with running_cycle(time_skipping_env, backend=backend) as cycle:
        await cycle.advance_to(day(cycle.year, 1, 2, hour=9))
        await cycle.settle()
        await cycle.complete("plan")
        await asyncio.wait_for(backend.entered.wait(), 10)
        assert (await cycle.item("roster")).state is ItemState.PENDING

        handle = await cycle.handle.start_update(
            UPDATE_COMPLETE, cycle.complete_command("roster"), result_type=ItemStatus,
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        backend.gate.set()
        done = await handle.result()
        assert done.state is ItemState.COMPLETED
        roster_calls = [
            name for name, event in backend.calls if getattr(event, "key", None) == "roster"
        ]
        assert roster_calls[:2] == [ACTIVITY_OPEN_TASK, ACTIVITY_RECORD_COMPLETION]
        assert [c.key for c in backend.completions()] == ["plan", "roster"]
