"""The register of reporter activities: recorded, listed with filters, corrected keeping the
previous version, withdrawn with a reason; every change audited; bad input changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.models import AuditEvent
from tests.api.factories import Factory, bearer

ACTIVITIES = "/committees/GR/registers/activities"
PROBLEM = "application/problem+json"


async def add_reporter(
    api: httpx.AsyncClient, headers: dict[str, str], name: str, *, committee: str = "GR",
    decision_date: str = "2025-01-10",
) -> int:
    body = {"name": name, "position": "Chuyên viên", "committee_member": True,
            "decision_number": "15-QĐ/ĐU", "decision_date": decision_date}
    response = await api.post(f"/committees/{committee}/reporters", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["reporter"]["id"])


def activity(reporters: list[int], **changes: Any) -> dict[str, Any]:
    return {
        "held_on": "2025-03-12", "reporters": reporters, "place": "Chi bộ Văn phòng",
        "topic": "Nghị quyết Hội nghị Trung ương 10", "form": "in_person", "audience": 45,
        "concerns": "Đảng viên mong được cung cấp thêm tài liệu về chuyển đổi số",
        "materials": ["Đề cương tuyên truyền số 12"], **changes,
    }


async def _audited(factory: Factory) -> list[tuple[str, str, dict[str, Any]]]:
    async with factory.sessions() as session:
        rows = (await session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("register.%"))
            .order_by(AuditEvent.seq)
        )).all()
        return [(e.action, e.subject, e.payload) for e in rows]


async def test_an_activity_is_recorded_filtered_corrected_and_withdrawn(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    staff = bearer(await factory.token("staff", "GR"))
    a = await add_reporter(api, staff, "Nguyễn Văn An")
    b = await add_reporter(api, staff, "Trần Thị Bình")
    first = await api.post(ACTIVITIES, json=activity([a, b]), headers=staff)
    assert first.status_code == 201, first.text
    entry = first.json()
    assert first.headers["location"] == f"{ACTIVITIES}/{entry['id']}"
    assert (entry["status"], entry["version"], entry["day"]) == ("recorded", 1, "2025-03-12")
    assert entry["body"]["concerns"] == activity([])["concerns"]
    online = await api.post(ACTIVITIES, headers=staff, json=activity(
        [b], held_on="2025-06-20", form="online", audience=120, topic="Biển, đảo Việt Nam"))
    assert online.status_code == 201, online.text

    async def listed(**params: Any) -> list[int]:
        response = await api.get(ACTIVITIES, params=params, headers=staff)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    both = [entry["id"], online.json()["id"]]
    assert await listed() == both
    assert await listed(reporter=a) == [entry["id"]]
    assert await listed(reporter=b) == both
    assert await listed(form="online") == [online.json()["id"]]
    assert await listed(**{"from": "2025-03-12", "to": "2025-06-19"}) == [entry["id"]]
    assert await listed(**{"from": "2025-03-13"}) == [online.json()["id"]]

    corrected = await api.post(f"{ACTIVITIES}/{entry['id']}/correct", headers=staff, json={
        "version": 1, "reason": "Ghi nhầm số người dự",
        "entry": activity([a], audience=54, form="both")})
    assert corrected.status_code == 200, corrected.text
    assert (corrected.json()["status"], corrected.json()["version"]) == ("corrected", 2)
    assert await listed(reporter=b) == [online.json()["id"]]  # b is no longer named
    assert await listed(form="both") == [entry["id"]]

    withdrawn = await api.post(f"{ACTIVITIES}/{online.json()['id']}/withdraw", headers=staff,
                               json={"version": 1, "reason": "Ghi trùng"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert await listed() == [entry["id"]]
    assert await listed(status="withdrawn") == [online.json()["id"]]
    assert await listed(status="all") == both

    detail = (await api.get(f"{ACTIVITIES}/{entry['id']}", headers=staff)).json()
    assert [(v["version"], v["status"], v["body"]["audience"], v["reason"])
            for v in detail["versions"]] == [
        (1, "recorded", 45, None), (2, "corrected", 54, "Ghi nhầm số người dự")]

    subject = f"committee/GR/registers/activities/{entry['id']}"
    assert [(action, where, payload["version"]) for action, where, payload
            in await _audited(factory)] == [
        ("register.activity.recorded", subject, 1),
        ("register.activity.recorded", f"committee/GR/registers/activities/{both[1]}", 1),
        ("register.activity.corrected", subject, 2),
        ("register.activity.withdrawn", f"committee/GR/registers/activities/{both[1]}", 2),
    ]
    auditor = bearer(await factory.token("auditor"))
    assert (await api.get("/audit/verify", headers=auditor)).json()["ok"] is True


async def _arranged(api: httpx.AsyncClient, factory: Factory) -> tuple[dict[str, str], int]:
    await factory.tree()
    staff = bearer(await factory.token("staff", "GR"))
    return staff, await add_reporter(api, staff, "Nguyễn Văn An")


REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("no reporter", {"reporters": []}, "reporters"),
    ("a reporter twice", {"reporters": ["A", "A"]}, "reporters"),
    ("an unknown form", {"form": "radio"}, "form"),
    ("a negative audience", {"audience": -1}, "audience"),
    ("an unknown field", {"budget": 1}, "budget"),
    ("a day after today", {"held_on": "2999-01-01"}, "held_on"),
    ("a day before 2000", {"held_on": "1999-12-31"}, "held_on"),
    ("a timestamp for a day", {"held_on": 1741737600}, "held_on"),
    ("an empty topic", {"topic": ""}, "topic"),
    ("a NUL in the concerns", {"concerns": "a\x00b"}, "concerns"),
    ("a reporter of another committee", {"reporters": ["OTHER"]}, "reporters.0"),
    ("a reporter who does not exist", {"reporters": [999_999]}, "reporters.0"),
    ("a reporter before their term", {"held_on": "2025-01-09"}, "reporters.0"),
]


@pytest.mark.parametrize(("changes", "field"), [(c, f) for _, c, f in REFUSED],
                         ids=[name for name, _, _ in REFUSED])
async def test_bad_input_is_a_problem_naming_the_field_and_changes_nothing(
    api: httpx.AsyncClient, factory: Factory, changes: dict[str, Any], field: str
) -> None:
    staff, a = await _arranged(api, factory)
    other = await add_reporter(api, bearer(await factory.token("staff", "GR2")), "Lê Văn Cường",
                               committee="GR2")
    swap = {"A": a, "OTHER": other}
    if "reporters" in changes:
        changes = {**changes, "reporters": [swap.get(r, r) for r in changes["reporters"]]}
    before = await factory.counts()
    response = await api.post(ACTIVITIES, json={**activity([a]), **changes}, headers=staff)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["detail"] and field in [e["field"] for e in problem["errors"]], problem
    assert await factory.counts() == before


async def test_a_reporter_who_left_is_not_named_after_leaving(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    staff, a = await _arranged(api, factory)
    left = await api.post(f"/reporters/{a}/leave", headers=staff,
                          json={"left_on": "2025-04-30", "reason": "Nghỉ hưu"})
    assert left.status_code == 200, left.text
    on_the_day = await api.post(ACTIVITIES, json=activity([a], held_on="2025-04-30"),
                                headers=staff)
    assert on_the_day.status_code == 201, on_the_day.text
    after = await api.post(ACTIVITIES, json=activity([a], held_on="2025-05-01"), headers=staff)
    assert after.status_code == 422 and "left on 2025-04-30" in after.json()["detail"]


async def test_changes_name_the_version_they_change(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    staff, a = await _arranged(api, factory)
    entry = (await api.post(ACTIVITIES, json=activity([a]), headers=staff)).json()
    url = f"{ACTIVITIES}/{entry['id']}"

    def fix(audience: int) -> dict[str, Any]:
        return {"version": 1, "reason": "Sửa số người dự",
                "entry": activity([a], audience=audience)}

    # Two writers at once on version 1: one lands, the other is told to read again.
    answers = await asyncio.gather(*(api.post(f"{url}/correct", json=fix(n), headers=staff)
                                     for n in (50, 60)))
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    kept = next(r.json() for r in answers if r.status_code == 200)
    detail = (await api.get(url, headers=staff)).json()
    assert [v["body"]["audience"] for v in detail["versions"]] == [45, kept["body"]["audience"]]

    before = await factory.counts()
    stale = await api.post(f"{url}/withdraw", json={"version": 1, "reason": "Trùng"},
                           headers=staff)
    assert stale.status_code == 409 and "version 2" in stale.json()["detail"]
    bad = await api.post(f"{url}/correct", headers=staff, json={
        "version": 2, "reason": "Sửa", "entry": activity([a], held_on="2999-01-01")})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["entry.held_on"]
    assert await factory.counts() == before

    gone = await api.post(f"{url}/withdraw", json={"version": 2, "reason": "Trùng"},
                          headers=staff)
    assert gone.status_code == 200, gone.text
    again = await api.post(f"{url}/correct", json={**fix(70), "version": 3}, headers=staff)
    assert again.status_code == 409 and "withdrawn" in again.json()["detail"]


async def test_staff_keep_their_own_register_and_those_above_read_their_reach(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    staff, a = await _arranged(api, factory)
    entry = (await api.post(ACTIVITIES, json=activity([a]), headers=staff)).json()
    readers = {
        "supervisor of UP": bearer(await factory.token("supervisor", "UP")),
        "board": bearer(await factory.token("board", "BLOC")),
        "auditor": bearer(await factory.token("auditor")),
    }
    for who, headers in readers.items():
        listed = await api.get(ACTIVITIES, headers=headers)
        assert listed.status_code == 200, who
        assert [i["id"] for i in listed.json()["items"]] == [entry["id"]], who
        write = await api.post(ACTIVITIES, json=activity([a]), headers=headers)
        assert write.status_code == 403, (who, write.text)
    outsiders = {
        "staff of GR2": bearer(await factory.token("staff", "GR2")),
        "supervisor of UP2": bearer(await factory.token("supervisor", "UP2")),
    }
    for who, headers in outsiders.items():
        assert (await api.get(ACTIVITIES, headers=headers)).status_code == 404, who
        assert (await api.get(f"{ACTIVITIES}/{entry['id']}", headers=headers)).status_code == 404
        write = await api.post(f"{ACTIVITIES}/{entry['id']}/withdraw", headers=headers,
                               json={"version": 1, "reason": "Thử"})
        assert write.status_code == 404, who
    elsewhere = await api.get(f"/committees/GR2/registers/activities/{entry['id']}",
                              headers=bearer(await factory.token("staff", "GR2")))
    assert elsewhere.status_code == 404


async def test_a_repeated_create_with_its_key_records_once(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    staff, a = await _arranged(api, factory)
    headers = {**staff, "Idempotency-Key": "activity-2025-03-12"}
    first = await api.post(ACTIVITIES, json=activity([a]), headers=headers)
    again = await api.post(ACTIVITIES, json=activity([a]), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    listed = (await api.get(ACTIVITIES, headers=staff)).json()
    assert listed["total"] == 1


async def test_an_unknown_filter_is_refused(api: httpx.AsyncClient, factory: Factory) -> None:
    staff, _ = await _arranged(api, factory)
    mistyped = await api.get(ACTIVITIES, params={"reporters": 1}, headers=staff)
    assert mistyped.status_code == 422 and "reporters" in mistyped.json()["detail"]
    backwards = await api.get(ACTIVITIES, params={"from": "2025-06-01", "to": "2025-01-01"},
                              headers=staff)
    assert backwards.status_code == 422
