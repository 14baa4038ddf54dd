"""Registers: a committee office's entries (reporter activities first), their versions and the
reporters each names.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

One table holds every register's entries as a kind and a JSON body; the body's shape is the
kind's model in domain/registers.py. Written by hand and frozen, like 0001.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
STATUSES = "status IN ('recorded', 'corrected', 'withdrawn')"


def _ts(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "register_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _ts("created_at"),
        sa.Column("created_by", sa.String(200), nullable=False),
        _ts("changed_at"),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.CheckConstraint("kind IN ('activity')", name="ck_register_entries_kind"),
        sa.CheckConstraint(STATUSES, name="ck_register_entries_status"),
        sa.ForeignKeyConstraint(
            ["committee_id"], ["committees.id"],
            name="fk_register_entries_committee_id_committees",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_register_entries"),
    )
    op.create_index(
        "ix_register_entries_committee_id_kind_day", "register_entries",
        ["committee_id", "kind", "day"],
    )
    op.create_table(
        "register_entry_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("reason", sa.String(2000), nullable=True),
        _ts("at"),
        sa.Column("by", sa.String(200), nullable=False),
        sa.CheckConstraint(STATUSES, name="ck_register_entry_versions_status"),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["register_entries.id"],
            name="fk_register_entry_versions_entry_id_register_entries",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_register_entry_versions"),
        sa.UniqueConstraint(
            "entry_id", "version", name="uq_register_entry_versions_entry_id_version"
        ),
    )
    op.create_table(
        "register_entry_reporters",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["register_entries.id"],
            name="fk_register_entry_reporters_entry_id_register_entries",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["reporters.id"],
            name="fk_register_entry_reporters_reporter_id_reporters",
        ),
        sa.PrimaryKeyConstraint("entry_id", "reporter_id", name="pk_register_entry_reporters"),
    )
    op.create_index(
        "ix_register_entry_reporters_reporter_id", "register_entry_reporters", ["reporter_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_register_entry_reporters_reporter_id",
                  table_name="register_entry_reporters")
    op.drop_table("register_entry_reporters")
    op.drop_table("register_entry_versions")
    op.drop_index("ix_register_entries_committee_id_kind_day", table_name="register_entries")
    op.drop_table("register_entries")
