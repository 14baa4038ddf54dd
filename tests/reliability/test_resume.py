"""A cycle whose workflow was terminated by hand is resumed, never restarted from nothing.

Starting it again (POST /cycles) starts a new run of the same workflow id seeded with every
task the database holds for it: the new run opens none of them again, raises no rung they
already reached, and the cycle ends exactly as an undisturbed one does. The cross-check reads
the history of both runs, and agrees with the audit chain and the task rows.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus

from api.db import make_engine, make_sessions
from api.models import Escalation, Task
from api.services.history import cycle_input
from domain.contracts import ItemState
from tests.api.conftest import fresh_database
from tests.api.support import eventually
from tests.conftest import POSTGRES_URL
from tests.reliability.conftest import Figure
from tests.reliability.probes import Pending, recordings, sqlite_write_lock, started_activities
from tests.reliability.rehearsal import (
    COMMITTEE,
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


async def task_rows(database_url: str) -> dict[str, tuple[str, int]]:
    """Each task's state and how many rungs it has reached."""
    engine = make_engine(database_url)
    try:
        async with make_sessions(engine)() as session:
            tasks = (await session.scalars(select(Task))).all()
            rungs = (await session.scalars(select(Escalation))).all()
            return {
                t.key: (t.state, sum(1 for e in rungs if e.task_id == t.id)) for t in tasks
            }
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.skipif(
    not POSTGRES_URL, reason="YEARWHEEL_TEST_POSTGRES_URL is not set"))])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str | None]:
    """None: the rig's own SQLite file; else a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    async with fresh_database("postgres", tmp_path) as url:
        yield url


async def test_a_cycle_terminated_by_hand_resumes_from_what_it_recorded(
    tmp_path: Path, database_url: str | None, undisturbed: Recorded, figure: Figure
) -> None:
    async with running_stack(tmp_path, database_url=database_url) as rig:
        db, api = rig.stack.database_url, rig.stack.api_url
        async with rehearsal(api, db) as run:
            people = run.staff.people

            async def report_climbing() -> dict[str, tuple[str, int]] | None:
                """The 6-month report open with a rung or more reached, not the board yet: the
                plan is completed by then, the review waived, the early items completed."""
                rows = await task_rows(db)
                state, rungs = rows.get("report-h1", ("", 0))
                return rows if state in ("overdue", "escalated") and rungs < 4 else None

            await eventually(report_climbing, within=120, interval=0.02)
            handle = (await rig.temporal()).get_workflow_handle(run.workflow_id)
            first_run = (await handle.describe()).run_id
            await handle.terminate("terminated by hand (test)")
            refusals: list[httpx.Response] = []
            start = {"committee": COMMITTEE, "year": YEAR, "time_scale": SECONDS_PER_DAY}

            async with httpx.AsyncClient(base_url=api, timeout=60) as client:
                failed = await client.get(
                    f"/cycles/{run.cycle['id']}", headers=bearer(people.board))
                assert failed.json()["status"] == "failed", failed.text
                assert failed.json()["temporal_status"] == "TERMINATED"

                async def resumed() -> tuple[httpx.Response, dict[str, Any]] | None:
                    """Start it again; while the ended run's recordings may still land, the
                    start is refused (409) and says when to try again."""
                    rows = await task_rows(db)
                    answer = await client.post("/cycles", headers=bearer(people.admin),
                                               json=start)
                    if answer.status_code != 409:
                        return answer, rows
                    refusals.append(answer)
                    return None

                again, at_termination = await eventually(resumed, within=60, interval=1.0)
                assert again.status_code == 201, again.text
                for refused in refusals:
                    assert refused.headers["content-type"] == "application/problem+json"
                    assert "in flight" in refused.json()["detail"], refused.text
                    assert "start it again after" in refused.json()["detail"]
                    assert int(refused.headers["retry-after"]) <= 35
                assert again.json()["id"] == run.cycle["id"]
                described = await handle.describe()
                assert described.run_id != first_run
                assert described.status is WorkflowExecutionStatus.RUNNING
                seed = cycle_input(await handle.fetch_history())
                assert seed is not None and seed.seed is not None
                seeded = {s.key: s for s in seed.seed}
                assert set(seeded) == set(at_termination)
                assert seeded["plan"].state is ItemState.COMPLETED
                assert set(seeded["plan"].rungs) == {"reminder", "overdue", "parent", "board"}
                assert seeded["review"].state is ItemState.WAIVED
                report = seeded["report-h1"]
                assert report.state in (ItemState.OVERDUE, ItemState.ESCALATED)
                # A rung the ended run had in flight may land after the snapshot: never fewer.
                assert len(report.rungs) >= at_termination["report-h1"][1] >= 2
                assert seed.calendar_origin is not None
                # A second start while the new run goes on is the same cycle, not a third run.
                same = await client.post(
                    "/cycles", headers=bearer(people.admin),
                    json={"committee": COMMITTEE, "year": YEAR, "time_scale": SECONDS_PER_DAY},
                )
                assert same.status_code == 200, same.text
                await run.finish()

                async def audit_check() -> dict[str, Any] | None:
                    answer = await client.get(
                        f"/cycles/{run.cycle['id']}/audit-check", headers=bearer(people.admin))
                    assert answer.status_code == 200, answer.text
                    body: dict[str, Any] = answer.json()
                    return body if body["agrees"] else None

                check = await eventually(audit_check, within=30, interval=0.5)
                assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED
        faulted = await recorded(db)
        after = await task_rows(db)

    # Nothing the first run recorded was opened or raised again.
    for key, (state, rungs) in at_termination.items():
        if state in ("completed", "waived"):
            assert after[key] == (state, rungs), key
    assert after["report-h1"] == ("completed", 4)  # it climbed on: each rung once
    assert_same_as(faulted, undisturbed, besides={"audit_events": 1})  # cycle.resumed
    figure("tasks recorded at termination", len(at_termination))
    figure("starts refused while recordings were in flight", len(refusals))
    figure("cross-check facts (history, audit, tasks)", check["facts"])


async def test_a_resume_waits_for_the_recordings_the_ended_run_had_in_flight(
    tmp_path: Path, undisturbed: Recorded, figure: Figure
) -> None:
    """A recording inside the API when the run is terminated lands after the termination: a
    resume seeded before it would take it for undone. The start is refused (409, Retry-After)
    until the activity's timeout has passed; then the resume's seed holds what landed."""
    async with running_stack(tmp_path) as rig:
        db, api = rig.stack.database_url, rig.stack.api_url
        async with rehearsal(api, db) as run:
            people = run.staff.people
            client = await rig.temporal()
            handle = client.get_workflow_handle(run.workflow_id)
            await mid_cycle(db)
            with sqlite_write_lock(db):

                async def an_activity_held_at_the_api() -> list[Pending]:
                    return await started_activities(client, run.workflow_id)

                held = await eventually(an_activity_held_at_the_api, within=60, interval=0.05)
                before = await recordings(db)
                await handle.terminate("terminated by hand mid-recording (test)")

            async def the_held_request_landed() -> int:
                return await recordings(db) - before

            await eventually(the_held_request_landed, within=30, interval=0.05)
            start = {"committee": COMMITTEE, "year": YEAR, "time_scale": SECONDS_PER_DAY}
            async with httpx.AsyncClient(base_url=api, timeout=60) as http:
                refused = await http.post("/cycles", headers=bearer(people.admin), json=start)
                assert refused.status_code == 409, refused.text
                assert refused.headers["content-type"] == "application/problem+json"
                problem = refused.json()
                assert "in flight" in problem["detail"] and held[0].name in problem["detail"]
                assert "start it again after" in problem["detail"]
                assert problem["workflow_id"] == run.workflow_id
                assert 1 <= int(refused.headers["retry-after"]) <= 35
                refused_at = time.monotonic()
                first = (await handle.describe()).run_id

                async def resumed() -> httpx.Response | None:
                    answer = await http.post("/cycles", headers=bearer(people.admin), json=start)
                    return None if answer.status_code == 409 else answer

                again = await eventually(resumed, within=60, interval=1.0)
                waited = time.monotonic() - refused_at
                assert again.status_code == 201, again.text
                assert (await handle.describe()).run_id != first
                await run.finish()

                async def audit_check() -> dict[str, Any] | None:
                    answer = await http.get(
                        f"/cycles/{run.cycle['id']}/audit-check", headers=bearer(people.admin))
                    body: dict[str, Any] = answer.json()
                    return body if body["agrees"] else None

                await eventually(audit_check, within=30, interval=0.5)
        faulted = await recorded(db)

    assert_same_as(faulted, undisturbed, besides={"audit_events": 1})  # cycle.resumed
    figure("recording held at termination", held[0].name)
    figure("resume refused for (s)", waited)
