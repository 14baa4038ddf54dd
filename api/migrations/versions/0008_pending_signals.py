"""Pending signals: what a committed change still owes a workflow, until Temporal takes it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

A roster change used to signal its cycle inside its open write transaction. It now writes the
signal here in that transaction; the API sends it after the commit and deletes it once sent,
and sends again what is left. Written by hand and frozen, like 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "pending_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(2000), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_pending_signals"),
    )
    op.create_index("ix_pending_signals_workflow_id", "pending_signals", ["workflow_id"])


def downgrade() -> None:
    op.drop_index("ix_pending_signals_workflow_id", table_name="pending_signals")
    op.drop_table("pending_signals")
