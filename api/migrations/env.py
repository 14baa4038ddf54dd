"""Alembic environment: async engines, or a connection handed in by api.migrate."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from api.db import make_engine
from api.models import Base

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if url:
        return str(url)
    from api.settings import Settings

    return Settings().database_url  # type: ignore[call-arg]


def _run(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        # The driver opens a transaction only before a row change, so each CREATE or DROP
        # would commit on its own and a migration that fails half way would stay half done.
        # A savepoint opens the transaction now: the whole run commits or rolls back as one.
        connection.exec_driver_sql("SAVEPOINT alembic_run")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = make_engine(_database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run_offline() -> None:
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif (given := config.attributes.get("connection")) is not None:
    _run(given)
else:
    asyncio.run(_run_async())
