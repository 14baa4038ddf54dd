"""Rosters and the tree over time: reporters, and dated parent links of committees.

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-27

Written by hand and frozen, like 0001: it imports nothing from the application. Reports need
no table: a report is the submission of a report task, its draft and corrections inside it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "reporters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("position", sa.String(200), nullable=False),
        sa.Column("committee_member", sa.Boolean(), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("decision_number", sa.String(200), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=False),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("left_reason", sa.String(2000), nullable=True),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        _ts("created_at"),
        sa.Column("created_by", sa.String(200), nullable=False),
        _ts("left_at", nullable=True),
        sa.Column("left_by", sa.String(200), nullable=True),
        sa.CheckConstraint("status IN ('active', 'left')", name="ck_reporters_status"),
        sa.CheckConstraint(
            "level IN ('central', 'provincial', 'district')", name="ck_reporters_level"
        ),
        sa.ForeignKeyConstraint(
            ["committee_id"], ["committees.id"], name="fk_reporters_committee_id_committees"
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["reporters.id"], name="fk_reporters_replaces_id_reporters"
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name="fk_reporters_submission_id_submissions"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reporters"),
    )
    op.create_index(
        "ix_reporters_committee_id_status", "reporters", ["committee_id", "status"]
    )
    op.create_index("ix_reporters_submission_id", "reporters", ["submission_id"])

    op.create_table(
        "committee_parents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(2000), nullable=False),
        _ts("created_at"),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["committee_id"], ["committees.id"],
            name="fk_committee_parents_committee_id_committees",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["committees.id"], name="fk_committee_parents_parent_id_committees"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_committee_parents"),
        sa.UniqueConstraint(
            "committee_id", "valid_from", name="uq_committee_parents_committee_id_valid_from"
        ),
    )
    op.create_index(
        "ix_committee_parents_committee_id", "committee_parents", ["committee_id"]
    )


def downgrade() -> None:
    op.drop_table("committee_parents")
    op.drop_table("reporters")
