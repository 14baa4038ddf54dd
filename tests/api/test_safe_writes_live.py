"""Safe writes against the real app, worker and dev server, on SQLite and PostgreSQL.

Two staff completing one task at once; a repeat of a completion while it is still in flight
(held there by a gate in the worker's recording activity, so no timing is involved); and the
workflow's own refusals in the audit log. Cycles run on a frozen calendar (one calendar day
per real day), so nothing else moves while a test looks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import BackendActivities
from api.db import Sessions
from api.models import Submission, User
from api.services.users import hash_token
from domain.contracts import ACTIVITY_RECORD_COMPLETION, CompletionRecorded, Recorded
from domain.template import EvidenceKind
from tests.api.conftest import Live, _terminate_cycles, _years, make_settings, served
from tests.api.factories import SERVICE_TOKEN, Factory, bearer
from tests.api.support import Year
from tests.conftest import unique_queue
from tests.domain.samples import EVIDENCE
from workflows import CommitteeCycle
from workflows.sandbox import workflow_runner

FROZEN = 86_400.0
DISSEMINATED = {"evidence": EVIDENCE[EvidenceKind.DISSEMINATION]}


class GatedBackend(BackendActivities):
    """The real activities, except that recording a completion waits for `release`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    @activity.defn(name=ACTIVITY_RECORD_COMPLETION)
    async def record_completion(self, event: CompletionRecorded) -> Recorded:
        self.entered.set()
        await self.release.wait()
        return await super().record_completion(event)


@pytest.fixture
async def gated(
    dev_env: WorkflowEnvironment, database_url: str, sessions: Sessions
) -> AsyncIterator[tuple[Live, GatedBackend]]:
    settings = make_settings(database_url, task_queue=unique_queue("gated"))
    async with served(settings, dev_env.client) as url:
        backend = GatedBackend(api_url=url, service_token=SERVICE_TOKEN)
        worker = Worker(dev_env.client, task_queue=settings.task_queue,
                        workflows=[CommitteeCycle], activities=backend.all(),
                        workflow_runner=workflow_runner())
        try:
            async with worker, httpx.AsyncClient(base_url=url, timeout=30) as client:
                live = Live(client=client, url=url, temporal=dev_env.client, settings=settings,
                            year=next(_years))
                try:
                    yield live, backend
                finally:
                    backend.release.set()
                    await _terminate_cycles(dev_env.client, sessions)
        finally:
            await backend.aclose()


async def _name_of(factory: Factory, headers: dict[str, str]) -> str:
    token = headers["Authorization"].removeprefix("Bearer ")
    async with factory.sessions() as session:
        name = await session.scalar(select(User.name).where(User.token_hash == hash_token(token)))
    assert name is not None
    return name


async def _ready(year: Year, key: str) -> tuple[dict[str, Any], str]:
    """The task once the workflow holds it open, and its ETag."""
    task = await year.task(key)
    await year.open_in_workflow(key)
    current = await year.live.client.get(f"/tasks/{task['id']}", headers=year.staff)
    return task, current.headers["etag"]


async def test_two_staff_completing_at_once_one_wins(live: Live, factory: Factory) -> None:
    year = await Year(live, factory).start(time_scale=FROZEN)
    task, etag = await _ready(year, "disseminate")
    names = ("staff-one", "staff-two")
    headers = [{**bearer(await factory.token("staff", "GR", name=name)), "If-Match": etag,
                "Idempotency-Key": f"{name}-key"} for name in names]
    url = f"/tasks/{task['id']}/complete"
    responses = await asyncio.gather(
        *(live.client.post(url, json=DISSEMINATED, headers=h) for h in headers)
    )
    statuses = [r.status_code for r in responses]
    assert sorted(statuses) == [200, 409], [r.text for r in responses]
    winner, loser = statuses.index(200), statuses.index(409)
    assert (responses[winner].json()["state"], responses[winner].json()["closed_by"]) == (
        "completed", names[winner]
    )
    assert responses[loser].headers["content-type"] == "application/problem+json"
    assert responses[loser].json()["rejection"] == "TaskNotOpen"
    assert await factory.count(Submission) == 1
    [refusal] = await factory.refusals()
    assert (refusal.actor, refusal.subject, refusal.payload["status"]) == (names[loser], url, 409)


async def test_a_repeat_while_the_first_is_in_flight_is_409_then_replayed(
    gated: tuple[Live, GatedBackend], factory: Factory
) -> None:
    live, backend = gated
    year = await Year(live, factory).start(time_scale=FROZEN)
    task, etag = await _ready(year, "disseminate")
    url = f"/tasks/{task['id']}/complete"
    headers = {**year.staff, "If-Match": etag, "Idempotency-Key": "only-once"}
    first = asyncio.create_task(live.client.post(url, json=DISSEMINATED, headers=headers))
    async with asyncio.timeout(20):
        await backend.entered.wait()  # the workflow accepted it and is recording it

    busy = await live.client.post(url, json=DISSEMINATED, headers=headers)
    assert busy.status_code == 409, busy.text
    assert busy.json()["type"] == "/problems/idempotency-key-in-flight"
    assert busy.headers["retry-after"] == "1"
    other = await live.client.post(
        url, json={"evidence": {**DISSEMINATED["evidence"], "cells_reached": 1}}, headers=headers
    )
    assert other.status_code == 422
    assert other.json()["type"] == "/problems/idempotency-key-reused"

    backend.release.set()
    done = await first
    assert done.status_code == 200, done.text
    again = await live.client.post(url, json=DISSEMINATED, headers=headers)
    assert (again.status_code, again.json()) == (200, done.json())
    assert again.headers["idempotent-replayed"] == "true"
    async with factory.sessions() as session:
        submissions = (await session.scalars(select(Submission))).all()
    assert [s.task_id for s in submissions] == [task["id"]]
    assert await factory.refusals() == []


async def test_the_workflows_refusal_is_audited_and_writes_nothing_else(
    live: Live, factory: Factory
) -> None:
    year = await Year(live, factory).start(time_scale=FROZEN)
    task, etag = await _ready(year, "review")
    before = await factory.counts()
    earlier = await live.client.post(
        f"/tasks/{task['id']}/extend", json={"new_due_on": f"{year.year}-02-01", "reason": "x"},
        headers={**year.supervisor, "If-Match": etag},
    )
    assert earlier.status_code == 422, earlier.text
    assert earlier.json()["rejection"] == "InvalidExtension"
    assert await factory.counts() == {**before, "audit_events": before["audit_events"] + 1}
    [refusal] = await factory.refusals()
    assert refusal.payload["rejection"] == "InvalidExtension"
    assert refusal.payload["route"] == "/tasks/{task_id}/extend"
    assert "must be after its current due date" in refusal.payload["detail"]
    assert (refusal.actor, refusal.payload["role"]) == (
        (await _name_of(factory, year.supervisor)), "supervisor"
    )
