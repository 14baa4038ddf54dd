"""Notification deliveries: the outbox, one row per notification, user and channel.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

Written in the same transaction as the recording that raises the notification; a dispatcher
claims a row (claimed_until) before it sends and records the outcome on it.
Written by hand and frozen, like 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLE = "notification_deliveries"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_key", sa.String(200), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('in_app', 'email', 'webhook')", name=f"ck_{TABLE}_channel"
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=f"ck_{TABLE}_status"
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"], ["notifications.id"],
            name=f"fk_{TABLE}_notification_id_notifications",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=f"fk_{TABLE}_user_id_users"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{TABLE}"),
        sa.UniqueConstraint("delivery_key", name=f"uq_{TABLE}_delivery_key"),
    )
    op.create_index(f"ix_{TABLE}_notification_id", TABLE, ["notification_id"])
    op.create_index(f"ix_{TABLE}_user_id", TABLE, ["user_id"])
    op.create_index(f"ix_{TABLE}_status_next_attempt_at", TABLE, ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table(TABLE)
