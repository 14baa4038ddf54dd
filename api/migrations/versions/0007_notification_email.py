"""Notification email: a user's address and language, every delivery attempt, the Message-ID.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

Written by hand and frozen, like 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(320), nullable=True))
        batch.add_column(
            sa.Column("language", sa.String(2), nullable=False, server_default="vi")
        )
        batch.create_check_constraint("ck_users_language", "language IN ('vi', 'en')")
    with op.batch_alter_table("notification_deliveries") as batch:
        batch.add_column(sa.Column("message_id", sa.String(300), nullable=True))
    op.create_table(
        "notification_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('sending', 'sent', 'failed')", name="ck_notification_attempts_outcome"
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["notification_deliveries.id"],
            name="fk_notification_attempts_delivery_id_notification_deliveries",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notification_attempts"),
        sa.UniqueConstraint(
            "delivery_id", "attempt", name="uq_notification_attempts_delivery_id_attempt"
        ),
    )


def downgrade() -> None:
    op.drop_table("notification_attempts")
    with op.batch_alter_table("notification_deliveries") as batch:
        batch.drop_column("message_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("ck_users_language", type_="check")
        batch.drop_column("language")
        batch.drop_column("email")
