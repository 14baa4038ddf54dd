"""Several top-level party organisations, each with its own board: a board user sees and acts
on its own organisation's subtree and nothing else; a board user of no committee (a national
board) sees them all."""

from __future__ import annotations

from datetime import date

import httpx

from tests.api.factories import Factory, bearer, opened, record


async def _two_organisations(api: httpx.AsyncClient, factory: Factory) -> dict[str, int]:
    await factory.tree()  # BLOC > UP, UP2 > GR, GR2, GR3
    await factory.committee("KHOI2", level="root", parent=None)
    await factory.committee("UPB", level="upper", parent="KHOI2")
    await factory.committee("GRB", level="grassroots", parent="UPB")
    tasks = {}
    for code in ("GR", "GRB"):
        answer = await record(api, "tasks/opened", opened(code))
        assert answer.status_code == 201, answer.text
        tasks[code] = answer.json()["id"]
    return tasks


async def test_each_board_sees_only_its_own_organisation(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    tasks = await _two_organisations(api, factory)
    bloc = bearer(await factory.token("board", "BLOC", name="board-bloc"))
    khoi2 = bearer(await factory.token("board", "KHOI2", name="board-khoi2"))
    national = bearer(await factory.token("board", None, name="board-national"))
    await factory.token("staff", "GRB", name="staff-grb")

    async def seen(headers: dict[str, str]) -> tuple[list[str], list[int]]:
        committees = (await api.get("/committees", headers=headers)).json()["items"]
        listed = (await api.get("/tasks", headers=headers)).json()["items"]
        return sorted(c["code"] for c in committees), sorted(t["id"] for t in listed)

    assert await seen(bloc) == (["BLOC", "GR", "GR2", "GR3", "UP", "UP2"], [tasks["GR"]])
    assert await seen(khoi2) == (["GRB", "KHOI2", "UPB"], [tasks["GRB"]])
    assert (await seen(national))[1] == sorted(tasks.values())

    for headers, hidden in ((bloc, "GRB"), (khoi2, "GR")):
        for path in (f"/tasks/{tasks[hidden]}", f"/committees/{hidden}"):
            answer = await api.get(path, headers=headers)
            assert answer.status_code == 404, (path, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
    assert (await api.get(f"/tasks/{tasks['GRB']}", headers=national)).status_code == 200

    users = (await api.get("/users", headers=bloc)).json()["items"]
    assert "staff-grb" not in {u["name"] for u in users}
    assert "board-bloc" in {u["name"] for u in users}


async def test_a_board_cannot_extend_another_organisations_task(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    tasks = await _two_organisations(api, factory)
    bloc = bearer(await factory.token("board", "BLOC", name="board-bloc"))
    before = await factory.counts()
    refused = await api.post(
        f"/tasks/{tasks['GRB']}/extend", headers={**bloc, "Idempotency-Key": "ext-grb"},
        json={"new_due_on": date(2025, 3, 31).isoformat(), "reason": "Kiện toàn tổ chức"},
    )
    assert refused.status_code == 404, refused.text
    assert await factory.counts() == before
