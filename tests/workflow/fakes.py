"""An in-memory backend: the activities under their real names, recording every call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.contracts import (
    ACTIVITY_CLOSE_CYCLE,
    ACTIVITY_OPEN_TASK,
    ACTIVITY_RECORD_COMPLETION,
    ACTIVITY_RECORD_LADDER_STEP,
    ACTIVITY_RECORD_TASK_CHANGE,
    ACTIVITY_WITHDRAW_LADDER_STEP,
    CompletionRecorded,
    CycleClosed,
    LadderStepRecorded,
    LadderStepWithdrawn,
    Recorded,
    TaskChanged,
    TaskOpened,
)
from domain.template import Rung

Event = TypeVar("Event", bound=BaseModel)


class FakeBackend:
    """Stores every call in order; `fail_next` makes the next calls of one activity fail."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, BaseModel]] = []
        self._failures: dict[str, list[ApplicationError]] = {}
        self._gates: dict[str, asyncio.Event] = {}
        self.held: dict[str, asyncio.Event] = {}
        # What recording a rung answers it reached too (a committee directly under the root).
        self.also_reached: dict[Rung, list[Rung]] = {}

    def hold(self, activity_name: str) -> None:
        """Keep calls of one activity running until `release`; `held[name]` is set once one is."""
        self._gates[activity_name] = asyncio.Event()
        self.held[activity_name] = asyncio.Event()

    def release(self, activity_name: str) -> None:
        self._gates.pop(activity_name).set()

    async def _pass_gate(self, activity_name: str) -> None:
        gate = self._gates.get(activity_name)
        if gate is not None:
            self.held[activity_name].set()
            await gate.wait()

    def fail_next(self, activity_name: str, *, times: int = 1, retryable: bool = False) -> None:
        """Fail the next `times` calls like the backend's 4xx (non-retryable) or 5xx."""
        self._failures.setdefault(activity_name, []).extend(
            ApplicationError(
                f"the fake backend refuses {activity_name}",
                type="BackendError" if retryable else "BackendRefused",
                non_retryable=not retryable,
            )
            for _ in range(times)
        )

    def events(self, activity_name: str, kind: type[Event]) -> list[Event]:
        return [e for name, e in self.calls if name == activity_name and isinstance(e, kind)]

    def opened(self) -> list[TaskOpened]:
        return self.events(ACTIVITY_OPEN_TASK, TaskOpened)

    def ladder(self, key: str | None = None) -> list[LadderStepRecorded]:
        steps = self.events(ACTIVITY_RECORD_LADDER_STEP, LadderStepRecorded)
        return [s for s in steps if key is None or s.key == key]

    def completions(self) -> list[CompletionRecorded]:
        return self.events(ACTIVITY_RECORD_COMPLETION, CompletionRecorded)

    def withdrawals(self, key: str | None = None) -> list[LadderStepWithdrawn]:
        steps = self.events(ACTIVITY_WITHDRAW_LADDER_STEP, LadderStepWithdrawn)
        return [s for s in steps if key is None or s.key == key]

    def changes(self) -> list[TaskChanged]:
        return self.events(ACTIVITY_RECORD_TASK_CHANGE, TaskChanged)

    def closed(self) -> list[CycleClosed]:
        return self.events(ACTIVITY_CLOSE_CYCLE, CycleClosed)

    def _record(self, activity_name: str, event: BaseModel) -> Recorded:
        pending = self._failures.get(activity_name)
        if pending:
            raise pending.pop(0)
        self.calls.append((activity_name, event))
        return Recorded(id=len(self.calls), created=True)

    @activity.defn(name=ACTIVITY_OPEN_TASK)
    async def open_task(self, event: TaskOpened) -> Recorded:
        return self._record(ACTIVITY_OPEN_TASK, event)

    @activity.defn(name=ACTIVITY_RECORD_COMPLETION)
    async def record_completion(self, event: CompletionRecorded) -> Recorded:
        return self._record(ACTIVITY_RECORD_COMPLETION, event)

    @activity.defn(name=ACTIVITY_RECORD_LADDER_STEP)
    async def record_ladder_step(self, event: LadderStepRecorded) -> Recorded:
        await self._pass_gate(ACTIVITY_RECORD_LADDER_STEP)
        recorded = self._record(ACTIVITY_RECORD_LADDER_STEP, event)
        return recorded.model_copy(update={"also_reached": self.also_reached.get(event.rung, [])})

    @activity.defn(name=ACTIVITY_RECORD_TASK_CHANGE)
    async def record_task_change(self, event: TaskChanged) -> Recorded:
        return self._record(ACTIVITY_RECORD_TASK_CHANGE, event)

    @activity.defn(name=ACTIVITY_WITHDRAW_LADDER_STEP)
    async def withdraw_ladder_step(self, event: LadderStepWithdrawn) -> Recorded:
        return self._record(ACTIVITY_WITHDRAW_LADDER_STEP, event)

    @activity.defn(name=ACTIVITY_CLOSE_CYCLE)
    async def close_cycle(self, event: CycleClosed) -> Recorded:
        return self._record(ACTIVITY_CLOSE_CYCLE, event)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.open_task,
            self.record_completion,
            self.record_ladder_step,
            self.record_task_change,
            self.withdraw_ladder_step,
            self.close_cycle,
        ]
