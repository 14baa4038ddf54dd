"""Revoking a token while the API caches who tokens name: at once in the process that revokes,
within PRINCIPAL_CACHE_SECONDS in any other."""

from __future__ import annotations

import httpx
from sqlalchemy import select, update

from api.models import User, utcnow
from api.services.users import (
    PRINCIPALS,
    PrincipalCache,
    authenticate,
    hash_token,
    revoke_user,
)
from tests.api.factories import SERVICE_TOKEN, Factory, bearer
from yearwheel.users import revoke_user_token


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_another_process_revoking_is_seen_within_the_ttl(factory: Factory) -> None:
    token = await factory.token("board", name="leaving")
    clock = Clock()
    cache = PrincipalCache(ttl=2.0, clock=clock)
    async with factory.sessions() as session:
        principal = await authenticate(
            session=session, token=token, service_token=SERVICE_TOKEN, cache=cache
        )
    assert principal is not None and principal.name == "leaving"
    async with factory.sessions() as session:  # as `yearwheel user revoke` elsewhere would
        await session.execute(
            update(User).where(User.name == "leaving").values(revoked_at=utcnow())
        )
        await session.commit()
    for elapsed, expected in ((1.9, principal), (2.0, None)):
        clock.now = elapsed
        async with factory.sessions() as session:
            assert await authenticate(
                session=session, token=token, service_token=SERVICE_TOKEN, cache=cache
            ) == expected


async def test_revoking_through_the_cli_in_this_process_is_at_once(
    api: httpx.AsyncClient, factory: Factory, database_url: str
) -> None:
    await factory.tree()
    token = await factory.token("staff", "GR", name="Lê Văn C")
    assert (await api.get("/tasks", headers=bearer(token))).status_code == 200  # now cached
    await revoke_user_token(database_url, name="Lê Văn C")
    assert (await api.get("/tasks", headers=bearer(token))).status_code == 401


async def test_a_lookup_that_raced_a_revocation_is_not_cached(factory: Factory) -> None:
    token = await factory.token("board", name="racing")
    async with factory.sessions() as session:
        principal = await authenticate(
            session=session, token=token, service_token=SERVICE_TOKEN,
            cache=PrincipalCache(),  # looked up, not cached in PRINCIPALS
        )
    assert principal is not None
    async with factory.sessions() as session:
        user_id = await session.scalar(select(User.id).where(User.name == "racing"))
        assert user_id is not None
        await revoke_user(session=session, user_id=user_id, actor="test")
        started = PRINCIPALS.begin()  # a request reads the row before the revocation commits
        await session.commit()
    PRINCIPALS.put(hash_token(token), principal, expires_at=None, started=started)
    assert PRINCIPALS.get(hash_token(token)) is None
    async with factory.sessions() as session:
        assert await authenticate(
            session=session, token=token, service_token=SERVICE_TOKEN
        ) is None


async def test_a_revocation_rolled_back_leaves_the_token_working(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    token = await factory.token("auditor", name="staying")
    assert (await api.get("/committees", headers=bearer(token))).status_code == 200
    async with factory.sessions() as session:
        user_id = await session.scalar(select(User.id).where(User.name == "staying"))
        assert user_id is not None
        await revoke_user(session=session, user_id=user_id, actor="test")
        await session.rollback()
    assert (await api.get("/committees", headers=bearer(token))).status_code == 200
