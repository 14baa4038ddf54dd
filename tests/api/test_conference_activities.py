"""A conference's evidence names the reporter activities held at it, from the register."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.models import Role, Submission
from api.problems import Unprocessable
from api.services import reports, tasks
from api.services.access import Principal
from tests.api.conftest import Live
from tests.api.factories import PLAN_EVIDENCE, Factory, bearer
from tests.api.records import conference, open_task
from tests.api.support import Year
from tests.api.test_registers import ACTIVITIES, activity, add_reporter

DAY = "2025-03-20"


async def _held(api: httpx.AsyncClient, headers: dict[str, str], reporter: int,
                path: str = ACTIVITIES, **changes: Any) -> int:
    response = await api.post(path, headers=headers,
                              json=activity([reporter], **{"held_on": DAY, **changes}))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_a_conference_names_only_its_committees_activities_of_its_day(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    staff = bearer(await factory.token("staff", "GR"))
    reporter = await add_reporter(api, staff, "Nguyễn Văn An")
    held = await _held(api, staff, reporter)
    other_day = await _held(api, staff, reporter, held_on="2025-03-21")
    withdrawn = await _held(api, staff, reporter, topic="Ghi trùng")
    assert (await api.post(f"{ACTIVITIES}/{withdrawn}/withdraw", headers=staff,
                           json={"version": 1, "reason": "Ghi trùng"})).status_code == 200
    staff2 = bearer(await factory.token("staff", "GR2"))
    cuong = await add_reporter(api, staff2, "Lê Văn Cường", committee="GR2")
    elsewhere = await api.post("/committees/GR2/registers/activities", headers=staff2,
                               json=activity([cuong], held_on=DAY))
    task_id = await open_task(api, "GR", "conference-q1")
    async with factory.sessions() as session:
        task = await tasks.get_public(session=session, principal=Principal("t", Role.AUDITOR),
                                      task_id=task_id)
        evidence = {**conference(DAY, attendees=30, listeners=200, topics=["Chỉ thị 30"]),
                    "activities": [held]}
        tasks.check_evidence(task=task, evidence=evidence)
        sent, _ = await reports.prepare_completion(session=session, task=task, evidence=evidence)
        assert sent["activities"] == [held]
        for named, says in ((other_day, "held on 2025-03-21"), (withdrawn, "withdrawn"),
                            (elsewhere.json()["id"], "GR has no reporter activity"),
                            (999_999, "GR has no reporter activity")):
            with pytest.raises(Unprocessable) as refused:
                await reports.prepare_completion(
                    session=session, task=task, evidence={**evidence, "activities": [held, named]})
            assert says in refused.value.detail
            assert [e["field"] for e in refused.value.extra["errors"]] == ["evidence.activities.1"]


async def test_a_conference_completed_through_its_workflow_keeps_the_activities(
    live: Live, factory: Factory
) -> None:
    # A past year: the register takes no activity after today, and the conference of a
    # quarter is held in that quarter.
    code = f"GR{uuid.uuid4().hex[:8].upper()}"
    year = await Year(live, factory, code, year=2025, parent="UP").start(time_scale=0.5)
    reporter = await add_reporter(live.client, year.staff, "Nguyễn Văn An", committee=code)
    held = await _held(live.client, year.staff, reporter,
                       path=f"/committees/{code}/registers/activities")

    async def done(key: str, evidence: dict[str, Any]) -> Any:
        return await year.post(await year.task(key), "complete", {"evidence": evidence},
                               year.staff)

    assert (await done("plan", PLAN_EVIDENCE)).status_code == 200
    assert (await done("roster", {
        "decision_number": "12-QĐ/ĐU", "decision_date": f"{year.year}-01-05",
        "reporters": [{"name": "Trần Thị Bình", "position": "Phó Bí thư",
                       "committee_member": True}]})).status_code == 200
    evidence = {**conference(DAY, attendees=30, listeners=200, topics=["Chỉ thị 30"]),
                "activities": [held]}
    refused = await done("conference-q1", {**evidence, "activities": [held + 1000]})
    assert refused.status_code == 422, refused.text
    completed = await done("conference-q1", evidence)
    assert completed.status_code == 200, completed.text
    task = await year.task("conference-q1", state="completed")
    async with factory.sessions() as session:
        stored = await session.scalar(select(Submission).where(Submission.task_id == task["id"]))
    assert stored is not None and stored.evidence["activities"] == [held]
