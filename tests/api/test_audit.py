"""The audit log: every write appends a link; the chain verifies and cannot be rewritten."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from api.models import AuditEvent
from api.services.audit import GENESIS, append_audit, canonical, event_hash, verify_chain
from domain.calendar import HCM
from domain.template import Rung
from tests.api.factories import Factory, closed, completion, ladder, opened, record, waived


async def _busy_history(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    await factory.token("admin")
    await record(api, "tasks/opened", opened("GR", "plan"))
    await record(api, "tasks/opened", opened("GR", "review"))
    await record(api, "ladder", ladder("GR", rung=Rung.REMINDER))
    await record(api, "tasks/completed", completion("GR"))
    await record(api, "tasks/changed", waived("GR", "review", at=datetime(2025, 3, 1, tzinfo=HCM)))
    await record(api, "cycles/closed", closed("GR"))


async def test_every_write_is_chained_and_the_chain_verifies(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await _busy_history(api, factory)
    async with factory.sessions() as session:
        events = (await session.scalars(select(AuditEvent).order_by(AuditEvent.seq))).all()
        check = await verify_chain(session=session)
    assert [e.action for e in events] == [
        "user.created", "template.created", "cycle.adopted", "task.opened", "task.opened",
        "task.reminder", "submission.stored", "task.completed", "task.waived", "cycle.closed",
    ]
    assert [e.seq for e in events] == list(range(1, 11))
    assert events[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert check.ok and check.events == 10


async def test_hash_covers_prev_hash_and_canonical_content(factory: Factory) -> None:
    at = datetime(2025, 1, 1, tzinfo=HCM)
    async with factory.sessions() as session:
        event = await append_audit(
            session=session, actor="Nguyễn", action="test.done", subject="s",
            payload={"b": 1, "a": [1, 2]}, at=at,
        )
        await session.commit()
    content = canonical({"seq": 1, "at": "2024-12-31T17:00:00.000000+00:00", "actor": "Nguyễn",
                         "action": "test.done", "subject": "s", "payload": {"a": [1, 2], "b": 1}})
    assert event.hash == hashlib.sha256((GENESIS + content).encode()).hexdigest()
    assert event.hash == event_hash(
        prev_hash=GENESIS, seq=1, at=at, actor="Nguyễn", action="test.done", subject="s",
        payload={"a": [1, 2], "b": 1},
    )


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET actor = 'mallory'",
    "DELETE FROM audit_events",
])
async def test_the_database_refuses_rewrites(
    api: httpx.AsyncClient, factory: Factory, statement: str
) -> None:
    await _busy_history(api, factory)
    async with factory.sessions() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text(statement))
        await session.rollback()
        assert (await verify_chain(session=session)).ok


async def test_verify_finds_a_forged_link(api: httpx.AsyncClient, factory: Factory) -> None:
    await _busy_history(api, factory)
    async with factory.sessions() as session:
        session.add(
            AuditEvent(seq=11, at=datetime(2025, 12, 31, tzinfo=HCM), actor="mallory",
                       action="task.completed", subject="x", payload={}, prev_hash=GENESIS,
                       hash="f" * 64)
        )
        await session.commit()
        check = await verify_chain(session=session)
    assert (check.ok, check.broken_at, check.reason) == (False, 11, "prev_hash does not link")
