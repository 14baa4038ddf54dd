"""The yearly Schedule on the real dev server (the time-skipping server has no schedules)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import activity
from temporalio.client import ScheduleOverlapPolicy, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.calendar import HCM
from domain.contracts import ACTIVITY_START_YEAR, YEAR_SCHEDULE_ID, YearStarted
from tests.conftest import unique_queue
from workflows.sandbox import workflow_runner
from workflows.year import OpenYear
from yearwheel.schedule import ensure_yearly_schedule


class YearOpenings:
    def __init__(self) -> None:
        self.years: list[int] = []

    @activity.defn(name=ACTIVITY_START_YEAR)
    async def start_year_cycles(self, year: int) -> YearStarted:
        self.years.append(year)
        return YearStarted(year=year, started=3, existing=0)


async def test_schedule_fires_on_first_of_january_and_never_skips(
    dev_env: WorkflowEnvironment,
) -> None:
    client = dev_env.client
    queue = unique_queue("schedule")
    schedule_id = await ensure_yearly_schedule(client, task_queue=queue)
    assert schedule_id == YEAR_SCHEDULE_ID
    await ensure_yearly_schedule(client, task_queue=queue)  # a second run updates, no error

    handle = client.get_schedule_handle(schedule_id)
    try:
        described = await handle.describe()
        calendar = described.schedule.spec.calendars[0]
        assert described.schedule.spec.time_zone_name == "Asia/Ho_Chi_Minh"
        assert [(r.start, r.end) for r in calendar.month] == [(1, 1)]
        assert [(r.start, r.end) for r in calendar.day_of_month] == [(1, 1)]
        assert described.schedule.policy.overlap is ScheduleOverlapPolicy.ALLOW_ALL
        next_run = described.info.next_action_times[0].astimezone(HCM)
        assert (next_run.month, next_run.day, next_run.hour, next_run.minute) == (1, 1, 0, 0)

        openings = YearOpenings()
        async with Worker(
            client, task_queue=queue, workflows=[OpenYear],
            activities=[openings.start_year_cycles], workflow_runner=workflow_runner(),
        ):
            await handle.trigger()
            for _ in range(200):
                if openings.years:
                    break
                await asyncio.sleep(0.05)
            assert openings.years == [datetime.now(HCM).year]
            recent = (await handle.describe()).info.recent_actions
            run = client.get_workflow_handle(
                recent[-1].action.workflow_id, result_type=YearStarted
            )
            result = await run.result()
            assert result == YearStarted(year=datetime.now(HCM).year, started=3, existing=0)
            assert (await run.describe()).status is WorkflowExecutionStatus.COMPLETED
    finally:
        await handle.delete()
