"""What admins see of the outbox: each delivery's status and last error; resending a failed one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import DeliveryStatus, Notification, NotificationDelivery, User
from api.problems import Conflict, NotFound
from api.schemas_notifications import DeliveryPage, DeliveryStatusItem
from api.services.audit import append_audit

D = NotificationDelivery


def _query() -> Select[tuple[NotificationDelivery, str, str]]:
    return (
        select(D, User.name, Notification.kind)
        .join(User, D.user_id == User.id)
        .join(Notification, D.notification_id == Notification.id)
    )


def _item(delivery: NotificationDelivery, user: str, kind: str) -> DeliveryStatusItem:
    return DeliveryStatusItem(
        id=delivery.id, delivery_key=delivery.delivery_key, channel=delivery.channel,
        status=delivery.status, user=user, kind=kind, attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at, delivered_at=delivery.delivered_at,
        last_error=delivery.last_error, message_id=delivery.message_id,
    )


async def list_deliveries(
    *, session: AsyncSession, status: DeliveryStatus | None, limit: int, offset: int
) -> DeliveryPage:
    query = _query() if status is None else _query().where(D.status == status.value)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(query.order_by(D.id.desc()).limit(limit).offset(offset))
    return DeliveryPage(items=[_item(*row) for row in rows.tuples()], total=int(total or 0),
                        limit=limit, offset=offset)


async def resend(
    *, session: AsyncSession, delivery_id: int, actor: str, at: datetime
) -> DeliveryStatusItem:
    """A failed delivery goes back to pending, due now, for one more attempt."""
    row = (await session.execute(_query().where(D.id == delivery_id))).first()
    if row is None:
        raise NotFound(f"delivery {delivery_id} not found")
    delivery, user, kind = row
    if delivery.status != DeliveryStatus.FAILED.value:
        raise Conflict(f"delivery {delivery_id} is {delivery.status}; only a failed one is resent")
    delivery.status = DeliveryStatus.PENDING.value
    delivery.next_attempt_at = at
    delivery.claimed_until = None
    await session.flush()
    await append_audit(
        session=session, actor=actor, action="notification.resend",
        subject=delivery.delivery_key, payload={"delivery_id": delivery.id,
                                                "attempts": delivery.attempts},
    )
    return _item(delivery, user, kind)
