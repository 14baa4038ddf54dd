"""The database engine and sessions; SQLite gets WAL, foreign keys and a busy timeout.

Writes on SQLite. The driver (sqlite3, in its default transaction mode) opens a transaction at
the first INSERT, UPDATE or DELETE, so a read before it sees whatever was committed last and a
later write may find that changed. A unit of work (`run_unit_of_work`) therefore takes the
database's write lock first, with BEGIN IMMEDIATE: its reads and writes are one serial
transaction. Within one process units of work take turns on an asyncio lock before that, so
they queue in order instead of polling SQLite's busy handler; across processes sharing the
file, BEGIN IMMEDIATE waits on the busy timeout. PostgreSQL needs neither.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
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
# PostgreSQL errors a fresh attempt can get past: serialization failure, deadlock, lock timeout.
POSTGRES_TRANSIENT = frozenset({"40001", "40P01", "55P03"})
UNIQUE_VIOLATION = "23505"

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


class WriterBusy(Exception):
    """This process's other writers held SQLite for longer than the busy timeout."""


def is_transient(exc: BaseException) -> bool:
    """A conflict a fresh attempt can get past: a lost race for a unique key, a stale version,
    a lock, a serialization failure or deadlock. Other constraint violations are not."""
    if isinstance(exc, StaleDataError | WriterBusy):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    code = getattr(exc.orig, "sqlstate", None)
    if code is not None:
        return code in POSTGRES_TRANSIENT or code == UNIQUE_VIOLATION
    message = str(exc.orig).lower()
    if isinstance(exc, IntegrityError):
        return "unique constraint failed" in message
    if isinstance(exc, OperationalError):
        return "locked" in message or "busy" in message or "deadlock" in message
    return False


_write_turns: WeakKeyDictionary[Engine, asyncio.Lock] = WeakKeyDictionary()


@asynccontextmanager
async def _write_turn(session: AsyncSession) -> AsyncIterator[None]:
    """On SQLite, wait for this process's other units of work on the same engine to finish."""
    engine = session.get_bind().engine
    if engine.dialect.name != "sqlite":
        yield
        return
    turn = _write_turns.get(engine)
    if turn is None:
        turn = _write_turns[engine] = asyncio.Lock()
    try:
        async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):
            await turn.acquire()
    except TimeoutError:
        raise WriterBusy("other writers held the database past the busy timeout") from None
    try:
        yield
    finally:
        turn.release()


async def lock_for_writing(session: AsyncSession) -> None:
    """Hold SQLite's write lock from now until this transaction ends; PostgreSQL: nothing.

    In sqlite3's default mode a transaction is open only once an INSERT, UPDATE or DELETE ran,
    and that statement took the write lock; otherwise BEGIN IMMEDIATE takes it now (waiting up
    to the busy timeout), so what this transaction reads next is the latest and stays so.
    """
    connection = await session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = await connection.get_raw_connection()
    if not raw.driver_connection.in_transaction:  # type: ignore[union-attr]
        await connection.exec_driver_sql("BEGIN IMMEDIATE")


async def run_unit_of_work(
    sessions: Sessions, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = 6
) -> T:
    """Run `work` in one write transaction of a fresh session and commit it, retrying transient
    conflicts with backoff. On SQLite the transaction holds the write lock from its start."""
    for attempt in range(1, attempts + 1):
        try:
            return await _write_once(sessions, work)
        except Exception as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            log.info("attempt %d lost a race, retrying: %r", attempt, exc)
        await asyncio.sleep(random.uniform(0.005, 0.02) * attempt)
    raise AssertionError("unreachable")


async def _write_once(sessions: Sessions, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    session = sessions()
    async with _write_turn(session), session:  # the session ends before the turn passes on
        try:
            await lock_for_writing(session)
            result = await work(session)
            await session.commit()
            return result
        except Exception:
            await session.rollback()
            raise
