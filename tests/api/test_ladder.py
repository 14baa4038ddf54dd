"""/internal/ladder and /internal/tasks/changed: escalations climb; extensions, waivers settle."""

from __future__ import annotations

from datetime import date, datetime

import httpx
import pytest
from sqlalchemy import select

from api.models import (
    Committee,
    Escalation,
    Notification,
    NotificationDelivery,
    Task,
    TaskChange,
    User,
)
from domain.calendar import HCM
from domain.contracts import LadderStepWithdrawn, cycle_workflow_id
from domain.template import Rung
from tests.api.factories import Factory, completion, extended, ladder, opened, record, waived


def withdrawn(
    rung: Rung, *, new_due_on: date, at: datetime, due_on: date = date(2025, 1, 31)
) -> LadderStepWithdrawn:
    return LadderStepWithdrawn(
        workflow_id=cycle_workflow_id("GR", 2025), key="plan", rung=rung, due_on=due_on,
        new_due_on=new_due_on, at=at, actor="supervisor-UP", reason="Đơn vị đang kiện toàn",
    )


async def _task(factory: Factory, task_id: int) -> Task:
    async with factory.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        return task


async def _escalations(factory: Factory) -> list[tuple[str, str, int, bool]]:
    """(rung, target code, level, open) for every escalation, in the order raised."""
    async with factory.sessions() as session:
        rows = await session.execute(
            select(Escalation, Committee.code)
            .join(Committee, Escalation.target_committee_id == Committee.id)
            .order_by(Escalation.id)
        )
        return [(e.rung, code, e.level, e.resolved_at is None) for e, code in rows.tuples()]


@pytest.mark.parametrize(
    ("rung", "target", "state", "level"),
    [
        (Rung.REMINDER, "GR", "open", 0),
        (Rung.OVERDUE, "GR", "overdue", 0),
        (Rung.PARENT, "UP", "escalated", 1),
        (Rung.BOARD, "BLOC", "escalated", 2),
    ],
)
async def test_each_rung_goes_to_its_target(
    api: httpx.AsyncClient, factory: Factory, rung: Rung, target: str, state: str, level: int
) -> None:
    await factory.tree()
    task_id = (await record(api, "tasks/opened", opened("GR"))).json()["id"]
    response = await record(api, "ladder", ladder("GR", rung=rung), key="step")
    assert response.status_code == 201
    task = await _task(factory, task_id)
    assert (task.state, task.rung, task.escalation_level, task.version) == (state, rung, level, 2)
    assert await _escalations(factory) == [(rung.value, target, level, True)]
    async with factory.sessions() as session:
        note = await session.scalar(select(Notification).where(Notification.kind == rung.value))
        target_id = await session.scalar(select(Committee.id).where(Committee.code == target))
    assert note is not None and note.recipient_committee_id == target_id
    again = await record(api, "ladder", ladder("GR", rung=rung))
    assert again.json() == {"id": response.json()["id"], "created": False}


async def test_under_the_root_the_parent_rung_tells_parent_and_board_at_once(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    await factory.token("supervisor", "BLOC", name="supervisor-BLOC")
    await factory.token("board", "BLOC", name="board-BLOC")
    await factory.token("supervisor", "UP", name="supervisor-UP")
    await record(api, "tasks/opened", opened("UP"))
    response = await record(api, "ladder", ladder("UP", rung=Rung.PARENT), key="step")
    assert response.status_code == 201
    # The parent is the root: the Board rung would reach the same body, so it is skipped.
    assert response.json()["also_reached"] == ["board"]
    assert await _escalations(factory) == [("parent", "BLOC", 1, True)]
    async with factory.sessions() as session:
        told = set((await session.scalars(
            select(User.name).join(NotificationDelivery, NotificationDelivery.user_id == User.id)
        )).all())
    assert told == {"supervisor-BLOC", "board-BLOC"}
    again = await record(api, "ladder", ladder("UP", rung=Rung.PARENT))
    assert again.json() == {"id": response.json()["id"], "created": False,
                            "also_reached": ["board"]}
    # Deeper in the tree the parent is not the root: nothing is skipped.
    await record(api, "tasks/opened", opened("GR"))
    deeper = await record(api, "ladder", ladder("GR", rung=Rung.PARENT))
    assert deeper.status_code == 201 and "also_reached" not in deeper.json()


async def test_the_board_rung_reaches_the_root_from_deep_in_the_tree(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    await factory.committee("DEEP", level="grassroots", parent="UP2")
    await record(api, "tasks/opened", opened("DEEP"))
    await record(api, "ladder", ladder("DEEP", rung=Rung.PARENT))
    await record(api, "ladder", ladder("DEEP", rung=Rung.BOARD))
    assert await _escalations(factory) == [("parent", "UP2", 1, True), ("board", "BLOC", 2, True)]


async def test_a_step_after_completion_is_kept_but_resolved(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    task_id = (await record(api, "tasks/opened", opened())).json()["id"]
    await record(api, "tasks/completed", completion())
    await record(api, "ladder", ladder(rung=Rung.OVERDUE))
    assert (await _task(factory, task_id)).state == "completed"
    assert await _escalations(factory) == [("overdue", "GR", 0, False)]


async def test_an_extension_moves_the_date_and_each_withdrawal_sent_settles_the_task(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    task_id = (await record(api, "tasks/opened", opened())).json()["id"]
    for rung in (Rung.REMINDER, Rung.OVERDUE, Rung.PARENT):
        await record(api, "ladder", ladder(rung=rung))
    assert (await _task(factory, task_id)).state == "escalated"
    # On 9 Feb the plan (due 31 Jan) moves to 10 Feb: the workflow takes back overdue (from
    # 11 Feb) and parent (18 Feb) and keeps the reminder (from 4 Feb).
    at = datetime(2025, 2, 9, 12, tzinfo=HCM)
    new_due_on = date(2025, 2, 10)
    change = extended(new_due_on=new_due_on, at=at)
    response = await record(api, "tasks/changed", change, key="ext")
    assert response.status_code == 201
    # The extension alone only moves the date: the recorder does not decide the withdrawals.
    task = await _task(factory, task_id)
    assert (task.state, task.due_on, task.rung, task.escalation_level) == (
        "escalated", date(2025, 2, 10), "parent", 1
    )
    assert [open_ for *_, open_ in await _escalations(factory)] == [True, True, True]
    async with factory.sessions() as session:
        row = await session.scalar(select(TaskChange))
    assert row is not None
    assert (row.change, row.previous_due_on, row.new_due_on) == (
        "extended", date(2025, 1, 31), date(2025, 2, 10)
    )
    again = await record(api, "tasks/changed", change)
    assert again.json() == {"id": response.json()["id"], "created": False}

    await record(api, "ladder/withdrawn", withdrawn(Rung.PARENT, new_due_on=new_due_on, at=at))
    task = await _task(factory, task_id)
    assert (task.state, task.rung, task.escalation_level) == ("overdue", "overdue", 0)
    await record(api, "ladder/withdrawn", withdrawn(Rung.OVERDUE, new_due_on=new_due_on, at=at))
    task = await _task(factory, task_id)
    assert (task.state, task.rung, task.escalation_level) == ("open", "reminder", 0)
    assert await _escalations(factory) == [
        ("reminder", "GR", 0, True), ("overdue", "GR", 0, False), ("parent", "UP", 1, False)
    ]
    # The ladder climbs again under the new date: a new row, since the due date differs.
    await record(api, "ladder", ladder(rung=Rung.OVERDUE, due_on=date(2025, 2, 10)))
    assert (await _task(factory, task_id)).state == "overdue"


async def test_a_rung_kept_by_one_extension_is_withdrawn_by_the_next(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    task_id = (await record(api, "tasks/opened", opened())).json()["id"]
    await record(api, "ladder", ladder(rung=Rung.OVERDUE))  # raised under 31 Jan
    # 20 Feb: moved to 5 Feb, overdue (from 6 Feb) has passed again, so the workflow keeps it.
    first_at = datetime(2025, 2, 20, tzinfo=HCM)
    await record(api, "tasks/changed", extended(new_due_on=date(2025, 2, 5), at=first_at))
    # 21 Feb: moved to 30 Mar; the workflow withdraws overdue, naming the date it stood under.
    at = datetime(2025, 2, 21, tzinfo=HCM)
    second = extended(new_due_on=date(2025, 3, 30), at=at).model_copy(
        update={"previous_due_on": date(2025, 2, 5)}
    )
    await record(api, "tasks/changed", second)
    response = await record(api, "ladder/withdrawn", withdrawn(
        Rung.OVERDUE, due_on=date(2025, 2, 5), new_due_on=date(2025, 3, 30), at=at
    ))
    assert response.status_code == 201, response.text
    task = await _task(factory, task_id)
    assert (task.state, task.rung, task.due_on) == ("open", None, date(2025, 3, 30))
    assert await _escalations(factory) == [("overdue", "GR", 0, False)]


async def test_an_extension_to_a_date_already_past_keeps_the_task_overdue(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    task_id = (await record(api, "tasks/opened", opened())).json()["id"]
    await record(api, "ladder", ladder(rung=Rung.OVERDUE))
    at = datetime(2025, 3, 1, tzinfo=HCM)
    await record(api, "tasks/changed", extended(new_due_on=date(2025, 2, 5), at=at))
    task = await _task(factory, task_id)
    assert (task.state, task.due_on) == ("overdue", date(2025, 2, 5))


async def test_waiver_closes_the_task_and_resolves_everything(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    task_id = (await record(api, "tasks/opened", opened())).json()["id"]
    await record(api, "ladder", ladder(rung=Rung.OVERDUE))
    at = datetime(2025, 2, 2, tzinfo=HCM)
    response = await record(api, "tasks/changed", waived(at=at))
    assert response.status_code == 201
    task = await _task(factory, task_id)
    assert (task.state, task.closed_at, task.closed_by) == ("waived", at, "supervisor-UP")
    assert await _escalations(factory) == [("overdue", "GR", 0, False)]


async def test_an_extension_without_a_new_date_is_422(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    await record(api, "tasks/opened", opened())
    change = extended(new_due_on=date(2025, 3, 1), at=datetime(2025, 2, 1, tzinfo=HCM))
    change = change.model_copy(update={"new_due_on": None})
    before = await factory.counts()
    assert (await record(api, "tasks/changed", change)).status_code == 422
    assert await factory.counts() == before
