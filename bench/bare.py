"""Bare workflows: the baselines. Each does what a Yearwheel path does, minus Yearwheel.

They are fixtures of the benchmark, not product code: no API, no database, no domain model,
one no-op activity where the product records something through the API.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import activity, workflow

BARE_TASK_QUEUE = "bench-bare"
NOOP = "bench_noop"
ACTIVITY_TIMEOUT = timedelta(seconds=30)
_MILLISECOND = timedelta(milliseconds=1)


@activity.defn(name=NOOP)
async def noop(tag: str) -> None:
    """Records nothing: the baseline's stand-in for an HTTP call to the API."""


async def _noop(tag: str) -> None:
    await workflow.execute_activity(noop, tag, start_to_close_timeout=ACTIVITY_TIMEOUT)


def _ceil_ms(delta: timedelta) -> timedelta:
    return -(-delta // _MILLISECOND) * _MILLISECOND


@dataclass
class ProgressionInput:
    """Per task, how many ladder steps it climbs before its completion; then closing steps."""

    ladders: list[int]
    closing: int = 1


@workflow.defn(name="BenchProgression")
class BareProgression:
    """The shape of a cycle's year, bare: every task opens (an activity), climbs its ladder
    (an activity per step) and takes one update, which runs an activity once the task is open;
    then the cycle closes (an activity). Tasks run side by side, as the cycle's items do."""

    @workflow.init
    def __init__(self, request: ProgressionInput) -> None:
        self._opened: set[int] = set()
        self._completed: set[int] = set()

    @workflow.run
    async def run(self, request: ProgressionInput) -> int:
        await asyncio.gather(*(self._task(k, n) for k, n in enumerate(request.ladders)))
        for k in range(request.closing):
            await _noop(f"close/{k}")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return len(request.ladders)

    async def _task(self, k: int, ladder: int) -> None:
        await _noop(f"open/{k}")
        self._opened.add(k)
        for step in range(ladder):
            await _noop(f"ladder/{k}/{step}")
        await workflow.wait_condition(lambda: k in self._completed)

    @workflow.update(name="complete")
    async def complete(self, k: int) -> int:
        await workflow.wait_condition(lambda: k in self._opened)
        await _noop(f"complete/{k}")
        self._completed.add(k)
        return len(self._completed)


@workflow.defn(name="BenchUpdates")
class BareUpdates:
    """Answers updates until told to finish: `touch` at once, `touch_recorded` after an activity,
    `touch_recorded_locally` after a local activity."""

    @workflow.init
    def __init__(self) -> None:
        self._finished = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._finished)
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.update(name="touch")
    async def touch(self, n: int) -> int:
        return n

    @workflow.update(name="touch_recorded")
    async def touch_recorded(self, n: int) -> int:
        await _noop(f"touch/{n}")
        return n

    @workflow.update(name="touch_recorded_locally")
    async def touch_recorded_locally(self, n: int) -> int:
        await workflow.execute_local_activity(
            noop, f"touch/{n}", start_to_close_timeout=ACTIVITY_TIMEOUT
        )
        return n

    @workflow.signal(name="finish")
    def finish(self) -> None:
        self._finished = True


@dataclass
class TimerStep:
    """A step due `offset` seconds after the workflow's start; `measured` ones count."""

    offset: float
    measured: bool = True


@dataclass
class TimersInput:
    items: list[list[TimerStep]] = field(default_factory=list)


@workflow.defn(name="BenchTimers")
class BareTimers:
    """Each item sleeps until each of its steps falls due and records it with an activity:
    the shape of a cycle's ladders, with no calendar and no API."""

    @workflow.run
    async def run(self, request: TimersInput) -> int:
        start = workflow.info().workflow_start_time
        await asyncio.gather(
            *(self._item(start, i, steps) for i, steps in enumerate(request.items))
        )
        return sum(len(steps) for steps in request.items)

    async def _item(self, start: datetime, index: int, steps: list[TimerStep]) -> None:
        for n, step in enumerate(steps):
            due = start + timedelta(seconds=step.offset)
            remaining = due - workflow.now()
            if remaining > timedelta(0):
                await workflow.sleep(_ceil_ms(remaining))
            await _noop(f"{index}/{n}")


@workflow.defn(name="BenchSteps")
class BareSteps:
    """`n` no-op activities one after another: a trivial history of a chosen length."""

    @workflow.run
    async def run(self, n: int) -> int:
        for k in range(n):
            await _noop(f"step/{k}")
        return n


@workflow.defn(name="BenchSleep")
class BareSleep:
    """Sleeps on one long timer: a started cycle waiting for next year, minus the cycle."""

    @workflow.run
    async def run(self, days: int) -> None:
        await workflow.sleep(timedelta(days=days))


BARE_WORKFLOWS: list[type] = [BareProgression, BareUpdates, BareTimers, BareSteps, BareSleep]
BARE_ACTIVITIES = [noop]
