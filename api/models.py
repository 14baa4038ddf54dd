"""The backend's tables. Business keys are unique constraints; datetimes are stored in UTC."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from domain.contracts import CommitteeLevel, ItemState
from domain.registers import EntryStatus, RegisterKind
from domain.template import Rung

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _one_of(column: str, values: Iterable[str]) -> str:
    listed = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({listed})"


class Role(StrEnum):
    STAFF = "staff"
    SUPERVISOR = "supervisor"
    BOARD = "board"
    AUDITOR = "auditor"
    ADMIN = "admin"
    SERVICE = "service"


class CycleState(StrEnum):
    STARTING = "starting"  # the row is committed; Temporal has not yet confirmed its workflow
    RUNNING = "running"
    CLOSED = "closed"


class ChangeKind(StrEnum):
    EXTENDED = "extended"
    WAIVED = "waived"


# A task row exists from the moment its obligation opens, or from the moment a supervisor
# changed it before it opened: then it is pending, without opened_at, until it opens.
TASK_ROW_STATES = tuple(s.value for s in ItemState)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Committee(Base):
    __tablename__ = "committees"
    __table_args__ = (CheckConstraint(_one_of("level", CommitteeLevel), name="level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TemplateRow(Base):
    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Cycle(Base):
    __tablename__ = "cycles"
    __table_args__ = (
        UniqueConstraint("committee_id", "year"),
        CheckConstraint(_one_of("status", CycleState), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(200), unique=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"))
    year: Mapped[int] = mapped_column(Integer, index=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id"))
    seconds_per_day: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default=CycleState.RUNNING.value)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("cycle_id", "key"),
        Index("uq_tasks_cycle_id_item_key_occurrence", "cycle_id", "item_key", "occurrence",
              unique=True),
        CheckConstraint(_one_of("state", TASK_ROW_STATES), name="state"),
        CheckConstraint("escalation_level BETWEEN 0 AND 2", name="escalation_level"),
        Index("ix_tasks_state_due_on", "state", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"))
    key: Mapped[str] = mapped_column(String(64))
    item_key: Mapped[str] = mapped_column(String(64))
    occurrence: Mapped[int] = mapped_column(Integer, default=1)
    stage: Mapped[str] = mapped_column(String(16))
    evidence_kind: Mapped[str] = mapped_column(String(16))
    title_vi: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16))
    opens_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(200))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    rung: Mapped[str | None] = mapped_column(String(16))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Submission(Base):
    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    submission_ref: Mapped[str] = mapped_column(String(100), unique=True)
    actor: Mapped[str] = mapped_column(String(200))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    workflow_event_id: Mapped[int] = mapped_column(BigInteger)


class Escalation(Base):
    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("task_id", "rung", "due_on"),
        CheckConstraint(_one_of("rung", Rung), name="rung"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    rung: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column(Integer)
    target_committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TaskChange(Base):
    """A supervisor's extension or waiver, as the workflow accepted it."""

    __tablename__ = "task_changes"
    __table_args__ = (
        UniqueConstraint("task_id", "change", "at"),
        CheckConstraint(_one_of("change", ChangeKind), name="change"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    change: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(2000))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    previous_due_on: Mapped[date | None] = mapped_column(Date)
    new_due_on: Mapped[date | None] = mapped_column(Date)


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Channel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class NotificationDelivery(Base):
    """One notification for one user on one channel: the outbox row a dispatcher claims.

    `delivery_key` is "<notification>:<user>:<channel>", unique, so a notification reaches a
    channel of a user at most once however often its recording is retried.
    """

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        CheckConstraint(_one_of("channel", Channel), name="channel"),
        CheckConstraint(_one_of("status", DeliveryStatus), name="status"),
        Index("ix_notification_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_key: Mapped[str] = mapped_column(String(200), unique=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    message_id: Mapped[str | None] = mapped_column(String(300))


class AttemptOutcome(StrEnum):
    SENDING = "sending"  # committed before the send: still so after a crash means in doubt
    SENT = "sent"
    FAILED = "failed"


class EmailMode(StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"


class DigestStatus(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    EMPTY = "empty"


class Digest(Base):
    """A user's daily digest for one day (Asia/Ho_Chi_Minh): at most one per user and day.

    The row is the claim: inserted as `sending` before the message goes, so a second dispatcher
    cannot insert it again; one still `sending` after the lease is in doubt and sent again with
    the same Message-ID, the bound email deliveries have.
    """

    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("user_id", "day"),
        CheckConstraint(_one_of("status", DigestStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    items: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(String(300))
    error: Mapped[str | None] = mapped_column(String(2000))


class NotificationAttempt(Base):
    """One try at sending a delivery, recorded before the send and finished after it."""

    __tablename__ = "notification_attempts"
    __table_args__ = (
        UniqueConstraint("delivery_id", "attempt"),
        CheckConstraint(_one_of("outcome", AttemptOutcome), name="outcome"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("notification_deliveries.id"))
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(String(2000))


class AuditEvent(Base):
    """One link of the append-only, hash-chained audit log."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_one_of("role", Role), name="role"),
        CheckConstraint(
            "role NOT IN ('staff', 'supervisor') OR committee_id IS NOT NULL",
            name="committee_required",
        ),
        CheckConstraint("language IN ('vi', 'en')", name="language"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email: Mapped[str | None] = mapped_column(String(320))  # notification email, if any
    language: Mapped[str] = mapped_column(String(2), default="vi", server_default="vi")
    webhook_url: Mapped[str | None] = mapped_column(String(2000))  # signed JSON POSTs, if any
    webhook_secret: Mapped[str | None] = mapped_column(String(200))  # the HMAC key it shares
    email_mode: Mapped[str] = mapped_column(  # EmailMode: each message, or one a day
        String(10), default="immediate", server_default="immediate"
    )
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2id; web sign-in
    failed_signins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    signin_blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordLink(Base):
    """A one-time link that sets a user's password; stored as the hash of its token."""

    __tablename__ = "password_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A signed-in browser: the cookie's token (hashed) and the CSRF token its forms carry."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReporterStatus(StrEnum):
    ACTIVE = "active"
    LEFT = "left"


class Reporter(Base):
    """A reporter (báo cáo viên) of one committee: recognised by a decision, for a term."""

    __tablename__ = "reporters"
    __table_args__ = (
        CheckConstraint(_one_of("status", ReporterStatus), name="status"),
        CheckConstraint(_one_of("level", ("central", "provincial", "district")), name="level"),
        Index("ix_reporters_committee_id_status", "committee_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200))
    committee_member: Mapped[bool] = mapped_column(Boolean)
    level: Mapped[str] = mapped_column(String(16))
    decision_number: Mapped[str] = mapped_column(String(200))
    decision_date: Mapped[date] = mapped_column(Date)
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default=ReporterStatus.ACTIVE.value)
    left_on: Mapped[date | None] = mapped_column(Date)
    left_reason: Mapped[str | None] = mapped_column(String(2000))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("reporters.id"))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    left_by: Mapped[str | None] = mapped_column(String(200))


class CommitteeParent(Base):
    """A committee's parent from a date on: the tree's history (committees.parent_id is the
    latest link). A committee without links has had its parent_id all along."""

    __tablename__ = "committee_parents"
    __table_args__ = (UniqueConstraint("committee_id", "valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"), index=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("committees.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))


class StuckCycle(Base):
    """A cycle whose last call to /internal/* was refused, until one of its recordings succeeds.

    Keyed by the workflow id the worker names in X-Yearwheel-Cycle; a 401 carries it from a
    caller the API could not identify, so it is shown, never trusted for anything else.
    """

    __tablename__ = "stuck_cycles"

    workflow_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(String(2000))
    count: Mapped[int] = mapped_column(Integer, default=1)


class PendingSignal(Base):
    """A signal a committed change owes a workflow, kept until Temporal has taken it.

    Written in the change's own transaction and sent after its commit, so a workflow never
    hears of a change that did not commit, and one that did is told even if Temporal was away.
    """

    __tablename__ = "pending_signals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(2000))


class RegisterEntry(Base):
    """One entry of a committee's register (domain/registers.py): its kind, the day it counts
    on and its current body; every version is kept in register_entry_versions."""

    __tablename__ = "register_entries"
    __table_args__ = (
        CheckConstraint(_one_of("kind", RegisterKind), name="kind"),
        CheckConstraint(_one_of("status", EntryStatus), name="status"),
        Index("ix_register_entries_committee_id_kind_day", "committee_id", "kind", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"))
    kind: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by: Mapped[str] = mapped_column(String(200))


class RegisterEntryVersion(Base):
    """A register entry as it stood at one version: the first, each correction, a withdrawal."""

    __tablename__ = "register_entry_versions"
    __table_args__ = (
        UniqueConstraint("entry_id", "version"),
        CheckConstraint(_one_of("status", EntryStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("register_entries.id"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    reason: Mapped[str | None] = mapped_column(String(2000))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(200))


class RegisterEntryReporter(Base):
    """A reporter an entry's current version names: what the register is filtered by."""

    __tablename__ = "register_entry_reporters"

    entry_id: Mapped[int] = mapped_column(ForeignKey("register_entries.id"), primary_key=True)
    reporter_id: Mapped[int] = mapped_column(
        ForeignKey("reporters.id"), primary_key=True, index=True
    )
