"""Rosters and reports through the real workflow, worker and served API (dev server)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from sqlalchemy import select

from api.models import Escalation, Submission
from domain.template import DEFAULT_TEMPLATE
from tests.api.conftest import Live
from tests.api.factories import PLAN_EVIDENCE, Factory, bearer
from tests.api.support import Year, eventually

REPORTER = {"position": "Chuyên viên", "committee_member": False,
            "decision_number": "30-QĐ/ĐU"}


async def test_a_reporter_leaving_opens_a_consolidation_that_escalates_if_ignored(
    live: Live, factory: Factory
) -> None:
    year = await Year(live, factory, committee="UP").start(time_scale=0.05)
    decided = date(year.year, 1, 2).isoformat()

    async def add(name: str) -> dict[str, Any]:
        response = await live.client.post(
            "/committees/UP/reporters", headers=year.staff,
            json={**REPORTER, "name": name, "decision_date": decided},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    team = [await add(name) for name in ("A", "B", "C")]
    assert team[-1]["roster"]["holds"] and team[-1]["signalled"] == []
    left = await live.client.post(
        f"/reporters/{team[0]['reporter']['id']}/leave", headers=year.staff,
        json={"left_on": decided, "reason": "Chuyển công tác"},
    )
    assert left.status_code == 200, left.text
    assert left.json()["signalled"] == [year.cycle["workflow_id"]]
    [violation] = left.json()["roster"]["violations"]
    assert (violation["rule"], violation["shortfall"]) == ("upper-team-size", 1)

    task = await year.task("consolidate-1")
    opens, due = date.fromisoformat(task["opens_on"]), date.fromisoformat(task["due_on"])
    assert (due - opens).days == DEFAULT_TEMPLATE.consolidation_days
    assert (task["stage"], task["evidence_kind"], task["title_en"]) == (
        "roster", "roster", "Consolidate the reporter team")

    await year.task("consolidate-1", state="escalated")

    async def escalated_to() -> list[tuple[str, str]] | None:
        response = await live.client.get(
            "/escalations", params={"committee": "UP", "status": "open", "limit": 100},
            headers=year.board,
        )
        found = sorted((e["rung"], e["target_committee"]) for e in response.json()["items"]
                       if e["task_key"] == "consolidate-1")
        return found if len(found) == 3 else None

    # UP sits directly under the root: its parent rung reaches the root's supervisors and
    # Board at once, so the cycle skips the Board rung (docs/calendar.md).
    assert await eventually(escalated_to) == [
        ("overdue", "UP"), ("parent", "BLOC"), ("reminder", "UP")]

    whole = await add("D")
    assert whole["roster"]["holds"] and whole["signalled"] == [year.cycle["workflow_id"]]
    closed = await year.task("consolidate-1", state="completed")
    assert closed["late"] is True
    async with factory.sessions() as session:
        still_open = (await session.scalars(
            select(Escalation).where(Escalation.task_id == task["id"],
                                     Escalation.resolved_at.is_(None))
        )).all()
    assert still_open == []


def early_reports() -> dict[str, Any]:
    """The default template, with the 6-month report open from 1 January."""
    body = DEFAULT_TEMPLATE.model_dump(mode="json")
    body.pop("version")
    for item in body["items"]:
        if item["key"] == "report-h1":
            item["opens"] = {"month": 1, "day": 1, "year_offset": 0}
    return body


async def test_the_report_draft_matches_what_was_recorded_and_keeps_corrections(
    live: Live, factory: Factory
) -> None:
    admin = bearer(await factory.token("admin"))
    assert (await live.client.post("/templates", json=early_reports(),
                                   headers=admin)).status_code == 201
    year = await Year(live, factory).start(time_scale=0.5)
    y = year.year
    assert year.cycle["template_version"] == 2

    async def done(key: str, evidence: dict[str, Any]) -> None:
        response = await year.post(await year.task(key), "complete", {"evidence": evidence},
                                   year.staff)
        assert response.status_code == 200, response.text

    await done("plan", PLAN_EVIDENCE)
    no_member = {"decision_number": "12-QĐ/ĐU", "decision_date": f"{y}-01-05",
                 "reporters": [{"name": "Trần Thị B", "position": "Chuyên viên",
                                "committee_member": False}]}
    refused = await year.post(await year.task("roster"), "complete", {"evidence": no_member},
                              year.staff)
    assert refused.status_code == 422 and refused.json()["rule"] == (
        "grassroots-committee-member-reporter")
    await done("roster", {**no_member, "reporters": [
        {"name": "Nguyễn Văn A", "position": "Phó Bí thư", "committee_member": True},
        *no_member["reporters"]]})
    added = await live.client.post("/committees/GR/reporters", headers=year.staff, json={
        **REPORTER, "name": "Lê Văn C", "decision_date": f"{y}-02-01"})
    assert added.status_code == 201, added.text
    await done("conference-q1", {"held_on": f"{y}-01-20", "attendees": 30, "listeners": 240,
                                 "topics": ["Chỉ thị 30"], "online": True})

    report = await year.task("report-h1")
    offered = (await live.client.get(f"/tasks/{report['id']}/draft", headers=year.staff)).json()
    figures = offered["draft"]["figures"]
    assert {k: v for k, v in figures.items() if v} == {
        "reporters_total": 3, "reporters_added": 3, "committee_members": 1,
        "conferences_held": 1, "conference_attendees": 30, "listeners": 240}
    corrected = {**offered["evidence"], "figures": {**figures, "sessions_delivered": 7}}
    response = await year.post(report, "complete", {"evidence": corrected}, year.staff)
    assert response.status_code == 200, response.text
    async with factory.sessions() as session:
        stored = await session.scalar(select(Submission).where(Submission.task_id == report["id"]))
    assert stored is not None
    assert stored.evidence["draft"]["figures"] == figures
    assert stored.evidence["corrections"] == {"sessions_delivered": {"draft": 0, "reported": 7}}

    exported = await live.client.get(f"/tasks/{report['id']}/report/export",
                                     params={"lang": "en"}, headers=year.board)
    rows = {row[3]: row for row in csv.reader(io.StringIO(exported.content.decode("utf-8-sig")))}
    assert rows["sessions_delivered"][5:] == ["0", "7", "yes"]
    assert rows["listeners"][5:] == ["240", "240", ""]
