"""A request holds at most one pooled connection at a time: the session that authenticated
its caller gives its connection back before the request's own units of work take one."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from api.settings import Settings
from tests.api.conftest import asgi_client
from tests.api.factories import Factory, bearer


class Held:
    """Counts the connections one asyncio task (the request, served in the test's own task by
    the ASGI transport) holds now, and the most at once; the API's background loops are not
    the request."""

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.holders: dict[int, asyncio.Task[Any] | None] = {}
        self.now = self.most = 0

    def checkout(self, _connection: Any, record: Any, _proxy: Any) -> None:
        holder = asyncio.current_task()
        self.holders[id(record)] = holder
        if holder is self.task:
            self.now += 1
            self.most = max(self.most, self.now)

    def checkin(self, _connection: Any, record: Any) -> None:
        if self.holders.pop(id(record), None) is self.task:
            self.now -= 1


async def test_a_keyed_write_holds_one_connection_at_a_time(
    settings: Settings, factory: Factory
) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin"))  # not yet cached: authentication reads
    async with asgi_client(settings) as api:
        engine = api._transport.app.state.engine  # type: ignore[attr-defined]
        held = Held(asyncio.current_task())  # type: ignore[arg-type]
        pool = engine.sync_engine.pool
        event.listen(pool, "checkout", held.checkout)
        event.listen(pool, "checkin", held.checkin)
        try:
            response = await api.post(
                "/users", json={"name": "Trần Văn Mới", "role": "auditor"},
                headers={**admin, "Idempotency-Key": "one-user"},
            )
        finally:
            event.remove(pool, "checkout", held.checkout)
            event.remove(pool, "checkin", held.checkin)
    assert response.status_code == 201, response.text
    assert (held.most, held.now) == (1, 0)
