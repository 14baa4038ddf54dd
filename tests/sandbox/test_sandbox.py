"""The strict sandbox, as every test and replay runs workflows, refuses non-deterministic code;
passing a module through (what the production worker may choose for ours) lets it run.

On the dev server, not the shared time-skipping one: a workflow whose tasks keep failing holds
that server's time still for every later test, even once it is terminated."""

from __future__ import annotations

import uuid

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.api.support import eventually
from tests.conftest import unique_queue
from tests.sandbox.clockwork import ReadsTheWallClock
from workflows.sandbox import workflow_runner


async def failed_task(handle: WorkflowHandle[ReadsTheWallClock, str]) -> str | None:
    """The failure message of the workflow's first failed workflow task, if any."""
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            return event.workflow_task_failed_event_attributes.failure.message
    return None


async def test_a_workflow_reading_the_clock_is_refused(
    dev_env: WorkflowEnvironment,
) -> None:
    client, queue = dev_env.client, unique_queue("sandbox")
    async with Worker(client, task_queue=queue, workflows=[ReadsTheWallClock],
                      workflow_runner=workflow_runner()):
        handle = await client.start_workflow(
            ReadsTheWallClock.run, id=f"clock-{uuid.uuid4()}", task_queue=queue
        )

        async def refusal() -> str | None:
            return await failed_task(handle)

        message = await eventually(refusal, within=20)
        await handle.terminate("refused as expected")
    assert message.startswith("Cannot access datetime.datetime.now"), message


async def test_passed_through_code_is_not_checked(
    dev_env: WorkflowEnvironment,
) -> None:
    client, queue = dev_env.client, unique_queue("sandbox")
    runner = workflow_runner("tests.sandbox.clockwork", pass_through_own=True)
    async with Worker(client, task_queue=queue, workflows=[ReadsTheWallClock],
                      workflow_runner=runner):
        read = await client.execute_workflow(
            ReadsTheWallClock.run, id=f"clock-{uuid.uuid4()}", task_queue=queue
        )
    assert read[:4].isdigit()
