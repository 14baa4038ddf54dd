"""Parts of the stack going away mid-cycle and coming back: the Temporal dev server (restarted
on the same SQLite file) and the API. The cycle is delayed, never broken.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from api.db import make_engine, make_sessions
from api.models import Escalation, Task
from domain.calendar import HCM
from tests.api.support import eventually
from tests.reliability.conftest import API_OUTAGE_SECONDS, Figure
from tests.reliability.probes import Pending, pending_activities, recordings
from tests.reliability.rehearsal import (
    SECONDS_PER_DAY,
    YEAR,
    Recorded,
    assert_same_as,
    bearer,
    mid_cycle,
    recorded,
    rehearsal,
)
from tests.reliability.rig import running_stack

pytestmark = pytest.mark.reliability

TEMPORAL_DOWN_SECONDS = 5.0  # 50 calendar days at 0.1 s a day


async def calendar_rows(database_url: str) -> list[tuple[str, datetime]]:
    """Every timer-driven recording with the calendar instant it fell due: rungs and openings."""
    engine = make_engine(database_url)
    try:
        async with make_sessions(engine)() as session:
            rungs = await session.execute(
                select(Task.key, Escalation.rung, Escalation.raised_at)
                .join(Task, Escalation.task_id == Task.id)
            )
            opened = await session.execute(select(Task.key, Task.opened_at))
            return [(f"{key} {rung}", at) for key, rung, at in rungs.tuples()] + [
                (f"{key} opened", at) for key, at in opened.tuples()
            ]
    finally:
        await engine.dispose()


async def test_the_dev_server_restarted_on_its_file_mid_cycle_loses_nothing(
    tmp_path: Path, undisturbed: Recorded, figure: Figure
) -> None:
    async with running_stack(tmp_path) as rig:
        db, api = rig.stack.database_url, rig.stack.api_url
        async with rehearsal(api, db) as run:
            client = await rig.temporal()
            started = (await client.get_workflow_handle(run.workflow_id).describe()).start_time
            assert started is not None
            await mid_cycle(db)
            await rig.akill("temporal")  # a crash: harsher than a clean stop, and instant
            down_from = datetime.now(HCM)
            seen_before = {what for what, _ in await calendar_rows(db)}
            async with httpx.AsyncClient(base_url=api, timeout=30) as probe:
                health = await probe.get("/health")
                detail = await probe.get(f"/cycles/{run.cycle['id']}",
                                         headers=bearer(run.staff.people.board))
            await asyncio.sleep(TEMPORAL_DOWN_SECONDS)
            during = await recordings(db)
            down_until = datetime.now(HCM)
            await rig.astart_temporal()
            restarted = time.monotonic()

            async def a_recording_after_the_restart() -> bool:
                return await recordings(db) > during

            await eventually(a_recording_after_the_restart, within=120, interval=0.1)
            first_after = time.monotonic() - restarted
            await run.finish()
        faulted = await recorded(db)
        fired = await calendar_rows(db)

    assert_same_as(faulted, undisturbed)
    assert health.status_code == 503
    assert health.headers["content-type"] == "application/problem+json"
    assert (health.json()["database"], health.json()["temporal"]) == ("ok", "down")
    assert detail.status_code == 200 and detail.json()["source"] == "database"

    def calendar(real: datetime) -> datetime:
        days = (real - started).total_seconds() / SECONDS_PER_DAY
        return datetime(YEAR, 1, 1, tzinfo=HCM) + timedelta(days=days)

    window = (calendar(down_from), calendar(down_until))
    due_while_down = sorted(
        what for what, at in fired if window[0] <= at <= window[1] and what not in seen_before
    )
    assert due_while_down, f"no timer fell due in {window}"
    figure("dev server down (s)", TEMPORAL_DOWN_SECONDS)
    figure("calendar days that passed while down",
           f"{(window[1] - window[0]).total_seconds() / 86400:.0f}")
    figure("timers due while down, fired after restart", ", ".join(due_while_down))
    figure("restart to first recording (s)", first_after)
    figure("problems the staff got (status: count)", _by_status(run.staff.problems))


async def test_the_api_down_while_activities_want_it_they_retry_and_succeed(
    tmp_path: Path, undisturbed: Recorded, figure: Figure
) -> None:
    async with running_stack(tmp_path) as rig:
        db, api = rig.stack.database_url, rig.stack.api_url
        async with rehearsal(api, db) as run:
            client = await rig.temporal()
            await mid_cycle(db)
            await rig.astop("api")
            stopped = time.monotonic()
            failing: dict[str, Pending] = {}
            while time.monotonic() - stopped < API_OUTAGE_SECONDS:
                for pending in await pending_activities(client, run.workflow_id):
                    if pending.attempt > 1:
                        failing[pending.activity_id] = pending
                await asyncio.sleep(0.5)
            during = await recordings(db)
            await rig.astart_api()
            back = time.monotonic()
            outage = back - stopped

            async def a_recording_after_the_api_came_back() -> bool:
                return await recordings(db) > during

            await eventually(a_recording_after_the_api_came_back, within=120, interval=0.1)
            first_after = time.monotonic() - back
            await run.finish()
        faulted = await recorded(db)

    assert_same_as(faulted, undisturbed)
    assert failing, "no activity wanted the API while it was down"
    figure("API down (s)", outage)
    figure("activities that retried while it was down",
           ", ".join(sorted({p.name for p in failing.values()})))
    figure("most attempts seen for one activity", max(p.attempt for p in failing.values()))
    figure("API back to first recording (s)", first_after)
    figure("staff requests refused at the connection", run.staff.connection_errors)


def _by_status(problems: list[dict[str, object]]) -> str:
    counts: dict[str, int] = {}
    for problem in problems:
        key = f"{problem.get('status')} {problem.get('type')}"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "none"
