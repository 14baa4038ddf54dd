"""A cycle may be `starting`: its row is committed, its workflow not yet known to be started.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

A start commits the cycle's row before it asks Temporal for the workflow, so that writers do
not queue behind Temporal; the row says `starting` until Temporal has the workflow. This
widens the status check to allow it, and gives the check the name the models give it
(0001's came out as `ck_cycles_ck_cycles_status`: the naming convention was applied to a
name that already had the prefix).

SQLite cannot alter a CHECK constraint, and rebuilding `cycles` (what Alembic's batch mode
does) fails once tasks refer to it: foreign keys are enforced, and they cannot be switched
off inside the migration's transaction. So on SQLite the table's stored definition is edited
the way SQLite documents for changing a CHECK constraint (writable_schema, schema_version
bumped, integrity checked), which rewrites no row. Widening the check keeps every stored row
valid. Written by hand and frozen, like 0001.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text
from sqlalchemy.engine import Connection

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD_NAME, NEW_NAME = "ck_cycles_ck_cycles_status", "ck_cycles_status"
OLD_CHECK = "status IN ('running', 'closed')"
NEW_CHECK = "status IN ('starting', 'running', 'closed')"


def _clause(name: str, check: str) -> str:
    return f"CONSTRAINT {name} CHECK ({check})"


def _sqlite_replace(bind: Connection, old: str, new: str) -> None:
    """Swap one constraint clause in the stored CREATE TABLE of `cycles`."""
    sql = bind.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'cycles'")
    ).scalar_one()
    if sql.count(old) != 1:
        raise RuntimeError(f"cycles is not as expected: {old!r} not found once in {sql!r}")
    version = bind.execute(text("PRAGMA schema_version")).scalar_one()
    bind.execute(text("PRAGMA writable_schema = ON"))
    try:
        bind.execute(
            text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'cycles'"),
            {"sql": sql.replace(old, new)},
        )
        bind.execute(text(f"PRAGMA schema_version = {int(version) + 1}"))
    finally:
        bind.execute(text("PRAGMA writable_schema = OFF"))
    problems = bind.execute(text("PRAGMA quick_check")).scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"cycles after the change: {problems}")


def _replace(old_name: str, old_check: str, new_name: str, new_check: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _sqlite_replace(bind, _clause(old_name, old_check), _clause(new_name, new_check))
        return
    op.execute(f"ALTER TABLE cycles DROP CONSTRAINT {old_name}")
    op.execute(f"ALTER TABLE cycles ADD {_clause(new_name, new_check)}")


def upgrade() -> None:
    _replace(OLD_NAME, OLD_CHECK, NEW_NAME, NEW_CHECK)


def downgrade() -> None:
    starting = op.get_bind().execute(
        text("SELECT count(*) FROM cycles WHERE status = 'starting'")
    ).scalar_one()
    if starting:
        raise RuntimeError(
            f"{starting} cycles are still starting: start them (POST /years/{{year}}/cycles) "
            "before downgrading below 0004"
        )
    _replace(NEW_NAME, NEW_CHECK, OLD_NAME, OLD_CHECK)
