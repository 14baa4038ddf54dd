"""What a resumed cycle's new run is seeded with: every task the database holds for the cycle,
with its due date as extended, its extensions and the rungs it reached that no extension took
back (a closed task keeps those it reached before it closed)."""

from __future__ import annotations

from datetime import date, datetime

import httpx
from sqlalchemy import select

from api.db import Sessions
from api.models import Cycle
from api.services import resume
from domain.calendar import HCM
from domain.contracts import ItemState, LadderStepWithdrawn, cycle_workflow_id
from domain.template import EvidenceKind, Rung
from tests.api.factories import (
    YEAR,
    Factory,
    closed,
    extended,
    ladder,
    opened,
    record,
    waived,
)
from tests.api.records import complete
from tests.domain.samples import EVIDENCE


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(YEAR, month, day, hour, tzinfo=HCM)


async def recorded(api: httpx.AsyncClient, path: str, event: object) -> None:
    response = await record(api, path, event)  # type: ignore[arg-type]
    assert response.status_code in (200, 201), response.text


async def test_the_seed_is_every_recorded_task_as_it_stands(
    api: httpx.AsyncClient, factory: Factory, sessions: Sessions
) -> None:
    await factory.tree()
    for key in ("plan", "review", "disseminate"):
        await recorded(api, "tasks/opened", opened(key=key))
    for rung in (Rung.REMINDER, Rung.OVERDUE, Rung.PARENT):
        await recorded(api, "ladder", ladder(rung=rung))
    # Extended on 10 February to 5 February: the parent rung's new instant (12 February) is
    # still ahead, so the workflow withdraws it; reminder and overdue stand.
    await recorded(api, "tasks/changed", extended(new_due_on=date(YEAR, 2, 5), at=at(2, 10)))
    await recorded(api, "ladder/withdrawn", LadderStepWithdrawn(
        workflow_id=cycle_workflow_id("GR", YEAR), key="plan", rung=Rung.PARENT,
        due_on=date(YEAR, 1, 31), new_due_on=date(YEAR, 2, 5), at=at(2, 10),
        actor="supervisor-UP", reason="Đơn vị đang kiện toàn",
    ))
    await recorded(api, "tasks/changed", waived(key="review", at=at(2, 10, 10)))
    await recorded(api, "ladder", ladder(key="disseminate", rung=Rung.REMINDER))
    await complete(api, "GR", "disseminate", EVIDENCE[EvidenceKind.DISSEMINATION],
                   when=at(6, 25))

    async with sessions() as session:
        cycle = await session.scalar(select(Cycle))
        assert cycle is not None
        seeds = await resume.seeds(session=session, cycles=[cycle])
        last = await resume.last_recorded(session=session, cycle=cycle)
    by_key = {s.key: s for s in seeds[cycle.id]}
    assert set(by_key) == {"plan", "review", "disseminate"}
    plan = by_key["plan"]
    assert (plan.state, plan.due_on, plan.rungs, plan.extensions, plan.reason) == (
        ItemState.OVERDUE, date(YEAR, 2, 5), [Rung.REMINDER, Rung.OVERDUE], 1,
        "Đơn vị đang kiện toàn",
    )
    assert plan.opened_at == datetime(YEAR, 1, 1, tzinfo=HCM)
    review = by_key["review"]
    assert (review.state, review.closed_at, review.closed_by, review.reason, review.rungs) == (
        ItemState.WAIVED, at(2, 10, 10), "supervisor-UP", "Đơn vị sáp nhập", [])
    disseminate = by_key["disseminate"]
    assert (disseminate.state, disseminate.closed_at, disseminate.rungs) == (
        ItemState.COMPLETED, at(6, 25), [Rung.REMINDER])
    assert last == at(6, 25)


async def test_a_closed_cycle_or_one_with_nothing_recorded_has_no_seed(
    api: httpx.AsyncClient, factory: Factory, sessions: Sessions
) -> None:
    await factory.tree()
    await recorded(api, "tasks/opened", opened(key="plan"))
    async with sessions() as session:
        cycle = await session.scalar(select(Cycle))
        assert cycle is not None
        assert set(await resume.seeds(session=session, cycles=[cycle])) == {cycle.id}
        assert await resume.seeds(session=session, cycles=[]) == {}
    await recorded(api, "cycles/closed", closed())
    async with sessions() as session:
        cycle = await session.scalar(select(Cycle))
        assert cycle is not None and cycle.result is not None
        assert await resume.seeds(session=session, cycles=[cycle]) == {}
