"""Migration 0013 on a database already holding tasks: every row is kept, a task row may then
be `pending` without `opened_at`, an unknown state is still refused, and a downgrade is refused
while a pending row exists (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from api.db import Sessions
from api.models import Committee, Cycle, Task, TemplateRow
from tests.api.test_cycle_starting_migration import _migrate

AT = datetime(2031, 1, 20, 2, tzinfo=UTC)


async def _populate(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        committee = Committee(code="GR", name="Chi bộ GR", level="grassroots", active=True)
        template = TemplateRow(code="default", version=1, body={})
        session.add_all([committee, template])
        await session.flush()
        cycle = Cycle(workflow_id="cycle/GR/2031", committee_id=committee.id, year=2031,
                      template_id=template.id, status="running")
        session.add(cycle)
        await session.flush()
        session.add(Task(
            cycle_id=cycle.id, key="plan", item_key="plan", occurrence=1, stage="plan",
            evidence_kind="document", title_vi="Kế hoạch", title_en="Plan", state="open",
            opens_on=date(2031, 1, 1), due_on=date(2031, 1, 31), opened_at=AT, late=False,
            escalation_level=0,
        ))


async def _set(sessions: Sessions, **values: object) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(Task).values(**values))


async def test_0013_keeps_rows_and_allows_pending(database_url: str, sessions: Sessions) -> None:
    await _migrate(database_url, "0012", down=True)
    await _populate(sessions)
    with pytest.raises(IntegrityError):
        await _set(sessions, state="pending")  # what 0013 changes
    with pytest.raises(IntegrityError):
        await _set(sessions, opened_at=None)

    await _migrate(database_url, "head")

    async with sessions() as session:
        kept = (await session.execute(select(Task.key, Task.state, Task.opened_at))).all()
        if session.get_bind().dialect.name == "sqlite":
            assert (await session.execute(text("PRAGMA foreign_key_check"))).all() == []
            assert (await session.execute(text("PRAGMA integrity_check"))).scalar() == "ok"
    assert [tuple(row) for row in kept] == [("plan", "open", AT)]
    await _set(sessions, state="pending", opened_at=None)
    with pytest.raises(IntegrityError):
        await _set(sessions, state="paused")

    with pytest.raises(RuntimeError, match="1 tasks are pending"):
        await _migrate(database_url, "0012", down=True)
    await _set(sessions, state="open", opened_at=AT)
    await _migrate(database_url, "0012", down=True)
    with pytest.raises(IntegrityError):
        await _set(sessions, state="pending")
    await _migrate(database_url, "head")
