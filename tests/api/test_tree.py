"""The tree over time: a committee moved mid-year escalates to its new parent from that day on;
its history, tasks and the roll-ups of earlier days stay as they were."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import select

from api.models import Committee, Escalation, Task
from domain.template import Rung
from tests.api.factories import Factory, bearer, ladder, opened, record

MOVE = {"parent": "UP2", "effective_on": "2025-07-01", "reason": "Sắp xếp tổ chức bộ máy 2025"}


async def targets(factory: Factory) -> list[tuple[str, str, str]]:
    """(task key, rung, target committee) of every escalation, in the order raised."""
    async with factory.sessions() as session:
        rows = await session.execute(
            select(Task.key, Escalation.rung, Committee.code)
            .join(Task, Escalation.task_id == Task.id)
            .join(Committee, Escalation.target_committee_id == Committee.id)
            .order_by(Escalation.id)
        )
        return [tuple(row) for row in rows.tuples()]  # type: ignore[misc]


async def test_a_committee_moved_mid_year_escalates_to_its_new_parent(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    for key in ("plan", "disseminate"):
        assert (await record(api, "tasks/opened", opened("GR", key))).status_code == 201
    moved = await api.post("/committees/GR/moves", json=MOVE, headers=admin)
    assert moved.status_code == 201, moved.text
    assert [(link["parent"], link["valid_from"], link["valid_until"])
            for link in moved.json()["links"]] == [
        ("UP", "1900-01-01", "2025-06-30"), ("UP2", "2025-07-01", None)]
    assert (await api.get("/committees/GR", headers=admin)).json()["parent"] == "UP2"

    # Plan (due 31 Jan) escalated in February: to UP. Disseminate (due 30 Jun) in July: to UP2.
    for key, rung in (("plan", Rung.PARENT), ("plan", Rung.BOARD),
                      ("disseminate", Rung.PARENT), ("disseminate", Rung.BOARD)):
        assert (await record(api, "ladder", ladder("GR", key, rung))).status_code == 201
    assert await targets(factory) == [
        ("plan", "parent", "UP"), ("plan", "board", "BLOC"),
        ("disseminate", "parent", "UP2"), ("disseminate", "board", "BLOC"),
    ]
    supervisor = bearer(await factory.token("supervisor", "UP2"))
    tasks = (await api.get("/tasks", params={"committee": "GR"}, headers=supervisor)).json()
    assert [t["key"] for t in tasks["items"]] == ["plan", "disseminate"]  # they moved with it

    board = bearer(await factory.token("board"))

    async def children(as_of: str) -> list[str]:
        response = await api.get("/committees/UP2/summary",
                                 params={"year": 2025, "as_of": as_of}, headers=board)
        return [row["committee"] for row in response.json()["rows"]]

    assert await children("2025-06-30") == ["GR3"]
    assert await children("2025-07-01") == ["GR", "GR3"]


@pytest.mark.parametrize(
    ("code", "body", "status"),
    [
        ("BLOC", {**MOVE, "parent": "UP"}, 422),  # the root has no parent
        ("GR", {**MOVE, "parent": "GR3"}, 422),  # a grassroots committee has none below
        ("UP", {**MOVE, "parent": "UP"}, 422),  # under itself
        ("GR", {**MOVE, "parent": "UP"}, 409),  # already there
        ("GR", {**MOVE, "parent": "NOPE"}, 422),
        ("NOPE", MOVE, 404),
        ("GR", {**MOVE, "effective_on": "someday"}, 422),
        ("GR", {"parent": "UP2", "effective_on": "2025-07-01"}, 422),
    ],
    ids=["root", "grassroots-parent", "itself", "same-parent", "unknown-parent",
         "unknown", "date", "no-reason"],
)
async def test_an_impossible_move_is_refused_and_writes_nothing(
    api: httpx.AsyncClient, factory: Factory, code: str, body: dict[str, str], status: int
) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    before = await factory.counts()
    response = await api.post(f"/committees/{code}/moves", json=body, headers=admin)
    assert response.status_code == status, response.text
    assert await factory.counts() == before


async def test_moves_go_forward_only_and_only_admins_make_them(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    board = bearer(await factory.token("board"))
    assert (await api.post("/committees/GR/moves", json=MOVE, headers=board)).status_code == 403
    assert (await api.post("/committees/GR/moves", json=MOVE, headers=admin)).status_code == 201
    back = {**MOVE, "parent": "UP", "effective_on": "2025-03-01"}
    assert (await api.post("/committees/GR/moves", json=back, headers=admin)).status_code == 409
    later = {**back, "effective_on": date(2026, 1, 1).isoformat()}
    assert (await api.post("/committees/GR/moves", json=later, headers=admin)).status_code == 201
    history = (await api.get("/committees/GR/parents", headers=board)).json()
    assert [link["parent"] for link in history["links"]] == ["UP", "UP2", "UP"]
    assert history["parent"] == "UP"
    staff = bearer(await factory.token("staff", "GR2"))
    assert (await api.get("/committees/GR/parents", headers=staff)).status_code == 404
