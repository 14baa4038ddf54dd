"""A report's sessions, audience and online share come from the register of reporter
activities held in exactly its period: the Decree 09 cut-off, both ends counted."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.factories import Factory, bearer
from tests.api.records import open_task
from tests.api.test_registers import ACTIVITIES, activity, add_reporter

# (day, form, audience, topic): 2025's 6-month report counts 15/12/2024..14/06/2025, its
# annual report 15/12/2024..14/12/2025.
HELD = [
    ("2024-12-14", "in_person", 11, "Ngày cuối kỳ trước"),
    ("2024-12-15", "online", 20, "Chỉ thị 30-CT/TW"),
    ("2025-03-01", "both", 30, "Chuyển đổi số"),
    ("2025-06-14", "in_person", 40, "Biển, đảo Việt Nam"),
    ("2025-06-15", "online", 50, "Phòng, chống tham nhũng"),
    ("2025-12-14", "in_person", 60, "Tổng kết năm"),
    ("2025-12-15", "online", 70, "Kỳ sau"),
]


async def test_the_draft_counts_the_register_for_exactly_its_period(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    staff = bearer(await factory.token("staff", "GR"))
    reporter = await add_reporter(api, staff, "Nguyễn Văn An", decision_date="2024-11-01")
    h1 = await open_task(api, "GR", "report-h1")
    year = await open_task(api, "GR", "report-year")
    ids = {}
    for day, form, audience, topic in HELD:
        response = await api.post(ACTIVITIES, headers=staff, json=activity(
            [reporter], held_on=day, form=form, audience=audience, topic=topic))
        assert response.status_code == 201, response.text
        ids[day] = response.json()["id"]
    # Withdrawn: never counted. Corrected: counted as corrected (40 -> 44 in the audience).
    extra = await api.post(ACTIVITIES, headers=staff,
                           json=activity([reporter], held_on="2025-05-05", audience=500))
    withdrawn = await api.post(f"{ACTIVITIES}/{extra.json()['id']}/withdraw", headers=staff,
                               json={"version": 1, "reason": "Ghi trùng"})
    assert withdrawn.status_code == 200, withdrawn.text
    corrected = await api.post(f"{ACTIVITIES}/{ids['2025-06-14']}/correct", headers=staff, json={
        "version": 1, "reason": "Ghi nhầm số người dự",
        "entry": activity([reporter], held_on="2025-06-14", audience=44,
                          topic="Biển, đảo Việt Nam")})
    assert corrected.status_code == 200, corrected.text

    async def draft(task: int) -> dict[str, Any]:
        response = await api.get(f"/tasks/{task}/draft", headers=staff)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    first = await draft(h1)
    assert (first["draft"]["period_start"], first["draft"]["period_end"]) == (
        "2024-12-15", "2025-06-14")
    figures = first["draft"]["figures"]
    # 15/12 online 20, 01/03 both 30, 14/06 in person 44.
    assert (figures["sessions_delivered"], figures["attendances"],
            figures["online_sessions"]) == (3, 94, 2)
    assert first["online_share"] == round(2 / 3, 4)
    assert first["evidence"]["figures"] == figures
    assert first["draft"]["topics"] == [
        "Chỉ thị 30-CT/TW", "Chuyển đổi số", "Biển, đảo Việt Nam"]

    annual = await draft(year)
    figures = annual["draft"]["figures"]
    # And 15/06 online 50, 14/12 in person 60; 15/12/2025 is the next year's.
    assert (figures["sessions_delivered"], figures["attendances"],
            figures["online_sessions"]) == (5, 204, 3)
    assert annual["online_share"] == 0.6


async def test_without_activities_the_draft_has_no_sessions_and_no_share(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    staff = bearer(await factory.token("staff", "GR"))
    task = await open_task(api, "GR", "report-h1")
    body = (await api.get(f"/tasks/{task}/draft", headers=staff)).json()
    assert body["draft"]["figures"]["sessions_delivered"] == 0
    assert body["online_share"] is None
