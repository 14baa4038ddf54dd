"""A committee moved mid-year, on the time-skipping server: the real workflow, worker and API.

The cycle runs on real (skipped) time; its ladder steps reach the API, which sends each
escalation to the parent of the step's own day.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import BackendActivities
from api.models import Committee, Escalation, Task
from domain.template import DEFAULT_TEMPLATE
from tests.api.conftest import make_settings, served
from tests.api.factories import SERVICE_TOKEN, Factory, bearer
from tests.api.support import eventually
from tests.conftest import unique_queue
from tests.workflow.support import _terminate_when_idle, day, next_year
from workflows import CommitteeCycle
from workflows.sandbox import workflow_runner


def two_items() -> dict[str, Any]:
    """A template of two items open from 1 January: plan due 31 March, disseminate 31 July."""
    body = DEFAULT_TEMPLATE.model_dump(mode="json")
    body.pop("version")
    items = {item["key"]: item for item in body["items"]}
    items["plan"]["due"] = {"month": 3, "day": 31, "year_offset": 0}
    items["disseminate"]["due"] = {"month": 7, "day": 31, "year_offset": 0}
    return {**body, "items": [items["plan"], items["disseminate"]]}


async def test_a_committee_moved_mid_year_escalates_to_its_new_parent(
    time_skipping_env: WorkflowEnvironment, database_url: str, factory: Factory
) -> None:
    env = time_skipping_env
    settings = make_settings(database_url, task_queue=unique_queue("moves"))
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    y = await next_year(env)
    async with served(settings, env.client) as url:
        backend = BackendActivities(api_url=url, service_token=SERVICE_TOKEN)
        worker = Worker(env.client, task_queue=settings.task_queue,
                        workflows=[CommitteeCycle], activities=backend.all(),
                        workflow_runner=workflow_runner())
        try:
            async with worker, httpx.AsyncClient(base_url=url, timeout=30) as client:
                assert (await client.post("/templates", json=two_items(),
                                          headers=admin)).status_code == 201
                started = await client.post("/cycles", json={"committee": "GR", "year": y},
                                            headers=admin)
                assert started.status_code == 201, started.text
                move = {"parent": "UP2", "effective_on": f"{y}-07-01",
                        "reason": "Sắp xếp tổ chức bộ máy"}
                assert (await client.post("/committees/GR/moves", json=move,
                                          headers=admin)).status_code == 201
                handle = env.client.get_workflow_handle(started.json()["workflow_id"])
                try:
                    await env.sleep(day(y, 8, 16) - await env.get_current_time())
                    found = await eventually(lambda: _escalations(factory), within=30)
                finally:
                    await _terminate_when_idle(handle)
        finally:
            await backend.aclose()
    assert found == [
        ("disseminate", "board", "BLOC", day(y, 8, 15)),
        ("disseminate", "parent", "UP2", day(y, 8, 8)),
        ("plan", "board", "BLOC", day(y, 4, 15)),
        ("plan", "parent", "UP", day(y, 4, 8)),
    ]


async def _escalations(factory: Factory) -> list[tuple[Any, ...]] | None:
    """Escalations above the committee (parent and board), once all eight rungs have fired."""
    async with factory.sessions() as session:
        rows = (await session.execute(
            select(Task.key, Escalation.rung, Committee.code, Escalation.raised_at)
            .join(Task, Escalation.task_id == Task.id)
            .join(Committee, Escalation.target_committee_id == Committee.id)
            .order_by(Task.key, Escalation.rung)
        )).tuples().all()
    if len(rows) < 8:
        return None
    return [tuple(row) for row in rows if row[1] in ("parent", "board")]
