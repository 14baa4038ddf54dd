"""Every business key is a database constraint, not only a check in code: two rows with the
same key, inserted straight through SQLAlchemy past every service, are refused by the database
itself (IntegrityError), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import Sessions
from api.models import (
    Base,
    Committee,
    Cycle,
    Digest,
    Escalation,
    IdempotencyKey,
    Notification,
    NotificationAttempt,
    NotificationDelivery,
    PasswordLink,
    RegisterEntry,
    RegisterEntryVersion,
    Submission,
    Task,
    TaskChange,
    TemplateRow,
    User,
    WebSession,
)

pytestmark = pytest.mark.reliability

AT = datetime(2031, 1, 20, 2, tzinfo=UTC)


def _committee(code: str) -> Committee:
    return Committee(code=code, name=f"Đảng ủy {code}", level="grassroots", active=True)


def _cycle(committee: Committee, template: TemplateRow, *, year: int, wf: str) -> Cycle:
    return Cycle(workflow_id=wf, committee_id=committee.id, year=year, template_id=template.id,
                 status="running")


def _task(cycle: Cycle, *, key: str, item: str, occurrence: int) -> Task:
    return Task(
        cycle_id=cycle.id, key=key, item_key=item, occurrence=occurrence, stage="conference",
        evidence_kind="conference", title_vi="Hội nghị", title_en="Conference", state="open",
        opens_on=date(2031, 1, 1), due_on=date(2031, 3, 31), opened_at=AT, late=False,
        escalation_level=0,
    )


class World:
    """One committee with a cycle and a task, to hang duplicate rows on."""

    committee: Committee
    other: Committee
    template: TemplateRow
    cycle: Cycle
    task: Task
    user: User
    note: Notification
    delivery: NotificationDelivery
    entry: RegisterEntry


async def _world(session: AsyncSession) -> World:
    world = World()
    world.committee, world.other = _committee("GR"), _committee("GR2")
    world.template = TemplateRow(code="default", version=1, body={})
    session.add_all([world.committee, world.other, world.template])
    await session.flush()
    world.cycle = _cycle(world.committee, world.template, year=2031, wf="cycle/GR/2031")
    session.add(world.cycle)
    await session.flush()
    world.task = _task(world.cycle, key="conference-q1", item="conference", occurrence=1)
    world.user = User(name="Lê Thị B", role="staff", committee_id=world.committee.id,
                      token_hash="4" * 64)
    world.note = Notification(recipient_committee_id=world.committee.id, kind="task_opened",
                              message="Hội nghị", created_at=AT)
    session.add_all([world.task, world.user, world.note])
    await session.flush()
    world.delivery = _delivery(world, "email", key="world")
    world.entry = RegisterEntry(
        committee_id=world.committee.id, kind="activity", day=date(2031, 2, 3), body={},
        status="recorded", version=1, created_at=AT, created_by="staff", changed_at=AT,
        changed_by="staff",
    )
    session.add_all([world.delivery, world.entry])
    await session.flush()
    return world


def _link(w: World) -> PasswordLink:
    return PasswordLink(user_id=w.user.id, token_hash="5" * 64, created_at=AT, expires_at=AT)


def _web_session(w: World) -> WebSession:
    return WebSession(user_id=w.user.id, token_hash="6" * 64, csrf_token="c" * 64,
                      created_at=AT, last_seen_at=AT)


def _digest(w: World) -> Digest:
    return Digest(user_id=w.user.id, day=date(2031, 2, 3), status="sent", items=1, attempts=1,
                  started_at=AT)


def _entry_version(w: World) -> RegisterEntryVersion:
    return RegisterEntryVersion(entry_id=w.entry.id, version=1, status="recorded",
                                day=date(2031, 2, 3), body={}, at=AT, by="staff")


def _submission(w: World, ref: str) -> Submission:
    return Submission(task_id=w.task.id, submission_ref=ref, actor="staff", evidence={},
                      submitted_at=AT, workflow_event_id=7)


def _escalation(w: World) -> Escalation:
    return Escalation(task_id=w.task.id, rung="overdue", level=0,
                      target_committee_id=w.committee.id, due_on=date(2031, 3, 31), raised_at=AT)


def _change(w: World) -> TaskChange:
    return TaskChange(task_id=w.task.id, change="waived", actor="supervisor", reason="Sáp nhập",
                      at=AT)


def _key(name: str) -> IdempotencyKey:
    return IdempotencyKey(key=name, request_hash="a" * 64, response_status=201,
                          response_body={}, expires_at=AT + timedelta(days=1))


def _user(name: str, token_hash: str) -> User:
    return User(name=name, role="admin", token_hash=token_hash)


def _delivery(w: World, channel: str, key: str = "1:1:in_app") -> NotificationDelivery:
    return NotificationDelivery(
        delivery_key=key, notification_id=w.note.id, user_id=w.user.id,
        channel=channel, status="pending", attempts=0, next_attempt_at=AT, created_at=AT,
    )


def _attempt(w: World) -> NotificationAttempt:
    return NotificationAttempt(delivery_id=w.delivery.id, attempt=1, started_at=AT,
                               outcome="sending")


# Each business key: the first row, then a second that repeats only that key.
Pair = Callable[[World], tuple[Base, Base]]
KEYS: dict[str, Pair] = {
    "a cycle per committee and year": lambda w: (
        w.cycle, _cycle(w.committee, w.template, year=2031, wf="cycle/GR/2031-again"),
    ),
    "a cycle per workflow id": lambda w: (
        w.cycle, _cycle(w.other, w.template, year=2031, wf="cycle/GR/2031"),
    ),
    "a task per cycle and key": lambda w: (
        w.task, _task(w.cycle, key="conference-q1", item="conference", occurrence=9),
    ),
    "a task per cycle, item and occurrence": lambda w: (
        w.task, _task(w.cycle, key="conference-first", item="conference", occurrence=1),
    ),
    "a submission per reference": lambda w: (_submission(w, "ref-1"), _submission(w, "ref-1")),
    "an escalation per task, rung and due date": lambda w: (_escalation(w), _escalation(w)),
    "a change per task, kind and instant": lambda w: (_change(w), _change(w)),
    "an idempotency key": lambda w: (_key("k-1"), _key("k-1")),
    "a committee per code": lambda w: (w.committee, _committee("GR")),
    "a template per code and version": lambda w: (
        w.template, TemplateRow(code="default", version=1, body={"again": True}),
    ),
    "a user per name": lambda w: (_user("Nguyễn Văn A", "1" * 64), _user("Nguyễn Văn A", "2" * 64)),
    "a user per token": lambda w: (_user("A", "3" * 64), _user("B", "3" * 64)),
    "a delivery per key": lambda w: (_delivery(w, "in_app"), _delivery(w, "email")),
    "an attempt per delivery and number": lambda w: (_attempt(w), _attempt(w)),
    "a digest per user and day": lambda w: (_digest(w), _digest(w)),
    "a password link per token": lambda w: (_link(w), _link(w)),
    "a web session per token": lambda w: (_web_session(w), _web_session(w)),
    "a register entry version per number": lambda w: (_entry_version(w), _entry_version(w)),
}


@pytest.mark.parametrize("name", list(KEYS))
async def test_the_database_refuses_a_repeated_business_key(
    sessions: Sessions, name: str
) -> None:
    async with sessions() as session:
        world = await _world(session)
        first, second = KEYS[name](world)
        session.add(first)
        await session.flush()  # the first row is fine
        session.add(second)
        with pytest.raises(IntegrityError):
            await session.flush()
        await session.rollback()


def test_every_unique_key_of_the_schema_is_tried() -> None:
    """A new unique constraint or index gets a case above (or a reason it needs none)."""
    declared: set[tuple[str, tuple[str, ...]]] = set()
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            columns = tuple(c.name for c in getattr(constraint, "columns", ()))
            if constraint.__class__.__name__ == "UniqueConstraint":
                declared.add((table.name, columns))
        for index in table.indexes:
            if index.unique:
                declared.add((table.name, tuple(c.name for c in index.columns)))
        for column in table.columns:
            if column.unique:
                declared.add((table.name, (column.name,)))
    tried = set(TRIED) | set(NEEDS_NO_CASE)
    assert declared - tried == set(), "add a duplicate-insert case for these keys"


TRIED: dict[tuple[str, tuple[str, ...]], str] = {
    ("cycles", ("committee_id", "year")): "a cycle per committee and year",
    ("cycles", ("workflow_id",)): "a cycle per workflow id",
    ("tasks", ("cycle_id", "key")): "a task per cycle and key",
    ("tasks", ("cycle_id", "item_key", "occurrence")): "a task per cycle, item and occurrence",
    ("submissions", ("submission_ref",)): "a submission per reference",
    ("escalations", ("task_id", "rung", "due_on")): "an escalation per task, rung and due date",
    ("task_changes", ("task_id", "change", "at")): "a change per task, kind and instant",
    ("idempotency_keys", ("key",)): "an idempotency key",
    ("committees", ("code",)): "a committee per code",
    ("templates", ("code", "version")): "a template per code and version",
    ("users", ("name",)): "a user per name",
    ("users", ("token_hash",)): "a user per token",
    ("notification_deliveries", ("delivery_key",)): "a delivery per key",
    ("notification_attempts", ("delivery_id", "attempt")): "an attempt per delivery and number",
    ("digests", ("user_id", "day")): "a digest per user and day",
    ("password_links", ("token_hash",)): "a password link per token",
    ("web_sessions", ("token_hash",)): "a web session per token",
    ("register_entry_versions", ("entry_id", "version")): "a register entry version per number",
}
NEEDS_NO_CASE: dict[tuple[str, tuple[str, ...]], str] = {
    ("audit_events", ("hash",)): "a sha256 over the chain; test_audit checks the chain",
    ("committee_parents", ("committee_id", "valid_from")): "the tree's history (tree tests)",
}


def test_each_tried_key_names_a_case() -> None:
    assert set(TRIED.values()) == set(KEYS)
