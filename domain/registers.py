"""The registers a committee office keeps: one entry per thing done, as a kind and a body.

Every register shares one shape (an entry of a kind, with the day it happened, the reporters it
names, a status and its versions); what an entry says is the body model of its kind. A register
is a record of work done, so its day is never after today; a correction replaces the body and
keeps the previous version; a withdrawal keeps the entry, marked, out of every count.

A new register: a RegisterKind, its body model in REGISTER_MODELS, its day field in DAY_FIELDS
(and `reporters` in the body if it names reporters); a migration widening the `kind` check of
register_entries; routes like api/routes/registers.py's over api/services/registers.py, which
takes any kind; rows in the permission matrix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from domain.dates import EARLIEST_EVIDENCE_DAY, IsoDate


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    return value


ShortText = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_no_nul)]
LongText = Annotated[str, Field(max_length=4000), AfterValidator(_no_nul)]
Count = Annotated[int, Field(ge=0, le=10_000_000)]
ReporterId = Annotated[int, Field(ge=1)]


class RegisterKind(StrEnum):
    ACTIVITY = "activity"  # hoạt động tuyên truyền miệng của báo cáo viên


class EntryStatus(StrEnum):
    RECORDED = "recorded"
    CORRECTED = "corrected"
    WITHDRAWN = "withdrawn"


COUNTED_STATUSES = (EntryStatus.RECORDED, EntryStatus.CORRECTED)


class ActivityForm(StrEnum):
    IN_PERSON = "in_person"  # trực tiếp
    ONLINE = "online"  # trực tuyến
    BOTH = "both"  # trực tiếp kết hợp trực tuyến


class RegisterBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ActivityBody(RegisterBody):
    """One session of oral propaganda given by the committee's reporters."""

    held_on: IsoDate = Field(description="The day it was held (YYYY-MM-DD).")
    reporters: list[ReporterId] = Field(
        min_length=1, max_length=50,
        description="The reporters who spoke: ids from the committee's reporters.",
    )
    place: ShortText = Field(description="The unit or place it was held at.")
    topic: ShortText
    form: Annotated[ActivityForm, Field(strict=False)] = Field(
        description="in_person, online or both."
    )
    audience: Count = Field(description="How many attended.")
    concerns: LongText = Field(
        default="", description="What the audience raised (tâm tư, nguyện vọng).",
    )
    materials: list[ShortText] = Field(default_factory=list, max_length=50)

    @field_validator("reporters")
    @classmethod
    def _each_reporter_once(cls, reporters: list[int]) -> list[int]:
        if len(set(reporters)) != len(reporters):
            raise ValueError("a reporter is listed more than once")
        return reporters


REGISTER_MODELS: dict[RegisterKind, type[RegisterBody]] = {RegisterKind.ACTIVITY: ActivityBody}


# The body field holding the day an entry counts on: a period counts an entry whose day falls
# inside it.
DAY_FIELDS: dict[RegisterKind, str] = {RegisterKind.ACTIVITY: "held_on"}


def day_of_entry(kind: RegisterKind, body: RegisterBody) -> date:
    """The day an entry counts on."""
    day = getattr(body, DAY_FIELDS[kind])
    assert isinstance(day, date)
    return day


def reporters_named(body: RegisterBody) -> list[int]:
    """The reporter ids an entry names, in the order given."""
    return [int(r) for r in getattr(body, "reporters", ())]


def check_day(day: date, *, today: date) -> str | None:
    """Why an entry's day is refused, or None: a register records work already done."""
    if day < EARLIEST_EVIDENCE_DAY:
        return f"the day is before {EARLIEST_EVIDENCE_DAY.isoformat()}"
    if day > today:
        return f"the day is after today ({today.isoformat()}): a register records work done"
    return None


@dataclass(frozen=True)
class ServingSpan:
    """When a reporter served: from the term's start, to the day they left (None: serving)."""

    reporter_id: int
    term_start: date
    left_on: date | None


def check_reporter_served(span: ServingSpan, day: date) -> str | None:
    """Why a reporter cannot be named on an entry of `day`, or None."""
    if day < span.term_start:
        return (f"reporter {span.reporter_id} was recognised from "
                f"{span.term_start.isoformat()}, after {day.isoformat()}")
    if span.left_on is not None and span.left_on < day:
        return f"reporter {span.reporter_id} left on {span.left_on.isoformat()}"
    return None


@dataclass(frozen=True)
class ActivityFigures:
    """What a period's reporter activities add up to in a report."""

    sessions: int
    audience: int
    online: int  # held online, or in person and online at once

    @property
    def online_share(self) -> float | None:
        """The share of sessions held online (0..1), or None without sessions."""
        return round(self.online / self.sessions, 4) if self.sessions else None


def activity_figures(activities: Iterable[ActivityBody], start: date, end: date) -> ActivityFigures:
    """Sessions, audience and online sessions of the activities held from `start` to `end`,
    both days counted. The caller passes only entries that count (not withdrawn)."""
    held = [a for a in activities if start <= a.held_on <= end]
    return ActivityFigures(
        sessions=len(held),
        audience=sum(a.audience for a in held),
        online=sum(a.form in (ActivityForm.ONLINE, ActivityForm.BOTH) for a in held),
    )
