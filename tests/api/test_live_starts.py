"""Starts that lose Temporal midway, on the dev server with a worker: the cycle's row is
committed first, so a start that fails leaves it `starting` (never claiming to run), answers
503 or counts it failed, and the next start of it starts the workflow."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode

from api.models import AuditEvent
from domain.contracts import cycle_workflow_id
from tests.api.conftest import Live, make_settings, served
from tests.api.factories import Factory, bearer
from tests.api.start_faults import CuttableProxy, StartFaults, faulty_client
from tests.api.support import eventually

FROZEN = 86_400.0  # seconds per calendar day: the calendar stands still during the test
RUNNING = WorkflowExecutionStatus.RUNNING


async def created(factory: Factory) -> list[str]:
    """The subjects of the `cycle.created` audit events, in order."""
    async with factory.sessions() as session:
        events = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "cycle.created").order_by(AuditEvent.seq)
        )
        return [event.subject for event in events]


async def statuses(api: httpx.AsyncClient, headers: dict[str, str], year: int) -> dict[str, str]:
    """What GET /cycles says of each committee's cycle of `year`."""
    response = await api.get("/cycles", params={"year": year, "limit": 500}, headers=headers)
    assert response.status_code == 200, response.text
    return {c["committee"]: c["status"] for c in response.json()["items"]}


async def workflow_status(temporal: Client, workflow_id: str) -> WorkflowExecutionStatus | None:
    """The workflow's status on the server, or None if Temporal has no such workflow."""
    try:
        return (await temporal.get_workflow_handle(workflow_id).describe()).status
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def first_task_recorded(
    api: httpx.AsyncClient, headers: dict[str, str], cycle_id: int
) -> None:
    """Wait until the cycle's workflow has recorded a task (its first opens on its first day)."""

    async def recorded() -> bool:
        response = await api.get("/tasks", params={"committee": "GR"}, headers=headers)
        assert response.status_code == 200, response.text
        return any(t["cycle_id"] == cycle_id for t in response.json()["items"])

    await eventually(recorded, within=30)


@pytest.mark.parametrize("lost", ["request", "answer"])
async def test_a_start_that_loses_temporal_stays_starting_until_repeated(
    live: Live, factory: Factory, lost: str
) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    workflow_id = cycle_workflow_id("GR", live.year)
    faults = StartFaults()
    (faults.lose_request if lost == "request" else faults.lose_answer).add(workflow_id)
    body = {"committee": "GR", "year": live.year, "time_scale": FROZEN}
    keyed = {**admin, "Idempotency-Key": f"start-GR-{live.year}-{lost}"}

    async with (
        served(live.settings, faulty_client(live.temporal, faults)) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as api,
    ):
        failed = await api.post("/cycles", json=body, headers=keyed)
        assert failed.status_code == 503, failed.text
        assert failed.headers["content-type"] == "application/problem+json"
        problem = failed.json()
        assert (problem["workflow_id"], problem["cycle_status"]) == (workflow_id, "starting")
        assert "recorded as starting" in problem["detail"]
        if lost == "request":  # lost on the way there: nothing runs
            assert await statuses(api, admin, live.year) == {"GR": "starting"}
            assert await workflow_status(live.temporal, workflow_id) is None
        else:  # lost on the way back: it runs, and its first recording says so
            assert await workflow_status(live.temporal, workflow_id) == RUNNING
            await first_task_recorded(api, admin, problem["cycle_id"])
            assert await statuses(api, admin, live.year) == {"GR": "running"}
        faults.heal()
        again = await api.post("/cycles", json=body, headers=keyed)

    assert again.status_code == (201 if lost == "request" else 200), again.text
    assert "idempotent-replayed" not in again.headers  # the 503 was not remembered
    cycle = again.json()
    assert (cycle["id"], cycle["status"]) == (problem["cycle_id"], "running")
    assert await workflow_status(live.temporal, workflow_id) == RUNNING
    assert await statuses(live.client, admin, live.year) == {"GR": "running"}
    assert await created(factory) == [workflow_id]  # one row, audited once, in all
    replayed = await live.client.post("/cycles", json=body, headers=keyed)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert (replayed.status_code, replayed.json()) == (again.status_code, cycle)
    fresh = await live.client.post("/cycles", json=body, headers=admin)
    assert (fresh.status_code, fresh.json()) == (200, cycle)


async def test_a_year_start_that_loses_temporal_stops_writing_and_a_rerun_finishes(
    live: Live, factory: Factory
) -> None:
    """Two at a time; Temporal goes away as the third start begins. The two batches already
    recorded stay `starting`, the rest are not written; the same request again starts them."""
    await factory.tree()
    for n in range(4, 10):
        await factory.committee(f"GR{n}", parent="UP")
    board = bearer(await factory.token("board", "BLOC"))
    keyed = {**board, "Idempotency-Key": f"year-{live.year}"}
    url = f"/years/{live.year}/cycles"
    faults = StartFaults()

    async with CuttableProxy.running(live.temporal.service_client.config.target_host) as proxy:

        async def first_two_answered() -> bool:
            return len(faults.answered) >= 2

        async def cut() -> bool:
            return proxy.server is None

        async def cut_at_the_third(n: int, _: str) -> None:
            if n == 3:
                await eventually(first_two_answered)
                proxy.cut()
            elif n > 3:
                await eventually(cut)

        faults.before_start = cut_at_the_third
        temporal = await Client.connect(
            proxy.address, namespace=live.temporal.namespace,
            data_converter=pydantic_data_converter, interceptors=[faults],
        )
        settings = make_settings(
            live.settings.database_url, task_queue=live.settings.task_queue, start_concurrency=2
        )
        async with (
            served(settings, temporal) as served_url,
            httpx.AsyncClient(base_url=served_url, timeout=120) as api,
        ):
            first = await api.post(url, json={"time_scale": FROZEN}, headers=keyed)
            assert first.status_code == 200, first.text
            outcome = first.json()
            assert (outcome["committees"], outcome["started"], outcome["existing"],
                    outcome["failed"]) == (11, 2, 0, 9)
            reasons = dict(f.split(": ", 1) for f in outcome["failures"])
            assert all("recorded as starting" in reasons[c] for c in ("GR3", "GR4", "GR5", "GR6"))
            unwritten = ("GR7", "GR8", "GR9", "UP", "UP2")
            assert all("nothing written" in reasons[c] for c in unwritten)
            assert await statuses(api, board, live.year) == {
                "GR": "running", "GR2": "running", "GR3": "starting", "GR4": "starting",
                "GR5": "starting", "GR6": "starting",
            }
            assert await created(factory) == [
                cycle_workflow_id(c, live.year) for c in ("GR", "GR2", "GR3", "GR4", "GR5", "GR6")
            ]
            for committee in ("GR3", "GR7"):
                workflow_id = cycle_workflow_id(committee, live.year)
                assert await workflow_status(live.temporal, workflow_id) is None

            await proxy.restore()
            faults.heal()
            rerun = await api.post(url, json={"time_scale": FROZEN}, headers=keyed)

    assert rerun.status_code == 200, rerun.text
    assert "idempotent-replayed" not in rerun.headers  # an answer with failures is not kept
    assert {k: rerun.json()[k] for k in ("started", "existing", "failed")} == {
        "started": 9, "existing": 2, "failed": 0,
    }
    owing = ["GR", "GR2", "GR3", "GR4", "GR5", "GR6", "GR7", "GR8", "GR9", "UP", "UP2"]
    assert await statuses(live.client, board, live.year) == dict.fromkeys(owing, "running")
    assert sorted(await created(factory)) == sorted(cycle_workflow_id(c, live.year) for c in owing)
    for committee in owing:
        workflow_id = cycle_workflow_id(committee, live.year)
        assert await workflow_status(live.temporal, workflow_id) == RUNNING
    replayed = await live.client.post(url, json={"time_scale": FROZEN}, headers=keyed)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == rerun.json()


async def test_a_slow_temporal_delays_a_start_and_does_not_refuse_it(
    live: Live, factory: Factory
) -> None:
    """A loaded machine: Temporal answers the start's health check after 6 s. The start waits
    for it (up to the start's own deadline) and starts the cycle, instead of answering 503."""
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    body = {"committee": "GR", "year": live.year, "time_scale": FROZEN}
    async with CuttableProxy.running(live.temporal.service_client.config.target_host) as proxy:
        temporal = await Client.connect(
            proxy.address, namespace=live.temporal.namespace,
            data_converter=pydantic_data_converter,
        )
        async with (
            served(live.settings, temporal) as served_url,
            httpx.AsyncClient(base_url=served_url, timeout=120) as api,
        ):
            proxy.hold()
            start = asyncio.create_task(api.post("/cycles", json=body, headers=admin))
            await proxy.held.wait()  # the health check waits in the proxy
            await asyncio.sleep(6)  # slower than any short probe deadline would allow
            assert not start.done()
            proxy.release()
            response = await start
    assert response.status_code == 201, response.text
    workflow_id = cycle_workflow_id("GR", live.year)
    assert await workflow_status(live.temporal, workflow_id) == RUNNING
    assert await created(factory) == [workflow_id]
