"""A task row may be `pending`: a supervisor changed a task before it opened.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

An extension of a task not yet opened is recorded when it is made, on a row that says
`pending` and has no `opened_at` until the task opens. This widens the state check to allow
it (and gives the check the name the models give it: 0001's came out as
`ck_tasks_ck_tasks_state`) and lets `opened_at` be NULL.

SQLite cannot alter a constraint, and rebuilding `tasks` fails once submissions, escalations
and notifications refer to it (see 0004), so on SQLite the table's stored definition is edited
as SQLite documents for removing a NOT NULL or changing a CHECK constraint: no row is
rewritten, and every stored row stays valid. Written by hand and frozen, like 0001.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text
from sqlalchemy.engine import Connection

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OLD_NAME, NEW_NAME = "ck_tasks_ck_tasks_state", "ck_tasks_state"
OLD_CHECK = "state IN ('open', 'overdue', 'escalated', 'completed', 'waived')"
NEW_CHECK = "state IN ('pending', 'open', 'overdue', 'escalated', 'completed', 'waived')"
NOT_NULL, NULLABLE = "opened_at DATETIME NOT NULL,", "opened_at DATETIME,"


def _clause(name: str, check: str) -> str:
    return f"CONSTRAINT {name} CHECK ({check})"


def _sqlite_edit(bind: Connection, swaps: list[tuple[str, str]]) -> None:
    """Swap text in the stored CREATE TABLE of `tasks`, each piece found exactly once."""
    sql = bind.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'tasks'")
    ).scalar_one()
    for old, new in swaps:
        if sql.count(old) != 1:
            raise RuntimeError(f"tasks is not as expected: {old!r} not found once in {sql!r}")
        sql = sql.replace(old, new)
    version = bind.execute(text("PRAGMA schema_version")).scalar_one()
    bind.execute(text("PRAGMA writable_schema = ON"))
    try:
        bind.execute(
            text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'tasks'"),
            {"sql": sql},
        )
        bind.execute(text(f"PRAGMA schema_version = {int(version) + 1}"))
    finally:
        bind.execute(text("PRAGMA writable_schema = OFF"))
    problems = bind.execute(text("PRAGMA quick_check")).scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"tasks after the change: {problems}")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _sqlite_edit(bind, [
            (_clause(OLD_NAME, OLD_CHECK), _clause(NEW_NAME, NEW_CHECK)), (NOT_NULL, NULLABLE),
        ])
        return
    op.execute(f"ALTER TABLE tasks DROP CONSTRAINT {OLD_NAME}")
    op.execute(f"ALTER TABLE tasks ADD {_clause(NEW_NAME, NEW_CHECK)}")
    op.execute("ALTER TABLE tasks ALTER COLUMN opened_at DROP NOT NULL")


def downgrade() -> None:
    bind = op.get_bind()
    pending = bind.execute(
        text("SELECT count(*) FROM tasks WHERE state = 'pending' OR opened_at IS NULL")
    ).scalar_one()
    if pending:
        raise RuntimeError(
            f"{pending} tasks are pending (changed before they opened): let them open, or "
            "delete their rows, before downgrading below 0013"
        )
    if bind.dialect.name == "sqlite":
        _sqlite_edit(bind, [
            (_clause(NEW_NAME, NEW_CHECK), _clause(OLD_NAME, OLD_CHECK)), (NULLABLE, NOT_NULL),
        ])
        return
    op.execute(f"ALTER TABLE tasks DROP CONSTRAINT {NEW_NAME}")
    op.execute(f"ALTER TABLE tasks ADD {_clause(OLD_NAME, OLD_CHECK)}")
    op.execute("ALTER TABLE tasks ALTER COLUMN opened_at SET NOT NULL")
