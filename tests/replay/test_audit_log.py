"""Every change the backend makes in a cycle's life is an audit_events row, and the rows stand."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from api.models import AuditEvent
from api.services.audit import verify_chain
from tests.replay.conftest import short_cycle
from tests.replay.scenarios import Stand


async def test_every_change_is_audited_and_the_log_cannot_be_rewritten(system: Stand) -> None:
    run = await short_cycle(system)
    plan = await run.task("plan")
    etag = (await run.http.get(f"/tasks/{plan['id']}", headers=system.tokens["board"])
            ).headers["etag"]
    again = await run.http.post(  # a refused attempt: the plan is already completed
        f"/tasks/{plan['id']}/complete", json={"evidence": {}},
        headers={**system.tokens["staff-AUD"], "If-Match": etag, **run.fresh_key()},
    )
    assert again.status_code in (409, 422), again.text
    forbidden = await run.http.post(  # and one the role may not make
        f"/tasks/{plan['id']}/waive", json={"reason": "x"},
        headers={**system.tokens["staff-AUD"], "If-Match": etag, **run.fresh_key()},
    )
    assert forbidden.status_code == 403
    async with system.sessions() as session:
        rows = (await session.scalars(select(AuditEvent).order_by(AuditEvent.seq))).all()
        assert (await verify_chain(session=session)).ok
    actions = {row.action for row in rows}
    assert {
        "user.created", "template.created", "cycle.created", "task.opened", "task.reminder",
        "task.overdue", "submission.stored", "task.completed", "task.extended",
        "escalation.withdrawn", "task.waived", "request.refused",
    } <= actions
    refused = [r for r in rows if r.action == "request.refused"]
    assert [(r.actor, r.payload["status"]) for r in refused][-1] == ("staff-AUD", 403)
    withdrawn = [r.payload["rung"] for r in rows if r.action == "escalation.withdrawn"]
    assert withdrawn == ["reminder", "overdue"]

    async with system.sessions() as session:
        for statement in ("UPDATE audit_events SET actor = 'mallory'",
                          "DELETE FROM audit_events WHERE seq = 1"):
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))
            await session.rollback()
