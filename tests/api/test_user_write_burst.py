"""A burst of user writes on SQLite, from two APIs at once (two engines contending for the one
write lock): each waits its turn within the busy timeout, none answers 503."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from sqlalchemy import func, select

from api.models import User
from api.settings import Settings
from tests.api.factories import Factory, bearer
from tests.api.test_audit_chain_concurrency import two_apis

USERS = 50


async def test_fifty_concurrent_user_writes_all_land(
    settings: Settings, factory: Factory, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the busy lock is SQLite's")
    admin = bearer(await factory.token("admin"))
    async with two_apis(settings) as clients:
        pick = itertools.cycle(clients)
        responses = await asyncio.gather(*(
            next(pick).post("/users", json={"name": f"Người dùng {n}", "role": "auditor"},
                            headers=admin)
            for n in range(USERS)
        ))
    assert [r.status_code for r in responses] == [201] * USERS, [
        r.text for r in responses if r.status_code != 201][:3]
    async with factory.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == USERS + 1
