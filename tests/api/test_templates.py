"""Templates as versioned records: admins add versions; a cycle keeps the one it started with."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.settings import Settings
from domain.contracts import CycleInput
from domain.template import DEFAULT_TEMPLATE
from tests.api.conftest import asgi_client
from tests.api.factories import Factory, bearer


def next_version(**changes: Any) -> dict[str, Any]:
    body = DEFAULT_TEMPLATE.model_dump(mode="json")
    body.pop("version")
    return {**body, **changes}


async def test_admins_add_versions_and_everyone_reads_them(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    staff = bearer(await factory.token("staff", "GR"))
    created = await api.post("/templates", json=next_version(roster_minimum_upper=4),
                             headers=admin)
    assert created.status_code == 201, created.text
    assert (created.json()["version"], created.json()["body"]["roster_minimum_upper"]) == (2, 4)
    assert created.headers["location"] == "/templates/default/versions/2"
    listed = (await api.get("/templates", headers=staff)).json()["items"]
    assert [(t["code"], t["version"], t["items"]) for t in listed] == [
        ("default", 2, 7), ("default", 1, 7)]
    first = await api.get("/templates/default/versions/1", headers=admin)
    assert first.json()["body"]["roster_minimum_upper"] == 3
    assert (await api.get("/templates/default/versions/9", headers=admin)).status_code == 404
    wrong = await api.post("/templates", json={**next_version(), "version": 2}, headers=admin)
    assert wrong.status_code == 409 and "version is 3" in wrong.json()["detail"]
    for headers in (staff, bearer(await factory.token("board")),
                    bearer(await factory.token("auditor"))):
        refused = await api.post("/templates", json=next_version(), headers=headers)
        assert refused.status_code == 403


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"items": []}, None),
        ({"roster_minimum_upper": 0}, ["roster_minimum_upper"]),
        ({"consolidation_days": "thirty"}, ["consolidation_days"]),
        ({"colour": "red"}, ["colour"]),
        ({"items": [{**next_version()["items"][0], "channel": "zalo"}]}, ["items.0.channel"]),
        ({"timezone": "Europe/Paris"}, ["timezone"]),
    ],
    ids=["no-items-is-fine", "minimum", "days", "extra", "extra-in-an-item", "another-zone"],
)
async def test_a_template_is_validated_as_the_domain_defines_it(
    api: httpx.AsyncClient, factory: Factory, change: dict[str, Any], fields: list[str] | None
) -> None:
    admin = bearer(await factory.token("admin"))
    before = await factory.counts()
    response = await api.post("/templates", json=next_version(**change), headers=admin)
    if fields is None:
        assert response.status_code == 201, response.text
        return
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == fields
    assert await factory.counts() == before


async def test_duplicate_keys_or_a_prerequisite_loop_are_422(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    admin = bearer(await factory.token("admin"))
    items = next_version()["items"]
    twice = await api.post("/templates", json=next_version(items=[*items, items[0]]),
                           headers=admin)
    assert twice.status_code == 422 and "repeated: plan" in twice.text
    looped = [{**items[0], "prerequisites": ["roster"]}, *items[1:]]
    loop = await api.post("/templates", json=next_version(items=looped), headers=admin)
    assert loop.status_code == 422 and "cycle" in loop.text


async def _started_input(env: WorkflowEnvironment, workflow_id: str) -> CycleInput:
    async for event in env.client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            [cycle] = pydantic_data_converter.payload_converter.from_payloads(
                payloads, [CycleInput]
            )
            assert isinstance(cycle, CycleInput)
            return cycle
    raise AssertionError("no start event")


async def test_a_cycle_pins_its_version_and_a_new_one_applies_from_the_next_cycle(
    settings: Settings, factory: Factory, dev_env: WorkflowEnvironment
) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    # The dev server: a cycle terminated with its first task unclaimed would stall time-skipping.
    async with asgi_client(settings, temporal_client=dev_env.client) as api:
        year = 2100 + uuid.uuid4().int % 90  # far ahead, and no worker: these cycles stay idle
        first = await api.post("/cycles", json={"committee": "UP", "year": year}, headers=admin)
        assert first.status_code == 201, first.text
        assert first.json()["template_version"] == 1
        created = await api.post("/templates", json=next_version(roster_minimum_upper=5),
                                 headers=admin)
        assert created.status_code == 201
        again = await api.post("/cycles", json={"committee": "UP", "year": year}, headers=admin)
        assert (again.status_code, again.json()["template_version"]) == (200, 1)
        following = await api.post("/cycles", json={"committee": "UP", "year": year + 1},
                                   headers=admin)
        assert following.json()["template_version"] == 2
        pinned = await _started_input(dev_env, first.json()["workflow_id"])
        fresh = await _started_input(dev_env, following.json()["workflow_id"])
        for workflow_id in (first.json()["workflow_id"], following.json()["workflow_id"]):
            await dev_env.client.get_workflow_handle(workflow_id).terminate("done")
    assert (pinned.template.version, pinned.template.roster_minimum_upper) == (1, 3)
    assert (fresh.template.version, fresh.template.roster_minimum_upper) == (2, 5)


async def test_a_cycle_takes_the_1751_version_in_force_for_its_year_and_its_level(
    settings: Settings, factory: Factory, dev_env: WorkflowEnvironment
) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    unique = uuid.uuid4().hex[:8].upper()  # workflow ids on the shared dev server are unique
    upper, grassroots = f"UP{unique}", f"GR{unique}"
    await factory.committee(upper, level="upper", parent="BLOC")
    await factory.committee(grassroots, level="grassroots", parent=upper)
    calendar = settings.model_copy(update={"cycle_template": "cv-1751"})
    started: list[str] = []
    async with asgi_client(calendar, temporal_client=dev_env.client) as api:
        try:
            for committee, year, version in (
                (upper, 2024, 1), (grassroots, 2024, 1), (upper, 2026, 2), (grassroots, 2026, 2),
            ):
                response = await api.post(
                    "/cycles", json={"committee": committee, "year": year}, headers=admin
                )
                assert response.status_code == 201, response.text
                body = response.json()
                started.append(body["workflow_id"])
                assert (body["template_code"], body["template_version"]) == ("cv-1751", version)
            inputs = [await _started_input(dev_env, workflow_id) for workflow_id in started]
            assert [(i.template.version, i.committee_level.value) for i in inputs] == [
                (1, "upper"), (1, "grassroots"), (2, "upper"), (2, "grassroots")]
            # The cycle's page, from the database (no worker runs here): its level's dates.
            for cycle, due in ((started[2], "2026-06-25"), (started[3], "2026-06-20")):
                cycle_id = (await api.get("/cycles?year=2026", headers=admin)).json()
                page = await api.get(f"/cycles/{_id_of(cycle_id, cycle)}", headers=admin)
                items = {i["key"]: i for i in page.json()["items"]}
                assert items["report-h1"]["due_on"] == due
                assert items["report-h1"]["title_vi"] == (
                    "Báo cáo kết quả hoạt động của đội ngũ báo cáo viên 6 tháng đầu năm 2026")
                assert "roster" not in items and items["conference-q1"]["prerequisites"] == []
            listed = (await api.get("/templates", headers=admin)).json()["items"]
            assert {(t["code"], t["version"]) for t in listed} >= {
                ("cv-1751", 1), ("cv-1751", 2)}
            # Before 1751-CV/ĐUK nothing is in force: refused, and nothing written.
            cycles_before = len((await api.get("/cycles", headers=admin)).json()["items"])
            refused = await api.post(
                "/cycles", json={"committee": upper, "year": 2023}, headers=admin
            )
            assert refused.status_code == 422, refused.text
            assert "no version of template 'cv-1751' is in force in 2023" in (
                refused.json()["detail"])
            assert len((await api.get("/cycles", headers=admin)).json()["items"]) == (
                cycles_before)
        finally:
            for workflow_id in started:
                await dev_env.client.get_workflow_handle(workflow_id).terminate("done")


def _id_of(page: dict[str, Any], workflow_id: str) -> int:
    return int(next(c["id"] for c in page["items"] if c["workflow_id"] == workflow_id))
