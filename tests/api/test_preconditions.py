"""If-Match on complete, extend and waive: required (428), a list of quoted entity tags (400
otherwise, `*` included), matched strongly (412), and only where the change could otherwise
succeed (a closed task is 409 whatever version was seen)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from domain.template import Rung
from tests.api.factories import PLAN_EVIDENCE, Factory, bearer, completion, ladder, opened, record

ACTIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("complete", "staff", {"evidence": PLAN_EVIDENCE}),
    ("extend", "supervisor", {"new_due_on": "2025-03-01", "reason": "Đang kiện toàn"}),
    ("waive", "supervisor", {"reason": "Đơn vị sáp nhập"}),
]
COMMITTEE = {"staff": "GR", "supervisor": "UP"}


async def _plan(api: httpx.AsyncClient, factory: Factory) -> int:
    await factory.tree()
    return int((await record(api, "tasks/opened", opened("GR", "plan"))).json()["id"])


@pytest.mark.parametrize(("action", "role", "body"), ACTIONS, ids=[a[0] for a in ACTIONS])
@pytest.mark.parametrize("if_match", [None, "", "  "], ids=["missing", "empty", "blank"])
async def test_without_if_match_is_428_and_writes_nothing(
    api: httpx.AsyncClient, factory: Factory, action: str, role: str, body: dict[str, Any],
    if_match: str | None,
) -> None:
    task = await _plan(api, factory)
    headers = bearer(await factory.token(role, COMMITTEE[role]))
    if if_match is not None:
        headers["If-Match"] = if_match
    before = await factory.counts()
    response = await api.post(f"/tasks/{task}/{action}", json=body, headers=headers)
    assert response.status_code == 428, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["type"], problem["title"]) == (
        "/problems/precondition-required", "Precondition required"
    )
    assert f"GET /tasks/{task}" in problem["detail"]
    assert "etag" not in response.headers  # a blind retry must read the task first
    assert await factory.counts() == before


@pytest.mark.parametrize(
    ("if_match", "status"),
    [('"1"', 412), ('W/"2"', 412), ('"3"', 412), ('"2"', 503), ('"1", "2"', 503),
     ('"1","2"', 503), (' "2" ', 503)],
    ids=["stale", "weak", "future", "current", "list", "list-no-space", "padded"],
)
async def test_if_match_is_compared_strongly_against_the_version(
    api: httpx.AsyncClient, factory: Factory, if_match: str, status: int
) -> None:
    task = await _plan(api, factory)
    await record(api, "ladder", ladder("GR", rung=Rung.REMINDER))  # version 1 -> 2
    headers = {**bearer(await factory.token("staff", "GR")), "If-Match": if_match}
    response = await api.post(
        f"/tasks/{task}/complete", json={"evidence": PLAN_EVIDENCE}, headers=headers
    )
    # 503: the precondition held and the update went on to Temporal, unreachable here.
    assert response.status_code == status, response.text
    if status == 412:
        assert response.headers["etag"] == '"2"'
        detail = response.json()["detail"]
        assert ("never match" if if_match.startswith("W/") else "GET it again") in detail


@pytest.mark.parametrize(("action", "role", "body"), ACTIONS, ids=[a[0] for a in ACTIONS])
@pytest.mark.parametrize(
    ("if_match", "says"),
    [("1", 'If-Match: "1", not If-Match: 1'), ("2", 'If-Match: "2", not If-Match: 2'),
     ('"2', 'If-Match: "2", not If-Match: "2'), ("'2'", "double quotes"),
     ('"2", 3', "double quotes"), ('"1" "2"', "double quotes"), ("*", "whatever"),
     (" * ", "whatever")],
    ids=["unquoted", "unquoted-current", "half-quoted", "single-quoted", "list-with-unquoted",
         "no-comma", "any", "any-padded"],
)
async def test_a_malformed_if_match_is_400_saying_what_is_wrong_and_writes_nothing(
    api: httpx.AsyncClient, factory: Factory, action: str, role: str, body: dict[str, Any],
    if_match: str, says: str,
) -> None:
    task = await _plan(api, factory)
    await record(api, "ladder", ladder("GR", rung=Rung.REMINDER))  # version 1 -> 2
    headers = {**bearer(await factory.token(role, COMMITTEE[role])), "If-Match": if_match}
    before = await factory.counts()
    response = await api.post(f"/tasks/{task}/{action}", json=body, headers=headers)
    # 400, never 412 (nothing changed) nor 503 (the change went on towards Temporal).
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["type"], problem["title"], problem["header"]) == (
        "/problems/malformed-header", "Malformed header", "If-Match"
    )
    assert says in problem["detail"]
    assert f"GET /tasks/{task}" in problem["detail"]
    assert "etag" not in response.headers
    assert await factory.counts() == before


async def test_a_closed_task_is_409_even_with_a_stale_etag(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    task = await _plan(api, factory)
    await record(api, "tasks/completed", completion("GR"))
    headers = {**bearer(await factory.token("staff", "GR")), "If-Match": '"1"'}
    response = await api.post(
        f"/tasks/{task}/complete", json={"evidence": PLAN_EVIDENCE}, headers=headers
    )
    assert response.status_code == 409
    assert response.json()["rejection"] == "TaskNotOpen"


async def test_a_precondition_is_checked_only_for_a_caller_who_may_act(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    task = await _plan(api, factory)
    outsider = bearer(await factory.token("staff", "GR3"))
    auditor = bearer(await factory.token("auditor"))
    body = {"evidence": PLAN_EVIDENCE}
    hidden = await api.post(f"/tasks/{task}/complete", json=body, headers=outsider)
    refused = await api.post(f"/tasks/{task}/complete", json=body, headers=auditor)
    assert (hidden.status_code, refused.status_code) == (404, 403)
