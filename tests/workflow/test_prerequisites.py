"""Prerequisites gate opening; waiving closes a task for good and releases its dependents.

Conferences open in their own quarter and wait for nothing (the 1751-CV/ĐUK calendar); the
legacy template's gating (its roster waits for its plan) still holds for cycles started with it.
"""

from __future__ import annotations

from datetime import date

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.contracts import CommitteeLevel, ItemState, RejectionType
from domain.default_templates import STANDING
from domain.template import EvidenceKind
from tests.domain.samples import EVIDENCE
from tests.workflow.support import day, rejection, running_cycle


async def test_conferences_open_in_their_quarter_and_the_report_waits_for_the_review(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(time_skipping_env, template=STANDING) as cycle:
        y = cycle.year
        await cycle.advance_to(day(y, 1, 2))
        # Nothing done, and no roster at all: the first conference opens on its quarter's day.
        q1 = await cycle.wait_for_item("conference-q1", lambda i: i.state is ItemState.OPEN)
        assert (q1.opened_at, q1.opens_on, q1.due_on) == (day(y, 1, 1), date(y, 1, 1),
                                                          date(y, 3, 31))
        assert q1.prerequisites == [] and q1.rung is None
        assert q1.title_vi.endswith(f"quý I năm {y}")
        status = {i.key: i for i in (await cycle.status()).items}
        assert "roster" not in status
        assert status["plan"].state is ItemState.OPEN
        assert status["plan"].title_vi == (
            "Xây dựng chương trình, kế hoạch công tác tuyên truyền miệng và hoạt động báo cáo "
            f"viên năm {y}"
        )
        assert status["conference-q2"].state is ItemState.PENDING

        await cycle.advance_to(day(y, 4, 1, hour=1))
        q2 = await cycle.wait_for_item("conference-q2", lambda i: i.state is ItemState.OPEN)
        assert q2.opened_at == day(y, 4, 1)

        # Past its open day the annual report still waits for the review, its prerequisite.
        await cycle.waive("review", reason="no inspection this year")
        report = await cycle.wait_for_item("report-year", lambda i: i.state is ItemState.PENDING)
        assert report.prerequisites == ["review"]
        assert report.opens_on == date(y, 12, 15) and report.due_on == date(y, 12, 20)
        await cycle.advance_to(day(y, 12, 15, hour=1))
        report = await cycle.wait_for_item("report-year", lambda i: i.state is ItemState.OPEN)
        assert report.opened_at == day(y, 12, 15)


async def test_a_committee_keeps_its_levels_dates(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(
        time_skipping_env, template=STANDING, committee_level=CommitteeLevel.UPPER
    ) as cycle:
        status = {i.key: i for i in (await cycle.status()).items}
    assert (status["report-h1"].opens_on, status["report-h1"].due_on) == (
        date(cycle.year, 6, 15), date(cycle.year, 6, 25))
    assert status["report-year"].due_on == date(cycle.year, 12, 25)
    assert status["report-h1"].title_vi == (
        f"Báo cáo kết quả hoạt động của đội ngũ báo cáo viên 6 tháng đầu năm {cycle.year}"
    )


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


async def test_a_conference_held_outside_its_quarter_is_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with running_cycle(time_skipping_env, template=STANDING) as cycle:
        y = cycle.year
        await cycle.advance_to(day(y, 1, 2))
        await cycle.wait_for_item("conference-q1", lambda i: i.state is ItemState.OPEN)
        outside = {**EVIDENCE[EvidenceKind.CONFERENCE], "held_on": f"{y}-04-02"}
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await cycle.complete("conference-q1", evidence=outside)
        error = rejection(failed.value)
        assert error.type == RejectionType.INVALID_EVIDENCE.value
        assert f"held_on {y}-04-02 is not in quarter 1 of {y}" in error.message
        inside = {**outside, "held_on": f"{y}-01-02"}
        done = await cycle.complete("conference-q1", evidence=inside)
        assert done.state is ItemState.COMPLETED
