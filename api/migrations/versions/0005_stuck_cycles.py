"""Stuck cycles: the last refused call to /internal/* of each cycle, until it records again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

A refusal (401, 403, 404, 409, 422) that a person must fix keeps a cycle waiting and retrying;
this table is what operators see of it (GET /health, GET /cycles/stuck, a cycle's status).
Written by hand and frozen, like 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stuck_cycles",
        sa.Column("workflow_id", sa.String(200), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(300), nullable=False),
        sa.Column("detail", sa.String(2000), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("workflow_id", name="pk_stuck_cycles"),
    )


def downgrade() -> None:
    op.drop_table("stuck_cycles")
