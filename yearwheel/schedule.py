"""The yearly Schedule: every 1 January, Asia/Ho_Chi_Minh, open every active committee's cycle."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from domain.calendar import HCM
from domain.contracts import YEAR_SCHEDULE_ID, YEAR_WORKFLOW_NAME, OpenYearInput


def yearly_schedule(task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            YEAR_WORKFLOW_NAME,
            OpenYearInput(),
            id="open-year",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    month=[ScheduleRange(1)],
                    day_of_month=[ScheduleRange(1)],
                    hour=[ScheduleRange(0)],
                    minute=[ScheduleRange(0)],
                    second=[ScheduleRange(0)],
                    comment="1 January, start of the cycle year",
                )
            ],
            time_zone_name=HCM.key,
        ),
        # A late or still-running opener must never make the next year's run be skipped.
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.ALLOW_ALL, catchup_window=timedelta(days=365)
        ),
    )


async def ensure_yearly_schedule(client: Client, *, task_queue: str) -> str:
    """Create the yearly schedule, or bring an existing one up to date; returns its id."""
    schedule = yearly_schedule(task_queue)
    try:
        await client.create_schedule(YEAR_SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(YEAR_SCHEDULE_ID).update(replace)
    return YEAR_SCHEDULE_ID
