"""Users: listing who exists and whether their token works, revoking a token, its expiry."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from api.models import AuditEvent, utcnow
from tests.api.factories import Factory, bearer


async def test_revoked_token_is_401_from_then_on(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin", name="admin"))
    staff_token = await factory.token("staff", "GR", name="Trần Thị B")
    assert (await api.get("/tasks", headers=bearer(staff_token))).status_code == 200
    listed = (await api.get("/users", params={"committee": "GR"}, headers=admin)).json()
    [staff] = listed["items"]
    assert (staff["name"], staff["role"], staff["active"]) == ("Trần Thị B", "staff", True)

    revoked = await api.post(
        f"/users/{staff['id']}/revoke", json={"reason": "chuyển công tác"}, headers=admin
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] is False and revoked.json()["revoked_at"] is not None
    refused = await api.get("/tasks", headers=bearer(staff_token))
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the token is unknown, expired or revoked"

    again = await api.post(f"/users/{staff['id']}/revoke", headers=admin)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]  # revoking twice: harmless
    async with factory.sessions() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "user.revoked")
        )
    assert event is not None
    assert (event.actor, event.subject, event.payload["reason"]) == (
        "admin", f"user/{staff['id']}", "chuyển công tác"
    )
    missing = await api.post("/users/999999/revoke", headers=admin)
    assert (missing.status_code, missing.json()["detail"]) == (404, "user 999999 not found")


async def test_list_filters_and_the_active_flag(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    auditor = bearer(await factory.token("auditor", name="auditor"))
    await factory.token("staff", "GR", name="gr-staff")
    await factory.token("supervisor", "UP", name="up-supervisor")
    await factory.token("board", name="expired-board", expires_at=utcnow() - timedelta(seconds=1))

    async def names(**params: str | int | bool) -> list[str]:
        response = await api.get("/users", params=params, headers=auditor)
        assert response.status_code == 200, response.text
        return [u["name"] for u in response.json()["items"]]

    assert await names() == ["auditor", "expired-board", "gr-staff", "up-supervisor"]
    assert await names(role="supervisor") == ["up-supervisor"]
    assert await names(committee="GR") == ["gr-staff"]
    assert await names(active=False) == ["expired-board"]
    assert await names(limit=1, offset=1) == ["expired-board"]
    listed = (await api.get("/users", headers=auditor)).json()
    assert listed["total"] == 4
    assert all("token" not in u and "token_hash" not in u for u in listed["items"])


async def test_a_token_can_be_issued_to_expire(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    soon = (utcnow() + timedelta(days=30)).isoformat()
    created = await api.post(
        "/users", json={"name": "temp", "role": "auditor", "expires_at": soon}, headers=admin
    )
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/users/{created.json()['id']}"
    assert (await api.get("/tasks", headers=bearer(created.json()["token"]))).status_code == 200
    for past, detail in (((utcnow() - timedelta(minutes=1)).isoformat(), "has passed"),
                         ("2030-01-01T00:00:00", "timezone")):
        refused = await api.post(
            "/users", json={"name": "late", "role": "auditor", "expires_at": past}, headers=admin
        )
        assert refused.status_code == 422
        [error] = refused.json()["errors"]
        assert error["field"] == "expires_at" and detail in error["detail"]
