"""The multi-machine shape on one machine: two API processes and two workers share one dev
server and one PostgreSQL, and the cycles spread across both workers.

A cycle's first workflow task goes to a worker with a poll waiting. After that, Temporal keeps
the cycle on that worker: its workflow tasks go to the worker's sticky queue, and the dev server
hands the activities a workflow task schedules straight back to the worker that ran it (eager
activities). So a worker that is not yet polling when the cycles start never gets any of
them; on a loaded machine, a worker's imports alone can take seconds. The cycles start only
once both workers poll for workflow and for activity tasks.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from tests.api.conftest import fresh_database
from tests.conftest import POSTGRES_URL
from tests.reliability.rig import (
    ACTIVITY_TASKS,
    WORKFLOW_TASKS,
    free_port,
    running_stack,
    worker_identity,
)
from yearwheel.users import create_user_with_token

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not POSTGRES_URL, reason="YEARWHEEL_TEST_POSTGRES_URL is not set"),
]

COMMITTEES = [f"G{i}" for i in range(6)]
WORKERS = ("worker-1", "worker-2")
TASKS_PER_CYCLE = 3  # opened by every cycle before the test looks at who ran it


@pytest.fixture
async def postgres_url(tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database("postgres", tmp_path) as url:
        yield url


async def test_two_apis_and_two_workers_share_the_cycles(
    tmp_path: Path, postgres_url: str
) -> None:
    async with running_stack(tmp_path, workers=(), database_url=postgres_url) as rig:
        second_api = free_port()
        await rig.astart_api("api-2", port=second_api)
        # Each worker's activities call its own API, as behind the compose file's service name.
        rig.start_worker("worker-1")
        rig.start_worker("worker-2", api_port=second_api)
        for name in WORKERS:
            await rig.wait_polling(name, kinds=(WORKFLOW_TASKS, ACTIVITY_TASKS), within=60)

        admin = await create_user_with_token(postgres_url, name="admin", role="admin")
        apis = [rig.stack.api_url, f"http://127.0.0.1:{second_api}"]
        year = time.gmtime().tm_year
        async with httpx.AsyncClient(
            timeout=30, headers={"Authorization": f"Bearer {admin}"}
        ) as client:
            await post(client, f"{apis[0]}/committees",
                       {"code": "ROOT", "name": "Đảng ủy Khối", "level": "root"})
            for i, code in enumerate(COMMITTEES):
                await post(client, f"{apis[i % 2]}/committees",
                           {"code": code, "name": f"Đảng bộ {code}", "level": "grassroots",
                            "parent": "ROOT"})
            for i, code in enumerate(COMMITTEES):
                await post(client, f"{apis[(i + 1) % 2]}/cycles",
                           {"committee": code, "year": year, "time_scale": 0.1})
            # Both APIs read what either wrote: the state lives in PostgreSQL and Temporal.
            await wait_for_tasks(client, apis, minimum=TASKS_PER_CYCLE)

        names = {worker_identity(pid): name for name, pid in rig.worker_pids.items()}
        temporal = await rig.temporal()
        # Which worker took each cycle is settled by now; only activities' events may lag.
        deadline = time.monotonic() + 20
        while True:
            work = await who_ran(temporal, year, names)
            if work.spread() or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)

    assert not work.strangers, f"work ran on identities that are not the two workers: {work}"
    assert all(work.cycles[name] for name in WORKERS), f"the cycles did not spread: {work}"
    assert all(work.activities[name] for name in WORKERS), f"activities did not spread: {work}"


@dataclass
class Work:
    """Who ran what: each cycle under the worker that ran its first workflow task."""

    cycles: dict[str, list[str]] = field(default_factory=lambda: {w: [] for w in WORKERS})
    activities: Counter[str] = field(default_factory=Counter)
    strangers: set[str] = field(default_factory=set)

    def spread(self) -> bool:
        return all(self.cycles[w] and self.activities[w] for w in WORKERS)


async def who_ran(client: Client, year: int, names: dict[str, str]) -> Work:
    """The workers that ran the cycles' workflow and activity tasks, from the histories alone."""
    work = Work()
    for code in COMMITTEES:
        history = await client.get_workflow_handle(f"cycle/{code}/{year}").fetch_history()
        owner = None
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                identity = event.workflow_task_started_event_attributes.identity
                if owner is None and identity in names:
                    owner = names[identity]
                    work.cycles[owner].append(code)
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                identity = event.activity_task_started_event_attributes.identity
                if identity in names:
                    work.activities[names[identity]] += 1
            else:
                continue
            if identity not in names:
                work.strangers.add(identity)
    return work


async def post(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> None:
    response = await client.post(url, json=body)
    assert response.status_code in (200, 201), response.text


async def wait_for_tasks(client: httpx.AsyncClient, apis: list[str], *, minimum: int) -> None:
    """Until every cycle has opened `minimum` tasks, as both APIs tell alike."""
    deadline = time.monotonic() + 60
    while True:
        totals = {
            code: [
                (await client.get(f"{api}/tasks", params={"committee": code, "limit": 1}))
                .json()["total"]
                for api in apis
            ]
            for code in COMMITTEES
        }
        if all(a == b >= minimum for a, b in totals.values()):
            return
        assert time.monotonic() < deadline, (
            f"not every cycle opened {minimum} tasks on both APIs within 60 s: {totals}"
        )
        await asyncio.sleep(0.5)
