"""Tasks without a workflow: listing within reach, and the checks before an action is sent."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.settings import Settings
from domain.template import Rung
from tests.api.conftest import asgi_client
from tests.api.factories import (
    PLAN_EVIDENCE,
    Factory,
    bearer,
    completion,
    ladder,
    opened,
    record,
)


async def _open_some(api: httpx.AsyncClient, factory: Factory) -> dict[str, int]:
    """Tasks in GR, GR2 and GR3; returns '<committee>/<key>' -> task id."""
    await factory.tree()
    ids = {}
    for committee in ("GR", "GR2", "GR3"):
        for key in ("plan", "disseminate", "review"):
            response = await record(api, "tasks/opened", opened(committee, key))
            ids[f"{committee}/{key}"] = response.json()["id"]
    return ids


async def test_lists_tasks_in_reach_earliest_due_first(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await _open_some(api, factory)
    staff = await factory.token("staff", "GR")
    supervisor = await factory.token("supervisor", "UP")
    auditor = await factory.token("auditor")
    mine = (await api.get("/tasks", headers=bearer(staff))).json()
    assert [(t["committee"], t["key"]) for t in mine["items"]] == [
        ("GR", "plan"), ("GR", "disseminate"), ("GR", "review")
    ]
    assert mine["total"] == 3
    subtree = (await api.get("/tasks", headers=bearer(supervisor))).json()
    assert {t["committee"] for t in subtree["items"]} == {"GR", "GR2"}
    everything = (await api.get("/tasks", headers=bearer(auditor))).json()
    assert everything["total"] == 9


async def test_filters_and_pages(api: httpx.AsyncClient, factory: Factory) -> None:
    await _open_some(api, factory)
    await record(api, "ladder", ladder("GR2", rung=Rung.OVERDUE))
    board = bearer(await factory.token("board"))

    async def keys(**params: Any) -> list[str]:
        response = await api.get("/tasks", params=params, headers=board)
        assert response.status_code == 200, response.text
        return [f"{t['committee']}/{t['key']}" for t in response.json()["items"]]

    assert await keys(committee="GR3") == ["GR3/plan", "GR3/disseminate", "GR3/review"]
    assert await keys(state="overdue") == ["GR2/plan"]
    assert await keys(due_before="2025-02-01") == ["GR/plan", "GR2/plan", "GR3/plan"]
    assert await keys(limit=2, offset=7) == ["GR2/review", "GR3/review"]
    page = (await api.get("/tasks", params={"limit": 2}, headers=board)).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (9, 2, 0, 2)
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"state": "late"},
                {"due_before": "soon"}):
        response = await api.get("/tasks", params=bad, headers=board)
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["location"] == "query"


async def test_get_task_has_an_etag_and_hides_what_is_out_of_reach(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    ids = await _open_some(api, factory)
    staff = bearer(await factory.token("staff", "GR"))
    mine = await api.get(f"/tasks/{ids['GR/plan']}", headers=staff)
    assert mine.status_code == 200
    assert mine.headers["etag"] == '"1"'
    assert mine.json()["evidence_kind"] == "plan"
    other = await api.get(f"/tasks/{ids['GR2/plan']}", headers=staff)
    missing = await api.get("/tasks/999999", headers=staff)
    assert other.status_code == missing.status_code == 404


INVALID_EVIDENCE = [
    ({}, ["evidence.document_date", "evidence.document_number", "evidence.summary"]),
    (PLAN_EVIDENCE | {"document_date": "yesterday"}, ["evidence.document_date"]),
    (PLAN_EVIDENCE | {"summary": 12}, ["evidence.summary"]),
    (PLAN_EVIDENCE | {"unexpected": True}, ["evidence.unexpected"]),
    (PLAN_EVIDENCE | {"attachments": ["x" * 201]}, ["evidence.attachments.0"]),
    (PLAN_EVIDENCE | {"kind": "roster"}, ["evidence.kind"]),
]


@pytest.mark.parametrize(("evidence", "fields"), INVALID_EVIDENCE)
async def test_invalid_evidence_is_422_with_field_paths_and_writes_nothing(
    api: httpx.AsyncClient, factory: Factory, evidence: dict[str, Any], fields: list[str]
) -> None:
    ids = await _open_some(api, factory)
    staff = {**bearer(await factory.token("staff", "GR")), "If-Match": '"1"'}
    before = await factory.counts()
    response = await api.post(
        f"/tasks/{ids['GR/plan']}/complete", json={"evidence": evidence}, headers=staff
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert sorted(e["field"] for e in problem["errors"]) == fields
    assert all(e["pointer"] == "/" + e["field"].replace(".", "/") for e in problem["errors"])
    assert await factory.counts() == before


@pytest.mark.parametrize(
    "body",
    [{}, {"evidence": []}, {"evidence": PLAN_EVIDENCE, "extra": 1},
     {"evidence": PLAN_EVIDENCE | {"summary": "a\x00b"}}],
    ids=["missing", "not-an-object", "extra-field", "nul"],
)
async def test_malformed_complete_request_is_422(
    api: httpx.AsyncClient, factory: Factory, body: dict[str, Any]
) -> None:
    ids = await _open_some(api, factory)
    staff = bearer(await factory.token("staff", "GR"))
    before = await factory.counts()
    response = await api.post(f"/tasks/{ids['GR/plan']}/complete", json=body, headers=staff)
    assert response.status_code == 422
    assert await factory.counts() == before


async def test_who_may_act_on_a_task(api: httpx.AsyncClient, factory: Factory) -> None:
    ids = await _open_some(api, factory)
    task = ids["GR/plan"]
    body = {"evidence": PLAN_EVIDENCE}
    waive = {"reason": "sáp nhập"}
    cases = [
        ("staff", "GR2", "complete", body, 404),
        ("staff", "GR", "waive", waive, 403),
        ("staff", "GR", "extend", {"new_due_on": "2025-03-01", "reason": "x"}, 403),
        ("supervisor", "UP", "complete", body, 403),
        ("supervisor", "UP2", "waive", waive, 404),
        ("auditor", None, "complete", body, 403),
        ("auditor", None, "waive", waive, 403),
        ("board", None, "complete", body, 403),
    ]
    before = await factory.counts()
    for role, committee, action, payload, expected in cases:
        token = await factory.token(role, committee)
        before["users"] += 1
        before["audit_events"] += 1 + (expected == 403)  # user.created, and a 403 is audited
        response = await api.post(
            f"/tasks/{task}/{action}", json=payload, headers={**bearer(token), "If-Match": '"1"'}
        )
        assert response.status_code == expected, (role, committee, action, response.text)
    assert await factory.counts() == before


async def test_a_closed_task_is_409_before_anything_is_sent(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    ids = await _open_some(api, factory)
    await record(api, "tasks/completed", completion("GR"))
    staff = bearer(await factory.token("staff", "GR"))
    supervisor = bearer(await factory.token("supervisor", "UP"))
    task = ids["GR/plan"]
    stale = {"If-Match": '"1"'}  # a closed task is 409 whatever version the caller saw
    complete = await api.post(f"/tasks/{task}/complete", json={"evidence": PLAN_EVIDENCE},
                              headers={**staff, **stale})
    waive = await api.post(f"/tasks/{task}/waive", json={"reason": "x"},
                           headers={**supervisor, **stale})
    assert complete.status_code == waive.status_code == 409
    assert complete.json()["detail"] == f"task {task} is completed; it can no longer change"


async def test_if_match_on_another_version_is_412(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    ids = await _open_some(api, factory)
    await record(api, "ladder", ladder("GR", rung=Rung.REMINDER))  # version 1 -> 2
    staff = {**bearer(await factory.token("staff", "GR")), "If-Match": '"1"'}
    response = await api.post(
        f"/tasks/{ids['GR/plan']}/complete", json={"evidence": PLAN_EVIDENCE}, headers=staff
    )
    assert response.status_code == 412
    assert response.headers["etag"] == '"2"'


@pytest.mark.parametrize(
    ("body", "field"),
    [({"new_due_on": "2025-13-01", "reason": "x"}, "new_due_on"),
     ({"new_due_on": 20250301, "reason": "x"}, "new_due_on"),
     ({"new_due_on": "2025-03-01", "reason": ""}, "reason"),
     ({"new_due_on": "2025-03-01", "reason": "x" * 2001}, "reason"),
     ({"new_due_on": "2025-03-01"}, "reason")],
)
async def test_malformed_extension_is_422(
    api: httpx.AsyncClient, factory: Factory, body: dict[str, Any], field: str
) -> None:
    ids = await _open_some(api, factory)
    supervisor = bearer(await factory.token("supervisor", "UP"))
    response = await api.post(f"/tasks/{ids['GR/plan']}/extend", json=body, headers=supervisor)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_temporal_down_is_503_and_nothing_is_written(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    ids = await _open_some(api, factory)
    staff = {**bearer(await factory.token("staff", "GR")), "If-Match": '"1"'}
    before = await factory.counts()
    response = await api.post(
        f"/tasks/{ids['GR/plan']}/complete", json={"evidence": PLAN_EVIDENCE}, headers=staff
    )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert await factory.counts() == before


async def test_a_task_whose_workflow_does_not_exist_is_409(
    settings: Settings, factory: Factory, dev_env: WorkflowEnvironment
) -> None:
    async with asgi_client(settings, temporal_client=dev_env.client) as api:
        await factory.tree()
        # A cycle year no test starts a workflow for.
        response = await record(api, "tasks/opened", opened("GR", year=2199))
        supervisor = {**bearer(await factory.token("supervisor", "UP")), "If-Match": '"1"'}
        extend = await api.post(
            f"/tasks/{response.json()['id']}/extend",
            json={"new_due_on": date(2199, 3, 1).isoformat(), "reason": "x"}, headers=supervisor,
        )
    assert extend.status_code == 409
    assert "not running" in extend.json()["detail"]
