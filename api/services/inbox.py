"""The in-app list: a user's own notifications, newest first, and marking one read.

Shared by GET /notifications and the web workspace, so a page shows what the route answers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Channel, Committee, Notification, NotificationDelivery, User
from api.problems import NotFound
from api.schemas_notifications import (
    InAppNotification,
    InAppPage,
    Preferences,
    SavedPreferences,
)
from api.services.audit import append_audit


def _own(user_id: int) -> Select[tuple[NotificationDelivery, Notification, str]]:
    return (
        select(NotificationDelivery, Notification, Committee.code)
        .join(Notification, NotificationDelivery.notification_id == Notification.id)
        .join(Committee, Notification.recipient_committee_id == Committee.id)
        .where(NotificationDelivery.user_id == user_id,
               NotificationDelivery.channel == Channel.IN_APP.value)
    )


def _item(delivery: NotificationDelivery, note: Notification, code: str) -> InAppNotification:
    return InAppNotification(
        id=delivery.id, kind=note.kind, message=note.message, committee=code,
        task_id=note.task_id, escalation_id=note.escalation_id, created_at=note.created_at,
        read_at=delivery.read_at,
    )


async def list_for(
    *, session: AsyncSession, user_id: int, unread_only: bool, limit: int, offset: int
) -> InAppPage:
    unread_filter = NotificationDelivery.read_at.is_(None)
    query = _own(user_id).where(unread_filter) if unread_only else _own(user_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    unread = await session.scalar(
        select(func.count()).select_from(_own(user_id).where(unread_filter).subquery())
    )
    rows = await session.execute(
        query.order_by(Notification.created_at.desc(), NotificationDelivery.id.desc())
        .limit(limit).offset(offset)
    )
    return InAppPage(
        items=[_item(*row) for row in rows.tuples()], total=int(total or 0),
        unread=int(unread or 0), limit=limit, offset=offset,
    )


async def mark_read(
    *, session: AsyncSession, user_id: int, delivery_id: int, at: datetime
) -> InAppNotification:
    """Mark the caller's notification read; reading it again keeps the first instant."""
    row = (
        await session.execute(_own(user_id).where(NotificationDelivery.id == delivery_id))
    ).first()
    if row is None:
        raise NotFound(f"notification {delivery_id} is not in your list")
    delivery, note, code = row
    if delivery.read_at is None:
        delivery.read_at = at
        await session.flush()
    return _item(delivery, note, code)


async def set_preferences(
    *, session: AsyncSession, user_id: int, preferences: Preferences, actor: str
) -> SavedPreferences:
    """The user's notification email, language and webhook; notifications raised from now on
    use them."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    user.email = preferences.email
    user.language = preferences.language
    user.email_mode = preferences.email_mode
    user.webhook_url = preferences.webhook_url
    user.webhook_secret = preferences.webhook_secret
    await session.flush()
    await append_audit(
        session=session, actor=actor, action="user.preferences", subject=user.name,
        payload={"email": preferences.email is not None, "language": preferences.language,
                 "email_mode": preferences.email_mode,
                 "webhook": preferences.webhook_url is not None},
    )
    return SavedPreferences(
        email=user.email, language=preferences.language, email_mode=user.email_mode,
        webhook_url=user.webhook_url,
    )
