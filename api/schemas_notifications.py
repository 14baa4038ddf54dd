"""What the in-app notification list answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas import Page, Strict


class InAppNotification(BaseModel):
    id: int = Field(description="The caller's own in-app delivery of the notification.")
    kind: str = Field(description="task_opened, reminder, overdue, parent, board, "
                      "task_extended, task_waived, …")
    message: str
    committee: str = Field(description="The committee the notification was raised for.")
    task_id: int | None
    escalation_id: int | None
    created_at: datetime
    read_at: datetime | None


class InAppPage(Page):
    unread: int = Field(description="The caller's unread notifications, whatever the filter.")
    items: list[InAppNotification]


class DeliveryStatusItem(BaseModel):
    id: int
    delivery_key: str
    channel: str
    status: str = Field(description="pending, sent or failed.")
    user: str
    kind: str
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    message_id: str | None


class DeliveryPage(Page):
    items: list[DeliveryStatusItem]


class Preferences(Strict):
    email: str | None = Field(
        default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="Where notification email goes; null: in-app only.",
    )
    language: Literal["vi", "en"] = Field(default="vi", description="Message language.")
