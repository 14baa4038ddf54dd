"""The database schema from the command line: `yearwheel migrate`, and the check user commands
make first. Both need only YEARWHEEL_DATABASE_URL; every failure is one line saying what to do."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from api.db import make_engine
from api.migrate import alembic_config, upgrade_async


class SchemaError(Exception):
    """The database cannot be used as it is; the message says what to run."""


def program() -> str:
    """How the caller ran this command, so a hint can be pasted as it is."""
    invoked = sys.argv[0] if sys.argv else ""
    if Path(invoked).name == "yearwheel":
        return invoked if os.sep in invoked else "yearwheel"
    return f"{Path(sys.executable).name} -m yearwheel"


def shown(database_url: str) -> str:
    """The URL as a message may show it: without its password."""
    return make_url(database_url).render_as_string(hide_password=True)


def migrate_command(database_url: str) -> str:
    """The exact command that brings this database up to date (a password is not repeated)."""
    if make_url(database_url).password:
        return f"{program()} migrate, with the same YEARWHEEL_DATABASE_URL"
    return f"YEARWHEEL_DATABASE_URL='{database_url}' {program()} migrate"


def _prepare_sqlite_directory(database_url: str) -> None:
    """A SQLite file may be new; its directory must exist for SQLite to create it."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)


def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config("unused")).get_current_head()


def _state(connection: Connection) -> tuple[str | None, bool]:
    """The database's revision (None: never migrated) and whether it holds any table."""
    revision = MigrationContext.configure(connection).get_current_revision()
    return revision, bool(inspect(connection).get_table_names())


def _unusable(database_url: str, error: BaseException) -> SchemaError:
    if isinstance(error, DBAPIError) and error.orig is not None:
        reason = str(error.orig).strip().splitlines()[0]
    else:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return SchemaError(
        f"database {shown(database_url)} cannot be used: {reason}; check YEARWHEEL_DATABASE_URL "
        "and that the database server is running"
    )


async def migrate(database_url: str) -> None:
    """Bring the database to the latest schema (creating a new SQLite file and its folder)."""
    _prepare_sqlite_directory(database_url)
    try:
        await upgrade_async(database_url)
    except (DBAPIError, OSError) as error:
        raise _unusable(database_url, error) from None


async def ensure_schema(database_url: str) -> bool:
    """Ready the database for a user command: a new, empty database is migrated (True);
    one at the latest schema is left as it is (False); any other is a SchemaError naming the
    command that migrates it."""
    _prepare_sqlite_directory(database_url)
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            revision, has_tables = await connection.run_sync(_state)
    except (DBAPIError, OSError) as error:
        raise _unusable(database_url, error) from None
    finally:
        await engine.dispose()
    if revision == _head():
        return False
    if revision is None and not has_tables:
        await migrate(database_url)
        return True
    found = f"at revision {revision}" if revision else "holds tables but no schema revision"
    raise SchemaError(
        f"database {shown(database_url)} is {found}, not the latest ({_head()}); "
        f"bring it up to date first: {migrate_command(database_url)}"
    )
