"""Completing, extending and waiving through the real workflow, worker and served API."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from api.models import Escalation, Submission, Task
from domain.contracts import cycle_workflow_id
from tests.api.conftest import Live
from tests.api.factories import PLAN_EVIDENCE, Factory, opened, record
from tests.api.support import Year, eventually


async def test_complete_returns_the_new_status_and_the_rows_follow(
    live: Live, factory: Factory
) -> None:
    year = await Year(live, factory).start(time_scale=0.2)
    plan = await year.task("plan")
    etag = (await live.client.get(f"/tasks/{plan['id']}", headers=year.staff)).headers["etag"]
    response = await year.post(
        plan, "complete", {"evidence": PLAN_EVIDENCE}, {**year.staff, "If-Match": etag}
    )
    assert response.status_code == 200, response.text
    status = response.json()
    assert (status["key"], status["state"], status["late"]) == ("plan", "completed", False)
    assert status["closed_by"].startswith("staff-GR")
    async with factory.sessions() as session:
        task = await session.get(Task, plan["id"])
        submission = await session.scalar(select(Submission))
    assert task is not None and task.state == "completed"
    assert submission is not None and submission.task_id == plan["id"]
    assert submission.workflow_event_id > 0
    roster = await year.task("roster")  # its prerequisite is done, so it opens
    assert roster["state"] == "open"
    again = await year.post(plan, "complete", {"evidence": PLAN_EVIDENCE}, year.staff)
    assert again.status_code == 409


async def test_the_ladder_climbs_and_completion_resolves_it(live: Live, factory: Factory) -> None:
    year = await Year(live, factory).start(time_scale=0.03)
    plan = await year.task("plan", state="escalated")

    async def reached_board() -> list[tuple[str, str]] | None:
        response = await live.client.get(
            "/escalations", params={"committee": "GR", "status": "open"}, headers=year.supervisor
        )
        found = [(e["rung"], e["target_committee"]) for e in response.json()["items"]]
        return found if len(found) == 4 else None

    assert sorted(await eventually(reached_board)) == [
        ("board", "BLOC"), ("overdue", "GR"), ("parent", "UP"), ("reminder", "GR")
    ]
    detail = (await live.client.get(f"/tasks/{plan['id']}", headers=year.staff)).json()
    assert (detail["state"], detail["rung"], detail["escalation_level"]) == (
        "escalated", "board", 2
    )
    response = await year.post(plan, "complete", {"evidence": PLAN_EVIDENCE}, year.staff)
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["late"]) == ("completed", True)
    async with factory.sessions() as session:
        still_open = (
            await session.scalars(select(Escalation).where(Escalation.resolved_at.is_(None)))
        ).all()
    assert still_open == []


async def test_extend_moves_the_deadline_and_reopens(live: Live, factory: Factory) -> None:
    year = await Year(live, factory).start(time_scale=0.03)
    plan = await year.task("plan", state=("overdue", "escalated"))
    # Far enough ahead that no rung of the new date comes while the test reads (0.03 s a day).
    new_due = date(year.year, 6, 30)
    staff_try = await year.post(plan, "extend", {"new_due_on": new_due.isoformat(),
                                                 "reason": "x"}, year.staff)
    assert staff_try.status_code == 403
    response = await year.post(
        plan, "extend", {"new_due_on": new_due.isoformat(), "reason": "Đang kiện toàn"},
        year.supervisor,
    )
    assert response.status_code == 200, response.text
    status = response.json()
    assert (status["state"], status["due_on"], status["extensions"]) == (
        "open", new_due.isoformat(), 1
    )
    async with factory.sessions() as session:
        task = await session.get(Task, plan["id"])
        open_rungs = (
            await session.scalars(select(Escalation.rung).where(Escalation.resolved_at.is_(None)))
        ).all()
    assert task is not None and (task.state, task.due_on) == ("open", new_due)
    assert open_rungs == []
    earlier = await year.post(
        plan, "extend", {"new_due_on": date(year.year, 3, 1).isoformat(), "reason": "x"},
        year.supervisor,
    )
    assert earlier.status_code == 422
    assert earlier.json()["rejection"] == "InvalidExtension"
    assert [e["field"] for e in earlier.json()["errors"]] == ["new_due_on"]


async def test_waive_by_a_supervisor_closes_the_task(live: Live, factory: Factory) -> None:
    year = await Year(live, factory).start(time_scale=0.2)
    plan = await year.task("plan")
    response = await year.post(plan, "waive", {"reason": "Đơn vị sáp nhập"}, year.supervisor)
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["reason"]) == ("waived", "Đơn vị sáp nhập")
    assert (await year.task("plan"))["state"] == "waived"
    await year.task("roster")  # a waived prerequisite counts as done


async def test_workflow_refusals_become_problems(live: Live, factory: Factory) -> None:
    year = await Year(live, factory).start(time_scale=0.2)
    plan = await year.task("plan")
    assert (await year.post(plan, "complete", {"evidence": PLAN_EVIDENCE}, year.staff)).is_success
    async with factory.sessions() as session:  # a stale projection: the row says open again
        await session.execute(update(Task).where(Task.id == plan["id"]).values(state="open"))
        await session.commit()
    stale = await year.post(plan, "complete", {"evidence": PLAN_EVIDENCE}, year.staff)
    assert stale.status_code == 409
    assert stale.json()["rejection"] == "TaskNotOpen"

    ghost_event = opened("GR", "plan", year=year.year).model_copy(
        update={"key": "ghost", "occurrence": 99}  # (cycle, item, occurrence) is unique too
    )
    assert ghost_event.workflow_id == cycle_workflow_id("GR", year.year)
    ghost = (await record(live.client, "tasks/opened", ghost_event)).json()
    unknown = await year.post({"id": ghost["id"]}, "complete", {"evidence": PLAN_EVIDENCE},
                              year.staff)
    assert unknown.status_code == 404
    assert unknown.json()["rejection"] == "TaskNotFound"
