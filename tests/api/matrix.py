"""The permission matrix's world and requests: one database and one live stack per backend.

The world: the TREE, one user per role, and cycles on a frozen calendar (one calendar day per
real day, from 1 January) so their first tasks are open and nothing else moves while the cells
run. A cell that must succeed on a task takes a fresh one from a pool; a refused cell reuses one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import BackendActivities
from api.db import Sessions, make_engine, make_sessions
from api.models import (
    Channel,
    Committee,
    IdempotencyKey,
    Notification,
    NotificationDelivery,
    Role,
    User,
)
from api.services.access import Principal
from api.services.idempotency import stored_key
from api.services.notify import delivery_key
from domain.calendar import HCM
from domain.contracts import TaskOpened
from domain.template import EvidenceKind, Rung
from tests.api.conftest import _terminate_cycles, _years, fresh_database, make_settings, served
from tests.api.factories import (
    SERVICE,
    SERVICE_TOKEN,
    Factory,
    bearer,
    closed,
    completion,
    ladder,
    opened,
    record,
    waived,
)
from tests.api.support import eventually
from tests.conftest import unique_queue
from tests.domain.samples import EVIDENCE
from workflows import CommitteeCycle
from workflows.sandbox import workflow_runner

ROLES = ("staff", "supervisor", "board", "auditor", "admin", "service", "anonymous")
PLACES = ("inside", "outside")
# Inside: the staff's own committee, in the supervisor's subtree. Outside: in neither.
COMMITTEE = {"inside": "GR", "outside": "GR3"}
PARENT = {"inside": "UP", "outside": "UP2"}
USERS = {"staff": ("staff", "GR"), "supervisor": ("supervisor", "UP"),
         "board": ("board", "BLOC"), "auditor": ("auditor", None), "admin": ("admin", None)}
FROZEN = 86_400.0  # seconds per calendar day: the calendar stands still during the run
SCRATCH = "GR2"  # where the worker-only routes record events no workflow owns
SCRATCH_YEAR = 2199


@dataclass
class Call:
    """One request of a cell."""

    method: str
    path: str
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    client: httpx.AsyncClient
    sessions: Sessions
    factory: Factory
    tokens: dict[str, str]
    year: int  # cycles with open tasks
    idle_year: int  # cycles started by the cells: real time, years ahead, so they stay idle
    cycles: dict[str, int] = field(default_factory=dict)  # place -> a cycle's id
    shared: dict[str, dict[str, Any]] = field(default_factory=dict)  # place -> a task
    pool: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # place -> fresh tasks
    serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    taken: set[tuple[int, str]] = field(default_factory=set)  # unopened tasks a cell changed

    def headers(self, role: str) -> dict[str, str]:
        if role == "anonymous":
            return {}
        if role == "service":
            return dict(SERVICE)
        return bearer(self.tokens[role])

    def actor(self, role: str) -> str:
        return "worker" if role == "service" else f"matrix-{role}"

    def fresh(self, place: str, evidence: EvidenceKind | None = None) -> dict[str, Any]:
        """An open task no other cell has touched, for a cell that changes it."""
        for task in self.pool[place]:
            if evidence is None or task["evidence_kind"] == evidence.value:
                self.pool[place].remove(task)
                return task
        raise AssertionError(f"the {place} pool has no fresh {evidence or 'task'} left")

    async def remembered(self, role: str, key: str) -> int | None:
        """The status remembered for `role`'s Idempotency-Key, if any."""
        async with self.sessions() as session:
            user_id = await session.scalar(select(User.id).where(User.name == self.actor(role)))
            principal = Principal(name=self.actor(role), role=Role(USERS.get(role, (role,))[0]),
                                  user_id=user_id)
            return await session.scalar(
                select(IdempotencyKey.response_status).where(
                    IdempotencyKey.key == stored_key(principal=principal, key=key)
                )
            )

    async def unopened(self, place: str, *, take: bool) -> tuple[int, dict[str, Any]]:
        """A task of one of the place's cycles that has not opened, has no row (no other cell
        wrote one) and that no other task waits for (changing it opens nothing else); taken,
        for a cell that changes it."""
        board = self.headers("board")
        cycles = (await self.client.get(
            "/cycles", params={"committee": COMMITTEE[place], "limit": 50}, headers=board
        )).json()["items"]
        for cycle in cycles:
            response = await self.client.get(f"/cycles/{cycle['id']}", headers=board)
            items: list[dict[str, Any]] = response.json()["items"]
            awaited = {key for item in items for key in item["prerequisites"]}
            for item in items:
                if (item["state"] == "pending" and item["task_id"] is None
                        and item["key"] not in awaited
                        and (cycle["id"], item["key"]) not in self.taken):
                    if take:
                        self.taken.add((cycle["id"], item["key"]))
                    return cycle["id"], item
        raise AssertionError(f"the {place} cycles have no unopened task left")

    async def etag(self, task: dict[str, Any]) -> str:
        response = await self.client.get(f"/tasks/{task['id']}", headers=self.headers("board"))
        return str(response.headers["etag"])


@contextlib.asynccontextmanager
async def build_world(
    kind: str, directory: Path, dev_env: WorkflowEnvironment
) -> AsyncIterator[World]:
    async with fresh_database(kind, directory) as url:
        engine = make_engine(url)
        sessions = make_sessions(engine)
        factory = Factory(sessions)
        await factory.tree()
        tokens = {role: await factory.token(r, c, name=f"matrix-{role}")
                  for role, (r, c) in USERS.items()}
        settings = make_settings(url, task_queue=unique_queue("matrix"))
        try:
            async with served(settings, dev_env.client) as api_url:
                backend = BackendActivities(api_url=api_url, service_token=SERVICE_TOKEN)
                worker = Worker(
                    dev_env.client, task_queue=settings.task_queue,
                    workflows=[CommitteeCycle], activities=backend.all(),
                    workflow_runner=workflow_runner(),
                )
                async with worker, httpx.AsyncClient(base_url=api_url, timeout=30) as client:
                    world = World(client=client, sessions=sessions, factory=factory,
                                  tokens=tokens, year=next(_years), idle_year=next(_years))
                    try:
                        await _start_cycles(world)
                        yield world
                    finally:
                        await _terminate_cycles(dev_env.client, sessions)
                        await backend.aclose()
        finally:
            await engine.dispose()


async def _start_cycles(world: World) -> None:
    """Every committee's cycle in `year`, and more of GR and GR3 for the pools; 3 tasks each."""
    admin = world.headers("admin")
    started = await world.client.post(
        f"/years/{world.year}/cycles", json={"time_scale": FROZEN}, headers=admin
    )
    assert started.status_code == 200 and started.json()["started"] == 5, started.text
    extra = [("GR", next(_years)) for _ in range(3)] + [("GR3", next(_years)) for _ in range(2)]
    responses = await asyncio.gather(*(
        world.client.post(
            "/cycles", json={"committee": committee, "year": year, "time_scale": FROZEN},
            headers=admin,
        )
        for committee, year in extra
    ))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    wanted = 3 * (5 + len(extra))

    async def all_open() -> list[dict[str, Any]] | None:
        response = await world.client.get(
            "/tasks", params={"limit": 500}, headers=world.headers("board")
        )
        items: list[dict[str, Any]] = response.json()["items"]
        return items if len(items) == wanted else None

    tasks = await eventually(all_open, within=60)
    everything = (await world.client.get(
        "/cycles", params={"limit": 500}, headers=admin
    )).json()["items"]
    # A row is written a moment before its workflow holds the task open.
    await asyncio.gather(*(
        eventually(_workflow_holds_open(world, cycle["id"]), within=30) for cycle in everything
    ))
    cycles = [c for c in everything if c["year"] == world.year]
    for place, code in COMMITTEE.items():
        world.cycles[place] = next(c["id"] for c in cycles if c["committee"] == code)
        world.shared[place] = next(
            t for t in tasks
            if (t["committee"], t["year"], t["key"]) == (code, world.year, "plan")
        )
        # Plan tasks stay out: closing one opens the roster, a write the cells did not make.
        world.pool[place] = [t for t in tasks if t["committee"] == code and t["key"] != "plan"]


def _workflow_holds_open(world: World, cycle_id: int) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        response = await world.client.get(f"/cycles/{cycle_id}", headers=world.headers("board"))
        body = response.json()
        opened = [i for i in body["items"] if i["task_id"] is not None]
        return body["source"] == "workflow" and len(opened) == 3 and all(
            i["state"] == "open" for i in opened
        )

    probe.__name__ = f"cycle {cycle_id} open in its workflow"
    return probe


Builder = Callable[[World, str, str, bool], Awaitable[Call]]


def _static(method: str, path: str) -> Builder:
    async def build(world: World, role: str, place: str, succeeds: bool) -> Call:
        return Call(method, path)

    return build


async def _committee(world: World, role: str, place: str, succeeds: bool) -> Call:
    return Call("GET", f"/committees/{COMMITTEE[place]}")


async def _new_committee(world: World, role: str, place: str, succeeds: bool) -> Call:
    code = f"M{next(world.serial)}"
    return Call("POST", "/committees", {"code": code, "name": f"Chi bộ {code}",
                                        "level": "grassroots", "parent": PARENT[place]})


async def _new_user(world: World, role: str, place: str, succeeds: bool) -> Call:
    return Call("POST", "/users", {"name": f"matrix-new-{next(world.serial)}", "role": "staff",
                                   "committee": COMMITTEE[place]})


async def _revoke(world: World, role: str, place: str, succeeds: bool) -> Call:
    name = f"matrix-doomed-{next(world.serial)}"
    await world.factory.token("staff", COMMITTEE[place], name=name)
    async with world.sessions() as session:
        user_id = await session.scalar(select(User.id).where(User.name == name))
    return Call("POST", f"/users/{user_id}/revoke", {"reason": "left the committee"})


async def _password_link(world: World, role: str, place: str, succeeds: bool) -> Call:
    name = f"matrix-forgetful-{next(world.serial)}"
    await world.factory.token("staff", COMMITTEE[place], name=name)
    async with world.sessions() as session:
        user_id = await session.scalar(select(User.id).where(User.name == name))
    return Call("POST", f"/users/{user_id}/password-link")


async def _notice(world: World, role: str, place: str, status: str) -> NotificationDelivery:
    """A delivery of a fresh notification to the caller (to the staff for the worker or no
    one): in-app and sent, or by email and failed."""
    owner = f"matrix-{role if role in USERS else 'staff'}"
    at = datetime.now(HCM)
    async with world.sessions() as session:
        user_id = await session.scalar(select(User.id).where(User.name == owner))
        committee_id = await session.scalar(
            select(Committee.id).where(Committee.code == COMMITTEE[place])
        )
        assert user_id is not None and committee_id is not None
        note = Notification(recipient_committee_id=committee_id, kind="reminder",
                            message="Nhắc việc", created_at=at)
        session.add(note)
        await session.flush()
        channel = Channel.IN_APP if status == "sent" else Channel.EMAIL
        delivery = NotificationDelivery(
            delivery_key=delivery_key(note.id, user_id, channel), notification_id=note.id,
            user_id=user_id, channel=channel.value, status=status, attempts=1,
            next_attempt_at=at, created_at=at,
        )
        session.add(delivery)
        await session.commit()
        return delivery


async def _read_notice(world: World, role: str, place: str, succeeds: bool) -> Call:
    delivery = await _notice(world, role, place, "sent")
    return Call("POST", f"/notifications/{delivery.id}/read")


async def _preferences(world: World, role: str, place: str, succeeds: bool) -> Call:
    return Call("PUT", "/users/me/preferences", {"email": None, "language": "vi"})


async def _resend(world: World, role: str, place: str, succeeds: bool) -> Call:
    delivery = await _notice(world, role, place, "failed")
    return Call("POST", f"/notifications/deliveries/{delivery.id}/resend")


async def _start_cycle(world: World, role: str, place: str, succeeds: bool) -> Call:
    body = {"committee": COMMITTEE[place], "year": world.year, "time_scale": FROZEN}
    return Call("POST", "/cycles", body)  # already running: 200, nothing new starts


async def _start_year(world: World, role: str, place: str, succeeds: bool) -> Call:
    return Call("POST", f"/years/{world.idle_year}/cycles", {})


async def _cycle(world: World, role: str, place: str, succeeds: bool) -> Call:
    return Call("GET", f"/cycles/{world.cycles[place]}")


async def _task(world: World, role: str, place: str, succeeds: bool) -> Call:
    return Call("GET", f"/tasks/{world.shared[place]['id']}")


def _action(action: str) -> Builder:
    async def build(world: World, role: str, place: str, succeeds: bool) -> Call:
        wanted = EvidenceKind.DISSEMINATION if action == "complete" else None
        task = world.fresh(place, wanted) if succeeds else world.shared[place]
        due = date.fromisoformat(task["due_on"])
        body = {
            "complete": {"evidence": EVIDENCE[EvidenceKind(task["evidence_kind"])]},
            "extend": {"new_due_on": (due + timedelta(days=7)).isoformat(),
                       "reason": "Đơn vị đang kiện toàn"},
            "waive": {"reason": "Đơn vị sáp nhập"},
        }[action]
        headers = {"If-Match": await world.etag(task)}
        return Call("POST", f"/tasks/{task['id']}/{action}", body, headers)

    return build


def _unopened_action(action: str) -> Builder:
    async def build(world: World, role: str, place: str, succeeds: bool) -> Call:
        cycle_id, item = await world.unopened(place, take=succeeds)
        due = date.fromisoformat(item["due_on"])
        body = {
            "extend": {"new_due_on": (due + timedelta(days=7)).isoformat(),
                       "reason": "Đơn vị đang kiện toàn"},
            "waive": {"reason": "Đơn vị sáp nhập"},
        }[action]
        headers = {"If-Match": f'"{item["version"]}"'}
        return Call("POST", f"/cycles/{cycle_id}/tasks/{item['key']}/{action}", body, headers)

    return build


def scratch_task(n: int) -> TaskOpened:
    """The opening of scratch task `matrix-{n}`, recorded where no workflow runs: a key and an
    occurrence no other task of the scratch cycle has (both are unique per cycle)."""
    return opened(SCRATCH, "plan", year=SCRATCH_YEAR).model_copy(
        update={"key": f"matrix-{n}", "occurrence": 1000 + n}
    )


def _internal(path: str) -> Builder:
    async def build(world: World, role: str, place: str, succeeds: bool) -> Call:
        n = next(world.serial)
        key, year = f"matrix-{n}", SCRATCH_YEAR
        first = scratch_task(n)
        if path == "cycles/closed":
            year = 2100 + n  # a cycle of its own, to close
            first = opened(SCRATCH, "plan", year=year)
        if path != "tasks/opened":
            arranged = await record(world.client, "tasks/opened", first)
            assert arranged.status_code in (200, 201), arranged.text
        at = datetime(year, 2, 1, tzinfo=HCM)
        event = {
            "tasks/opened": first,
            "ladder": ladder(SCRATCH, key, Rung.REMINDER, due_on=date(year, 1, 31), year=year),
            "tasks/completed": completion(SCRATCH, key, ref=key, at=at, year=year),
            "tasks/changed": waived(SCRATCH, key, at=at, year=year),
            "cycles/closed": closed(SCRATCH, year=year),
        }[path]
        return Call("POST", f"/internal/{path}", event.model_dump(mode="json"))

    return build


async def _internal_year(world: World, role: str, place: str, succeeds: bool) -> Call:
    return Call("POST", f"/internal/years/{world.idle_year}/cycles")


BUILDERS: dict[str, Builder] = {
    "GET /health": _static("GET", "/health"),
    "GET /metrics": _static("GET", "/metrics"),
    "GET /openapi.json": _static("GET", "/openapi.json"),
    "GET /docs": _static("GET", "/docs"),
    "GET /redoc": _static("GET", "/redoc"),
    "MOUNT /static/api-docs": _static("GET", "/static/api-docs/swagger-ui.css"),
    "POST /committees": _new_committee,
    "GET /committees": _static("GET", "/committees"),
    "GET /committees/{code}": _committee,
    "POST /users": _new_user,
    "GET /users": _static("GET", "/users"),
    "POST /users/{user_id}/revoke": _revoke,
    "POST /users/{user_id}/password-link": _password_link,
    "POST /cycles": _start_cycle,
    "POST /years/{year}/cycles": _start_year,
    "GET /cycles": _static("GET", "/cycles"),
    "GET /cycles/stuck": _static("GET", "/cycles/stuck"),
    "GET /cycles/{cycle_id}": _cycle,
    "GET /tasks": _static("GET", "/tasks"),
    "GET /tasks/{task_id}": _task,
    "POST /tasks/{task_id}/complete": _action("complete"),
    "POST /tasks/{task_id}/extend": _action("extend"),
    "POST /tasks/{task_id}/waive": _action("waive"),
    "POST /cycles/{cycle_id}/tasks/{task_key}/extend": _unopened_action("extend"),
    "POST /cycles/{cycle_id}/tasks/{task_key}/waive": _unopened_action("waive"),
    "GET /escalations": _static("GET", "/escalations"),
    "POST /internal/tasks/opened": _internal("tasks/opened"),
    "POST /internal/tasks/completed": _internal("tasks/completed"),
    "POST /internal/ladder": _internal("ladder"),
    "POST /internal/tasks/changed": _internal("tasks/changed"),
    "POST /internal/cycles/closed": _internal("cycles/closed"),
    "POST /internal/years/{year}/cycles": _internal_year,
    "GET /notifications": _static("GET", "/notifications"),
    "POST /notifications/{notification_id}/read": _read_notice,
    "PUT /users/me/preferences": _preferences,
    "GET /notifications/deliveries": _static("GET", "/notifications/deliveries"),
    "POST /notifications/deliveries/{delivery_id}/resend": _resend,
}

from tests.api.matrix_rosters import ROSTER_BUILDERS  # noqa: E402  (rosters, reports, the tree)

BUILDERS.update(ROSTER_BUILDERS)

from tests.api.matrix_audit import AUDIT_BUILDERS  # noqa: E402  (history, replay, verify)

BUILDERS.update(AUDIT_BUILDERS)

from tests.api.matrix_registers import REGISTER_BUILDERS  # noqa: E402  (registers)

BUILDERS.update(REGISTER_BUILDERS)
