"""Request and response bodies: XCreate is what a caller sends, XPublic what the API returns.

Requests are strict (unknown fields refused, no lax coercion) and bounded in length. Dates,
datetimes and enums are the exception to strictness: JSON carries them as strings.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from api.models import Role
from domain.contracts import CommitteeLevel, ItemState, ItemStatus
from domain.dates import IsoDate
from domain.template import EvidenceKind, Rung, Stage


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    return value


def _find_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_find_nul(k) or _find_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_find_nul(v) for v in value)
    return False


Code = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="A committee's code."),
]
Name = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_no_nul)]
UserName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
Reason = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_no_nul)]
Year = Annotated[int, Field(ge=2000, le=2200)]
TimeScale = Annotated[
    float,
    Field(ge=0.001, le=86_400,
          description="Seconds one calendar day lasts (rehearsals): a year in 0.365 s at least."),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Page(BaseModel):
    total: int
    limit: int
    offset: int


# Committees and users.


class CommitteeCreate(Strict):
    code: Code
    name: Name
    level: Annotated[CommitteeLevel, Field(strict=False)]
    parent: Code | None = Field(default=None, description="The parent committee's code.")


class CommitteePublic(BaseModel):
    code: str
    name: str
    level: CommitteeLevel
    parent: str | None
    active: bool


class CommitteeList(BaseModel):
    items: list[CommitteePublic]


class UserCreate(Strict):
    name: UserName
    role: Literal["staff", "supervisor", "board", "auditor", "admin"] = Field(
        description="The service identity is not a user: it is the worker's configured token."
    )
    committee: Code | None = None
    expires_at: Annotated[datetime | None, Field(strict=False)] = None

    @field_validator("expires_at")
    @classmethod
    def _in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a timezone, e.g. 2026-12-31T17:00:00Z")
        if value is not None and value <= datetime.now(UTC):
            raise ValueError("this time has passed; the token would never work")
        return value


class UserCreated(BaseModel):
    id: int
    name: str
    role: Role
    committee: str | None
    expires_at: datetime | None
    token: str | None = Field(
        description="The bearer token: shown once, stored only as a hash. A replay of the "
        "request (same Idempotency-Key) answers null here: the token is never stored."
    )


class UserPublic(BaseModel):
    id: int
    name: str
    role: Role
    committee: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool = Field(description="The token works: neither revoked nor expired.")


class UserPage(Page):
    items: list[UserPublic]


class UserRevoke(Strict):
    reason: Reason | None = Field(default=None, description="Why, for the audit log.")


class PasswordLinkCreated(BaseModel):
    user_id: int
    name: str
    url: str = Field(description="Opens the page that sets the user's web password; shown once.")
    expires_at: datetime


# Cycles.


class CycleCreate(Strict):
    committee: Code
    year: Year
    time_scale: TimeScale | None = None


class YearCyclesCreate(Strict):
    time_scale: TimeScale | None = None


class CyclePublic(BaseModel):
    id: int
    workflow_id: str
    committee: str
    year: int
    template_code: str
    template_version: int
    seconds_per_day: float | None
    status: Literal["starting", "running", "stuck", "failed", "closed"] = Field(
        description="starting: recorded, its workflow not yet started (a repeated start "
        "starts it); running: its workflow runs; stuck: its workflow runs but the API refused "
        "its last recording (see `refusal`; it retries until the cause is fixed); failed: its "
        "workflow ended without its result (see `temporal_status`; only a cycle's own page "
        "asks Temporal); closed: it ended with its result."
    )
    started_at: datetime
    closed_at: datetime | None


class CycleItemPublic(ItemStatus):
    task_id: int | None = Field(
        default=None,
        description="The task's id once it has a row: it opened, or was changed before it opened.",
    )
    version: int = Field(
        default=0,
        description="The task row's version, its ETag for If-Match (quoted); 0: no row yet.",
    )


class StuckCyclePublic(BaseModel):
    workflow_id: str = Field(description="As the worker named it (X-Yearwheel-Cycle).")
    first_seen: datetime
    last_seen: datetime
    status: int = Field(description="The HTTP status of the last refusal.")
    method: str
    path: str
    detail: str
    count: int = Field(description="Refusals since the cycle last recorded.")


class CycleDetail(CyclePublic):
    source: Literal["workflow", "database"] = Field(
        description="workflow: the live status query; database: the recorded projection."
    )
    calendar_now: datetime | None = None
    refusal: StuckCyclePublic | None = Field(
        default=None, description="The last refused recording of a stuck cycle."
    )
    temporal_status: str | None = Field(
        default=None, description="Of a failed cycle: how Temporal says its workflow ended "
        "(FAILED, TERMINATED, TIMED_OUT, CANCELED)."
    )
    items: list[CycleItemPublic]


class StuckCyclePage(Page):
    items: list[StuckCyclePublic]


class CyclePage(Page):
    items: list[CyclePublic]


class YearCyclesStarted(BaseModel):
    year: int
    committees: int
    started: int
    existing: int
    failed: int
    failures: list[str] = Field(default_factory=list)


# Tasks.


class TaskPublic(BaseModel):
    id: int
    cycle_id: int
    workflow_id: str
    committee: str
    year: int
    key: str
    item_key: str
    occurrence: int
    stage: Stage
    evidence_kind: EvidenceKind
    title_vi: str
    title_en: str
    state: ItemState
    opens_on: date
    due_on: date
    opened_at: datetime | None = Field(default=None, description="None: pending, not opened yet.")
    closed_at: datetime | None
    closed_by: str | None
    late: bool
    rung: Rung | None
    escalation_level: int
    version: int


class TaskPage(Page):
    items: list[TaskPublic]


class CompleteRequest(Strict):
    evidence: dict[str, Any] = Field(description="The evidence the task's kind takes.")

    @field_validator("evidence")
    @classmethod
    def _no_nul_inside(cls, value: dict[str, Any]) -> dict[str, Any]:
        if _find_nul(value):
            raise ValueError("evidence may not contain NUL characters")
        return value


class ExtendRequest(Strict):
    new_due_on: IsoDate
    reason: Reason


class WaiveRequest(Strict):
    reason: Reason


# Escalations.


class EscalationPublic(BaseModel):
    id: int
    task_id: int
    task_key: str
    committee: str
    year: int
    rung: Rung
    level: int
    target_committee: str
    due_on: date
    raised_at: datetime
    resolved_at: datetime | None


class EscalationPage(Page):
    items: list[EscalationPublic]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "down"]
    temporal: Literal["ok", "down"]
    stuck_cycles: int | None = Field(
        default=None, description="Cycles whose last recording the API refused (None: the "
        "database did not answer). Any makes the status degraded; see GET /cycles/stuck."
    )
