"""A recording and the answer remembered for its Idempotency-Key commit in one transaction.

No claim is committed first: a recording that fails leaves its key free, and a repeat that
races its first attempt gets that attempt's answer (201, marked replayed) once it commits.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from api.models import AuditEvent, Escalation, IdempotencyKey, utcnow
from api.services import idempotency
from domain.template import Rung
from tests.api.factories import Factory, ladder, opened, record


async def test_a_failed_recording_leaves_its_key_free(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    missing = await record(api, "ladder", ladder(rung=Rung.OVERDUE), key="run-1/2")
    assert missing.status_code == 404
    assert await factory.count(IdempotencyKey) == 0
    await record(api, "tasks/opened", opened(), key="run-1/1")
    again = await record(api, "ladder", ladder(rung=Rung.OVERDUE), key="run-1/2")
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    async with factory.sessions() as session:
        statuses = (await session.scalars(select(IdempotencyKey.response_status))).all()
    assert sorted(statuses) == [201, 201]


async def test_repeats_racing_the_first_attempt_get_its_answer(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    await record(api, "tasks/opened", opened())
    events = await factory.count(AuditEvent)
    responses = await asyncio.gather(
        *(record(api, "ladder", ladder(rung=Rung.OVERDUE), key="run-1/7") for _ in range(5))
    )
    assert {(r.status_code, r.text) for r in responses} == {(201, responses[0].text)}
    first = [r for r in responses if "idempotent-replayed" not in r.headers]
    assert len(first) == 1
    assert await factory.count(Escalation) == 1
    assert await factory.count(AuditEvent) == events + 1
    assert await factory.count(IdempotencyKey) == 1


async def test_lapsed_keys_are_cleared_now_and_then(
    api: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    await factory.tree()
    for n, key in enumerate(("plan", "disseminate")):
        await record(api, "tasks/opened", opened(key=key), key=f"run-1/{n}")
    async with factory.sessions() as session:
        await session.execute(
            update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    monkeypatch.setattr(idempotency, "_next_purge", 0.0)
    again = await record(api, "tasks/opened", opened(key="plan"), key="run-1/0")
    assert (again.status_code, "idempotent-replayed" in again.headers) == (200, False)
    async with factory.sessions() as session:
        left = (await session.scalars(select(IdempotencyKey))).all()
    assert [(row.response_status, row.expires_at > utcnow()) for row in left] == [(200, True)]
