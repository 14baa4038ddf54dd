"""The roster as a living rule: the validator holds rosters to it; a leaving reporter opens a
consolidation that climbs its own ladder until the rule holds again."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.contracts import (
    UPDATE_COMPLETE,
    CommitteeLevel,
    ItemState,
    ItemStatus,
    RejectionType,
    RosterTally,
)
from domain.template import EvidenceKind, Rung
from tests.domain.samples import EVIDENCE
from tests.workflow.support import RunningCycle, day, rejection, running_cycle

NO_MEMBER: dict[str, Any] = {
    **EVIDENCE[EvidenceKind.ROSTER],
    "reporters": [{"name": "Trần Thị B", "position": "Chuyên viên", "committee_member": False}],
}


async def roster_open(cycle: RunningCycle) -> None:
    await cycle.advance_to(day(cycle.year, 1, 2, hour=9))
    await cycle.settle()
    await cycle.complete("plan")
    await cycle.wait_for_item("roster", lambda i: i.state is ItemState.OPEN)


def consolidations(items: list[ItemStatus]) -> list[ItemStatus]:
    return [i for i in items if i.item_key == "consolidate"]


async def test_a_grassroots_roster_without_a_committee_member_is_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(time_skipping_env) as cycle:
        await roster_open(cycle)
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await cycle.complete("roster", evidence=NO_MEMBER)
        error = rejection(caught.value)
        assert error.type == RejectionType.ROSTER_RULE_BROKEN
        assert "committee member" in error.message and "1 short" in error.message
        [violation] = error.details[0]
        assert (violation["rule"], violation["required"], violation["actual"]) == (
            "grassroots-committee-member-reporter", 1, 0,
        )
        assert [c.key for c in cycle.backend.completions()] == ["plan"]

        done = await cycle.complete("roster")  # the sample names a committee member
        assert done.state is ItemState.COMPLETED


async def test_an_upper_roster_is_judged_on_the_team_the_api_counted(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(
        time_skipping_env, committee_level=CommitteeLevel.UPPER
    ) as cycle:
        await roster_open(cycle)
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await cycle.complete("roster")  # one reporter, and no team count: 2 short of 3
        error = rejection(caught.value)
        assert error.type == RejectionType.ROSTER_RULE_BROKEN
        assert error.details[0][0]["rule"] == "upper-team-size"
        assert error.details[0][0]["shortfall"] == 2

        command = cycle.complete_command("roster").model_copy(
            update={"team": RosterTally(total=3, committee_members=1)}
        )
        done = await cycle.handle.execute_update(UPDATE_COMPLETE, command, result_type=ItemStatus)
        assert done.state is ItemState.COMPLETED


async def test_a_reporter_leaving_opens_a_consolidation_that_escalates_if_ignored(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(
        time_skipping_env, committee_level=CommitteeLevel.UPPER
    ) as cycle:
        y = cycle.year
        await cycle.advance_to(day(y, 3, 10, hour=9))
        await cycle.roster_changed(total=4, committee_members=1)  # still 3 or more: nothing
        await cycle.roster_changed(total=2, committee_members=1)
        task = await cycle.wait_for_item("consolidate-1", lambda i: i.state is ItemState.OPEN)
        assert (task.opens_on, task.due_on, task.stage, task.evidence) == (
            date(y, 3, 10), date(y, 4, 9), "roster", EvidenceKind.ROSTER,
        )
        assert task.opened_at is not None and task.opened_at >= day(y, 3, 10, hour=9)
        await cycle.roster_changed(total=1, committee_members=1)  # one is open: no second
        [opened] = [e for e in cycle.backend.opened() if e.item_key == "consolidate"]
        assert (opened.key, opened.due_on) == ("consolidate-1", date(y, 4, 9))

        await cycle.advance_to(day(y, 4, 25))
        escalated = await cycle.wait_for_item("consolidate-1", lambda i: i.rung is Rung.BOARD)
        assert (escalated.state, escalated.escalation_level) == (ItemState.ESCALATED, 2)
        assert [(s.rung, s.at) for s in cycle.backend.ladder("consolidate-1")] == [
            (Rung.REMINDER, day(y, 4, 3)), (Rung.OVERDUE, day(y, 4, 10)),
            (Rung.PARENT, day(y, 4, 17)), (Rung.BOARD, day(y, 4, 24)),
        ]
        assert len(consolidations((await cycle.status()).items)) == 1

        await cycle.roster_changed(total=3, committee_members=1, change="added")
        closed = await cycle.wait_for_item(
            "consolidate-1", lambda i: i.state is ItemState.COMPLETED
        )
        assert (closed.late, closed.closed_by) == (True, "staff")
        [restored] = [c for c in cycle.backend.completions() if c.key == "consolidate-1"]
        assert restored.evidence["kind"] == "roster-restored"
        assert restored.evidence["reporters_active"] == 3

        await cycle.roster_changed(total=2, committee_members=1)  # a later leave: a new task
        again = await cycle.wait_for_item("consolidate-2", lambda i: i.state is ItemState.OPEN)
        assert again.due_on > closed.due_on


async def test_a_roster_style_submission_closes_the_consolidation_under_the_rules(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(time_skipping_env) as cycle:
        await cycle.advance_to(day(cycle.year, 2, 1, hour=9))
        await cycle.roster_changed(total=1, committee_members=0)
        await cycle.wait_for_item("consolidate-1", lambda i: i.state is ItemState.OPEN)
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await cycle.complete("consolidate-1", evidence=NO_MEMBER)
        assert rejection(caught.value).type == RejectionType.ROSTER_RULE_BROKEN

        done = await cycle.complete("consolidate-1", evidence=EVIDENCE[EvidenceKind.ROSTER])
        assert (done.state, done.late) == (ItemState.COMPLETED, False)


async def test_completing_the_roster_item_closes_an_open_consolidation(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(time_skipping_env) as cycle:
        await cycle.advance_to(day(cycle.year, 1, 2, hour=9))
        await cycle.roster_changed(total=0, committee_members=0)
        await cycle.wait_for_item("consolidate-1", lambda i: i.state is ItemState.OPEN)
        await cycle.settle()
        await cycle.complete("plan")
        await cycle.wait_for_item("roster", lambda i: i.state is ItemState.OPEN)
        await cycle.complete("roster")
        closed = await cycle.wait_for_item(
            "consolidate-1", lambda i: i.state is ItemState.COMPLETED
        )
        assert closed.closed_by == "staff"
        [restored] = [c for c in cycle.backend.completions() if c.key == "consolidate-1"]
        assert restored.evidence == {"kind": "roster-restored", "by_task": "roster"}
