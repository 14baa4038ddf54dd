"""Staff and supervisor updates: what the validators and handlers accept and reject."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from temporalio.testing import WorkflowEnvironment

from domain.contracts import (
    ACTIVITY_OPEN_TASK,
    ACTIVITY_RECORD_COMPLETION,
    ACTIVITY_RECORD_LADDER_STEP,
    ACTIVITY_RECORD_TASK_CHANGE,
    UPDATE_COMPLETE,
    UPDATE_EXTEND,
    UPDATE_WAIVE,
    CompleteTask,
    ExtendDeadline,
    ItemState,
    ItemStatus,
    RejectionType,
    WaiveTask,
)
from domain.template import EvidenceKind
from tests.domain.samples import EVIDENCE
from tests.workflow.support import RunningCycle, day, rejection, running_cycle
from workflows.cycle import FAILED_ACTIVITY_WAITS


async def opened_year(cycle: RunningCycle) -> None:
    """Skip to the first morning of the cycle, when plan, disseminate and review are open."""
    await cycle.advance_to(day(cycle.year, 1, 1, hour=9))
    await cycle.settle()


async def test_a_second_completion_of_the_same_task_is_rejected(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(time_skipping_env) as cycle:
        await opened_year(cycle)
        done = await cycle.complete("plan")
        assert (done.state, done.late, done.closed_by) == (ItemState.COMPLETED, False, "staff")
        assert done.closed_at is not None and done.closed_at >= day(cycle.year, 1, 1, hour=9)

        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await cycle.complete("plan", actor="someone-else")
        error = rejection(caught.value)
        assert error.type == RejectionType.TASK_NOT_OPEN
        assert "already completed" in error.message
        assert len(cycle.backend.completions()) == 1


async def test_two_concurrent_completions_exactly_one_succeeds(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(time_skipping_env) as cycle:
        await opened_year(cycle)
        outcomes = await asyncio.gather(
            cycle.complete("plan", actor="alice"),
            cycle.complete("plan", actor="bob"),
            return_exceptions=True,
        )
        succeeded = [o for o in outcomes if isinstance(o, ItemStatus)]
        failed = [rejection(o) for o in outcomes if isinstance(o, BaseException)]
        assert len(succeeded) == 1 and len(failed) == 1
        assert failed[0].type == RejectionType.TASK_NOT_OPEN
        [recorded] = cycle.backend.completions()
        assert recorded.actor == succeeded[0].closed_by


async def test_completions_accepted_in_one_activation_one_fails_in_the_handler(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Both pass their validators in the same activation; the handler's re-check stops one."""
    async with running_cycle(time_skipping_env, max_cached_workflows=0) as cycle:
        await opened_year(cycle)
        commands = [cycle.complete_command("plan", actor=who) for who in ("alice", "bob")]
        async with cycle.worker_stopped():
            starts = [
                asyncio.create_task(
                    cycle.handle.start_update(
                        UPDATE_COMPLETE, command, result_type=ItemStatus,
                        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                    )
                )
                for command in commands
            ]
            await asyncio.sleep(0.3)  # both requests wait on the server for the next worker
        handles = await asyncio.gather(*starts)  # accepted: both validators passed
        outcomes = await asyncio.gather(*(h.result() for h in handles), return_exceptions=True)
        succeeded = [o for o in outcomes if isinstance(o, ItemStatus)]
        failed = [rejection(o) for o in outcomes if isinstance(o, BaseException)]
        assert len(succeeded) == 1 and len(failed) == 1
        assert failed[0].type == RejectionType.TASK_NOT_OPEN
        assert "in progress" in failed[0].message
        assert len(cycle.backend.completions()) == 1


async def test_unknown_task_is_rejected_by_every_update(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(time_skipping_env) as cycle:
        y = cycle.year
        attempts = [
            ("complete_task", CompleteTask(
                key="nope", actor="staff", evidence={}, submission_ref="s-1")),
            ("extend_deadline", ExtendDeadline(
                key="nope", actor="sup", new_due_on=date(y, 5, 1), reason="r")),
            ("waive_task", WaiveTask(key="nope", actor="sup", reason="r")),
        ]
        for name, command in attempts:
            with pytest.raises(WorkflowUpdateFailedError) as caught:
                await cycle.handle.execute_update(name, command, result_type=ItemStatus)
            assert rejection(caught.value).type == RejectionType.TASK_NOT_FOUND, name
        assert cycle.backend.changes() == [] and cycle.backend.completions() == []


async def test_malformed_evidence_is_rejected_naming_the_fields(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(time_skipping_env) as cycle:
        await opened_year(cycle)
        bad = {"document_number": "", "summary": "Kế hoạch", "colour": "red"}
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await cycle.complete("plan", evidence=bad)
        error = rejection(caught.value)
        assert error.type == RejectionType.INVALID_EVIDENCE
        for field in ("document_date", "document_number"):
            assert field in error.message
        [problems] = error.details
        # An unknown field is the API edge's to refuse; the workflow ignores it.
        assert {p["field"] for p in problems} == {"document_date", "document_number"}

        # Evidence of another kind is refused too; nothing was recorded; the task is still open.
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await cycle.complete("plan", evidence={"findings": "fine"})
        assert rejection(caught.value).type == RejectionType.INVALID_EVIDENCE
        assert cycle.backend.completions() == []
        assert (await cycle.item("plan")).state is ItemState.OPEN
        assert (await cycle.complete("plan")).state is ItemState.COMPLETED


async def test_a_pending_task_cannot_be_completed(time_skipping_env: WorkflowEnvironment) -> None:
    async with running_cycle(time_skipping_env) as cycle:
        await opened_year(cycle)
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await cycle.complete("roster")
        error = rejection(caught.value)
        assert error.type == RejectionType.TASK_NOT_OPEN and "not open yet" in error.message


async def test_an_activity_failed_for_good_is_tried_again_and_the_completion_waits(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """A recording that fails for good (an older worker's 4xx) neither rejects the change nor
    fails the cycle: the workflow schedules it again after a wait, and the change goes on."""
    async with running_cycle(time_skipping_env) as cycle:
        await opened_year(cycle)
        cycle.backend.fail_next(ACTIVITY_RECORD_COMPLETION)
        handle = await cycle.handle.start_update(
            UPDATE_COMPLETE, cycle.complete_command("plan"), result_type=ItemStatus,
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        await cycle.env.sleep(FAILED_ACTIVITY_WAITS[0].total_seconds() + 5)
        assert (await handle.result()).state is ItemState.COMPLETED
        assert len(cycle.backend.completions()) == 1
        described = await cycle.handle.describe()
        assert described.status is WorkflowExecutionStatus.RUNNING


async def test_a_passing_backend_fault_is_retried(time_skipping_env: WorkflowEnvironment) -> None:
    async with running_cycle(time_skipping_env) as cycle:
        await opened_year(cycle)
        cycle.backend.fail_next(ACTIVITY_RECORD_COMPLETION, times=2, retryable=True)
        handle = await cycle.handle.start_update(
            UPDATE_COMPLETE, cycle.complete_command("plan"), result_type=ItemStatus,
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        await cycle.env.sleep(10)  # the retry policy's backoff timers: 1 s, then 2 s
        assert (await handle.result()).state is ItemState.COMPLETED


async def test_extensions_must_move_the_due_date_later_within_the_next_year(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(time_skipping_env) as cycle:
        y = cycle.year
        for new_due_on in (date(y, 1, 31), date(y, 1, 15), date(y + 2, 1, 1)):
            with pytest.raises(WorkflowUpdateFailedError) as caught:
                await cycle.extend("plan", new_due_on)
            assert rejection(caught.value).type == RejectionType.INVALID_EXTENSION, new_due_on

        # A pending task may be extended: it opens with the new date.
        pending = await cycle.extend("roster", date(y + 1, 1, 31))
        assert (pending.state, pending.due_on) == (ItemState.PENDING, date(y + 1, 1, 31))
        # The backend has no row for it yet: the change describes the task, so it can keep one
        # (pending) instead of answering that no such task has opened.
        change = next(c for c in cycle.backend.changes() if c.key == "roster")
        assert change.task is not None
        assert (change.task.key, change.task.due_on) == ("roster", change.previous_due_on)
        assert "roster" not in {e.key for e in cycle.backend.opened()}

        await cycle.waive("plan")
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await cycle.extend("plan", date(y, 3, 1))
        assert rejection(caught.value).type == RejectionType.TASK_NOT_OPEN
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await cycle.waive("plan")
        assert rejection(caught.value).type == RejectionType.TASK_NOT_OPEN


async def test_an_opening_failed_for_good_waits_and_opens_the_task(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """No backend answer fails the cycle: an opening that failed for good is tried again."""
    async with running_cycle(time_skipping_env) as cycle:
        cycle.backend.fail_next(ACTIVITY_OPEN_TASK, times=2)
        await cycle.advance_to(day(cycle.year, 1, 1, hour=9))
        await cycle.env.sleep(sum(w.total_seconds() for w in FAILED_ACTIVITY_WAITS[:2]) + 5)
        opened = await cycle.wait_for_item("plan", lambda i: i.state is ItemState.OPEN)
        assert opened.opened_at is not None
        assert [e.key for e in cycle.backend.opened()].count("plan") == 1
        described = await cycle.handle.describe()
        assert described.status is WorkflowExecutionStatus.RUNNING


@pytest.mark.parametrize("change", ["complete", "extend", "waive"])
async def test_a_change_waits_for_the_rung_being_recorded(
    time_skipping_env: WorkflowEnvironment, change: str
) -> None:
    """The backend must never hear of a rung after the change that settles it."""
    async with running_cycle(time_skipping_env) as cycle:
        y = cycle.year
        await cycle.advance_to(day(y, 1, 2))
        await cycle.wait_for_item("plan", lambda i: i.state is ItemState.OPEN)
        cycle.backend.hold(ACTIVITY_RECORD_LADDER_STEP)
        # A held activity stops time skipping, so the clock moves on only after the release.
        advancing = asyncio.create_task(cycle.advance_to(day(y, 1, 25, hour=1)))
        await asyncio.wait_for(cycle.backend.held[ACTIVITY_RECORD_LADDER_STEP].wait(), 10)

        if change == "complete":
            command: object = cycle.complete_command("plan")
            name = UPDATE_COMPLETE
        elif change == "extend":
            command = ExtendDeadline(
                key="plan", actor="supervisor", new_due_on=date(y, 3, 31), reason="flood"
            )
            name = UPDATE_EXTEND
        else:
            command = WaiveTask(key="plan", actor="supervisor", reason="merged")
            name = UPDATE_WAIVE
        update = await cycle.handle.start_update(
            name, command, wait_for_stage=WorkflowUpdateStage.ACCEPTED, result_type=ItemStatus
        )
        # Room for a change that did not wait to reach the backend first (it must not).
        await asyncio.sleep(0.5)
        cycle.backend.release(ACTIVITY_RECORD_LADDER_STEP)
        await update.result()
        await advancing

        names = [n for n, event in cycle.backend.calls if getattr(event, "key", "") == "plan"]
        settled = next(
            i for i, n in enumerate(names)
            if n in (ACTIVITY_RECORD_COMPLETION, ACTIVITY_RECORD_TASK_CHANGE)
        )
        assert names.index(ACTIVITY_RECORD_LADDER_STEP) < settled, names


async def test_evidence_with_a_field_this_code_does_not_know_is_taken(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The API's edge refuses unknown evidence fields; a newer API may know one this worker
    does not, so the workflow ignores it rather than refusing the completion."""
    async with running_cycle(time_skipping_env) as cycle:
        await opened_year(cycle)
        evidence = {**EVIDENCE[EvidenceKind.PLAN], "scanned_copy": "ke-hoach.pdf"}
        done = await cycle.complete("plan", evidence=evidence)
        assert done.state is ItemState.COMPLETED
        [recorded] = cycle.backend.completions()
        assert "scanned_copy" not in recorded.evidence
