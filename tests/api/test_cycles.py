"""Cycles without a worker: the checks before a start, listing, and the database fallback."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from domain.template import Rung
from tests.api.factories import Factory, bearer, completion, ladder, opened, record


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"committee": "GR", "year": 1999}, "year"),
        ({"committee": "GR", "year": "2025"}, "year"),
        ({"committee": "GR", "year": 2025.0}, "year"),
        ({"committee": "GR", "year": 2025, "time_scale": 0}, "time_scale"),
        ({"committee": "GR", "year": 2025, "time_scale": "fast"}, "time_scale"),
        ({"committee": "GR", "year": 2025, "template": "x"}, "template"),
        ({"committee": "", "year": 2025}, "committee"),
        ({"year": 2025}, "committee"),
    ],
)
async def test_malformed_start_is_422_and_writes_nothing(
    api: httpx.AsyncClient, factory: Factory, body: dict[str, Any], field: str
) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    before = await factory.counts()
    response = await api.post("/cycles", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert await factory.counts() == before


async def test_who_may_start_which_cycle(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    await factory.committee("OLD", parent="UP", active=False)
    admin = bearer(await factory.token("admin"))
    staff = bearer(await factory.token("staff", "GR"))
    auditor = bearer(await factory.token("auditor"))
    before = await factory.counts()

    async def start(headers: dict[str, str], committee: str) -> int:
        body = {"committee": committee, "year": 2025}
        return (await api.post("/cycles", json=body, headers=headers)).status_code

    assert await start(admin, "NOPE") == 404
    assert await start(admin, "BLOC") == 422  # the root owes no cycle
    assert await start(admin, "OLD") == 409
    assert await start(staff, "GR") == 403
    assert await start(staff, "GR2") == 404
    assert await start(auditor, "GR") == 403
    assert await start(admin, "GR") == 503  # Temporal is unreachable here: asked first
    refused = before["audit_events"] + 2  # the two 403s are audited; nothing else is written
    assert await factory.counts() == {**before, "audit_events": refused}
    year = await api.post("/years/2025/cycles", json={}, headers=staff)
    assert year.status_code == 403


async def test_year_start_with_temporal_down_counts_failures(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    before = await factory.counts()
    response = await api.post("/years/2025/cycles", headers=admin)
    assert response.status_code == 503
    body = response.json()
    assert (body["committees"], body["started"], body["existing"], body["failed"]) == (5, 0, 0, 5)
    assert all(f.endswith("not started, nothing written") for f in body["failures"])
    assert await factory.counts() == before  # Temporal is asked before any row is written
    bad = await api.post("/years/1800/cycles", json={"time_scale": -1}, headers=admin)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"year", "time_scale"}


async def test_detail_falls_back_to_rows_when_the_workflow_cannot_answer(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    await record(api, "tasks/opened", opened("GR", "plan"))
    await record(api, "tasks/opened", opened("GR", "review"))
    await record(api, "ladder", ladder("GR", "review", rung=Rung.PARENT))
    await record(api, "tasks/completed", completion("GR", "plan", late=True))
    extra = opened("GR", "review").model_copy(
        update={"key": "consolidate-1", "item_key": "consolidate"}
    )
    await record(api, "tasks/opened", extra)  # a task beyond the template
    staff = bearer(await factory.token("staff", "GR"))
    listed = (await api.get("/cycles", headers=staff)).json()
    assert [(c["committee"], c["year"], c["status"]) for c in listed["items"]] == [
        ("GR", 2025, "running")
    ]
    detail = await api.get(f"/cycles/{listed['items'][0]['id']}", headers=staff)
    assert detail.status_code == 200
    body = detail.json()
    assert body["source"] == "database"
    items = {i["key"]: i for i in body["items"]}
    assert len(items) == 11
    assert items["consolidate-1"]["state"] == "open"
    assert (items["plan"]["state"], items["plan"]["late"]) == ("completed", True)
    assert (items["review"]["state"], items["review"]["escalation_level"]) == ("escalated", 1)
    assert items["roster"]["state"] == "pending"
    assert items["roster"]["prerequisites"] == ["plan"]
    assert items["roster"]["task_id"] is None
    assert items["conference-q3"]["due_on"] == "2025-09-30"


async def test_cycles_out_of_reach_are_hidden(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    gr = (await record(api, "tasks/opened", opened("GR"))).json()["id"]
    await record(api, "tasks/opened", opened("GR3"))
    await record(api, "tasks/opened", opened("GR2", year=2026))
    supervisor = bearer(await factory.token("supervisor", "UP"))
    listed = (await api.get("/cycles", headers=supervisor)).json()
    assert [(c["committee"], c["year"]) for c in listed["items"]] == [("GR2", 2026), ("GR", 2025)]
    filtered = await api.get("/cycles", params={"year": 2025}, headers=supervisor)
    assert [c["committee"] for c in filtered.json()["items"]] == ["GR"]
    gr3_staff = bearer(await factory.token("staff", "GR3"))
    gr3_cycle = (await api.get("/cycles", headers=gr3_staff)).json()["items"][0]["id"]
    assert (await api.get(f"/cycles/{gr3_cycle}", headers=supervisor)).status_code == 404
    assert gr  # the GR task's cycle is the one the supervisor sees


async def test_escalations_by_status_within_reach(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    for committee in ("GR", "GR3"):
        await record(api, "tasks/opened", opened(committee))
        await record(api, "ladder", ladder(committee, rung=Rung.OVERDUE))
        await record(api, "ladder", ladder(committee, rung=Rung.PARENT))
    await record(api, "tasks/opened", opened("GR", "review"))
    await record(api, "ladder", ladder("GR", "review", rung=Rung.REMINDER))
    await record(api, "tasks/completed", completion("GR", "review", ref="r2"))
    supervisor = bearer(await factory.token("supervisor", "UP"))

    async def listed(**params: str) -> list[tuple[str, str, str, str]]:
        response = await api.get("/escalations", params=params, headers=supervisor)
        assert response.status_code == 200, response.text
        return [(e["committee"], e["task_key"], e["rung"], e["target_committee"])
                for e in response.json()["items"]]

    assert await listed(status="open") == [
        ("GR", "plan", "parent", "UP"), ("GR", "plan", "overdue", "GR")
    ]
    assert await listed(status="resolved") == [("GR", "review", "reminder", "GR")]
    assert len(await listed()) == 3
    assert await listed(committee="GR3") == []
    bad = await api.get("/escalations", params={"status": "closed"}, headers=supervisor)
    assert bad.status_code == 422
