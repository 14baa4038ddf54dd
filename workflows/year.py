"""OpenYear: what the yearly Schedule runs on 1 January; starts every active committee's cycle."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

from domain.calendar import HCM
from domain.contracts import (
    YEAR_WORKFLOW_NAME,
    OpenYearInput,
    YearStarted,
)

with workflow.unsafe.imports_passed_through():
    # Not workflow code: imported for its activity method's name and types (it imports httpx).
    from activities.backend import BackendActivities

SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")


@workflow.defn(name=YEAR_WORKFLOW_NAME)
class OpenYear:
    @workflow.run
    async def run(self, request: OpenYearInput) -> YearStarted:
        year = request.year
        if year is None:
            # A buffered run may start late; the year is the one it was scheduled for.
            scheduled = workflow.info().typed_search_attributes.get(SCHEDULED_START)
            year = (scheduled or workflow.now()).astimezone(HCM).year
        return await workflow.execute_activity_method(
            BackendActivities.start_year_cycles,
            year,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=1),
                backoff_coefficient=2.0,
                maximum_interval=timedelta(minutes=1),
            ),
        )
