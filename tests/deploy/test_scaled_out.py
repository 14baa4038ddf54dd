"""The multi-machine shape on one machine: two API processes and two workers share one dev
server and one PostgreSQL, and the cycles' work spreads across both workers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from api.temporal import connect_temporal
from tests.api.conftest import fresh_database
from tests.conftest import POSTGRES_URL
from yearwheel.processes import ProcessGroup, free_port
from yearwheel.settings import WorkerSettings
from yearwheel.stack import Stack, plan_stack, start_api, start_temporal, start_worker
from yearwheel.users import create_user_with_token

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not POSTGRES_URL, reason="YEARWHEEL_TEST_POSTGRES_URL is not set"),
]

COMMITTEES = [f"G{i}" for i in range(6)]


@pytest.fixture
async def postgres_url(tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database("postgres", tmp_path) as url:
        yield url


async def test_two_apis_and_two_workers_share_the_cycles(
    tmp_path: Path, postgres_url: str
) -> None:
    stack = plan_stack(
        tmp_path / "state", temporal_port=None, api_port=None, ui=False,
        database_url=postgres_url,
    )
    second_api = free_port()
    with ProcessGroup(tmp_path / "logs") as group:
        start_temporal(group, stack)
        start_api(group, stack)
        start_api(group, stack, name="api-2", port=second_api)
        start_worker(group, stack, name="worker-1")
        start_worker(group, stack, name="worker-2")
        pids = {group.procs["worker-1"].pid, group.procs["worker-2"].pid}

        admin = await create_user_with_token(postgres_url, name="admin", role="admin")
        headers = {"Authorization": f"Bearer {admin}"}
        apis = [stack.api_url, f"http://127.0.0.1:{second_api}"]
        async with httpx.AsyncClient(timeout=30, headers=headers) as client:
            await post(client, f"{apis[0]}/committees",
                       {"code": "ROOT", "name": "Đảng ủy Khối", "level": "root"})
            for i, code in enumerate(COMMITTEES):
                await post(client, f"{apis[i % 2]}/committees",
                           {"code": code, "name": f"Đảng bộ {code}", "level": "grassroots",
                            "parent": "ROOT"})
            year = time.gmtime().tm_year
            for i, code in enumerate(COMMITTEES):
                await post(client, f"{apis[(i + 1) % 2]}/cycles",
                           {"committee": code, "year": year, "time_scale": 0.1})
            # Both APIs read what either wrote: the state lives in PostgreSQL and Temporal.
            await wait_for_tasks(client, apis, minimum=len(COMMITTEES) * 3)

        # A worker that starts polling late gets its share from the ladder steps still to come.
        temporal = await connect_temporal(_connection(stack))
        workers: set[int] = set()
        deadline = time.monotonic() + 90
        while workers != pids and time.monotonic() < deadline:
            identities = await worker_identities(temporal, year)
            workers = {int(identity.split("@")[0]) for identity in identities}
            await asyncio.sleep(1)
        assert workers == pids


async def post(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> None:
    response = await client.post(url, json=body)
    assert response.status_code in (200, 201), response.text


async def wait_for_tasks(client: httpx.AsyncClient, apis: list[str], *, minimum: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        totals = [(await client.get(f"{api}/tasks", params={"limit": 1})).json()["total"]
                  for api in apis]
        if totals[0] == totals[1] and totals[0] >= minimum:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"fewer than {minimum} tasks opened within 120 s")


def _connection(stack: Stack) -> WorkerSettings:
    return WorkerSettings(  # type: ignore[call-arg]
        temporal_address=stack.temporal_address, service_token=stack.service_token
    )


async def worker_identities(client: Client, year: int) -> set[str]:
    """Who ran the cycles' workflow and activity tasks, from the histories alone."""
    started = {
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED: "workflow_task_started_event_attributes",
        EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: "activity_task_started_event_attributes",
    }
    identities: set[str] = set()
    for code in COMMITTEES:
        history = await client.get_workflow_handle(f"cycle/{code}/{year}").fetch_history()
        for event in history.events:
            if event.event_type in started:
                identity = getattr(event, started[event.event_type]).identity
                if identity:
                    identities.add(identity)
    return identities
