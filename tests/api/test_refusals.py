"""Refused attempts in the audit log: a 403 on a write, and a task action the rules refused.

Each is one `request.refused` event naming who, what and why, written in its own transaction;
the refused request writes nothing else. Reads, anonymous calls and malformed requests are not
refusals. (The workflow's own rejections are in test_safe_writes_live.)
"""

from __future__ import annotations

import httpx

from api.services.audit import verify_chain
from tests.api.factories import (
    PLAN_EVIDENCE,
    SERVICE,
    Factory,
    bearer,
    completion,
    opened,
    record,
)

DETAIL = "the auditor role may not waive; that takes the supervisor or board or admin role"


async def test_a_refused_write_is_audited_and_writes_nothing_else(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    task = (await record(api, "tasks/opened", opened("GR", "plan"))).json()["id"]
    auditor = bearer(await factory.token("auditor", name="Phạm Kiểm Toán"))
    before = await factory.counts()
    response = await api.post(
        f"/tasks/{task}/waive", json={"reason": "thử"}, headers={**auditor, "If-Match": '"1"'}
    )
    assert response.status_code == 403
    assert await factory.counts() == {**before, "audit_events": before["audit_events"] + 1}
    [event] = await factory.refusals()
    assert (event.actor, event.subject) == ("Phạm Kiểm Toán", f"/tasks/{task}/waive")
    assert event.payload == {
        "method": "POST", "path": f"/tasks/{task}/waive", "route": "/tasks/{task_id}/waive",
        "status": 403, "problem": "forbidden", "detail": DETAIL,
        "rejection": None, "role": "auditor", "user_id": event.payload["user_id"],
    }
    async with factory.sessions() as session:
        assert (await verify_chain(session=session)).ok


async def test_the_workers_token_on_a_public_write_is_audited(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    response = await api.post("/committees", json={"code": "X", "name": "X", "level": "root"},
                              headers=SERVICE)
    assert response.status_code == 403
    [event] = await factory.refusals()
    assert (event.actor, event.payload["role"], event.payload["detail"]) == (
        "worker", "service", "the service token reaches only /internal/*"
    )


async def test_reads_anonymous_calls_and_malformed_requests_are_not_refusals(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    staff = bearer(await factory.token("staff", "GR"))
    assert (await api.get("/users", headers=staff)).status_code == 403
    assert (await api.get("/committees", headers=SERVICE)).status_code == 403
    assert (await api.post("/committees", json={})).status_code == 401
    admin = bearer(await factory.token("admin"))
    assert (await api.post("/committees", json={"code": "?"}, headers=admin)).status_code == 422
    assert await factory.refusals() == []


async def test_a_task_action_the_rules_refuse_is_audited(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    task = (await record(api, "tasks/opened", opened("GR", "plan"))).json()["id"]
    await record(api, "tasks/completed", completion("GR"))
    staff = bearer(await factory.token("staff", "GR", name="Nguyễn Văn A"))
    before = await factory.counts()
    response = await api.post(
        f"/tasks/{task}/complete", json={"evidence": PLAN_EVIDENCE},
        headers={**staff, "If-Match": '"2"'},
    )
    assert response.status_code == 409
    assert await factory.counts() == {**before, "audit_events": before["audit_events"] + 1}
    [event] = await factory.refusals()
    assert (event.actor, event.payload["status"], event.payload["rejection"]) == (
        "Nguyễn Văn A", 409, "TaskNotOpen"
    )
    assert event.payload["detail"] == f"task {task} is completed; it can no longer change"
