"""The database engine and sessions; SQLite gets WAL, foreign keys and a busy timeout."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm.exc import StaleDataError

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
# PostgreSQL across a network that drops packets (a partition, not a refusal) would otherwise
# hold a request for ever: bound the connect and every statement, so it fails as a 503.
POSTGRES_CONNECT_TIMEOUT_S = 5.0
POSTGRES_COMMAND_TIMEOUT_S = 10.0

T = TypeVar("T")
Sessions = async_sessionmaker[AsyncSession]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for the URL; SQLite connections get the project's pragmas."""
    if database_url.startswith("sqlite"):
        engine = create_async_engine(
            database_url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {
        "timeout": POSTGRES_CONNECT_TIMEOUT_S, "command_timeout": POSTGRES_COMMAND_TIMEOUT_S,
    }
    return create_async_engine(
        database_url, pool_pre_ping=True, connect_args=connect_args, **kwargs
    )


def make_sessions(engine: AsyncEngine) -> Sessions:
    """A session factory whose objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine, *, within_seconds: float = 2.0) -> bool:
    """True when the database answers a trivial query in time."""
    try:
        async with asyncio.timeout(within_seconds):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def is_transient(exc: BaseException) -> bool:
    """A conflict a fresh attempt can get past: a lost race, a lock, a serialization failure."""
    if isinstance(exc, StaleDataError | IntegrityError):
        return True
    if isinstance(exc, OperationalError):
        message = str(exc.orig).lower()
        return "locked" in message or "busy" in message or "deadlock" in message
    return False


async def run_unit_of_work(
    sessions: Sessions, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = 6
) -> T:
    """Run `work` in a fresh session and commit, retrying transient conflicts with backoff."""
    for attempt in range(1, attempts + 1):
        async with sessions() as session:
            try:
                result = await work(session)
                await session.commit()
                return result
            except Exception as exc:
                await session.rollback()
                if attempt == attempts or not is_transient(exc):
                    raise
                log.info("attempt %d lost a race, retrying: %r", attempt, exc)
        await asyncio.sleep(random.uniform(0.005, 0.02) * attempt)
    raise AssertionError("unreachable")
