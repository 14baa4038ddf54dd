"""Units of work and chain appends under concurrency, on SQLite and PostgreSQL; what is retried."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from api.db import Sessions, WriterBusy, is_transient, run_unit_of_work
from api.models import AuditEvent, Committee
from api.services.audit import append_audit, verify_chain

UNITS = 40
PLAIN = 10


async def test_every_kind_of_appender_keeps_one_unbroken_chain(sessions: Sessions) -> None:
    """Units of work that append twice, and plain sessions that read, append and commit."""

    async def unit(n: int) -> None:
        async def work(session: AsyncSession) -> None:
            await session.scalar(select(func.count()).select_from(AuditEvent))
            for part in ("first", "second"):
                await append_audit(session=session, actor="test", action=f"unit.{part}",
                                   subject=f"unit/{n}", payload={"n": n})

        await run_unit_of_work(sessions, work)

    async def plain(n: int) -> None:
        async with sessions() as session:
            await session.scalar(select(func.count()).select_from(Committee))
            await append_audit(session=session, actor="test", action="plain",
                               subject=f"plain/{n}", payload={"n": n})
            await session.commit()

    await asyncio.gather(*(unit(n) for n in range(UNITS)), *(plain(n) for n in range(PLAIN)))
    async with sessions() as session:
        check = await verify_chain(session=session)
        pairs = (await session.execute(
            select(AuditEvent.subject, AuditEvent.action, AuditEvent.seq)
            .where(AuditEvent.subject.like("unit/%")).order_by(AuditEvent.seq)
        )).all()
    assert check.ok and check.events == 2 * UNITS + PLAIN, check
    # A unit's two events are consecutive: its transaction held the chain between them.
    for (subject, action, seq), (next_subject, next_action, next_seq) in zip(
        pairs[::2], pairs[1::2], strict=True
    ):
        assert (action, next_action, next_subject, next_seq) == (
            "unit.first", "unit.second", subject, seq + 1
        )


class _Orig(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (IntegrityError("", {}, _Orig("UNIQUE constraint failed: audit_events.seq")), True),
        (IntegrityError("", {}, _Orig("CHECK constraint failed: role")), False),
        (IntegrityError("", {}, _Orig("FOREIGN KEY constraint failed")), False),
        (OperationalError("", {}, _Orig("database is locked")), True),
        (OperationalError("", {}, _Orig("no such table: x")), False),
        (IntegrityError("", {}, _Orig("duplicate key", "23505")), True),
        (IntegrityError("", {}, _Orig("foreign key", "23503")), False),
        (DBAPIError("", {}, _Orig("could not serialize", "40001")), True),
        (DBAPIError("", {}, _Orig("deadlock detected", "40P01")), True),
        (DBAPIError("", {}, _Orig("syntax error", "42601")), False),
        (StaleDataError("version"), True),
        (WriterBusy("busy"), True),
        (ValueError("no"), False),
    ],
    ids=lambda value: value if isinstance(value, bool) else str(value).split("\n")[0][:40],
)
def test_what_a_fresh_attempt_can_get_past(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient
