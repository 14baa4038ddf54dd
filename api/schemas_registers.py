"""Request and response bodies for the registers a committee office keeps.

A create takes the kind's body as it is (domain/registers.py); a correction takes the new body,
the version it corrects and a reason; a withdrawal the version and a reason.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas import Page, Reason, Strict
from domain.registers import ActivityBody, EntryStatus

Version = Field(ge=1, description="The entry's version this change is made to (409 if stale).")


class ActivityCorrect(Strict):
    version: int = Version
    reason: Reason
    entry: ActivityBody


class EntryWithdraw(Strict):
    version: int = Version
    reason: Reason


class EntryVersionPublic(BaseModel):
    version: int
    status: EntryStatus
    day: date
    body: dict[str, Any]
    reason: str | None
    at: datetime
    by: str


class EntryPublic(BaseModel):
    id: int
    committee: str
    kind: str
    day: date = Field(description="The day the entry counts on.")
    status: EntryStatus
    version: int
    body: dict[str, Any] = Field(description="What the entry says, as its kind's model.")
    created_at: datetime
    created_by: str
    changed_at: datetime
    changed_by: str


class EntryDetail(EntryPublic):
    versions: list[EntryVersionPublic] = Field(description="Every version, oldest first.")


class EntryPage(Page):
    items: list[EntryPublic]
