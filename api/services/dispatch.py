"""The dispatcher: claims a due delivery, records the attempt, sends it by email or webhook,
records the outcome.

A claim is a lease (claimed_until) taken by one UPDATE that only one dispatcher can win, so two
dispatchers never send the same delivery at once. The attempt row is committed before the send;
one still 'sending' after its lease ran out is in doubt (the process stopped between sending and
recording) and the delivery is sent again with the same Message-ID: at least once, at most one
extra copy per crash, recognisable as a copy (docs/notifications.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.channels import email, webhook
from api.channels.texts import subject
from api.db import Sessions
from api.models import (
    AttemptOutcome,
    Channel,
    Committee,
    DeliveryStatus,
    Notification,
    NotificationAttempt,
    NotificationDelivery,
    Task,
    User,
    utcnow,
)
from api.services import digest
from api.services.messages import facts_of, owning_committee
from api.settings import Settings

D = NotificationDelivery
log = logging.getLogger(__name__)


def backoff(settings: Settings, attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: doubling, at most a day."""
    return timedelta(seconds=min(settings.notify_backoff_seconds * 2 ** (attempts - 1), 86_400))


@dataclass
class Dispatcher:
    sessions: Sessions
    settings: Settings
    clock: Callable[[], datetime] = utcnow
    after_send: Callable[[], Awaitable[None]] | None = field(default=None)  # crash rehearsals

    async def run_once(self) -> int:
        """Deliver every delivery due now, then the daily digests due; answers how many
        deliveries were tried."""
        tried = 0
        while (claimed := await self.claim()) is not None:
            await self.deliver(claimed)
            tried += 1
        await digest.send_due(self.sessions, self.settings, self.clock(), self.after_send)
        return tried

    async def run_forever(self) -> None:
        """Deliver what is due every poll interval until cancelled; a failing round is logged
        and the next one tries again."""
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("notification dispatch round failed")
            await asyncio.sleep(self.settings.notify_poll_seconds)

    async def claim(self) -> int | None:
        now = self.clock()
        due = (D.status == DeliveryStatus.PENDING.value, D.next_attempt_at <= now,
               or_(D.claimed_until.is_(None), D.claimed_until <= now))
        async with self.sessions() as session:
            while True:
                candidate = await session.scalar(
                    select(D.id).where(D.channel != Channel.IN_APP.value, *due)
                    .order_by(D.next_attempt_at, D.id).limit(1)
                )
                if candidate is None:
                    return None
                won = await session.execute(
                    update(D).where(D.id == candidate, *due).values(
                        claimed_until=now + timedelta(seconds=self.settings.notify_lease_seconds),
                        attempts=D.attempts + 1,
                    )
                )
                await session.commit()
                if won.rowcount == 1:  # type: ignore[attr-defined]
                    return int(candidate)

    async def deliver(self, delivery_id: int) -> None:
        async with self.sessions() as session:
            delivery, send = await self._prepare(session, delivery_id)
            attempt = NotificationAttempt(
                delivery_id=delivery.id, attempt=delivery.attempts, started_at=self.clock(),
                outcome=AttemptOutcome.SENDING.value,
            )
            session.add(attempt)
            await session.commit()
            try:
                await send()
            except Exception as error:
                self._failed(delivery, attempt, f"{type(error).__name__}: {error}")
            else:
                if self.after_send is not None:
                    await self.after_send()
                attempt.outcome = AttemptOutcome.SENT.value
                attempt.finished_at = delivery.delivered_at = self.clock()
                delivery.status = DeliveryStatus.SENT.value
                delivery.claimed_until = None
            await session.commit()

    def _failed(self, delivery: D, attempt: NotificationAttempt, error: str) -> None:
        now = self.clock()
        attempt.outcome = AttemptOutcome.FAILED.value
        attempt.finished_at = now
        attempt.error = delivery.last_error = error[:2000]
        delivery.claimed_until = None
        if delivery.attempts >= self.settings.notify_max_attempts:
            delivery.status = DeliveryStatus.FAILED.value
        else:
            delivery.next_attempt_at = now + backoff(self.settings, delivery.attempts)

    async def _prepare(
        self, session: AsyncSession, delivery_id: int
    ) -> tuple[D, Callable[[], Awaitable[object]]]:
        """The delivery, with its Message-ID (email) or its key (webhook) set, and how to send
        it on its channel."""
        row = (
            await session.execute(
                select(D, Notification, User, Committee, Task)
                .join(Notification, D.notification_id == Notification.id)
                .join(User, D.user_id == User.id)
                .join(Committee, Notification.recipient_committee_id == Committee.id)
                .outerjoin(Task, Notification.task_id == Task.id)
                .where(D.id == delivery_id)
            )
        ).one()
        delivery, note, user, committee, task = row
        owner = await owning_committee(session, committee, task)
        language = user.language
        facts = facts_of(self.settings, note, owner, task, language)
        if delivery.channel == Channel.WEBHOOK.value:
            delivery.message_id = delivery.delivery_key
            payload = {
                "delivery": delivery.delivery_key, "kind": note.kind,
                "subject": subject(language, facts), "message": note.message,
                "committee": {"code": owner.code, "name": owner.name},
                "task": None if task is None else {
                    "id": task.id, "title_vi": task.title_vi, "title_en": task.title_en,
                    "due_on": task.due_on.isoformat(),
                },
                "link": facts.link, "created_at": note.created_at.isoformat(),
            }
            url, secret = user.webhook_url or "", user.webhook_secret or ""
            return delivery, lambda: webhook.send(
                url=url, secret=secret, delivery_key=delivery.delivery_key, payload=payload,
                at=self.clock(), wait_seconds=self.settings.smtp_timeout_seconds,
            )
        message = email.compose(
            settings=self.settings, to=user.email or "", language=language, facts=facts,
            msg_id=email.message_id(delivery.delivery_key, self.settings.mail_domain),
            at=note.created_at,
        )
        delivery.message_id = str(message["Message-ID"])
        return delivery, lambda: email.send(self.settings, message)
