"""Replaying a cycle's history through the current workflow code, and what that re-derives.

The Replayer runs the workflow code against the history: it fails if the code would decide
differently (a NondeterminismError). While it runs, an interceptor watches the workflow
instance and keeps its last status (every item's state and escalation level), or its result if
the run returns. That is the outcome the *code* re-derives; it is compared with the outcome the
*history* records: the result in its completion event, or, for a cycle still running (or
stopped), the state rebuilt from its recorded decisions (api.services.history).

This module, like the history reader, needs neither FastAPI nor the database: the command line
replays with it too. It is the one place outside the worker that imports the workflow code,
because replaying is running that code.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    Replayer,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from api.services.history import cycle_input, timeline
from api.services.history.state import fold
from domain.contracts import CycleResult, CycleStatus, ItemState, ItemStatus
from domain.template import Rung
from workflows import WORKFLOWS
from workflows.sandbox import workflow_runner

# Replays run on these threads; a Replayer's own default pool is never shut down.
_EXECUTOR = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="replay")
COMPARED = ("state", "rung", "escalation_level", "due_on", "opened_at", "closed_at",
            "closed_by", "late", "extensions")


class ItemOutcome(BaseModel):
    """One item as an outcome: where it ended up, and how it got there."""

    key: str
    state: ItemState
    rung: Rung | None = None
    escalation_level: int = 0
    due_on: date
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    late: bool = False
    extensions: int = 0


class Difference(BaseModel):
    key: str
    field: str
    recorded: Any = None
    rederived: Any = None


class ReplayReport(BaseModel):
    workflow_id: str
    run_id: str
    events: int
    status: str = Field(description="running, or how the recorded workflow ended.")
    replays: bool = Field(description="The current code makes the same decisions as recorded.")
    error: str | None = None
    error_type: str | None = None
    recorded_from: str = Field(
        description="result: the workflow's recorded result; history: the state rebuilt from "
        "its recorded decisions (a cycle that has not finished)."
    )
    recorded: list[ItemOutcome]
    rederived: list[ItemOutcome] | None = Field(
        default=None, description="What the current code derives; none if it does not replay."
    )
    agrees: bool = Field(description="It replays and re-derives exactly the recorded outcome.")
    differences: list[Difference] = Field(default_factory=list)


@dataclass
class _Seen:
    status: dict[str, Any] | None = None
    result: dict[str, Any] | None = None


class _Watch(Interceptor):
    """Keeps the workflow's last status (and its result, if it returns) as the replay runs.

    The status is read in a wait condition that never holds: conditions are checked after
    every activation, and checking one issues no command, so the replay is not disturbed.
    """

    def __init__(self, seen: _Seen) -> None:
        self.seen = seen

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        seen = self.seen

        class Inbound(WorkflowInboundInterceptor):
            async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
                instance = workflow.instance()

                def look() -> bool:
                    status = getattr(instance, "status", None)
                    if callable(status):
                        found = status()
                        # The strict sandbox imports its own copy of domain.contracts.
                        if isinstance(found, BaseModel) and type(found).__name__ == "CycleStatus":
                            seen.status = found.model_dump(mode="json")
                    return False

                watcher = asyncio.create_task(workflow.wait_condition(look))
                try:
                    result = await super().execute_workflow(input)
                finally:
                    watcher.cancel()
                if isinstance(result, BaseModel):
                    seen.result = result.model_dump(mode="json")
                return result

        return Inbound


def outcome(items: list[ItemStatus]) -> list[ItemOutcome]:
    return [ItemOutcome.model_validate(i.model_dump(include=set(ItemOutcome.model_fields)))
            for i in items]


def compare(recorded: list[ItemOutcome], rederived: list[ItemOutcome]) -> list[Difference]:
    """Every field of every item where the two outcomes differ, and items only one has."""
    theirs = {i.key: i for i in rederived}
    differences: list[Difference] = []
    for mine in recorded:
        other = theirs.pop(mine.key, None)
        if other is None:
            differences.append(Difference(key=mine.key, field="item", recorded=mine.state))
            continue
        for name in COMPARED:
            a, b = getattr(mine, name), getattr(other, name)
            if a != b:
                differences.append(Difference(key=mine.key, field=name, recorded=a, rederived=b))
    differences += [Difference(key=k, field="item", rederived=i.state) for k, i in theirs.items()]
    return differences


async def replay(
    history: WorkflowHistory, *, workflows: list[type] | None = None
) -> ReplayReport:
    """Replay `history` through `workflows` (default: the current code) and compare outcomes."""
    seen = _Seen()
    replayer = Replayer(
        workflows=workflows or WORKFLOWS, data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
        interceptors=[_Watch(seen)], workflow_task_executor=_EXECUTOR,
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    failure = result.replay_failure
    read = timeline(history)
    if read.result is not None:
        recorded, recorded_from = outcome(read.result.items), "result"
    else:
        recorded, recorded_from = outcome(fold(read, cycle_input(history)).items), "history"
    rederived: list[ItemOutcome] | None = None
    if failure is None and (seen.result or seen.status):
        derived = (CycleResult.model_validate(seen.result).items if seen.result
                   else CycleStatus.model_validate(seen.status).items)
        rederived = outcome(derived)
    differences = compare(recorded, rederived) if rederived is not None else []
    return ReplayReport(
        workflow_id=read.workflow_id, run_id=read.run_id, events=len(history.events),
        status=read.status, replays=failure is None,
        error=str(failure) if failure else None,
        error_type=type(failure).__name__ if failure else None,
        recorded_from=recorded_from, recorded=recorded, rederived=rederived,
        agrees=failure is None and rederived is not None and not differences,
        differences=differences,
    )
