"""The permission matrix: every route of the app x every role x inside/outside the caller's reach.

The cells come from `app.routes`, not from the table, so a new route without a row in EXPECTED
fails here. Each cell asserts the exact status on a live stack (served app, worker, dev server)
per backend. On the way it checks that every error is a problem a person can act on, that a
refused write writes nothing but its audit event, and that every successful write is
remembered for its Idempotency-Key: repeated, it is replayed; with another body, it is 422.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from tests.api.conftest import make_settings
from tests.api.matrix import BUILDERS, PLACES, ROLES, Call, World, build_world
from tests.conftest import database_params

Status = int | tuple[int, int]  # one status for both places, or (inside, outside)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def people(
    *, staff: Status, supervisor: Status, board: Status, auditor: Status, admin: Status
) -> dict[str, Status]:
    """A route for people: the worker's token is refused there (403), no token is 401."""
    return {"staff": staff, "supervisor": supervisor, "board": board, "auditor": auditor,
            "admin": admin, "service": 403, "anonymous": 401}


def worker_only(ok: int) -> dict[str, Status]:
    """A route for the worker's service identity alone."""
    return {**{role: 403 for role in ROLES}, "service": ok, "anonymous": 401}


OPEN: dict[str, Status] = {role: 200 for role in ROLES}
EVERYONE = people(staff=200, supervisor=200, board=200, auditor=200, admin=200)
IN_REACH = people(staff=(200, 404), supervisor=(200, 404), board=200, auditor=200, admin=200)
SUPERVISES = people(staff=(403, 404), supervisor=(200, 404), board=200, auditor=403, admin=200)
KEEPS = people(staff=(201, 404), supervisor=(403, 404), board=403, auditor=403, admin=201)
AUDITS = people(staff=(403, 404), supervisor=(403, 404), board=200, auditor=200, admin=200)

EXPECTED: dict[str, dict[str, Status]] = {
    "GET /health": OPEN,
    "GET /metrics": OPEN,
    "GET /openapi.json": OPEN,
    "GET /docs": OPEN,
    "GET /redoc": OPEN,
    "MOUNT /static/api-docs": OPEN,
    "POST /committees": people(staff=403, supervisor=403, board=403, auditor=403, admin=201),
    "GET /committees": EVERYONE,
    "GET /committees/{code}": IN_REACH,
    "POST /users": people(staff=403, supervisor=403, board=403, auditor=403, admin=201),
    "GET /users": people(staff=403, supervisor=403, board=200, auditor=200, admin=200),
    "POST /users/{user_id}/revoke": people(
        staff=403, supervisor=403, board=403, auditor=403, admin=200
    ),
    "POST /users/{user_id}/password-link": people(
        staff=403, supervisor=403, board=403, auditor=403, admin=201
    ),
    "POST /cycles": people(
        staff=(403, 404), supervisor=(403, 404), board=200, auditor=403, admin=200
    ),
    "POST /years/{year}/cycles": people(
        staff=403, supervisor=403, board=200, auditor=403, admin=200
    ),
    "GET /cycles": EVERYONE,
    "GET /cycles/stuck": people(staff=403, supervisor=403, board=200, auditor=200, admin=200),
    "GET /cycles/{cycle_id}": IN_REACH,
    "GET /tasks": EVERYONE,
    "GET /tasks/{task_id}": IN_REACH,
    "POST /tasks/{task_id}/complete": people(
        staff=(200, 404), supervisor=(403, 404), board=403, auditor=403, admin=403
    ),
    "POST /tasks/{task_id}/extend": SUPERVISES,
    "POST /tasks/{task_id}/waive": SUPERVISES,
    "POST /cycles/{cycle_id}/tasks/{task_key}/extend": SUPERVISES,
    "POST /cycles/{cycle_id}/tasks/{task_key}/waive": SUPERVISES,
    "GET /escalations": EVERYONE,
    "POST /internal/tasks/opened": worker_only(201),
    "POST /internal/tasks/completed": worker_only(201),
    "POST /internal/ladder": worker_only(201),
    "POST /internal/tasks/changed": worker_only(201),
    "POST /internal/cycles/closed": worker_only(201),
    "POST /internal/years/{year}/cycles": worker_only(200),
    # Rosters, reports, summaries, templates and the tree over time.
    "GET /committees/{code}/reporters": IN_REACH,
    "POST /committees/{code}/reporters": people(
        staff=(201, 404), supervisor=(403, 404), board=403, auditor=403, admin=201
    ),
    "POST /reporters/{reporter_id}/leave": people(
        staff=(200, 404), supervisor=(403, 404), board=403, auditor=403, admin=200
    ),
    "POST /committees/{code}/moves": people(
        staff=403, supervisor=403, board=403, auditor=403, admin=201
    ),
    "GET /committees/{code}/parents": IN_REACH,
    "POST /templates": people(staff=403, supervisor=403, board=403, auditor=403, admin=201),
    "GET /templates": EVERYONE,
    "GET /templates/{code}/versions/{version}": EVERYONE,
    "GET /tasks/{task_id}/draft": IN_REACH,
    "GET /tasks/{task_id}/report/export": IN_REACH,
    "GET /committees/{code}/summary": IN_REACH,
    "GET /committees/{code}/summary/export": IN_REACH,
    # Registers: staff keep their own committee's; whoever sees a committee reads them.
    "POST /committees/{code}/registers/activities": KEEPS,
    "GET /committees/{code}/registers/activities": IN_REACH,
    "GET /committees/{code}/registers/activities/{entry_id}": IN_REACH,
    "POST /committees/{code}/registers/activities/{entry_id}/correct": people(
        staff=(200, 404), supervisor=(403, 404), board=403, auditor=403, admin=200
    ),
    "POST /committees/{code}/registers/activities/{entry_id}/withdraw": people(
        staff=(200, 404), supervisor=(403, 404), board=403, auditor=403, admin=200
    ),
    # Auditing (board, auditor, admin): history, timeline, state, replay, cross-check, verify.
    "GET /cycles/{cycle_id}/history": AUDITS,
    "GET /cycles/{cycle_id}/timeline": AUDITS,
    "GET /cycles/{cycle_id}/state": AUDITS,
    "POST /cycles/{cycle_id}/replay": AUDITS,
    "GET /cycles/{cycle_id}/audit-check": AUDITS,
    "GET /audit/verify": people(staff=403, supervisor=403, board=200, auditor=200, admin=200),
    "POST /internal/ladder/withdrawn": worker_only(201),
    # The caller's own in-app notifications.
    "GET /notifications": EVERYONE,
    "POST /notifications/{notification_id}/read": EVERYONE,
    "PUT /users/me/preferences": EVERYONE,
    "GET /notifications/deliveries": people(
        staff=403, supervisor=403, board=403, auditor=403, admin=200
    ),
    "POST /notifications/deliveries/{delivery_id}/resend": people(
        staff=403, supervisor=403, board=403, auditor=403, admin=200
    ),
}


WEB_PREFIX = "/web"


def is_web_page(route: object) -> bool:
    """A page of the web workspace: under /web and left out of the OpenAPI schema (or the
    mount of its static assets). Pages answer with HTML, redirects and cookies, not problems
    for bearer tokens, so their cells live in tests/web: signed out is sent to sign-in, another
    committee's task is 404, a form without its CSRF token is 403, and completing goes through
    the same service as POST /tasks/{task_id}/complete, so that route's row here covers its
    rights. Anything else under /web (an API route that slipped in) still needs a row."""
    path = getattr(route, "path", "")
    if not (path == WEB_PREFIX or path.startswith(WEB_PREFIX + "/")):
        return False
    return getattr(route, "include_in_schema", True) is False or not hasattr(route, "methods")


def app_routes(app: FastAPI) -> list[str]:
    """Every "METHOD /path" the app serves, included routers flattened as FastAPI serves them
    (HEAD beside GET is GET's twin; a mount or websocket is listed by its kind). The web
    workspace's pages are left to tests/web (is_web_page)."""
    found = []
    for route in iter_route_contexts(app.routes):
        if is_web_page(route.original_route):
            continue
        if route.methods is None:
            found.append(f"{type(route.original_route).__name__.upper()} {route.path}")
            continue
        methods = set(route.methods)
        if "GET" in methods:
            methods.discard("HEAD")
        found += [f"{method} {route.path}" for method in sorted(methods)]
    return sorted(found)


APP = create_app(make_settings("sqlite+aiosqlite:///matrix-collection-only.db"))
APP_ROUTES = app_routes(APP)
CELLS = [(route, role, place) for route in APP_ROUTES for role in ROLES for place in PLACES]


def expected(route: str, role: str, place: str) -> int:
    value = EXPECTED[route][role]
    return value if isinstance(value, int) else value[PLACES.index(place)]


@pytest.fixture(scope="module", params=database_params())
async def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
    dev_env: WorkflowEnvironment,
) -> AsyncIterator[World]:
    async with build_world(request.param, tmp_path_factory.mktemp("matrix"), dev_env) as built:
        yield built


def test_every_route_has_a_row_and_every_row_a_route() -> None:
    missing = [route for route in APP_ROUTES if route not in EXPECTED]
    stale = [route for route in EXPECTED if route not in APP_ROUTES]
    assert missing == [], f"routes without a row in EXPECTED (say what each role gets): {missing}"
    assert stale == [], f"rows in EXPECTED for routes the app no longer has: {stale}"
    assert sorted(BUILDERS) == sorted(EXPECTED), "every row needs a request in BUILDERS"


def test_every_write_takes_an_idempotency_key() -> None:
    schema = APP.openapi()
    lacking = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method.upper() in WRITES
        and "Idempotency-Key" not in {p["name"] for p in operation.get("parameters", [])}
    ]
    assert lacking == [], f"writes without Idempotency-Key (add IdempotencyDep): {lacking}"


async def _send(world: World, call: Call, role: str, key: str) -> httpx.Response:
    headers = {**world.headers(role), **call.headers}
    if key:
        headers["Idempotency-Key"] = key
    return await world.client.request(call.method, call.path, json=call.json, headers=headers)


def _check_problem(response: httpx.Response, status: int) -> None:
    """RFC 9457: a type, a title and a detail a person can act on."""
    assert response.headers["content-type"] == "application/problem+json", response.text
    problem = response.json()
    assert problem["status"] == status
    assert problem["type"] and problem["title"] and problem["detail"], problem
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("route", "role", "place"), CELLS)
async def test_cell(world: World, route: str, role: str, place: str) -> None:
    assert route in EXPECTED and route in BUILDERS, f"{route} has no row in EXPECTED"
    want = expected(route, role, place)
    succeeds = 200 <= want < 300
    call = await BUILDERS[route](world, role, place, succeeds)
    write = call.method in WRITES
    key = f"matrix-{uuid.uuid4().hex}" if write else ""
    before = await world.factory.counts() if write else {}

    response = await _send(world, call, role, key)

    assert response.status_code == want, f"{route} as {role} {place}: {response.text[:400]}"
    if not succeeds:
        _check_problem(response, want)
    if not write:
        return
    after = await world.factory.counts()
    if not succeeds:
        audited = int(want == 403)  # a refused write is audited, in its own transaction
        assert after == {**before, "audit_events": before["audit_events"] + audited}
        if audited:
            refusal = (await world.factory.refusals())[-1]
            assert (refusal.actor, refusal.subject, refusal.payload["status"]) == (
                world.actor(role), call.path, 403
            )
        return
    assert await world.remembered(role, key) == want  # with the work, or right after it
    replay = await _send(world, call, role, key)
    first = response.json()
    if route == "POST /users":
        first["token"] = None  # the token is shown once and stored nowhere in clear
    assert (replay.status_code, replay.json()) == (want, first)
    assert replay.headers["idempotent-replayed"] == "true"
    assert await world.factory.counts() == after
    reused = await _send(world, Call(call.method, call.path, {"another": "body"}, call.headers),
                         role, key)
    assert reused.status_code == 422
    assert reused.json()["type"] == "/problems/idempotency-key-reused"
