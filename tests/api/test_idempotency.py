"""Idempotency-Key without a workflow: replay, reuse, per-caller keys, release, expiry.

The matrix repeats every successful write of every route with its key; the live tests hold a
completion in flight. Here: the rules, on routes that need no Temporal.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from api.models import Committee, IdempotencyKey, utcnow
from api.settings import Settings
from tests.api.factories import Factory, bearer, opened, record


def _committee(code: str, parent: str = "UP") -> dict[str, str]:
    return {"code": code, "name": f"Chi bộ {code}", "level": "grassroots", "parent": parent}


async def test_a_repeat_gets_the_first_answer_and_writes_nothing(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    admin = {**bearer(await factory.token("admin")), "Idempotency-Key": "a1b2"}
    first = await api.post("/committees", json=_committee("NEW"), headers=admin)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    before = await factory.counts()
    # Another spelling of the same JSON is the same request.
    same = '{ "parent": "UP", "level": "grassroots", "name": "Chi bộ NEW", "code": "NEW" }'
    again = await api.post(
        "/committees", content=same.encode(), headers={**admin, "Content-Type": "application/json"}
    )
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["location"] == first.headers["location"] == "/committees/NEW"
    assert again.headers["idempotent-replayed"] == "true"
    assert await factory.counts() == before


async def test_the_same_key_with_another_request_is_422(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    admin = {**bearer(await factory.token("admin")), "Idempotency-Key": "k"}
    await api.post("/committees", json=_committee("NEW"), headers=admin)
    before = await factory.counts()
    other_body = await api.post("/committees", json=_committee("NEWER"), headers=admin)
    other_route = await api.post(
        "/users", json={"name": "x", "role": "auditor"}, headers=admin
    )
    for response in (other_body, other_route):
        assert response.status_code == 422
        problem = response.json()
        assert (problem["type"], problem["idempotency_key"]) == (
            "/problems/idempotency-key-reused", "k"
        )
        assert "send a new key" in problem["detail"]
    assert await factory.counts() == before


async def test_keys_belong_to_their_caller(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    one = {**bearer(await factory.token("admin")), "Idempotency-Key": "shared"}
    two = {**bearer(await factory.token("admin")), "Idempotency-Key": "shared"}
    assert (await api.post("/committees", json=_committee("A1"), headers=one)).status_code == 201
    same_request = await api.post("/committees", json=_committee("A1"), headers=two)
    assert same_request.status_code == 409  # it ran: no replay of another caller's answer
    theirs = await api.post("/committees", json=_committee("A2"), headers=two)
    assert theirs.status_code == 201 and "idempotent-replayed" not in theirs.headers


async def test_a_failed_request_frees_its_key(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    admin = {**bearer(await factory.token("admin")), "Idempotency-Key": "retry-me"}
    clash = await api.post("/committees", json=_committee("GR"), headers=admin)
    assert clash.status_code == 409
    assert await factory.count(IdempotencyKey) == 0
    fixed = await api.post("/committees", json=_committee("GR9"), headers=admin)
    assert fixed.status_code == 201 and "idempotent-replayed" not in fixed.headers


async def test_keys_expire_after_the_configured_hours(
    api: httpx.AsyncClient, factory: Factory, settings: Settings
) -> None:
    await factory.tree()
    admin = {**bearer(await factory.token("admin")), "Idempotency-Key": "old"}
    assert (await api.post("/committees", json=_committee("E1"), headers=admin)).is_success
    async with factory.sessions() as session:
        row = await session.scalar(select(IdempotencyKey))
        assert row is not None
        lifetime = row.expires_at - row.created_at
        assert abs(lifetime - timedelta(hours=settings.idempotency_ttl_hours)) < timedelta(
            minutes=1
        )
        await session.execute(update(IdempotencyKey).values(expires_at=utcnow()))
        await session.commit()
    reused = await api.post("/committees", json=_committee("E2"), headers=admin)
    assert reused.status_code == 201 and "idempotent-replayed" not in reused.headers
    async with factory.sessions() as session:
        codes = (await session.scalars(select(Committee.code).where(
            Committee.code.in_(["E1", "E2"])))).all()
    assert sorted(codes) == ["E1", "E2"]


async def test_a_repeat_of_a_claimed_key_is_409_until_it_lapses(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    """A claim left by a request whose process died: 409 (retry later), then free again."""
    await factory.tree()
    first = await record(api, "tasks/opened", opened(), key="run-9/1")
    assert first.status_code == 201
    async with factory.sessions() as session:
        await session.execute(update(IdempotencyKey).values(response_status=0))
        await session.commit()
    busy = await record(api, "tasks/opened", opened(), key="run-9/1")
    assert busy.status_code == 409
    assert busy.json()["type"] == "/problems/idempotency-key-in-flight"
    assert busy.headers["retry-after"] == "1"
    async with factory.sessions() as session:
        await session.execute(update(IdempotencyKey).values(expires_at=utcnow()))
        await session.commit()
    lapsed = await record(api, "tasks/opened", opened(), key="run-9/1")
    assert lapsed.json() == {"id": first.json()["id"], "created": False}  # the natural key


@pytest.mark.parametrize("key", ["", "x" * 201, "tab\there"], ids=["empty", "long", "control"])
async def test_an_unusable_key_is_422(
    api: httpx.AsyncClient, factory: Factory, key: str
) -> None:
    await factory.tree()
    admin = {**bearer(await factory.token("admin")), "Idempotency-Key": key}
    response = await api.post("/committees", json=_committee("K"), headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await factory.count(Committee) == 6


async def test_a_replayed_user_has_no_token(api: httpx.AsyncClient, factory: Factory) -> None:
    """The token is shown once and stored nowhere in clear, not even for a replay."""
    await factory.tree()
    admin = {**bearer(await factory.token("admin")), "Idempotency-Key": "new-user"}
    body = {"name": "Lê Văn C", "role": "staff", "committee": "GR"}
    first = await api.post("/users", json=body, headers=admin)
    replay = await api.post("/users", json=body, headers=admin)
    assert first.json()["token"]
    assert replay.json() == {**first.json(), "token": None}
    async with factory.sessions() as session:
        stored = (await session.scalars(select(IdempotencyKey.response_body))).all()
    assert first.json()["token"] not in str(stored)
