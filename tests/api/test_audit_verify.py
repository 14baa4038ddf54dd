"""GET /audit/verify walks the hash chain and names the first row someone tampered with.

The database refuses to rewrite audit_events (triggers; tests/api/test_audit.py), so the
tampering here goes around it the way an intruder with the owner's rights would: the trigger
is switched off first.
"""

from __future__ import annotations

from datetime import datetime

import httpx
from sqlalchemy import text

from domain.calendar import HCM
from domain.template import Rung
from tests.api.factories import Factory, bearer, completion, ladder, opened, record, waived
from tests.api.tampering import around_the_triggers


async def _history(api: httpx.AsyncClient, factory: Factory) -> dict[str, str]:
    await factory.tree()
    auditor = bearer(await factory.token("auditor"))
    await record(api, "tasks/opened", opened("GR", "plan"))
    await record(api, "ladder", ladder("GR", rung=Rung.REMINDER))
    await record(api, "tasks/completed", completion("GR"))
    await record(api, "tasks/opened", opened("GR", "review"))
    await record(api, "tasks/changed", waived("GR", "review", at=datetime(2025, 3, 1, tzinfo=HCM)))
    return auditor


async def test_an_untouched_log_verifies(api: httpx.AsyncClient, factory: Factory) -> None:
    auditor = await _history(api, factory)
    response = await api.get("/audit/verify", headers=auditor)
    assert response.status_code == 200
    body = response.json()
    assert (body["ok"], body["broken_at"], body["broken_row"]) == (True, None, None)
    assert body["events"] >= 9  # a user, the template, the cycle, and the decisions


async def test_a_rewritten_row_is_named(api: httpx.AsyncClient, factory: Factory) -> None:
    auditor = await _history(api, factory)
    async with around_the_triggers(factory.sessions) as session:
        seq = await session.scalar(text(
            "SELECT seq FROM audit_events WHERE action = 'task.completed'"))
        await session.execute(text(
            "UPDATE audit_events SET actor = 'mallory' WHERE seq = :seq"), {"seq": seq})
    body = (await api.get("/audit/verify", headers=auditor)).json()
    assert (body["ok"], body["broken_at"], body["reason"]) == (
        False, seq, "hash does not match content"
    )
    assert body["events"] == seq - 1
    row = body["broken_row"]
    assert (row["seq"], row["actor"], row["action"]) == (seq, "mallory", "task.completed")


async def test_a_deleted_row_is_named_by_the_gap(api: httpx.AsyncClient, factory: Factory) -> None:
    auditor = await _history(api, factory)
    async with around_the_triggers(factory.sessions) as session:
        await session.execute(text("DELETE FROM audit_events WHERE action = 'task.reminder'"))
    body = (await api.get("/audit/verify", headers=auditor)).json()
    assert body["ok"] is False and body["reason"].startswith("gap")
    assert body["broken_row"]["action"] == "submission.stored"  # the row after the hole


async def test_only_auditors_board_and_admin_verify(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    for role, committee, status in (("staff", "GR", 403), ("supervisor", "UP", 403),
                                    ("board", "BLOC", 200), ("admin", None, 200)):
        response = await api.get("/audit/verify",
                                 headers=bearer(await factory.token(role, committee)))
        assert response.status_code == status, response.text
    assert (await api.get("/audit/verify")).status_code == 401
