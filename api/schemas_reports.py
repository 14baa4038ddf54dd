"""Response bodies for report drafts and the subtree summary."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.evidence import ReportDraft, ReportFigures

Period = Literal["h1", "year"]


class DraftPublic(BaseModel):
    """A report task's figures as the system holds them, and evidence ready to submit."""

    task_id: int
    committee: str
    year: int
    period: Period
    draft: ReportDraft
    evidence: dict[str, Any] = Field(
        description="Report evidence filled in from the draft: submit it as it is to confirm "
        "the draft, or change figures to correct it. The submitted report keeps the draft and "
        "every correction."
    )
    online_share: float | None = Field(
        default=None, ge=0, le=1,
        description="The share (0..1) of the sessions delivered in the period that were held "
        "online or both in person and online; None when none were delivered.",
    )


class SummaryRow(BaseModel):
    """One committee's roll-up: its own cycle, or the whole subtree under a child."""

    committee: str
    name: str
    level: str
    scope: Literal["own", "subtree", "total"]
    committees: int = Field(description="Committees with a cycle this year in the row.")
    items_total: int
    items_due: int = Field(
        description="Items whose due date has passed by as_of: done_on_time + done_late + "
        "overdue_now + waived."
    )
    done_on_time: int = Field(description="Due by as_of, completed by then, on time.")
    done_late: int = Field(description="Due by as_of, completed by then, late.")
    overdue_now: int = Field(description="Due by as_of and neither completed nor waived then.")
    waived: int = Field(description="Due by as_of and waived by then.")
    open_escalations: int = Field(description="Escalations to a parent or the board open then.")
    reports: int = Field(description="Committees whose latest report is summed in `figures`.")
    figures: ReportFigures = Field(
        description="Each committee's latest submitted report by as_of (annual over 6-month), "
        "summed."
    )


class Summary(BaseModel):
    committee: str
    year: int
    as_of: date
    as_of_instant: datetime = Field(description="Everything recorded before this instant counts.")
    rows: list[SummaryRow]
    total: SummaryRow
