"""Webhooks: a user's endpoint and the shared secret its deliveries are signed with.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

Plain ADD COLUMN (nullable, no constraint) on both backends: `users` is not rebuilt, so the
rows that refer to it stay as they are. Written by hand and frozen, like 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("webhook_url", sa.String(2000), nullable=True))
    op.add_column("users", sa.Column("webhook_secret", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("webhook_secret")
        batch.drop_column("webhook_url")
