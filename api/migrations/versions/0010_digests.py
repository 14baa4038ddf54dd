"""Daily digests: a user's email mode, and one row per user and day for the digest sent.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

`users` gains a column by plain ADD COLUMN (not rebuilt). Written by hand and frozen, like 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column(
        "email_mode", sa.String(10), nullable=False, server_default="immediate"
    ))
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.String(300), nullable=True),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.CheckConstraint(
            "status IN ('sending', 'sent', 'failed', 'empty')", name="ck_digests_status"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_digests_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_digests"),
        sa.UniqueConstraint("user_id", "day", name="uq_digests_user_id_day"),
    )


def downgrade() -> None:
    op.drop_table("digests")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email_mode")
