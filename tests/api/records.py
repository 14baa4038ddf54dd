"""Arranging what a year holds without a workflow: tasks opened and completed through /internal,
as the worker would record them, with the evidence of rosters, conferences and reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import httpx

from domain.calendar import HCM
from domain.contracts import CompletionRecorded, cycle_workflow_id
from tests.api.factories import YEAR, opened, record


def at(month: int, day: int, *, year: int = YEAR, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=HCM)


def person(name: str, *, member: bool = False, replaces: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "position": "Chuyên viên", "committee_member": member}
    if replaces is not None:
        entry["replaces"] = replaces
    return entry


def roster(*people: dict[str, Any], decided: str = "2025-02-01",
           number: str = "15-QĐ/ĐU") -> dict[str, Any]:
    return {"kind": "roster", "decision_number": number, "decision_date": decided,
            "reporters": list(people)}


def conference(held_on: str, *, attendees: int, listeners: int, topics: list[str],
               online: bool = False) -> dict[str, Any]:
    return {"kind": "conference", "held_on": held_on, "attendees": attendees,
            "listeners": listeners, "topics": topics, "online": online}


def report(period: str, **figures: int) -> dict[str, Any]:
    return {"kind": "report", "period": period, "figures": {"reporters_total": 0, **figures}}


async def open_task(
    api: httpx.AsyncClient, committee: str, key: str, *, year: int = YEAR
) -> int:
    response = await record(api, "tasks/opened", opened(committee, key, year=year))
    assert response.status_code in (200, 201), response.text
    return int(response.json()["id"])


async def complete(
    api: httpx.AsyncClient, committee: str, key: str, evidence: dict[str, Any], *,
    when: datetime, late: bool = False, year: int = YEAR, ref: str | None = None,
) -> httpx.Response:
    """Record a completion the workflow accepted (the task must be open)."""
    event = CompletionRecorded(
        workflow_id=cycle_workflow_id(committee, year), key=key, actor=f"staff-{committee}",
        evidence=evidence, submission_ref=ref or f"{committee}-{key}-{year}",
        completed_at=when, late=late, event_id=7,
    )
    response = await record(api, "tasks/completed", event)
    assert response.status_code in (200, 201), response.text
    return response


def on(day: str) -> date:
    return date.fromisoformat(day)
