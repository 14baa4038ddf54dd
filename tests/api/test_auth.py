"""Bearer tokens: 401 without a valid one, the service token only on /internal/*, users by admin."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from api.models import User, utcnow
from api.services.users import hash_token
from tests.api.factories import SERVICE, Factory, bearer, opened, record


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic dXNlcjpwYXNz"},
     {"Authorization": "Bearer not-a-token"}],
    ids=["missing", "empty", "basic", "unknown"],
)
async def test_401_problem_without_a_valid_token(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await api.get("/committees", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["title"] == "Authentication required"


async def test_expired_and_revoked_tokens_are_refused(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    expired = await factory.token("board", expires_at=utcnow() - timedelta(seconds=1))
    revoked = await factory.token("board")
    valid = await factory.token("board", expires_at=utcnow() + timedelta(days=1))
    async with factory.sessions() as session:
        await session.execute(
            update(User).where(User.token_hash == hash_token(revoked)).values(revoked_at=utcnow())
        )
        await session.commit()
    assert (await api.get("/committees", headers=bearer(expired))).status_code == 401
    assert (await api.get("/committees", headers=bearer(revoked))).status_code == 401
    assert (await api.get("/committees", headers=bearer(valid))).status_code == 200


async def test_tokens_are_stored_only_as_hashes(factory: Factory) -> None:
    token = await factory.token("auditor")
    async with factory.sessions() as session:
        stored = (await session.scalars(select(User.token_hash))).all()
    assert token not in stored
    assert hash_token(token) in stored


async def test_service_token_reaches_only_internal_routes(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    public = await api.get("/committees", headers=SERVICE)
    assert public.status_code == 403
    assert public.json()["detail"] == "the service token reaches only /internal/*"
    assert (await record(api, "tasks/opened", opened())).status_code == 201


async def test_user_tokens_cannot_reach_internal_routes(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    admin = await factory.token("admin")
    before = await factory.counts()
    response = await record(api, "tasks/opened", opened(), headers=bearer(admin))
    assert response.status_code == 403
    no_token = await api.post("/internal/tasks/opened", content=opened().model_dump_json())
    assert no_token.status_code == 401
    assert await factory.counts() == {**before, "audit_events": before["audit_events"] + 1}
    [refused] = await factory.refusals()  # the 403 is audited; the 401 has no one to name
    assert (refused.actor, refused.subject) == ("admin-all-1", "/internal/tasks/opened")
    assert refused.payload["detail"] == "only the worker's service identity may call /internal/*"


async def test_admin_creates_a_user_whose_token_works_once_shown(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    admin = await factory.token("admin")
    response = await api.post(
        "/users", json={"name": "Nguyễn Văn A", "role": "staff", "committee": "GR"},
        headers=bearer(admin),
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["role"], created["committee"]) == ("staff", "GR")
    mine = await api.get("/committees", headers=bearer(created["token"]))
    assert [c["code"] for c in mine.json()["items"]] == ["GR"]


async def test_user_creation_rules(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    admin, board = await factory.token("admin"), await factory.token("board")
    body = {"name": "someone", "role": "staff", "committee": "GR"}
    assert (await api.post("/users", json=body, headers=bearer(board))).status_code == 403
    assert (await api.post("/users", json=body, headers=bearer(admin))).status_code == 201
    assert (await api.post("/users", json=body, headers=bearer(admin))).status_code == 409
    staffless = {"name": "nobody", "role": "staff"}
    assert (await api.post("/users", json=staffless, headers=bearer(admin))).status_code == 422
    unknown = {"name": "x", "role": "staff", "committee": "NOPE"}
    assert (await api.post("/users", json=unknown, headers=bearer(admin))).status_code == 404
    service = {"name": "svc", "role": "service"}
    rejected = await api.post("/users", json=service, headers=bearer(admin))
    assert rejected.status_code == 422
    assert rejected.json()["errors"][0]["field"] == "role"
