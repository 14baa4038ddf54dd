"""The database going away mid-cycle, for real.

PostgreSQL: the API reaches it through a TCP proxy process; killing the proxy is the network
going away (connections reset, new ones refused) and starting it again on the same port brings
it back. Requests meanwhile get 503 problem+json, /health names the database, the worker's
recordings retry, and the API recovers without a restart.

Then a partition (the proxy frozen with SIGSTOP: nothing refused, nothing answered): requests
still get their 503 within the engine's connect and statement timeouts.

SQLite has no network to lose: its honest fault is another process holding the write lock (a
backup, a migration) for longer than the API's busy timeout.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import TimeoutError as PoolTimeout

from api.db import SQLITE_BUSY_TIMEOUT_MS
from api.problems import is_database_down
from tests.api.conftest import fresh_database
from tests.api.support import eventually
from tests.conftest import POSTGRES_URL
from tests.reliability.conftest import Figure
from tests.reliability.probes import (
    Pending,
    pending_activities,
    recordings,
    sqlite_write_lock,
)
from tests.reliability.rehearsal import (
    Recorded,
    assert_same_as,
    bearer,
    mid_cycle,
    recorded,
    rehearsal,
)
from tests.reliability.rig import free_port, proxy_argv, running_stack

pytestmark = pytest.mark.reliability

DATABASE_DOWN_SECONDS = 5.0


def is_problem(response: httpx.Response, status: int, kind: str) -> bool:
    return (
        response.status_code == status
        and response.headers.get("content-type") == "application/problem+json"
        and response.json().get("type") == kind
    )


@pytest.mark.skipif(not POSTGRES_URL, reason="YEARWHEEL_TEST_POSTGRES_URL is not set")
async def test_postgres_unreachable_for_a_moment_then_back_without_a_restart(
    tmp_path: Path, undisturbed: Recorded, figure: Figure
) -> None:
    async with fresh_database("postgres", tmp_path) as direct:
        port = free_port()
        upstream = make_url(direct)
        proxied = upstream.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
        proxy = proxy_argv(listen=port, upstream=f"{upstream.host}:{upstream.port or 5432}")
        async with running_stack(
            tmp_path, database_url=proxied, helpers=[("db-proxy", proxy, port)]
        ) as rig:
            api = rig.stack.api_url
            async with rehearsal(api, direct) as run:
                await mid_cycle(direct)
                await rig.akill("db-proxy")
                down = time.monotonic()
                async with httpx.AsyncClient(base_url=api, timeout=30) as client:
                    board = bearer(run.staff.people.board)
                    health = await client.get("/health")
                    listed = await client.get("/tasks", headers=board)
                    answered_in = time.monotonic() - down
                    temporal = await rig.temporal()
                    retried: dict[str, Pending] = {}
                    while time.monotonic() - down < DATABASE_DOWN_SECONDS:
                        for pending in await pending_activities(temporal, run.workflow_id):
                            if pending.attempt > 1:
                                retried[pending.activity_id] = pending
                        await asyncio.sleep(0.3)
                    during = await recordings(direct)
                    await asyncio.to_thread(rig.start_process, "db-proxy", proxy, port=port)
                    back = time.monotonic()

                    async def health_200() -> bool:
                        return (await client.get("/health")).status_code == 200

                    await eventually(health_200, within=60, interval=0.1)
                    recovered = time.monotonic() - back

                    async def a_recording_after_it_came_back() -> bool:
                        return await recordings(direct) > during

                    await eventually(a_recording_after_it_came_back, within=120, interval=0.1)
                    # A partition: packets go nowhere and nothing is refused.
                    rig.send_signal("db-proxy", signal.SIGSTOP)
                    partitioned = time.monotonic()
                    cut_health, cut_listed = await asyncio.gather(
                        client.get("/health"), client.get("/tasks", headers=board)
                    )
                    cut_answered_in = time.monotonic() - partitioned
                    rig.send_signal("db-proxy", signal.SIGCONT)
                    await eventually(health_200, within=60, interval=0.1)
                await run.finish()
            faulted = await recorded(direct)

    assert_same_as(faulted, undisturbed)
    assert is_problem(health, 503, "/problems/unhealthy")
    assert (health.json()["database"], health.json()["temporal"]) == ("down", "ok")
    assert is_problem(listed, 503, "/problems/database-unavailable"), listed.text
    assert is_problem(cut_health, 503, "/problems/unhealthy")
    assert is_problem(cut_listed, 503, "/problems/database-unavailable"), cut_listed.text
    figure("database unreachable (s)", DATABASE_DOWN_SECONDS)
    figure("first answers while down came within (s)", answered_in)
    figure("proxy back to /health 200 (s)", recovered)
    figure("partition: 503 answered within (s)", cut_answered_in)
    figure("503 problems the staff got", _count(run.staff.problems, 503))
    figure("activities retrying while it was down",
           ", ".join(f"{p.name} (attempt {p.attempt})" for p in retried.values()) or "none")


def test_a_pool_left_waiting_on_a_silent_database_is_503() -> None:
    assert is_database_down(PoolTimeout("QueuePool limit of size 5 overflow 10 reached"))


async def test_sqlite_locked_by_another_writer_past_the_busy_timeout(
    tmp_path: Path, undisturbed: Recorded, figure: Figure
) -> None:
    hold = SQLITE_BUSY_TIMEOUT_MS / 1000 + 2
    async with running_stack(tmp_path) as rig:
        db, api = rig.stack.database_url, rig.stack.api_url
        async with rehearsal(api, db) as run:
            await mid_cycle(db)
            admin = bearer(run.staff.people.admin)
            async with httpx.AsyncClient(base_url=api, timeout=60) as client:
                with sqlite_write_lock(db):
                    locked = time.monotonic()
                    read, health, write = await asyncio.gather(
                        client.get("/tasks", headers=bearer(run.staff.people.board)),
                        client.get("/health"),
                        client.post("/committees", headers=admin, json=_committee("LOCKED")),
                    )
                    write_answered = time.monotonic() - locked
                    await asyncio.sleep(max(0.0, hold - write_answered))
                after = await client.post("/committees", headers=admin,
                                          json=_committee("UNLOCKED"))
            await run.finish()
        faulted = await recorded(db)

    assert read.status_code == 200 and health.status_code == 200  # readers go on in WAL mode
    assert is_problem(write, 503, "/problems/database-unavailable"), write.text
    assert after.status_code == 201
    assert_same_as(faulted, undisturbed, besides={"audit_events": 1})  # the UNLOCKED committee
    figure("write lock held (s)", hold)
    figure("a user's write answered 503 after (s)", write_answered)


def _committee(code: str) -> dict[str, Any]:
    return {"code": code, "name": f"Chi bộ {code}", "level": "grassroots", "parent": "UP"}


def _count(problems: list[dict[str, Any]], status: int) -> int:
    return sum(1 for p in problems if p.get("status") == status)
