"""The auditing routes on a real cycle: history, timeline, state as of, replay, cross-check."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from api.models import (
    Escalation,
    Notification,
    NotificationAttempt,
    NotificationDelivery,
    Submission,
    Task,
    TaskChange,
)
from tests.replay.conftest import short_cycle
from tests.replay.scenarios import CycleRun, Stand
from workflows import WORKFLOWS
from workflows.sandbox import workflow_runner


async def _get(run: CycleRun, path: str, who: str = "auditor", **params: Any) -> Any:
    response = await run.http.get(path, params=params, headers=run.stand.tokens[who])
    assert response.status_code == 200, response.text
    return response


async def test_an_auditor_reads_and_replays_a_cycle(system: Stand) -> None:
    run = await short_cycle(system)
    cycle, y = f"/cycles/{run.cycle['id']}", run.year

    exported = await _get(run, f"{cycle}/history")
    assert exported.headers["x-workflow-id"] == run.workflow_id
    history = WorkflowHistory.from_json(run.workflow_id, exported.text)
    await Replayer(
        workflows=WORKFLOWS, data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    ).replay_workflow(
        history
    )

    read = (await _get(run, f"{cycle}/timeline")).json()
    done = next(e for e in read["entries"] if e["kind"] == "task_completed")
    assert (done["key"], done["actor"], done["late"]) == ("plan", "staff-AUD", True)
    assert done["at"].startswith(f"{y}-02-02T10:00:00") and done["at"].endswith("+07:00")
    assert [e["summary"] for e in read["entries"] if e["kind"] == "rung_reached"] == [
        f"plan: reminder sent to the committee (due {y}-01-31)", f"plan: overdue (due {y}-01-31)",
        f"conference-q1: reminder sent to the committee (due {y}-03-31)",
        f"conference-q1: overdue (due {y}-03-31)",
    ]
    assert [(e["key"], e["rung"]) for e in read["entries"] if e["kind"] == "rung_withdrawn"] == [
        ("conference-q1", "reminder"), ("conference-q1", "overdue")
    ]
    waiver = next(e for e in read["entries"] if e["kind"] == "task_waived")
    assert (waiver["actor"], waiver["reason"]) == ("supervisor-demo",
                                                   "Đã kiểm tra cùng đợt với cấp trên")

    then = (await _get(run, f"{cycle}/state", as_of=f"{y}-01-28T12:00:00")).json()
    plan = next(i for i in then["items"] if i["key"] == "plan")
    assert (plan["state"], plan["rung"]) == ("open", "reminder")
    now = (await _get(run, f"{cycle}/state")).json()
    states = {i["key"]: i["state"] for i in now["items"]}
    assert (states["plan"], states["roster"], states["review"], states["conference-q1"]) == (
        "completed", "completed", "waived", "open"
    )

    replayed = await run.http.post(f"{cycle}/replay", headers={
        **system.tokens["auditor"], **run.fresh_key()})
    assert replayed.status_code == 200, replayed.text
    report = replayed.json()
    assert (report["replays"], report["agrees"], report["recorded_from"]) == (True, True,
                                                                              "history")
    assert report["differences"] == []

    checked = (await _get(run, f"{cycle}/audit-check")).json()
    assert checked["agrees"], checked["disagreements"]
    assert checked["facts"]["history"] == checked["facts"]["audit"] == checked["facts"]["tasks"]


async def test_only_those_who_answer_for_the_record_may_audit(system: Stand) -> None:
    run = await short_cycle(system)
    other = await CycleRun(system, "ELSE", run.year).start()
    await system.committee("PEEK")
    cycle = f"/cycles/{run.cycle['id']}"
    for who, status in (("staff-AUD", 403), ("supervisor", 403), ("staff-PEEK", 404),
                        ("board", 200), ("admin", 200), ("auditor", 200)):
        for path in ("history", "timeline", "state", "audit-check"):
            response = await run.http.get(f"{cycle}/{path}", headers=system.tokens[who])
            assert response.status_code == status, (who, path, response.text)
        response = await run.http.post(f"{cycle}/replay", headers=system.tokens[who])
        assert response.status_code == status, (who, "replay", response.text)
    assert other.cycle["id"] != run.cycle["id"]


async def _check(run: CycleRun) -> list[tuple[str | None, str, str]]:
    body = (await _get(run, f"/cycles/{run.cycle['id']}/audit-check")).json()
    assert body["agrees"] is (body["disagreements"] == [])
    return [(d["key"], d["fact"], d["problem"]) for d in body["disagreements"]]


async def _plan(run: CycleRun) -> Task:
    async with run.stand.sessions() as session:
        task = await session.scalar(select(Task).where(Task.key == "plan"))
    assert task is not None
    return task


async def test_a_deleted_task_row_is_reported(system: Stand) -> None:
    run = await short_cycle(system)
    assert await _check(run) == []
    plan = await _plan(run)
    async with system.sessions() as session, session.begin():
        notices = select(Notification.id).where(Notification.task_id == plan.id)
        deliveries = select(NotificationDelivery.id).where(
            NotificationDelivery.notification_id.in_(notices))
        await session.execute(delete(NotificationAttempt).where(
            NotificationAttempt.delivery_id.in_(deliveries)))
        await session.execute(delete(NotificationDelivery).where(
            NotificationDelivery.id.in_(deliveries)))
        for model in (Submission, Notification, Escalation, TaskChange):
            await session.execute(delete(model).where(model.task_id == plan.id))
        await session.execute(delete(Task).where(Task.id == plan.id))
    y = run.year
    assert sorted(await _check(run)) == [
        ("plan", "completed", "missing"), ("plan", "opened", "missing"),
        ("plan", f"overdue (due {y}-01-31)", "missing"),
        ("plan", f"reminder (due {y}-01-31)", "missing"),
    ]


async def test_a_different_actor_or_time_in_the_tables_is_reported(system: Stand) -> None:
    run = await short_cycle(system)
    plan = await _plan(run)
    async with system.sessions() as session, session.begin():
        await session.execute(update(Task).where(Task.id == plan.id).values(
            closed_by="mallory"))
        reminder = await session.scalar(select(Escalation).where(
            Escalation.task_id == plan.id, Escalation.rung == "reminder"))
        assert reminder is not None
        await session.execute(update(Escalation).where(Escalation.id == reminder.id).values(
            raised_at=reminder.raised_at.replace(year=run.year - 1)))
        await session.execute(update(Task).where(Task.key == "roster").values(
            escalation_level=2))
    y = run.year
    assert sorted(await _check(run)) == [
        ("plan", "completed", "actor"), ("plan", f"reminder (due {y}-01-31)", "time"),
        ("roster", "escalation_level", "value"),
    ]
