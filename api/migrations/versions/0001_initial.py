"""The initial schema: committees, templates, cycles, tasks and their records, audit, users.

Revision ID: 0001
Revises:
Create Date: 2025-11-26

Written by hand and frozen: it imports nothing from the application, so later changes to the
models cannot change what it does. The default template is seeded on first use, not here.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def _ts(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=f"pk_{table}")


def upgrade() -> None:
    op.create_table(
        "committees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint(
            "level IN ('root', 'upper', 'grassroots')", name="ck_committees_level"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["committees.id"], name="fk_committees_parent_id_committees"
        ),
        _pk("committees"),
        sa.UniqueConstraint("code", name="uq_committees_code"),
    )
    op.create_index("ix_committees_parent_id", "committees", ["parent_id"])

    op.create_table(
        "templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        _ts("created_at"),
        _pk("templates"),
        sa.UniqueConstraint("code", "version", name="uq_templates_code_version"),
    )

    op.create_table(
        "cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.String(200), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("seconds_per_day", sa.Float(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", JSON, nullable=True),
        _ts("started_at"),
        _ts("closed_at", nullable=True),
        sa.CheckConstraint("status IN ('running', 'closed')", name="ck_cycles_status"),
        sa.ForeignKeyConstraint(
            ["committee_id"], ["committees.id"], name="fk_cycles_committee_id_committees"
        ),
        sa.ForeignKeyConstraint(
            ["template_id"], ["templates.id"], name="fk_cycles_template_id_templates"
        ),
        _pk("cycles"),
        sa.UniqueConstraint("committee_id", "year", name="uq_cycles_committee_id_year"),
        sa.UniqueConstraint("workflow_id", name="uq_cycles_workflow_id"),
    )
    op.create_index("ix_cycles_year", "cycles", ["year"])

    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("item_key", sa.String(64), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("evidence_kind", sa.String(16), nullable=False),
        sa.Column("title_vi", sa.String(300), nullable=False),
        sa.Column("title_en", sa.String(300), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        _ts("opened_at"),
        _ts("closed_at", nullable=True),
        sa.Column("closed_by", sa.String(200), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("rung", sa.String(16), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "state IN ('open', 'overdue', 'escalated', 'completed', 'waived')",
            name="ck_tasks_state",
        ),
        sa.CheckConstraint(
            "escalation_level BETWEEN 0 AND 2", name="ck_tasks_escalation_level"
        ),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycles.id"], name="fk_tasks_cycle_id_cycles"),
        _pk("tasks"),
        sa.UniqueConstraint("cycle_id", "key", name="uq_tasks_cycle_id_key"),
    )
    op.create_index("ix_tasks_state_due_on", "tasks", ["state", "due_on"])

    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("submission_ref", sa.String(100), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        _ts("submitted_at"),
        sa.Column("workflow_event_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_submissions_task_id_tasks"),
        _pk("submissions"),
        sa.UniqueConstraint("submission_ref", name="uq_submissions_submission_ref"),
    )
    op.create_index("ix_submissions_task_id", "submissions", ["task_id"])

    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("rung", sa.String(16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("target_committee_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        _ts("raised_at"),
        _ts("resolved_at", nullable=True),
        sa.CheckConstraint(
            "rung IN ('reminder', 'overdue', 'parent', 'board')", name="ck_escalations_rung"
        ),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_escalations_task_id_tasks"),
        sa.ForeignKeyConstraint(
            ["target_committee_id"],
            ["committees.id"],
            name="fk_escalations_target_committee_id_committees",
        ),
        _pk("escalations"),
        sa.UniqueConstraint(
            "task_id", "rung", "due_on", name="uq_escalations_task_id_rung_due_on"
        ),
    )
    op.create_index(
        "ix_escalations_target_committee_id", "escalations", ["target_committee_id"]
    )

    op.create_table(
        "task_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(2000), nullable=False),
        _ts("at"),
        sa.Column("previous_due_on", sa.Date(), nullable=True),
        sa.Column("new_due_on", sa.Date(), nullable=True),
        sa.CheckConstraint("change IN ('extended', 'waived')", name="ck_task_changes_change"),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name="fk_task_changes_task_id_tasks"
        ),
        _pk("task_changes"),
        sa.UniqueConstraint(
            "task_id", "change", "at", name="uq_task_changes_task_id_change_at"
        ),
    )

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_committee_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.String(1000), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(
            ["recipient_committee_id"],
            ["committees.id"],
            name="fk_notifications_recipient_committee_id_committees",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name="fk_notifications_task_id_tasks"
        ),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name="fk_notifications_escalation_id_escalations",
        ),
        _pk("notifications"),
    )
    op.create_index(
        "ix_notifications_recipient_committee_id", "notifications", ["recipient_committee_id"]
    )

    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        _ts("at"),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
        sa.UniqueConstraint("hash", name="uq_audit_events_hash"),
    )
    _forbid_audit_rewrites()

    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("response_body", JSON, nullable=False),
        _ts("created_at"),
        _ts("expires_at"),
        _pk("idempotency_keys"),
        sa.UniqueConstraint("key", name="uq_idempotency_keys_key"),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _ts("created_at"),
        _ts("expires_at", nullable=True),
        _ts("revoked_at", nullable=True),
        sa.CheckConstraint(
            "role IN ('staff', 'supervisor', 'board', 'auditor', 'admin', 'service')",
            name="ck_users_role",
        ),
        sa.CheckConstraint(
            "role NOT IN ('staff', 'supervisor') OR committee_id IS NOT NULL",
            name="ck_users_committee_required",
        ),
        sa.ForeignKeyConstraint(
            ["committee_id"], ["committees.id"], name="fk_users_committee_id_committees"
        ),
        _pk("users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
        sa.UniqueConstraint("token_hash", name="uq_users_token_hash"),
    )


def _forbid_audit_rewrites() -> None:
    """The audit log is append-only in the database itself, not only by convention."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )


def downgrade() -> None:
    for table in (
        "users",
        "idempotency_keys",
        "audit_events",
        "notifications",
        "task_changes",
        "escalations",
        "submissions",
        "tasks",
        "cycles",
        "templates",
        "committees",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
