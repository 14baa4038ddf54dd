"""What the in-app notification list answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

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
    email_mode: Literal["immediate", "digest"] = Field(
        default="immediate",
        description="immediate: an email per notification; digest: one email a day at "
        "YEARWHEEL_DIGEST_HOUR (Asia/Ho_Chi_Minh) listing the day's notifications.",
    )
    webhook_url: str | None = Field(
        default=None, max_length=2000, pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="Where each notification is POSTed as signed JSON (http or https); "
        "null: no webhook. Needs webhook_secret.",
    )
    webhook_secret: str | None = Field(
        default=None, min_length=32, max_length=200, validate_default=True,
        description="The shared key of the HMAC-SHA256 signature (X-Yearwheel-Signature over "
        "\"<X-Yearwheel-Timestamp>.<body>\"); at least 32 characters. Never shown again.",
    )

    @field_validator("webhook_secret")
    @classmethod
    def _goes_with_the_url(cls, secret: str | None, info: ValidationInfo) -> str | None:
        if "webhook_url" in info.data and (info.data["webhook_url"] is None) != (secret is None):
            raise ValueError("webhook_url and webhook_secret go together: give both or neither")
        return secret


class SavedPreferences(BaseModel):
    email: str | None
    language: str
    email_mode: str
    webhook_url: str | None = Field(description="The secret is kept, never shown.")
