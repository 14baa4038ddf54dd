"""Daily digests: one email a day, at the configured hour (Asia/Ho_Chi_Minh), to each user who
chose them, listing the notifications of the 24 hours before that hour.

A user in digest mode gets no email per notification (their in-app list and webhook are
unchanged). The `digests` row for (user, day) is the claim, inserted as `sending` before the
message goes: a second dispatcher cannot insert it again. A day with nothing to say is recorded
as `empty` and sends nothing. A failed send is retried with the deliveries' backoff; one still
`sending` after the lease is in doubt and sent again with the same Message-ID.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.channels import email
from api.channels.texts import Facts, digest_intro, digest_subject, subject
from api.db import Sessions
from api.models import (
    Channel,
    Committee,
    Digest,
    DigestStatus,
    EmailMode,
    Notification,
    NotificationDelivery,
    Task,
    User,
)
from api.services.messages import facts_of, owning_committee
from api.settings import Settings
from domain.calendar import HCM

log = logging.getLogger(__name__)


def digest_time(settings: Settings, day: date) -> datetime:
    """When `day`'s digest is due: the configured hour of that day in Asia/Ho_Chi_Minh."""
    return datetime.combine(day, time(settings.digest_hour), HCM)


def due_day(settings: Settings, now: datetime) -> date:
    """The latest day whose digest time has come at `now`."""
    today = now.astimezone(HCM).date()
    return today if now >= digest_time(settings, today) else today - timedelta(days=1)


async def send_due(
    sessions: Sessions, settings: Settings, now: datetime,
    after_send: Callable[[], Awaitable[None]] | None = None,
) -> int:
    """Send every digest due at `now`; answers how many messages were sent."""
    day = due_day(settings, now)
    sent = 0
    for user_id in await _waiting(sessions, settings, day, now):
        if await _claim(sessions, settings, user_id, day, now):
            sent += await _send(sessions, settings, user_id, day, now, after_send)
    return sent


async def _waiting(sessions: Sessions, settings: Settings, day: date, now: datetime) -> list[int]:
    """Digest users with an address whose digest for `day` is not done and may be tried now."""
    lease = now - timedelta(seconds=settings.notify_lease_seconds)
    retry = or_(
        and_(Digest.status == DigestStatus.SENDING.value, Digest.started_at <= lease),
        and_(Digest.status == DigestStatus.FAILED.value, Digest.next_attempt_at <= now,
             Digest.attempts < settings.notify_max_attempts),
    )
    async with sessions() as session:
        rows = await session.execute(
            select(User.id)
            .outerjoin(Digest, and_(Digest.user_id == User.id, Digest.day == day))
            .where(
                User.email_mode == EmailMode.DIGEST.value, User.email.is_not(None),
                User.revoked_at.is_(None), or_(User.expires_at.is_(None), User.expires_at > now),
                or_(Digest.id.is_(None), retry),
            )
            .order_by(User.id)
        )
        return list(rows.scalars())


async def _claim(
    sessions: Sessions, settings: Settings, user_id: int, day: date, now: datetime
) -> bool:
    """Insert the day's row, or take over one in doubt or failed; False if another won it."""
    async with sessions() as session:
        existing = await session.scalar(
            select(Digest).where(Digest.user_id == user_id, Digest.day == day)
        )
        if existing is None:
            session.add(Digest(user_id=user_id, day=day, status=DigestStatus.SENDING.value,
                               items=0, attempts=1, started_at=now))
            try:
                await session.commit()
            except IntegrityError:
                return False
            return True
        won = await session.execute(
            update(Digest)
            .where(Digest.id == existing.id, Digest.status == existing.status,
                   Digest.attempts == existing.attempts)
            .values(status=DigestStatus.SENDING.value, started_at=now,
                    attempts=Digest.attempts + 1)
        )
        await session.commit()
        return bool(won.rowcount == 1)  # type: ignore[attr-defined]


async def _send(
    sessions: Sessions, settings: Settings, user_id: int, day: date, now: datetime,
    after_send: Callable[[], Awaitable[None]] | None,
) -> int:
    async with sessions() as session:
        user = await session.get(User, user_id)
        row = await session.scalar(
            select(Digest).where(Digest.user_id == user_id, Digest.day == day)
        )
        assert user is not None and row is not None
        facts = await _facts(session, settings, user, day)
        row.items = len(facts)
        if not facts:
            row.status, row.finished_at = DigestStatus.EMPTY.value, now
            await session.commit()
            return 0
        message = compose(settings, user, day, facts, now)
        row.message_id = str(message["Message-ID"])
        await session.commit()
        try:
            await email.send(settings, message)
        except Exception as error:
            log.warning("digest for %s on %s failed: %s", user.name, day, error)
            row.status, row.error = DigestStatus.FAILED.value, f"{type(error).__name__}: {error}"
            row.next_attempt_at = now + timedelta(
                seconds=min(settings.notify_backoff_seconds * 2 ** (row.attempts - 1), 86_400)
            )
            await session.commit()
            return 0
        if after_send is not None:
            await after_send()
        row.status, row.finished_at, row.error = DigestStatus.SENT.value, now, None
        await session.commit()
        return 1


async def _facts(
    session: AsyncSession, settings: Settings, user: User, day: date
) -> list[Facts]:
    """The user's notifications of the 24 hours before the day's digest time, oldest first."""
    until = digest_time(settings, day)
    rows = await session.execute(
        select(Notification, Committee, Task)
        .join(NotificationDelivery, NotificationDelivery.notification_id == Notification.id)
        .join(Committee, Notification.recipient_committee_id == Committee.id)
        .outerjoin(Task, Notification.task_id == Task.id)
        .where(
            NotificationDelivery.user_id == user.id,
            NotificationDelivery.channel == Channel.IN_APP.value,
            Notification.created_at > until - timedelta(days=1),
            Notification.created_at <= until,
        )
        .order_by(Notification.created_at, Notification.id)
    )
    facts = []
    for note, committee, task in rows.tuples():
        owner = await owning_committee(session, committee, task)
        facts.append(facts_of(settings, note, owner, task, user.language))
    return facts


def compose(
    settings: Settings, user: User, day: date, facts: Sequence[Facts], now: datetime
) -> EmailMessage:
    """One message: a line per notification (what it says, the link), plain text and HTML."""
    language = user.language
    intro = digest_intro(language, day, settings.digest_hour)
    message = EmailMessage()
    message["Subject"] = digest_subject(language, day, len(facts))
    message["From"] = settings.mail_from
    message["To"] = user.email or ""
    message["Message-ID"] = email.message_id(f"digest:{user.id}:{day}", settings.mail_domain)
    message["Date"] = format_datetime(now)
    items = [(subject(language, f), f.link) for f in facts]
    message.set_content(intro + "\n\n" + "".join(f"- {text}\n  {link}\n" for text, link in items))
    rows = "".join(
        f"<li>{html.escape(text)} — <a href=\"{html.escape(link)}\">{html.escape(link)}</a></li>"
        for text, link in items
    )
    message.add_alternative(
        f"<!doctype html><html lang=\"{language}\"><meta charset=\"utf-8\"><body>"
        f"<p>{html.escape(intro)}</p><ul>{rows}</ul></body></html>\n",
        subtype="html",
    )
    return message
