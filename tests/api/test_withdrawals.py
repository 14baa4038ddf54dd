"""/internal/ladder/withdrawn: an extension took a rung back, so whoever it reached is told."""

from __future__ import annotations

from datetime import date, datetime

import httpx
from sqlalchemy import select

from api.models import AuditEvent, Committee, Escalation, Notification
from domain.calendar import HCM
from domain.contracts import LadderStepWithdrawn, cycle_workflow_id
from domain.template import Rung
from tests.api.factories import Factory, extended, ladder, opened, record

AT = datetime(2025, 2, 10, 9, tzinfo=HCM)
NEW_DUE = date(2025, 3, 15)


def withdrawn(rung: Rung, due_on: date = date(2025, 1, 31)) -> LadderStepWithdrawn:
    return LadderStepWithdrawn(
        workflow_id=cycle_workflow_id("GR", 2025), key="plan", rung=rung, due_on=due_on,
        new_due_on=NEW_DUE, at=AT, actor="supervisor-UP", reason="Đơn vị đang kiện toàn",
    )


async def test_the_parent_hears_its_escalation_is_withdrawn(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    await record(api, "tasks/opened", opened("GR", "plan"))
    for rung in (Rung.REMINDER, Rung.OVERDUE, Rung.PARENT):
        assert (await record(api, "ladder", ladder("GR", rung=rung))).status_code == 201
    change = await record(api, "tasks/changed", extended("GR", new_due_on=NEW_DUE, at=AT))
    assert change.status_code == 201

    response = await record(api, "ladder/withdrawn", withdrawn(Rung.PARENT))
    assert response.status_code == 201, response.text
    async with factory.sessions() as session:
        escalation = await session.get(Escalation, response.json()["id"])
        assert escalation is not None and escalation.rung == "parent"
        assert escalation.resolved_at == AT
        notice = await session.scalar(select(Notification).where(
            Notification.escalation_id == escalation.id, Notification.kind ==
            "escalation_withdrawn"))
        assert notice is not None
        target = await session.get(Committee, notice.recipient_committee_id)
        assert target is not None and target.code == "UP"
        assert "withdrawn" in notice.message and "2025-03-15" in notice.message
        audited = (await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "escalation.withdrawn"))).all()
    assert [(a.actor, a.subject, a.payload["rung"]) for a in audited] == [
        ("supervisor-UP", "cycle/GR/2025/plan", "parent")
    ]

    before = await factory.counts()
    again = await record(api, "ladder/withdrawn", withdrawn(Rung.PARENT))
    assert (again.status_code, again.json()) == (200, {"id": escalation.id, "created": False})
    assert await factory.counts() == before


async def test_a_rung_never_raised_has_nothing_to_withdraw(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    await record(api, "tasks/opened", opened("GR", "plan"))
    before = await factory.counts()
    response = await record(api, "ladder/withdrawn", withdrawn(Rung.BOARD))
    assert (response.status_code, response.json()) == (200, {"id": 0, "created": False})
    assert await factory.counts() == before
