"""The backend refusing the worker's recordings for a while: the cycle waits, then goes on.

A refusal (401 from a changed service token, 422 from a backend bug) used to fail the cycle on
its first attempt. Now each is retried with its own backoff and said loudly (a warning naming
the cycle, the path and the status); once the fault is fixed the cycle continues where it
stood and ends exactly as an undisturbed one does: nothing reopened, no rung recorded twice,
and the history, the audit chain and the task rows agree.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus

from api.db import make_engine, make_sessions
from api.models import Cycle
from api.services.crosscheck import cross_check
from tests.reliability.conftest import Figure
from tests.reliability.rehearsal import (
    Recorded,
    assert_same_as,
    mid_cycle,
    recorded,
    rehearsal,
)
from tests.reliability.rig import Rig, free_port, running_stack

pytestmark = pytest.mark.reliability

REFUSED_SECONDS = 8.0


@pytest.fixture(autouse=True)
def short_refusal_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers the rig starts wait at most 1 s between refused attempts (5 min by default)."""
    monkeypatch.setenv("YEARWHEEL_REFUSAL_RETRY_CAP", "1")


async def refused_attempts(rig: Rig, workflow_id: str, status: int) -> dict[str, int]:
    """Pending activities whose last attempt the backend refused with `status`: attempts."""
    client = await rig.temporal()
    described = await client.get_workflow_handle(workflow_id).describe()
    assert described.status is WorkflowExecutionStatus.RUNNING
    return {
        p.activity_type.name: p.attempt
        for p in described.raw_description.pending_activities
        if "backend refused" in p.last_failure.message
        and f": {status} " in p.last_failure.message
    }


async def agrees(rig: Rig, workflow_id: str) -> list[str]:
    """The cross-check of history, audit chain and task rows: its disagreements."""
    history = await (await rig.temporal()).get_workflow_handle(workflow_id).fetch_history()
    engine = make_engine(rig.stack.database_url)
    try:
        async with make_sessions(engine)() as session:
            cycle = await session.scalar(select(Cycle).where(Cycle.workflow_id == workflow_id))
            assert cycle is not None
            check = await cross_check(session=session, cycle=cycle, history=history)
            return [d.detail for d in check.disagreements]
    finally:
        await engine.dispose()


async def wait_for_refusals(rig: Rig, workflow_id: str, status: int) -> dict[str, int]:
    """Refusals for REFUSED_SECONDS, the cycle running all along; the most attempts seen."""
    seen: dict[str, int] = {}
    started = time.monotonic()
    while time.monotonic() - started < REFUSED_SECONDS or not seen:
        assert time.monotonic() - started < 120, "no recording was refused"
        for name, attempt in (await refused_attempts(rig, workflow_id, status)).items():
            seen[name] = max(attempt, seen.get(name, 0))
        await asyncio.sleep(0.25)
    return seen


async def test_a_changed_service_token_holds_cycles_until_it_is_restored(
    tmp_path: Path, undisturbed: Recorded, figure: Figure
) -> None:
    async with running_stack(tmp_path) as rig:
        db, api = rig.stack.database_url, rig.stack.api_url
        async with rehearsal(api, db) as run:
            await mid_cycle(db)
            original = rig.stack
            await rig.astop("api")
            rig.stack = replace(original, service_token=secrets.token_urlsafe(32))
            await rig.astart_api()
            refused = await wait_for_refusals(rig, run.workflow_id, 401)
            await rig.astop("api")
            rig.stack = original
            await rig.astart_api()
            await run.finish()
        disagreements = await agrees(rig, run.workflow_id)
        faulted = await recorded(db)
        log = (rig.group.log_dir / "worker.log").read_text(encoding="utf-8", errors="replace")

    assert_same_as(faulted, undisturbed)
    assert disagreements == []
    assert f"backend refused cycle {run.workflow_id} at /internal/" in log
    assert ": 401 (attempt" in log
    figure("service token wrong for (s)", REFUSED_SECONDS)
    figure("activities refused (most attempts)", ", ".join(f"{k}: {v}" for k, v in refused.items()))


async def test_a_recording_route_answering_422_for_a_while_delays_the_cycle(
    tmp_path: Path, undisturbed: Recorded, figure: Figure
) -> None:
    async with running_stack(tmp_path, workers=()) as rig:
        db, api = rig.stack.database_url, rig.stack.api_url
        switch = tmp_path / "refuse-ladder"
        switch.touch()
        port = free_port()
        rig.start_process("proxy", [
            sys.executable, "-m", "tests.reliability.refusing_proxy", str(port), api,
            str(switch), "/internal/ladder", "422",
        ], port=port)
        rig.start_worker("worker", api_port=port)
        await rig.wait_polling("worker")
        async with rehearsal(api, db) as run:
            refused = await wait_for_refusals(rig, run.workflow_id, 422)
            switch.unlink()
            await run.finish()
        disagreements = await agrees(rig, run.workflow_id)
        faulted = await recorded(db)
        log = switch.with_name(switch.name + ".log").read_text(encoding="utf-8")

    assert_same_as(faulted, undisturbed)
    assert disagreements == []
    refusals = [json.loads(line) for line in log.splitlines()]
    assert refusals and {r["cycle"] for r in refusals} == {run.workflow_id}
    figure("ladder route refusing with 422 for (s)", REFUSED_SECONDS)
    figure("rung recordings refused", len(refusals))
    figure("activities refused (most attempts)", ", ".join(f"{k}: {v}" for k, v in refused.items()))
