"""Going around the database's guard on audit_events, as an intruder with the owner's rights."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import Sessions


@asynccontextmanager
async def around_the_triggers(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    """A transaction in which audit_events can be rewritten; the triggers return after it."""
    async with sessions() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            yield session
            await session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
            return
        for verb in ("update", "delete"):
            await session.execute(text(f"DROP TRIGGER audit_events_no_{verb}"))
        yield session
        for verb in ("UPDATE", "DELETE"):
            await session.execute(text(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            ))
