"""Alembic: the migration builds exactly the models' schema, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from api.db import make_engine
from api.migrate import alembic_config, upgrade, upgrade_async
from api.models import Base


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()


async def test_upgrade_again_is_a_no_op_and_downgrade_round_trips(database_url: str) -> None:
    await upgrade_async(database_url)
    await asyncio.to_thread(upgrade, database_url)  # the CLI's path: its own event loop

    def round_trip(connection: Connection) -> list[str]:
        config = alembic_config(database_url)
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        left = inspect(connection).get_table_names()
        command.upgrade(config, "head")
        return left

    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            assert await connection.run_sync(round_trip) == ["alembic_version"]
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()
