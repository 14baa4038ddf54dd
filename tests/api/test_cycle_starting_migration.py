"""Migration 0004 on a database already holding cycles and their tasks: every row is kept, a
cycle may then be `starting`, and an unknown status is still refused (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from api.db import Sessions, make_engine
from api.migrate import alembic_config
from api.models import Committee, Cycle, Task, TemplateRow

AT = datetime(2031, 1, 20, 2, tzinfo=UTC)


async def _migrate(database_url: str, revision: str, *, down: bool = False) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config(database_url)
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


async def _populate(sessions: Sessions) -> None:
    """A committee with a running cycle and a task that refers to it, as 0003 allows."""
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


async def _set_status(sessions: Sessions, status: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(Cycle).values(status=status))


async def test_0004_keeps_rows_and_allows_starting(database_url: str, sessions: Sessions) -> None:
    await _migrate(database_url, "0003", down=True)
    await _populate(sessions)
    with pytest.raises(IntegrityError):
        await _set_status(sessions, "starting")  # what 0004 changes

    await _migrate(database_url, "head")

    async with sessions() as session:
        kept = (await session.execute(select(Cycle.workflow_id, Cycle.status))).tuples().all()
        tasks = (await session.execute(select(Task.key, Task.cycle_id))).tuples().all()
        if session.get_bind().dialect.name == "sqlite":
            assert (await session.execute(text("PRAGMA foreign_key_check"))).all() == []
            assert (await session.execute(text("PRAGMA integrity_check"))).scalar() == "ok"
    assert kept == [("cycle/GR/2031", "running")]
    assert [key for key, _ in tasks] == ["plan"]
    await _set_status(sessions, "starting")
    with pytest.raises(IntegrityError):
        await _set_status(sessions, "paused")

    with pytest.raises(RuntimeError, match="1 cycles are still starting"):
        await _migrate(database_url, "0003", down=True)
    await _set_status(sessions, "closed")
    await _migrate(database_url, "0003", down=True)
    with pytest.raises(IntegrityError):
        await _set_status(sessions, "starting")
    await _migrate(database_url, "head")
    await _set_status(sessions, "starting")
