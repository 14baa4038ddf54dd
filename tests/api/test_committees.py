"""Committees: admin creates them; everyone sees only the part of the tree in their reach."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.models import AuditEvent, Committee
from tests.api.factories import Factory, bearer


async def test_admin_creates_a_tree(api: httpx.AsyncClient, factory: Factory) -> None:
    admin = bearer(await factory.token("admin"))
    for body in (
        {"code": "BLOC", "name": "Đảng ủy Khối", "level": "root"},
        {"code": "BTC", "name": "Đảng ủy Ban Tổ chức", "level": "upper", "parent": "BLOC"},
        {"code": "BTC-V1", "name": "Đảng bộ Vụ 1", "level": "grassroots", "parent": "BTC"},
    ):
        response = await api.post("/committees", json=body, headers=admin)
        assert response.status_code == 201, response.text
        assert response.headers["location"] == f"/committees/{body['code']}"
    got = await api.get("/committees/BTC-V1", headers=admin)
    assert got.json() == {
        "code": "BTC-V1", "name": "Đảng bộ Vụ 1", "level": "grassroots", "parent": "BTC",
        "active": True,
    }
    assert await factory.count(AuditEvent) == 4  # the admin user, then three committees


async def test_duplicate_code_is_409(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    body = {"code": "GR", "name": "again", "level": "grassroots", "parent": "UP"}
    response = await api.post("/committees", json=body, headers=admin)
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/conflict"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"code": "bad code!", "name": "x", "level": "grassroots", "parent": "UP"}, ["code"]),
        ({"code": "A", "name": "", "level": "grassroots", "parent": "UP"}, ["name"]),
        ({"code": "A", "name": "x" * 301, "level": "grassroots", "parent": "UP"}, ["name"]),
        ({"code": "A", "name": "x", "level": "cell", "parent": "UP"}, ["level"]),
        ({"code": "A", "name": "x", "level": "grassroots", "parent": "UP", "x": 1}, ["x"]),
        ({"code": 7, "name": "x", "level": "grassroots", "parent": "UP"}, ["code"]),
        ({"code": "A", "name": "a\x00b", "level": "grassroots", "parent": "UP"}, ["name"]),
        ({"name": "x", "level": "grassroots"}, ["code"]),
        ({"code": "A", "name": "x", "level": "grassroots"}, ["parent"]),
        ({"code": "A", "name": "x", "level": "root", "parent": "BLOC"}, ["parent"]),
        ({"code": "A", "name": "x", "level": "grassroots", "parent": "NOPE"}, ["parent"]),
        ({"code": "A", "name": "x", "level": "upper", "parent": "GR"}, ["parent"]),
    ],
    ids=["code-pattern", "name-empty", "name-long", "level", "extra", "code-int", "nul",
         "missing", "no-parent", "root-with-parent", "unknown-parent", "grassroots-parent"],
)
async def test_invalid_committee_is_422_with_fields_and_writes_nothing(
    api: httpx.AsyncClient, factory: Factory, body: dict[str, Any], fields: list[str]
) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    before = await factory.counts()
    response = await api.post("/committees", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == fields
    assert all(e["pointer"] == "/" + e["field"] for e in problem["errors"])
    assert await factory.counts() == before


@pytest.mark.parametrize(
    ("body", "line", "column", "position"),
    [(b'{"code": "A",', 1, 14, 13), (b'{\n  "code": "A",\n  "name": x\n}', 3, 11, 27),
     (b"41", None, None, None), (b"", None, None, None), (b'{"name": "B\xc3\xacnh" ,}', 1, 18, 17)],
    ids=["truncated", "third-line", "a-number", "empty", "trailing-comma"],
)
async def test_malformed_json_is_a_400_naming_line_and_column(
    api: httpx.AsyncClient, factory: Factory, body: bytes, line: int | None,
    column: int | None, position: int | None,
) -> None:
    admin = await factory.token("admin")
    before = await factory.counts()
    response = await api.post(
        "/committees", content=body,
        headers={**bearer(admin), "Content-Type": "application/json"},
    )
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    if line is None:  # JSON, only not an object (or no body at all): the fields are invalid
        assert response.status_code == 422, response.text
        assert problem["type"] == "/problems/validation"
    else:
        assert response.status_code == 400, response.text
        assert problem["type"] == "/problems/malformed-json"
        assert (problem["line"], problem["column"], problem["position"]) == (line, column, position)
        assert f"at line {line}, column {column}" in problem["detail"]
        assert "errors" not in problem
    assert await factory.counts() == before


@pytest.mark.parametrize("body", [b'{"name": "\xff"}', b"[" * 100_000],
                         ids=["not-utf8", "nested-too-deeply"])
async def test_a_body_that_cannot_be_read_as_json_is_a_400_saying_why(
    api: httpx.AsyncClient, factory: Factory, body: bytes
) -> None:
    admin = await factory.token("admin")
    response = await api.post(
        "/committees", content=body,
        headers={**bearer(admin), "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["type"] == "/problems/malformed-json"
    assert "UTF-8" in problem["detail"] and "nests too deeply" in problem["detail"]


@pytest.mark.parametrize("role", ["staff", "supervisor", "board", "auditor"])
async def test_only_admin_creates_committees(
    api: httpx.AsyncClient, factory: Factory, role: str
) -> None:
    await factory.tree()
    token = await factory.token(role, "UP" if role in ("staff", "supervisor") else None)
    body = {"code": "NEW", "name": "x", "level": "grassroots", "parent": "UP"}
    response = await api.post("/committees", json=body, headers=bearer(token))
    assert response.status_code == 403
    assert await factory.count(Committee) == 6


async def test_reach_limits_what_each_role_sees(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    seen = {}
    for role, committee in (("staff", "GR"), ("supervisor", "UP"), ("board", "BLOC"),
                            ("auditor", None), ("admin", None)):
        token = await factory.token(role, committee)
        listed = await api.get("/committees", headers=bearer(token))
        seen[role] = [c["code"] for c in listed.json()["items"]]
    everyone = ["BLOC", "GR", "GR2", "GR3", "UP", "UP2"]
    assert seen == {
        "staff": ["GR"], "supervisor": ["GR", "GR2", "UP"], "board": everyone,
        "auditor": everyone, "admin": everyone,
    }


async def test_outside_reach_is_404_like_missing(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    supervisor = bearer(await factory.token("supervisor", "UP"))
    assert (await api.get("/committees/GR2", headers=supervisor)).status_code == 200
    hidden = await api.get("/committees/GR3", headers=supervisor)
    missing = await api.get("/committees/NOPE", headers=supervisor)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["title"] == missing.json()["title"]


async def test_filters_by_parent_and_level(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    board = bearer(await factory.token("board"))
    under_up = await api.get("/committees", params={"parent": "UP"}, headers=board)
    assert [c["code"] for c in under_up.json()["items"]] == ["GR", "GR2"]
    upper = await api.get("/committees", params={"level": "upper"}, headers=board)
    assert [c["code"] for c in upper.json()["items"]] == ["UP", "UP2"]
    bad = await api.get("/committees", params={"level": "cell"}, headers=board)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["location"] == "query"
