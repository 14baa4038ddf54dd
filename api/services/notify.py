"""The outbox: a notification and its deliveries, written in the recording's own transaction.

Who is told: a committee's staff about its own tasks; the supervisors of the committee an
escalation reaches about a parent-rung escalation; the board about board-rung escalations.
Each recipient gets an in-app delivery, an email one if they have an address and a webhook one
if they have an endpoint, each keyed "<notification>:<user>:<channel>" so a retried recording
never makes a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import (
    Channel,
    DeliveryStatus,
    EmailMode,
    Escalation,
    Notification,
    NotificationDelivery,
    Role,
    Task,
    User,
)
from domain.template import Rung


def delivery_key(notification_id: int, user_id: int, channel: Channel) -> str:
    return f"{notification_id}:{user_id}:{channel.value}"


REPORT_RECEIVED = "report_received"  # a child committee's report reached its parent
CYCLE_FINISHED = "cycle_finished"  # a committee's year closed


def audience(kind: str) -> tuple[Role, ...]:
    """The roles, within the recipient committee, that a notification of this kind reaches."""
    if kind == Rung.PARENT.value:
        return (Role.SUPERVISOR,)
    if kind == Rung.BOARD.value:
        return (Role.BOARD,)
    return (Role.STAFF,)


async def recipients(
    *, session: AsyncSession, committee_id: int, kind: str, at: datetime,
    roles: tuple[Role, ...] | None = None,
) -> Sequence[tuple[int, str | None, str | None]]:
    """(id, email, webhook url) of the users a notification for `committee_id` reaches at
    `at`, by id; no email for a user who takes the daily digest instead.

    Board users may have no committee of their own: they are told about every board rung."""
    roles = roles or audience(kind)
    belongs = User.committee_id == committee_id
    if Role.BOARD in roles:
        belongs = or_(belongs, User.committee_id.is_(None))
    rows = await session.execute(
        select(
            User.id,
            case((User.email_mode == EmailMode.DIGEST.value, None), else_=User.email),
            User.webhook_url,
        )
        .where(
            User.role.in_([r.value for r in roles]), belongs, User.revoked_at.is_(None),
            or_(User.expires_at.is_(None), User.expires_at > at),
        )
        .order_by(User.id)
    )
    return list(rows.tuples())


async def notify(
    session: AsyncSession, *, committee_id: int, task: Task | None, kind: str, message: str,
    at: datetime, escalation: Escalation | None = None, roles: tuple[Role, ...] | None = None,
) -> Notification:
    """Write the notification, one in-app delivery per recipient, and one email or webhook
    delivery per recipient with an address or an endpoint (the dispatcher sends those); the
    caller commits. `roles` overrides the kind's audience."""
    note = Notification(
        recipient_committee_id=committee_id, task_id=task.id if task else None,
        escalation_id=escalation.id if escalation else None, kind=kind,
        message=message[:1000], created_at=at,
    )
    session.add(note)
    await session.flush()
    for user_id, address, endpoint in await recipients(
        session=session, committee_id=committee_id, kind=kind, at=at, roles=roles
    ):
        session.add(
            NotificationDelivery(
                delivery_key=delivery_key(note.id, user_id, Channel.IN_APP),
                notification_id=note.id, user_id=user_id, channel=Channel.IN_APP.value,
                status=DeliveryStatus.SENT.value, attempts=0, next_attempt_at=at,
                delivered_at=at, created_at=at,
            )
        )
        for channel, wanted in ((Channel.EMAIL, address), (Channel.WEBHOOK, endpoint)):
            if wanted:
                session.add(
                    NotificationDelivery(
                        delivery_key=delivery_key(note.id, user_id, channel),
                        notification_id=note.id, user_id=user_id, channel=channel.value,
                        status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=at,
                        created_at=at,
                    )
                )
    return note
