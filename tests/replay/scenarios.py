"""Real cycles for the saved histories: the real workflow, worker, activities and API.

`Stand` is the whole system on the time-skipping server: a migrated SQLite database, the API
served by uvicorn (its Temporal client is the test server's), and a worker running the
workflows with the real HTTP activities. A scenario starts one committee's cycle through
`POST /cycles` and acts on it the way people do (complete, extend, waive, each with If-Match and
an Idempotency-Key), skipping calendar time between the acts. Used by make_histories.py and by
the tests that need a history and the database rows it produced.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import BackendActivities
from api.db import Sessions, make_engine, make_sessions
from api.migrate import upgrade_async
from api.settings import Settings
from domain.calendar import HCM, start_of_day
from domain.template import DEFAULT_TEMPLATE, EvidenceKind
from tests.api.conftest import make_settings, served
from tests.api.factories import SERVICE_TOKEN, Factory, bearer
from tests.conftest import unique_queue
from tests.domain.samples import evidence_for
from workflows import WORKFLOWS
from workflows.sandbox import workflow_runner
from yearwheel.binaries import temporal_test_server

SETTLE_SECONDS = 20.0


def at(year: int, month: int, day: int, hour: int = 9) -> datetime:
    """A calendar instant of the cycle, in Asia/Ho_Chi_Minh (09:00 by default)."""
    return start_of_day(date(year, month, day)) + timedelta(hours=hour)


@dataclass
class Stand:
    """The API, a worker and a database on one Temporal server, for one or more cycles."""

    env: WorkflowEnvironment
    settings: Settings
    sessions: Sessions
    http: httpx.AsyncClient
    factory: Factory
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    async def people(self) -> None:
        """The tree (BLOC > UP > GR ...) and one admin, supervisor (UP) and board user."""
        await self.factory.tree()
        for role, committee in (("admin", None), ("supervisor", "UP"), ("board", "BLOC"),
                                ("auditor", None)):
            self.tokens[role] = bearer(await self.factory.token(role, committee,
                                                                name=f"{role}-demo"))

    async def committee(
        self, code: str, *, level: str = "grassroots", parent: str = "UP"
    ) -> dict[str, str]:
        """A committee (grassroots under UP unless told) and its staff's token."""
        await self.factory.committee(code, level=level, parent=parent)
        token = bearer(await self.factory.token("staff", code, name=f"staff-{code}"))
        self.tokens[f"staff-{code}"] = token
        return token


@contextlib.asynccontextmanager
async def stand(
    env: WorkflowEnvironment, directory: Path, *, workflows: Sequence[type] = tuple(WORKFLOWS),
    cycle_template: str = "default",
) -> AsyncIterator[Stand]:
    """The whole system on `env`, its SQLite file in `directory`; cycles take the version of
    `cycle_template` in force for their year."""
    url = f"sqlite+aiosqlite:///{directory / 'api.db'}"
    await upgrade_async(url)
    settings = make_settings(url, task_queue=unique_queue("replay"), update_timeout_seconds=60.0,
                             cycle_template=cycle_template)
    engine = make_engine(url)
    try:
        async with served(settings, env.client) as api_url:
            backend = BackendActivities(api_url=api_url, service_token=SERVICE_TOKEN)
            worker = Worker(
                env.client, task_queue=settings.task_queue, workflows=list(workflows),
                activities=backend.all(), workflow_runner=workflow_runner(),
            )
            try:
                async with worker, httpx.AsyncClient(base_url=api_url, timeout=60) as http:
                    sessions = make_sessions(engine)
                    ready = Stand(env=env, settings=settings, sessions=sessions, http=http,
                                  factory=Factory(sessions))
                    await ready.people()
                    yield ready
            finally:
                await backend.aclose()
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server(), data_converter=pydantic_data_converter
    )
    try:
        yield env
    finally:
        await env.shutdown()


class CycleRun:
    """One committee's cycle on a stand, driven through the API."""

    def __init__(
        self, stand: Stand, committee: str, year: int, *, level: str = "grassroots",
        parent: str = "UP",
    ) -> None:
        self.stand = stand
        self.committee = committee
        self.year = year
        self.level, self.parent = level, parent
        self.cycle: dict[str, Any] = {}
        self.replaced = 0

    @staticmethod
    def fresh_key() -> dict[str, str]:
        return {"Idempotency-Key": str(uuid.uuid4())}

    @property
    def http(self) -> httpx.AsyncClient:
        return self.stand.http

    @property
    def workflow_id(self) -> str:
        return str(self.cycle["workflow_id"])

    async def start(self) -> CycleRun:
        await self.stand.committee(self.committee, level=self.level, parent=self.parent)
        response = await self.http.post(
            "/cycles", json={"committee": self.committee, "year": self.year},
            headers={**self.stand.tokens["admin"], "Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 201, response.text
        self.cycle = response.json()
        return self

    async def advance_to(self, instant: datetime) -> None:
        """Skip server time until the calendar (unscaled: real time in HCM) reads `instant`."""
        remaining = instant - await self.stand.env.get_current_time()
        if remaining > timedelta(0):
            await self.stand.env.sleep(remaining)

    async def task(self, key: str, *, state: str | tuple[str, ...] = (),
                   rung: str | None = None) -> dict[str, Any]:
        """The task's row once it exists (in `state`, at `rung`, if given)."""
        wanted = (state,) if isinstance(state, str) else state

        async def probe() -> dict[str, Any] | None:
            response = await self.http.get(
                "/tasks", params={"committee": self.committee, "limit": 100},
                headers=self.stand.tokens["board"],
            )
            assert response.status_code == 200, response.text
            for task in response.json()["items"]:
                if task["key"] != key or (wanted and task["state"] not in wanted):
                    continue
                if rung is None or task["rung"] == rung:
                    return dict(task)
            return None

        return await _eventually(probe, f"{self.committee} {key} {wanted} {rung or ''}")

    async def _act(self, key: str, action: str, body: dict[str, Any], who: str) -> dict[str, Any]:
        task = await self.task(key)
        current = await self.http.get(f"/tasks/{task['id']}", headers=self.stand.tokens["board"])
        headers = {**self.stand.tokens[who], "If-Match": current.headers["etag"],
                   "Idempotency-Key": str(uuid.uuid4())}
        response = await self.http.post(f"/tasks/{task['id']}/{action}", json=body,
                                        headers=headers)
        assert response.status_code == 200, f"{action} {key}: {response.text}"
        return dict(response.json())

    async def complete(self, key: str, when: datetime) -> dict[str, Any]:
        await self.advance_to(when)
        kind = EvidenceKind(DEFAULT_TEMPLATE.item(await self._item_key(key)).evidence)
        evidence = evidence_for(kind, key=key, year=self.year)
        return await self._act(key, "complete", {"evidence": evidence},
                               f"staff-{self.committee}")

    async def extend(self, key: str, when: datetime, new_due_on: date, reason: str,
                     who: str = "supervisor") -> dict[str, Any]:
        await self.advance_to(when)
        return await self._act(key, "extend", {"new_due_on": new_due_on.isoformat(),
                                               "reason": reason}, who)

    async def extend_by_key(self, key: str, when: datetime, new_due_on: date, reason: str,
                            who: str = "supervisor") -> dict[str, Any]:
        """Extend a task by its key in the cycle, as one not yet open is (its ETag from the
        cycle's view: 0 while it has no row)."""
        await self.advance_to(when)
        detail = await self.http.get(f"/cycles/{self.cycle['id']}",
                                     headers=self.stand.tokens["board"])
        item = next(i for i in detail.json()["items"] if i["key"] == key)
        response = await self.http.post(
            f"/cycles/{self.cycle['id']}/tasks/{key}/extend",
            json={"new_due_on": new_due_on.isoformat(), "reason": reason},
            headers={**self.stand.tokens[who], "If-Match": f'"{item["version"]}"',
                     "Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 200, f"extend {key}: {response.text}"
        return dict(response.json())

    async def waive(self, key: str, when: datetime, reason: str,
                    who: str = "supervisor") -> dict[str, Any]:
        await self.advance_to(when)
        return await self._act(key, "waive", {"reason": reason}, who)

    async def _item_key(self, key: str) -> str:
        return str((await self.task(key))["item_key"])

    async def history(self) -> WorkflowHistory:
        return await self.stand.env.client.get_workflow_handle(self.workflow_id).fetch_history()

    async def closed(self) -> WorkflowHistory:
        """Wait for the cycle's workflow to finish (every task is closed), then its history."""
        handle = self.stand.env.client.get_workflow_handle(self.workflow_id)
        async with asyncio.timeout(SETTLE_SECONDS):
            await handle.result()
        return await handle.fetch_history()


async def _eventually(
    probe: Callable[[], Awaitable[dict[str, Any] | None]], what: str
) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        found = await probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"not reached within {SETTLE_SECONDS} s: {what}"
        await asyncio.sleep(0.02)


async def next_year(env: WorkflowEnvironment) -> int:
    return (await env.get_current_time()).astimezone(HCM).year + 1
