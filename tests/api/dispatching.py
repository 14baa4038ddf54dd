"""What the dispatcher tests share: a clock they move by hand, and the attempts recorded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from api.models import NotificationAttempt, utcnow
from tests.api.factories import Factory


class Clock:
    """The dispatcher's now, moved by the test (the wall clock's now unless given)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or utcnow()

    def __call__(self) -> datetime:
        return self.now


async def attempts(factory: Factory) -> list[tuple[int, str]]:
    """(attempt number, outcome) of every delivery attempt, in the order recorded."""
    async with factory.sessions() as session:
        rows = await session.execute(
            select(NotificationAttempt.attempt, NotificationAttempt.outcome)
            .order_by(NotificationAttempt.id)
        )
        return [tuple(row) for row in rows.tuples()]
