"""What a message says about a notification, shared by each email, webhook and digest."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.channels.texts import Facts
from api.models import Committee, Cycle, Notification, Task
from api.settings import Settings


async def owning_committee(
    session: AsyncSession, recipient: Committee, task: Task | None
) -> Committee:
    """The committee whose task it is (an escalation is sent to another one)."""
    if task is None:
        return recipient
    owner = await session.scalar(
        select(Committee).join(Cycle, Cycle.committee_id == Committee.id)
        .where(Cycle.id == task.cycle_id)
    )
    return owner or recipient


def facts_of(
    settings: Settings, note: Notification, owner: Committee, task: Task | None, language: str
) -> Facts:
    """What a message says about one notification, in the reader's language."""
    title = note.message
    if task is not None:
        title = task.title_vi if language == "vi" else task.title_en
    base = settings.public_url.rstrip("/")
    return Facts(
        kind=note.kind, committee=owner.name, title=title,
        due=task.due_on if task is not None else None,
        link=f"{base}/tasks/{task.id}" if task is not None else f"{base}/notifications",
    )
