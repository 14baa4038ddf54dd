"""The permission matrix's requests for rosters, reports, summaries, templates and moves.

Each arranges what its cell needs (a reporter to leave, a report task, a committee to move)
before the cell counts rows, and keeps every roster rule holding, so no cycle is signalled.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from api.models import Committee, Reporter
from domain.calendar import HCM
from domain.contracts import CompletionRecorded, cycle_workflow_id
from domain.template import DEFAULT_TEMPLATE
from tests.api.factories import opened, record
from tests.api.matrix import COMMITTEE, PARENT, Builder, Call, World

REPORTER = {"position": "Chuyên viên", "committee_member": True,
            "decision_number": "15-QĐ/ĐU", "decision_date": "2025-02-01"}


def _get(path: str) -> Builder:
    async def build(world: World, role: str, place: str, succeeds: bool) -> Call:
        return Call("GET", path.format(code=COMMITTEE[place], year=world.year))

    return build


async def _add_reporter(world: World, role: str, place: str, succeeds: bool) -> Call:
    name = f"Báo cáo viên {next(world.serial)}"
    return Call("POST", f"/committees/{COMMITTEE[place]}/reporters", {**REPORTER, "name": name})


async def _leave(world: World, role: str, place: str, succeeds: bool) -> Call:
    """Two committee members join; one leaves, so the grassroots rule still holds."""
    async with world.sessions() as session:
        committee_id = await session.scalar(
            select(Committee.id).where(Committee.code == COMMITTEE[place])
        )
        assert committee_id is not None
        people = [
            Reporter(committee_id=committee_id, name=f"Rời {next(world.serial)}",
                     position="Chuyên viên", committee_member=True, level="central",
                     decision_number="15-QĐ/ĐU", decision_date=date(2025, 2, 1),
                     term_start=date(2025, 2, 1), status="active", created_by="matrix")
            for _ in range(2)
        ]
        session.add_all(people)
        await session.commit()
    return Call("POST", f"/reporters/{people[0].id}/leave",
                {"left_on": "2025-05-01", "reason": "Chuyển công tác"})


async def _move(world: World, role: str, place: str, succeeds: bool) -> Call:
    code = f"MV{next(world.serial)}"
    await world.factory.committee(code, parent=PARENT[place])
    other = PARENT["outside" if place == "inside" else "inside"]
    return Call("POST", f"/committees/{code}/moves",
                {"parent": other, "effective_on": "2025-07-01", "reason": "Sắp xếp bộ máy"})


async def _new_template(world: World, role: str, place: str, succeeds: bool) -> Call:
    body: dict[str, Any] = DEFAULT_TEMPLATE.model_dump(mode="json")
    body.pop("version")
    return Call("POST", "/templates", {**body, "code": "matrix"})


async def report_task(world: World, place: str) -> dict[str, Any]:
    """A submitted 6-month report in the place's cycle, recorded as the worker would."""
    cached = world.shared.get(f"report-{place}")
    if cached is not None:
        return cached
    code = COMMITTEE[place]
    event = opened(code, "report-h1", year=world.year)
    task = (await record(world.client, "tasks/opened", event)).json()
    done = CompletionRecorded(
        workflow_id=cycle_workflow_id(code, world.year), key="report-h1", actor="matrix",
        evidence={"kind": "report", "period": "h1", "figures": {"reporters_total": 3}},
        submission_ref=f"matrix-report-{place}", event_id=1, late=False,
        completed_at=event.opened_at.astimezone(HCM),
    )
    assert (await record(world.client, "tasks/completed", done)).status_code in (200, 201)
    world.shared[f"report-{place}"] = task
    return dict(task)


def _report(path: str) -> Builder:
    async def build(world: World, role: str, place: str, succeeds: bool) -> Call:
        task = await report_task(world, place)
        return Call("GET", path.format(task=task["id"]))

    return build


ROSTER_BUILDERS: dict[str, Builder] = {
    "GET /committees/{code}/reporters": _get("/committees/{code}/reporters"),
    "POST /committees/{code}/reporters": _add_reporter,
    "POST /reporters/{reporter_id}/leave": _leave,
    "POST /committees/{code}/moves": _move,
    "GET /committees/{code}/parents": _get("/committees/{code}/parents"),
    "POST /templates": _new_template,
    "GET /templates": _get("/templates"),
    "GET /templates/{code}/versions/{version}": _get("/templates/default/versions/1"),
    "GET /tasks/{task_id}/draft": _report("/tasks/{task}/draft"),
    "GET /tasks/{task_id}/report/export": _report("/tasks/{task}/report/export"),
    "GET /committees/{code}/summary": _get("/committees/{code}/summary?year={year}"),
    "GET /committees/{code}/summary/export": _get(
        "/committees/{code}/summary/export?year={year}&format=xlsx"
    ),
}
