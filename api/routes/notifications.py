"""The caller's in-app notifications; for admins, every delivery's status and a resend."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, status

from api.deps import CurrentUser, IdempotencyDep, SessionDep
from api.models import DeliveryStatus, utcnow
from api.problems import Forbidden, problem_responses
from api.schemas_notifications import (
    DeliveryPage,
    DeliveryStatusItem,
    InAppNotification,
    InAppPage,
    Preferences,
    SavedPreferences,
)
from api.services import deliveries, inbox
from api.services.access import Action, Principal, require

router = APIRouter(tags=["notifications"])


def _user_id(user: Principal) -> int:
    if user.user_id is None:
        raise Forbidden("only a user account has a notification list")
    return user.user_id


@router.get("/notifications", response_model=InAppPage,
            responses=problem_responses(401, 403, 422))
async def list_notifications(
    session: SessionDep,
    user: CurrentUser,
    unread: bool = Query(default=False, description="Only the notifications not yet read."),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> InAppPage:
    """The caller's own notifications, newest first, with how many are unread."""
    return await inbox.list_for(
        session=session, user_id=_user_id(user), unread_only=unread, limit=limit, offset=offset
    )


@router.post("/notifications/{notification_id}/read", response_model=InAppNotification,
             responses=problem_responses(401, 403, 404, 409, 422))
async def read_notification(
    session: SessionDep,
    user: CurrentUser,
    idem: IdempotencyDep,
    notification_id: int = Path(ge=1),
) -> InAppNotification:
    """Mark one of the caller's notifications read (repeating it changes nothing)."""
    item = await inbox.mark_read(
        session=session, user_id=_user_id(user), delivery_id=notification_id, at=utcnow()
    )
    await idem.remember(status=status.HTTP_200_OK, body=item, session=session)
    await session.commit()
    return item


@router.get("/notifications/deliveries", response_model=DeliveryPage,
            responses=problem_responses(401, 403, 422))
async def list_deliveries(
    session: SessionDep,
    user: CurrentUser,
    delivery_status: DeliveryStatus | None = Query(default=None, alias="status"),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> DeliveryPage:
    """Every delivery of every notification, newest first, with its last error (admin)."""
    require(user, Action.MANAGE_NOTIFICATIONS)
    return await deliveries.list_deliveries(
        session=session, status=delivery_status, limit=limit, offset=offset
    )


@router.post("/notifications/deliveries/{delivery_id}/resend", response_model=DeliveryStatusItem,
             responses=problem_responses(401, 403, 404, 409, 422))
async def resend_delivery(
    session: SessionDep,
    user: CurrentUser,
    idem: IdempotencyDep,
    delivery_id: int = Path(ge=1),
) -> DeliveryStatusItem:
    """Send a failed delivery once more; the dispatcher takes it on its next round (admin)."""
    require(user, Action.MANAGE_NOTIFICATIONS)
    item = await deliveries.resend(
        session=session, delivery_id=delivery_id, actor=user.name, at=utcnow()
    )
    await idem.remember(status=status.HTTP_200_OK, body=item, session=session)
    await session.commit()
    return item


@router.put("/users/me/preferences", response_model=SavedPreferences,
            responses=problem_responses(401, 403, 409, 422))
async def set_preferences(
    session: SessionDep, user: CurrentUser, idem: IdempotencyDep, data: Preferences
) -> SavedPreferences:
    """The caller's notification email (null: none), language (vi or en) and webhook (null:
    none): each notification is then also sent there."""
    saved = await inbox.set_preferences(
        session=session, user_id=_user_id(user), preferences=data, actor=user.name
    )
    await idem.remember(status=status.HTTP_200_OK, body=saved, session=session)
    await session.commit()
    return saved
