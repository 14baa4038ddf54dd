"""Hostile and careless input: oversized bodies, unknown fields, dates far from the cycle,
overlong text, and Vietnamese text that must come back exactly as it was sent.

Each refusal is problem+json and writes nothing.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from api.models import Submission, TaskChange
from api.settings import Settings
from tests.api.conftest import Live, asgi_client, make_settings, served
from tests.api.factories import PLAN_EVIDENCE, SERVICE, Factory, bearer, opened, record
from tests.api.support import Year

pytestmark = pytest.mark.reliability

LIMIT = 2048
PROBLEM = "application/problem+json"
# The Bloc's name, as a keyboard writes it (NFC) and as some systems store it (NFD: a base
# letter followed by combining marks). Both must come back byte for byte.
BLOC_NFC = unicodedata.normalize("NFC", "Đảng ủy Khối các cơ quan Trung ương")
BLOC_NFD = unicodedata.normalize("NFD", BLOC_NFC)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def padded(body: dict[str, Any], size: int) -> bytes:
    """`body` as JSON, padded with trailing spaces to exactly `size` bytes."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


@pytest.fixture
async def small(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a 2 KiB body limit."""
    async with asgi_client(make_settings(settings.database_url, max_body_bytes=LIMIT)) as client:
        yield client


# Oversized bodies.


async def test_a_body_at_the_limit_is_read_and_one_byte_more_is_413(
    small: httpx.AsyncClient, factory: Factory
) -> None:
    admin = {**bearer(await factory.token("admin")), "Content-Type": "application/json"}
    body = {"code": "BLOC", "name": BLOC_NFC, "level": "root"}
    before = await factory.counts()
    over = await small.post("/committees", content=padded(body, LIMIT + 1), headers=admin)
    assert_problem(over, 413)
    assert await factory.counts() == before
    at_limit = await small.post("/committees", content=padded(body, LIMIT), headers=admin)
    assert at_limit.status_code == 201, at_limit.text


async def test_a_chunked_body_over_the_limit_is_413_over_real_http(
    settings: Settings, factory: Factory, dev_env: WorkflowEnvironment
) -> None:
    admin = {**bearer(await factory.token("admin")), "Content-Type": "application/json"}
    before = await factory.counts()
    limited = make_settings(settings.database_url, max_body_bytes=LIMIT)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: Transfer-Encoding chunked
        yield b'{"code": "BLOC", "level": "root", "name": "'
        for _ in range(10):
            yield "Đảng ủy ".encode() * 40
        yield b'"}'

    async with served(limited, dev_env.client) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/committees", content=chunks(), headers=admin)
        assert response.request.headers.get("transfer-encoding") == "chunked"
        assert_problem(response, 413)
        assert (await client.get("/health")).status_code == 200  # the server carries on
    assert await factory.counts() == before


async def test_the_worker_routes_refuse_oversized_bodies_too(
    small: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    event = opened().model_dump(mode="json")
    event["title_vi"] = "Kế hoạch " * 300
    response = await small.post(
        "/internal/tasks/opened", content=json.dumps(event).encode(),
        headers={**SERVICE, "Content-Type": "application/json"},
    )
    assert_problem(response, 413)


# Unknown fields.

UNKNOWN_FIELD_REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("/committees", {"code": "X1", "name": "Chi bộ X1", "level": "grassroots", "parent": "UP",
                     "budget": 1}),
    ("/users", {"name": "Nguyễn Văn B", "role": "auditor", "is_admin": True}),
    ("/cycles", {"committee": "GR", "year": 2031, "priority": "high"}),
    ("/years/2031/cycles", {"time_scale": 1.0, "dry_run": True}),
]


@pytest.mark.parametrize(("path", "body"), UNKNOWN_FIELD_REQUESTS,
                         ids=[path for path, _ in UNKNOWN_FIELD_REQUESTS])
async def test_an_unknown_field_is_refused_and_nothing_is_written(
    api: httpx.AsyncClient, factory: Factory, path: str, body: dict[str, Any]
) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    before = await factory.counts()
    problem = assert_problem(await api.post(path, json=body, headers=admin), 422)
    unknown = next(k for k in body if k in ("budget", "is_admin", "priority", "dry_run"))
    assert [e["field"] for e in problem["errors"]] == [unknown]
    assert problem["errors"][0]["type"] == "extra_forbidden"
    assert await factory.counts() == before


async def test_every_public_request_body_is_closed_to_unknown_fields(
    api: httpx.AsyncClient,
) -> None:
    """Statically, in the OpenAPI: every object a caller sends says additionalProperties false.

    Two deliberate exceptions: a completion's `evidence` is open in the schema because its shape
    depends on the task, and is checked (unknown fields refused) against the task's kind when it
    arrives; /internal/* takes the workflow's contracts, which ignore fields they do not know, so
    a newer worker can talk to an older API during a rolling deploy.
    """
    spec = (await api.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    open_objects = []

    def visit(schema: dict[str, Any], where: str, seen: set[str]) -> None:
        name = schema.get("$ref", "").rsplit("/", 1)[-1]
        if name:
            if name in seen:
                return
            seen = seen | {name}
            schema = schemas[name]
        if "properties" in schema and schema.get("additionalProperties") is not False:
            open_objects.append(where)
        for key, sub in schema.get("properties", {}).items():
            if f"{where}.{key}" != "POST /tasks/{task_id}/complete.evidence":
                visit(sub, f"{where}.{key}", seen)
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in schema.get(key, []):
                visit(sub, where, seen)
        if "items" in schema:
            visit(schema["items"], f"{where}[]", seen)

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if path.startswith("/internal/") or not content:
                continue
            assert list(content) == ["application/json"], f"{method} {path}"
            visit(content["application/json"]["schema"], f"{method.upper()} {path}", set())
    assert open_objects == []


# Evidence: unknown fields, dates far from the cycle year, overlong text.


async def _open_plan(api: httpx.AsyncClient, factory: Factory) -> tuple[int, dict[str, str]]:
    """A plan task of 2025 opened by the worker; its id and staff headers with its ETag."""
    await factory.tree()
    task = (await record(api, "tasks/opened", opened("GR", "plan"))).json()["id"]
    staff = bearer(await factory.token("staff", "GR"))
    etag = (await api.get(f"/tasks/{task}", headers=staff)).headers["etag"]
    return task, {**staff, "If-Match": etag}


EVIDENCE_REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("unknown field", {**PLAN_EVIDENCE, "approved_by": "x"}, "evidence.approved_by"),
    ("year typed 2301", {**PLAN_EVIDENCE, "document_date": "2301-01-20"},
     "evidence.document_date"),
    ("the first day there is", {**PLAN_EVIDENCE, "document_date": "0001-01-01"},
     "evidence.document_date"),
    ("the last day there is", {**PLAN_EVIDENCE, "document_date": "9999-12-31"},
     "evidence.document_date"),
    ("a Unix timestamp", {**PLAN_EVIDENCE, "document_date": 946684800},
     "evidence.document_date"),
    ("a timestamp as text", {**PLAN_EVIDENCE, "document_date": "946684800"},
     "evidence.document_date"),
    ("summary over 2000", {**PLAN_EVIDENCE, "summary": "ư" * 2001}, "evidence.summary"),
    ("number over 200", {**PLAN_EVIDENCE, "document_number": "Đ" * 201},
     "evidence.document_number"),
]


@pytest.mark.parametrize(("evidence", "field"), [(e, f) for _, e, f in EVIDENCE_REFUSED],
                         ids=[name for name, _, _ in EVIDENCE_REFUSED])
async def test_evidence_is_refused_before_it_reaches_the_workflow(
    api: httpx.AsyncClient, factory: Factory, evidence: dict[str, Any], field: str
) -> None:
    task, staff = await _open_plan(api, factory)
    before = await factory.counts()
    response = await api.post(f"/tasks/{task}/complete", json={"evidence": evidence},
                              headers=staff)
    problem = assert_problem(response, 422)  # Temporal is unreachable here: refused before
    assert [e["field"] for e in problem["errors"]] == [field]
    assert await factory.counts() == before


async def test_evidence_dated_years_before_its_cycle_is_taken(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    """An old recognition decision is fine; the request goes on to the workflow (503 here,
    as Temporal is unreachable in this fixture) instead of being refused as a bad date."""
    task, staff = await _open_plan(api, factory)
    response = await api.post(
        f"/tasks/{task}/complete",
        json={"evidence": {**PLAN_EVIDENCE, "document_date": "2020-12-30"}}, headers=staff,
    )
    assert_problem(response, 503)


# Text length and Vietnamese text.


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/committees", {"code": "X1", "name": "ơ" * 301, "level": "root"}, "name"),
        ("/users", {"name": "Nguyễn " * 29 + "Văn Bảy", "role": "auditor"}, "name"),
        ("/committees", {"code": "Đ" * 3, "name": "Chi bộ", "level": "root"}, "code"),
        ("/committees", {"code": "X" * 65, "name": "Chi bộ", "level": "root"}, "code"),
    ],
    ids=["committee name 301", "user name 210", "code not ASCII", "code 65"],
)
async def test_text_fields_are_length_limited(
    api: httpx.AsyncClient, factory: Factory, path: str, body: dict[str, Any], field: str
) -> None:
    admin = bearer(await factory.token("admin"))
    before = await factory.counts()
    problem = assert_problem(await api.post(path, json=body, headers=admin), 422)
    assert [e["field"] for e in problem["errors"]] == [field]
    assert await factory.counts() == before


async def test_a_reason_over_2000_characters_is_refused(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    task, _ = await _open_plan(api, factory)
    supervisor = bearer(await factory.token("supervisor", "UP"))
    supervisor["If-Match"] = (await api.get(f"/tasks/{task}", headers=supervisor)).headers["etag"]
    for action, body in (("waive", {}), ("extend", {"new_due_on": "2025-03-01"})):
        response = await api.post(f"/tasks/{task}/{action}",
                                  json={**body, "reason": "ạ" * 2001}, headers=supervisor)
        problem = assert_problem(response, 422)
        assert [e["field"] for e in problem["errors"]] == ["reason"]


@pytest.mark.parametrize("name", [BLOC_NFC, BLOC_NFD, "ơ" * 300],
                         ids=["NFC", "NFD", "300 two-byte characters"])
async def test_a_vietnamese_committee_name_comes_back_exactly(
    api: httpx.AsyncClient, factory: Factory, name: str
) -> None:
    admin = bearer(await factory.token("admin"))
    created = await api.post("/committees", json={"code": "BLOC", "name": name, "level": "root"},
                              headers=admin)
    assert created.status_code == 201, created.text
    read = (await api.get("/committees/BLOC", headers=admin)).json()
    listed = (await api.get("/committees", headers=admin)).json()["items"]
    for got in (created.json()["name"], read["name"], listed[0]["name"]):
        assert got == name and got.encode() == name.encode()


# Through the workflow: an extension past the allowed year, and Vietnamese text that travels
# through Temporal and back into the database.


async def test_an_extension_past_the_next_year_is_refused(live: Live, factory: Factory) -> None:
    year = await Year(live, factory).start(time_scale=5.0)
    task = await year.task("plan")
    await year.open_in_workflow("plan")
    for key in ("disseminate", "review"):  # the other first-day tasks: no row may come later
        await year.task(key)
    before = await factory.counts()
    for new_due_on, status in ((f"{year.year + 2}-01-01", 422), ("9999-12-31", 422),
                               ("+10000-01-01", 422), (f"{year.year - 1}-12-31", 422)):
        response = await year.post(task, "extend",
                                   {"new_due_on": new_due_on, "reason": "Lùi hạn"},
                                   year.supervisor)
        problem = assert_problem(response, status)
        assert [e["field"] for e in problem["errors"]] == ["new_due_on"], problem
    counts = await factory.counts()
    refused = counts.pop("audit_events") - before.pop("audit_events")
    assert counts == before and refused == len(await factory.refusals())


async def test_vietnamese_reasons_and_evidence_come_back_exactly(
    live: Live, factory: Factory
) -> None:
    year = await Year(live, factory).start(time_scale=5.0)
    reason = unicodedata.normalize("NFD", "Đơn vị sáp nhập vào Đảng bộ Bộ; miễn thực hiện năm nay")
    evidence = {
        "document_number": "12-KH/ĐU", "document_date": f"{year.year}-01-20",
        "summary": f"{BLOC_NFC} — {BLOC_NFD}: kế hoạch tuyên truyền miệng “năm {year.year}”",
        "attachments": ["kế-hoạch.pdf", "phụ lục 1.docx"],
    }
    plan, review = await year.task("plan"), await year.task("review")
    await year.open_in_workflow("plan")
    await year.open_in_workflow("review")
    completed = await year.post(plan, "complete", {"evidence": evidence}, year.staff)
    waived = await year.post(review, "waive", {"reason": reason}, year.supervisor)
    assert completed.status_code == 200, completed.text
    assert waived.status_code == 200, waived.text
    assert waived.json()["reason"] == reason

    detail = (await live.client.get(f"/cycles/{year.cycle['id']}", headers=year.board)).json()
    assert next(i for i in detail["items"] if i["key"] == "review")["reason"] == reason
    async with factory.sessions() as session:
        stored_evidence = (await session.scalars(select(Submission.evidence))).one()
        stored_reason = (await session.scalars(select(TaskChange.reason))).one()
    assert stored_reason.encode() == reason.encode()
    assert {k: stored_evidence[k] for k in evidence} == evidence
    assert stored_evidence["summary"].encode() == evidence["summary"].encode()


@pytest.mark.parametrize("scale", [1e-9, 0.0009, 86_401])
async def test_a_time_scale_no_calendar_can_keep_is_refused(
    api: httpx.AsyncClient, factory: Factory, scale: float
) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    for path, body in (("/cycles", {"committee": "GR", "year": 2031, "time_scale": scale}),
                       ("/years/2031/cycles", {"time_scale": scale})):
        problem = assert_problem(await api.post(path, json=body, headers=admin), 422)
        assert [e["field"] for e in problem["errors"]] == ["time_scale"]


@pytest.mark.parametrize(
    "url", ["/tasks/120033856598503723282464768", "/cycles/99999999999999999999",
            "/tasks?offset=99999999999999999999999"],
    ids=["task id past 64 bits", "cycle id past 64 bits", "offset past 64 bits"],
)
async def test_a_number_no_column_can_hold_is_422_not_500(
    api: httpx.AsyncClient, factory: Factory, url: str
) -> None:
    board = bearer(await factory.token("board"))
    problem = assert_problem(await api.get(url, headers=board), 422)
    assert problem["type"] == "/problems/out-of-range"
