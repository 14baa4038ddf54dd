"""A refused /internal call marks its cycle stuck; its next successful recording clears it.

Operators see it three ways: GET /health degraded with the count, GET /cycles/stuck, and the
cycle's own status `stuck` with its last refusal. A caller the API cannot identify only ever
marks a cycle that exists.
"""

from __future__ import annotations

import httpx

from api.models import StuckCycle
from domain.contracts import cycle_workflow_id
from tests.api.factories import Factory, bearer, completion, opened, record

GR = cycle_workflow_id("GR", 2025)
WRONG = bearer("a-rotated-service-token-0000000000")


def named(workflow_id: str) -> dict[str, str]:
    return {"X-Yearwheel-Cycle": workflow_id}


async def cycle_id(api: httpx.AsyncClient, admin: dict[str, str]) -> int:
    [cycle] = (await api.get("/cycles", headers=admin)).json()["items"]
    return int(cycle["id"])


async def test_a_refused_recording_marks_the_cycle_stuck_until_it_records_again(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    assert (await record(api, "tasks/opened", opened(), headers=named(GR))).status_code == 201
    for _ in range(2):
        refused = await record(api, "tasks/completed", completion(), headers={**WRONG,
                                                                               **named(GR)})
        assert refused.status_code == 401

    health = (await api.get("/health")).json()  # Temporal is down here as well: 503
    assert (health["status"], health["stuck_cycles"]) == (503, 1)
    page = (await api.get("/cycles/stuck", headers=admin)).json()
    assert page["total"] == 1
    [item] = page["items"]
    assert (item["workflow_id"], item["status"], item["method"], item["path"], item["count"]) == (
        GR, 401, "POST", "/internal/tasks/completed", 2
    )
    assert item["detail"] == "the token is unknown, expired or revoked"
    assert item["first_seen"] <= item["last_seen"]
    detail = (await api.get(f"/cycles/{await cycle_id(api, admin)}", headers=admin)).json()
    assert detail["status"] == "stuck"
    assert detail["refusal"] == item
    [listed] = (await api.get("/cycles", headers=admin)).json()["items"]
    assert listed["status"] == "stuck"
    assert "yearwheel_stuck_cycles 1.0" in (await api.get("/metrics")).text.splitlines()

    done = await record(api, "tasks/completed", completion(), headers=named(GR))
    assert done.status_code == 201
    assert await factory.count(StuckCycle) == 0
    assert (await api.get("/health")).json()["stuck_cycles"] == 0
    assert "yearwheel_stuck_cycles 0.0" in (await api.get("/metrics")).text.splitlines()
    detail = (await api.get(f"/cycles/{await cycle_id(api, admin)}", headers=admin)).json()
    assert (detail["status"], detail["refusal"]) == ("running", None)
    [listed] = (await api.get("/cycles", headers=admin)).json()["items"]
    assert listed["status"] == "running"


async def test_an_unidentified_caller_marks_only_a_cycle_that_exists(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    invented = cycle_workflow_id("NOWHERE", 2025)
    refused = await record(api, "tasks/opened", opened(), headers={**WRONG, **named(invented)})
    assert refused.status_code == 401
    assert await factory.count(StuckCycle) == 0


async def test_a_version_skew_is_recorded_with_the_fields_it_refused(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    body = opened().model_dump(mode="json")
    del body["due_on"]  # a release that renamed a field
    refused = await api.post(
        "/internal/tasks/opened", json=body,
        headers={**bearer("test-service-token-0123456789abcdef"), **named(GR)},
    )
    assert refused.status_code == 422
    admin = bearer(await factory.token("admin"))
    [item] = (await api.get("/cycles/stuck", headers=admin)).json()["items"]
    assert (item["workflow_id"], item["status"]) == (GR, 422)
    assert item["detail"].startswith("invalid fields: due_on")


async def test_only_board_auditor_and_admin_list_stuck_cycles(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    staff = bearer(await factory.token("staff", "GR"))
    assert (await api.get("/cycles/stuck", headers=staff)).status_code == 403
    auditor = bearer(await factory.token("auditor"))
    page = (await api.get("/cycles/stuck", headers=auditor)).json()
    assert (page["total"], page["items"]) == (0, [])
