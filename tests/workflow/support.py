"""Helpers for driving a real CommitteeCycle on the time-skipping server with a fake backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from domain.calendar import HCM, expand_keys, start_of_day
from domain.contracts import (
    CLOSED_STATES,
    QUERY_STATUS,
    SIGNAL_ROSTER_CHANGED,
    UPDATE_COMPLETE,
    UPDATE_EXTEND,
    UPDATE_WAIVE,
    CommitteeLevel,
    CompleteTask,
    CycleInput,
    CycleResult,
    CycleStatus,
    ExtendDeadline,
    ItemState,
    ItemStatus,
    RosterChanged,
    RosterTally,
    SeededItem,
    WaiveTask,
)
from domain.template import DEFAULT_TEMPLATE, Template
from tests.conftest import unique_queue
from tests.domain.samples import evidence_for
from tests.workflow.fakes import FakeBackend
from workflows import WORKFLOWS, CommitteeCycle
from workflows.clock import CalendarClock
from workflows.sandbox import workflow_runner

TEST_TIMEOUT = 30.0
OPEN_STATES = frozenset({ItemState.OPEN, ItemState.OVERDUE, ItemState.ESCALATED})


def new_worker(
    client: Client,
    *,
    activities: Sequence[Callable[..., Any]],
    task_queue: str,
    workflows: Sequence[type] = tuple(WORKFLOWS),
    max_cached_workflows: int | None = None,
) -> Worker:
    """A worker for one test's queue; `max_cached_workflows=0` turns off its sticky queue."""
    if max_cached_workflows is None:
        return Worker(client, task_queue=task_queue, workflows=workflows, activities=activities,
                      workflow_runner=workflow_runner())
    return Worker(
        client, task_queue=task_queue, workflows=workflows, activities=activities,
        max_cached_workflows=max_cached_workflows, workflow_runner=workflow_runner(),
    )


def day(year: int, month: int, dom: int, *, hour: int = 0) -> datetime:
    """A calendar instant in Asia/Ho_Chi_Minh."""
    return start_of_day(date(year, month, dom)) + timedelta(hours=hour)


def rejection(error: BaseException) -> ApplicationError:
    """The ApplicationError behind a failed update."""
    assert isinstance(error, WorkflowUpdateFailedError), error
    assert isinstance(error.cause, ApplicationError), error.cause
    return error.cause


@dataclass
class RunningCycle:
    env: WorkflowEnvironment
    handle: WorkflowHandle[Any, CycleResult]
    backend: FakeBackend
    clock: CalendarClock
    year: int
    template: Template
    task_queue: str
    max_cached_workflows: int | None = None
    _worker: Worker | None = None
    _worker_run: asyncio.Task[None] | None = None

    async def start_worker(self) -> None:
        self._worker = new_worker(
            self.env.client, activities=self.backend.all(), task_queue=self.task_queue,
            max_cached_workflows=self.max_cached_workflows,
        )
        self._worker_run = asyncio.create_task(self._worker.run())

    async def stop_worker(self) -> None:
        if self._worker is not None and self._worker_run is not None:
            await self._worker.shutdown()
            await self._worker_run
        self._worker = self._worker_run = None

    @asynccontextmanager
    async def worker_stopped(self) -> AsyncIterator[None]:
        """No worker during the block: requests queue up on the server for the next one.

        Needs `max_cached_workflows=0`: the time-skipping server never moves a workflow off
        a stopped worker's sticky queue.
        """
        assert self.max_cached_workflows == 0, "worker_stopped needs max_cached_workflows=0"
        await self.stop_worker()
        try:
            yield
        finally:
            await self.start_worker()

    async def status(self) -> CycleStatus:
        return await self.handle.query(QUERY_STATUS, result_type=CycleStatus)

    async def item(self, key: str) -> ItemStatus:
        return next(i for i in (await self.status()).items if i.key == key)

    async def calendar_now(self) -> datetime:
        return self.clock.calendar_at(await self.env.get_current_time())

    async def advance_to(self, instant: datetime) -> None:
        """Let server time run (skipping) until the cycle's calendar reads `instant`."""
        remaining = self.clock.real_at(instant) - await self.env.get_current_time()
        if remaining > timedelta(0):
            await self.env.sleep(remaining)

    async def wait_for(
        self, predicate: Callable[[CycleStatus], bool], *, within: float = 5.0
    ) -> CycleStatus:
        """Poll the status query until `predicate` holds."""
        last: CycleStatus | None = None
        try:
            async with asyncio.timeout(within):
                while True:
                    last = await self.status()
                    if predicate(last):
                        return last
                    await asyncio.sleep(0.02)
        except TimeoutError:
            raise AssertionError(f"not reached within {within} s; last status: {last}") from None

    async def wait_for_item(
        self, key: str, predicate: Callable[[ItemStatus], bool], *, within: float = 5.0
    ) -> ItemStatus:
        status = await self.wait_for(
            lambda s: predicate(next(i for i in s.items if i.key == key)), within=within
        )
        return next(i for i in status.items if i.key == key)

    async def settle(self) -> CycleStatus:
        """Wait until every task whose day has come and whose prerequisites are done is open."""
        now = await self.calendar_now()

        def settled(status: CycleStatus) -> bool:
            closed = {i.key for i in status.items if i.state in CLOSED_STATES}
            return not any(
                i.state is ItemState.PENDING
                and start_of_day(i.opens_on) <= now
                and set(i.prerequisites) <= closed
                for i in status.items
            )

        return await self.wait_for(settled)

    def complete_command(
        self, key: str, *, evidence: dict[str, Any] | None = None, actor: str = "staff"
    ) -> CompleteTask:
        """A completion with valid evidence for the task's kind unless `evidence` is given."""
        if evidence is None:
            item_key = next(k for k, keys in expand_keys(self.template).items() if key in keys)
            evidence = evidence_for(
                self.template.item(item_key).evidence, key=key, year=self.year
            )
        return CompleteTask(key=key, actor=actor, evidence=evidence, submission_ref=f"sub-{key}")

    async def complete(self, key: str, **kwargs: Any) -> ItemStatus:
        return await self.handle.execute_update(
            UPDATE_COMPLETE, self.complete_command(key, **kwargs), result_type=ItemStatus
        )

    async def extend(self, key: str, new_due_on: date, *, reason: str = "flood") -> ItemStatus:
        command = ExtendDeadline(key=key, actor="supervisor", new_due_on=new_due_on, reason=reason)
        return await self.handle.execute_update(UPDATE_EXTEND, command, result_type=ItemStatus)

    async def roster_changed(
        self, *, total: int, committee_members: int = 0, change: str = "left",
        reporter: str = "Nguyễn Văn A",
    ) -> None:
        """Signal what the API would after a reporter left or joined: the team that remains."""
        team = RosterTally(total=total, committee_members=committee_members)
        signal = RosterChanged.model_validate(
            {"change": change, "reporter": reporter, "actor": "staff", "team": team}
        )
        await self.handle.signal(SIGNAL_ROSTER_CHANGED, signal)

    async def waive(self, key: str, *, reason: str = "merged") -> ItemStatus:
        command = WaiveTask(key=key, actor="supervisor", reason=reason)
        return await self.handle.execute_update(UPDATE_WAIVE, command, result_type=ItemStatus)


async def next_year(env: WorkflowEnvironment) -> int:
    """The year after the server's clock: earlier tests in the session may have skipped ahead."""
    return (await env.get_current_time()).astimezone(HCM).year + 1


@asynccontextmanager
async def running_cycle(
    env: WorkflowEnvironment,
    *,
    template: Template = DEFAULT_TEMPLATE,
    seconds_per_day: float | None = None,
    backend: FakeBackend | None = None,
    time_limit: float = TEST_TIMEOUT,
    max_cached_workflows: int | None = None,
    committee_level: CommitteeLevel = CommitteeLevel.GRASSROOTS,
    seed: Callable[[int], list[SeededItem]] | None = None,
) -> AsyncIterator[RunningCycle]:
    """Start a cycle for next year on a fresh task queue, with a worker; terminate it after.
    `seed(year)`, if given, is what an earlier run recorded: the cycle resumes it.

    The whole block runs under `time_limit` seconds of real time: the per-test timeout.
    """
    async with asyncio.timeout(time_limit):
        queue = unique_queue("cycle")
        backend = backend or FakeBackend()
        year = await next_year(env)
        handle = await env.client.start_workflow(
            CommitteeCycle.run,
            CycleInput(
                committee=queue, year=year, template=template, seconds_per_day=seconds_per_day,
                committee_level=committee_level, seed=seed(year) if seed else None,
            ),
            id=f"cycle/{queue}/{year}",
            task_queue=queue,
        )
        started = (await handle.describe()).start_time
        clock = CalendarClock.for_cycle(year=year, started=started, seconds_per_day=seconds_per_day)
        cycle = RunningCycle(
            env=env, handle=handle, backend=backend, clock=clock, year=year, template=template,
            task_queue=queue, max_cached_workflows=max_cached_workflows,
        )
        await cycle.start_worker()
        try:
            yield cycle
        finally:
            try:
                await _terminate_when_idle(handle)
            finally:
                await cycle.stop_worker()
        await assert_replays(handle)


async def assert_replays(handle: WorkflowHandle[Any, Any]) -> None:
    """Replay the cycle's history against the current code: proves it deterministic."""
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    await replayer.replay_workflow(await handle.fetch_history())


async def _terminate_when_idle(handle: WorkflowHandle[Any, Any]) -> None:
    """Terminate a cycle once it has no activity and no workflow task in flight.

    The time-skipping server keeps time locked for an activity or workflow task that was in
    flight when its workflow was terminated, which stalls every later test of the session.
    Its describe does not report pending workflow tasks, so the history is read instead.
    """
    with suppress(RPCError):
        for _ in range(200):
            if await _closed_or_idle(handle):
                break
            await asyncio.sleep(0.01)
        await handle.terminate("test over")


async def _closed_or_idle(handle: WorkflowHandle[Any, Any]) -> bool:
    description = (await handle.describe()).raw_description
    if description.workflow_execution_info.HasField("close_time"):
        return True
    if description.pending_activities:
        return False
    task_in_flight = False
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            task_in_flight = True
        elif event.event_type in _WORKFLOW_TASK_ENDED:
            task_in_flight = False
    return not task_in_flight


_WORKFLOW_TASK_ENDED = frozenset({
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
})
