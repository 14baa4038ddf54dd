"""A supervisor extends or waives a task before it opens, by its key in the cycle, through the
real workflow, worker and served API; the row it leaves stays pending until the task opens."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from api.models import AuditEvent, Task, TaskChange
from tests.api.conftest import Live
from tests.api.factories import PLAN_EVIDENCE, Factory
from tests.api.support import Year

FROZEN = 86_400.0  # seconds per calendar day: nothing opens on its own during the test


async def _items(year: Year) -> dict[str, dict[str, Any]]:
    response = await year.live.client.get(f"/cycles/{year.cycle['id']}", headers=year.board)
    assert response.status_code == 200, response.text
    assert response.json()["source"] == "workflow"
    return {item["key"]: item for item in response.json()["items"]}


async def _row(factory: Factory, key: str) -> Task | None:
    async with factory.sessions() as session:
        return await session.scalar(select(Task).where(Task.key == key))


async def test_an_unopened_task_is_extended_and_opens_on_its_new_date(
    live: Live, factory: Factory
) -> None:
    year = await Year(live, factory).start(time_scale=FROZEN)
    plan = await year.task("plan")
    await year.open_in_workflow("plan")
    roster = (await _items(year))["roster"]  # waits for the plan
    assert (roster["state"], roster["task_id"], roster["version"]) == ("pending", None, 0)
    url = f"/cycles/{year.cycle['id']}/tasks/roster/extend"
    new_due = date(year.year, 12, 15)
    body = {"new_due_on": new_due.isoformat(), "reason": "Chờ Đại hội chi bộ"}

    assert (await live.client.post(url, json=body, headers=year.supervisor)).status_code == 428
    staff = await live.client.post(url, json=body, headers={**year.staff, "If-Match": '"0"'})
    assert staff.status_code == 403
    response = await live.client.post(url, json=body, headers={**year.supervisor,
                                                               "If-Match": '"0"'})
    assert response.status_code == 200, response.text
    status = response.json()
    assert (status["state"], status["due_on"], status["extensions"], status["opened_at"]) == (
        "pending", new_due.isoformat(), 1, None
    )
    row = await _row(factory, "roster")
    assert row is not None
    assert (row.state, row.due_on, row.opened_at) == ("pending", new_due, None)
    async with factory.sessions() as session:
        change = await session.scalar(select(TaskChange).where(TaskChange.task_id == row.id))
        audited = (await session.scalars(select(AuditEvent.action).where(
            AuditEvent.subject == f"{year.cycle['workflow_id']}/roster"))).all()
    assert change is not None
    assert (change.change, change.previous_due_on, change.new_due_on) == (
        "extended", date(year.year, 10, 31), new_due
    )
    assert audited == ["task.extended"]
    # The year's view shows the row, and its version is what a next change names.
    shown = (await _items(year))["roster"]
    assert (shown["task_id"], shown["version"], shown["due_on"]) == (
        row.id, row.version, new_due.isoformat()
    )
    stale = await live.client.post(url, json={**body, "new_due_on": f"{year.year}-12-20"},
                                   headers={**year.supervisor, "If-Match": '"0"'})
    assert stale.status_code == 412
    assert stale.headers["etag"] == f'"{row.version}"'
    # The pending row can be read and changed by its id too.
    got = await live.client.get(f"/tasks/{row.id}", headers=year.supervisor)
    assert (got.status_code, got.json()["state"], got.json()["opened_at"]) == (
        200, "pending", None
    )

    # The plan done, the roster opens: the same row, open, on the date it was moved to.
    done = await year.post(plan, "complete", {"evidence": PLAN_EVIDENCE}, year.staff)
    assert done.status_code == 200, done.text
    opened = await year.task("roster", state="open")
    assert (opened["id"], opened["due_on"]) == (row.id, new_due.isoformat())
    assert opened["opened_at"] is not None
    check = await live.client.get(f"/cycles/{year.cycle['id']}/audit-check", headers=year.board)
    assert check.status_code == 200, check.text
    assert check.json()["agrees"], check.json()["disagreements"]


async def test_an_unopened_task_is_waived_by_key_and_refusals_change_nothing(
    live: Live, factory: Factory
) -> None:
    year = await Year(live, factory).start(time_scale=FROZEN)
    await year.open_in_workflow("plan")
    base = f"/cycles/{year.cycle['id']}/tasks"
    waiver = {"reason": "Chi bộ sáp nhập"}
    unknown = await live.client.post(f"{base}/no-such-task/waive", json=waiver,
                                     headers={**year.supervisor, "If-Match": '"0"'})
    assert (unknown.status_code, unknown.json()["rejection"]) == (404, "TaskNotFound")
    elsewhere = await live.client.post(f"/cycles/{year.cycle['id'] + 999}/tasks/report-h1/waive",
                                       json=waiver, headers={**year.supervisor, "If-Match": '"0"'})
    assert elsewhere.status_code == 404
    earlier = await live.client.post(
        f"{base}/report-h1/extend", json={"new_due_on": f"{year.year}-06-01", "reason": "x"},
        headers={**year.supervisor, "If-Match": '"0"'},
    )
    assert (earlier.status_code, earlier.json()["rejection"]) == (422, "InvalidExtension")
    assert await _row(factory, "report-h1") is None

    for malformed, says in (("0", 'If-Match: "0", not If-Match: 0'), ("*", "whatever")):
        refused = await live.client.post(f"{base}/report-h1/waive", json=waiver,
                                         headers={**year.supervisor, "If-Match": malformed})
        assert refused.status_code == 400, refused.text
        assert says in refused.json()["detail"] and "GET /cycles/" in refused.json()["detail"]
    assert await _row(factory, "report-h1") is None

    response = await live.client.post(f"{base}/report-h1/waive", json=waiver,
                                      headers={**year.supervisor, "If-Match": '"0"'})
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["reason"]) == ("waived", waiver["reason"])
    row = await _row(factory, "report-h1")
    assert row is not None and (row.state, row.closed_by) == ("waived", response.json()[
        "closed_by"])
    again = await live.client.post(f"{base}/report-h1/waive", json=waiver,  # a stale version:
                                   headers={**year.supervisor, "If-Match": '"0"'})  # still 409
    assert again.status_code == 409
    check = await live.client.get(f"/cycles/{year.cycle['id']}/audit-check", headers=year.board)
    assert check.json()["agrees"], check.json()["disagreements"]
