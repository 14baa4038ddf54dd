"""Two writers at once: the version column catches a lost update; recordings retry and agree."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy.orm.exc import StaleDataError

from api.models import Escalation, Task
from api.services.audit import verify_chain
from domain.template import Rung
from tests.api.factories import Factory, completion, ladder, opened, record


async def test_the_version_column_refuses_a_lost_update(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    task_id = (await record(api, "tasks/opened", opened())).json()["id"]
    async with factory.sessions() as first, factory.sessions() as second:
        mine = await first.get(Task, task_id)
        theirs = await second.get(Task, task_id)
        assert mine is not None and theirs is not None
        mine.state, theirs.state = "overdue", "waived"
        await first.commit()
        with pytest.raises(StaleDataError):
            await second.commit()
    async with factory.sessions() as session:
        task = await session.get(Task, task_id)
    assert task is not None and (task.state, task.version) == ("overdue", 2)


async def test_a_rung_and_a_completion_at_once_both_land(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    task_id = (await record(api, "tasks/opened", opened())).json()["id"]
    responses = await asyncio.gather(
        record(api, "ladder", ladder(rung=Rung.OVERDUE)),
        record(api, "tasks/completed", completion(late=True)),
        record(api, "ladder", ladder(rung=Rung.PARENT)),
    )
    assert [r.status_code for r in responses] == [201, 201, 201], [r.text for r in responses]
    async with factory.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None and task.state == "completed"
        assert task.version >= 2
    assert await factory.count(Escalation) == 2


async def test_many_tasks_opened_at_once_keep_one_audit_chain(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    keys = ["plan", "disseminate", "review", "report-h1"]
    responses = await asyncio.gather(
        *(record(api, "tasks/opened", opened(c, k)) for c in ("GR", "GR2") for k in keys)
    )
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    async with factory.sessions() as session:
        check = await verify_chain(session=session)
    assert check.ok and check.events == 1 + 2 + 8  # the template, two cycles, eight tasks
