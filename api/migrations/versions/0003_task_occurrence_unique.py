"""A task per cycle, item and occurrence, enforced by the database.

Revision ID: 0003
Revises: 0002
Create Date: 2025-11-27

The task key already is unique per cycle; the key is made from the item and the occurrence
(`conference-q2`, `consolidate-3`) by code, and this index makes that pair a business key the
database refuses to repeat too. A unique index rather than a table constraint, so SQLite takes
it without rebuilding the table. Written by hand and frozen, like 0001.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEX = "uq_tasks_cycle_id_item_key_occurrence"


def upgrade() -> None:
    op.create_index(INDEX, "tasks", ["cycle_id", "item_key", "occurrence"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="tasks")
