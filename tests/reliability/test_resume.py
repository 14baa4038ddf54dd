"""A cycle whose workflow was terminated by hand is resumed, never restarted from nothing.

Starting it again (POST /cycles) starts a new run of the same workflow id seeded with every
task the database holds for it: the new run opens none of them again, raises no rung they
already reached, and the cycle ends exactly as an undisturbed one does. The cross-check reads
the history of both runs, and agrees with the audit chain and the task rows.
"""

from __future__ import annotations

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
from tests.reliability.rehearsal import (
    COMMITTEE,
    SECONDS_PER_DAY,
    YEAR,
    Recorded,
    assert_same_as,
    bearer,
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
            at_termination = await task_rows(db)

            async with httpx.AsyncClient(base_url=api, timeout=60) as client:
                failed = await client.get(
                    f"/cycles/{run.cycle['id']}", headers=bearer(people.board))
                assert failed.json()["status"] == "failed", failed.text
                assert failed.json()["temporal_status"] == "TERMINATED"
                again = await client.post(
                    "/cycles", headers=bearer(people.admin),
                    json={"committee": COMMITTEE, "year": YEAR, "time_scale": SECONDS_PER_DAY},
                )
                assert again.status_code == 201, again.text
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
    figure("cross-check facts (history, audit, tasks)", check["facts"])
