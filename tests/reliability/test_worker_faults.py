"""Workers that die or are told to stop, mid-cycle, on real processes.

The backend's recordings are held in flight with SQLite's write lock, so each fault lands while
an activity's request is inside the API: the case where a side effect happens and its
acknowledgement is lost.
"""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.api.support import eventually
from tests.reliability.conftest import Figure
from tests.reliability.probes import (
    Pending,
    activity_attempts,
    recordings,
    sqlite_write_lock,
    started_activities,
    workflow_task_workers,
)
from tests.reliability.rehearsal import (
    Recorded,
    Run,
    assert_same_as,
    mid_cycle,
    recorded,
    rehearsal,
)
from tests.reliability.rig import Rig, running_stack, worker_identity

pytestmark = pytest.mark.reliability



async def hold_an_activity(rig: Rig, run: Run) -> list[Pending]:
    """With the write lock held, wait for a worker to be inside a recording request."""
    client = await rig.temporal()

    async def an_activity_held_at_the_api() -> list[Pending]:
        return await started_activities(client, run.workflow_id)

    in_flight = await eventually(an_activity_held_at_the_api, within=60, interval=0.1)
    await asyncio.sleep(1.0)  # its request reaches the API and waits on the lock
    return in_flight


async def test_a_worker_killed_mid_activity_is_restarted_and_nothing_is_recorded_twice(
    tmp_path: Path, undisturbed: Recorded, figure: Figure
) -> None:
    async with running_stack(tmp_path) as rig:
        db = rig.stack.database_url
        async with rehearsal(rig.stack.api_url, db) as run:
            client = await rig.temporal()
            await mid_cycle(db)
            with sqlite_write_lock(db):
                in_flight = await hold_an_activity(rig, run)
                before = await recordings(db)
                victim = worker_identity(rig.worker_pids["worker"])
                await rig.akill("worker")
            killed_at = time.monotonic()

            async def a_held_request_committed() -> int:
                return await recordings(db) - before

            # The API finishes what the dead worker asked for: the side effects are there,
            # their acknowledgements are lost.
            landed = await eventually(a_held_request_committed, within=30, interval=0.1)
            await rig.astart_worker("worker")
            polling = await rig.wait_polling("worker")
            await run.finish()
            assert run.staff.closed_at is not None
            attempts = {a.activity_id: a for a in await activity_attempts(client, run.workflow_id)}
        faulted = await recorded(db)

    assert_same_as(faulted, undisturbed)
    for held in in_flight:
        retried = attempts[held.activity_id]
        assert retried.outcome == "completed"
        assert retried.attempts >= 2 and retried.worker != victim
    figure("activities in flight at SIGKILL", ", ".join(p.name for p in in_flight))
    figure("rows the API committed for the dead worker", landed)
    figure("new worker polling after restart (s)", polling)
    figure("kill to cycle closed (s)", run.staff.closed_at - killed_at)
    figure("attempts of the held activities",
           ", ".join(str(attempts[p.activity_id].attempts) for p in in_flight))


async def test_two_workers_one_killed_the_other_carries_on(
    tmp_path: Path, undisturbed: Recorded, figure: Figure
) -> None:
    async with running_stack(tmp_path, workers=("worker-a", "worker-b")) as rig:
        db = rig.stack.database_url
        async with rehearsal(rig.stack.api_url, db) as run:
            client = await rig.temporal()
            await mid_cycle(db)
            # The worker that ran the latest workflow task holds the cycle in its cache.
            before = await workflow_task_workers(client, run.workflow_id)
            identities = {worker_identity(pid): name for name, pid in rig.worker_pids.items()}
            victim = identities[before[-1]]
            survivor = next(name for name in rig.worker_pids if name != victim)
            await rig.akill(victim)
            killed_at, dead_since = time.monotonic(), datetime.now(UTC)
            await run.finish()
            assert run.staff.closed_at is not None
            # By the server's clock, not by position: the victim may have completed one more
            # workflow task between the read above and its death.
            after = await workflow_task_workers(client, run.workflow_id, since=dead_since)
            attempts = await activity_attempts(client, run.workflow_id)
        faulted = await recorded(db)

    assert_same_as(faulted, undisturbed)
    assert after and set(after) == {worker_identity(rig.worker_pids[survivor])}
    assert any(a.worker == worker_identity(rig.worker_pids[survivor]) for a in attempts)
    figure("workflow tasks run by the survivor after the kill", len(after))
    figure("kill to cycle closed (s)", run.staff.closed_at - killed_at)


async def test_a_worker_told_to_stop_finishes_its_running_activity_first(
    tmp_path: Path, undisturbed: Recorded, figure: Figure
) -> None:
    async with running_stack(tmp_path) as rig:
        db = rig.stack.database_url
        async with rehearsal(rig.stack.api_url, db) as run:
            client = await rig.temporal()
            await mid_cycle(db)
            stopping = rig.process("worker")
            identity = worker_identity(stopping.pid)
            with sqlite_write_lock(db):
                in_flight = await hold_an_activity(rig, run)
                rig.send_signal("worker", signal.SIGTERM)
                await asyncio.sleep(2.0)
                # Its activity cannot finish while the lock is held, so neither can it.
                assert stopping.poll() is None, "the worker left with an activity running"
                released_at = time.monotonic()
            code = await asyncio.to_thread(stopping.wait, 60)
            drained = time.monotonic() - released_at
            rig.group.procs.pop("worker")
            await rig.astart_worker("worker")
            await run.finish()
            attempts = {a.activity_id: a for a in await activity_attempts(client, run.workflow_id)}
        faulted = await recorded(db)

    assert code == 0
    assert_same_as(faulted, undisturbed)
    for held in in_flight:
        finished = attempts[held.activity_id]
        assert (finished.outcome, finished.attempts, finished.worker) == (
            "completed", 1, identity
        ), finished
    figure("activities running at SIGTERM", ", ".join(p.name for p in in_flight))
    figure("lock released to worker exit (s)", drained)
    figure("worker exit code", code)

