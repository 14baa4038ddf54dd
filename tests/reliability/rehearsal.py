"""A short time-scaled cycle whose result does not depend on when faults strike.

Every task is one of three kinds, each with an outcome that a delay cannot change:
- EARLY: completed as soon as it opens; due at the end of the next year, so even a minute-long
  outage (600 calendar days at 0.1 s a day) cannot make it late or let its reminder fire;
- LATE: completed only once its board rung has fired, so all four rungs are always there;
- WAIVED: waived by the supervisor as soon as it opens.
Openings come from the calendar (a timer), from a prerequisite, and from the cycle's start, so
a fault can land on each kind. The whole cycle takes about 75 calendar days (7.5 s at 0.1 s a
day) when nothing goes wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.db import make_engine, make_sessions
from api.models import (
    AuditEvent,
    Cycle,
    Escalation,
    IdempotencyKey,
    Notification,
    Submission,
    Task,
    TaskChange,
    TemplateRow,
)
from api.services.audit import verify_chain
from domain.contracts import CycleResult
from domain.template import EvidenceKind, MonthDay, Stage, Template, TemplateItem
from tests.api.support import eventually
from tests.reliability.probes import rows
from yearwheel.demo import evidence_for
from yearwheel.users import create_user_with_token

YEAR = 2031
SECONDS_PER_DAY = 0.1
COMMITTEE = "GR"


class Kind(StrEnum):
    EARLY = "early"
    LATE = "late"
    WAIVED = "waived"


def _md(month: int, day: int, year_offset: int = 0) -> MonthDay:
    return MonthDay(month=month, day=day, year_offset=year_offset)


LAST_DAY_OF_NEXT_YEAR = _md(12, 31, 1)

# Version 2 of the default template: the API snapshots the latest version into each cycle.
REHEARSAL = Template(
    code="default",
    version=2,
    items=(
        TemplateItem(
            key="plan", stage=Stage.PLAN, evidence=EvidenceKind.PLAN,
            title_vi="Kế hoạch tuyên truyền miệng năm", title_en="Annual plan",
            due=_md(1, 14),
        ),
        TemplateItem(
            key="review", stage=Stage.REVIEW, evidence=EvidenceKind.REVIEW,
            title_vi="Kiểm tra, giám sát", title_en="Inspection and review",
            due=LAST_DAY_OF_NEXT_YEAR,
        ),
        TemplateItem(
            key="roster", stage=Stage.ROSTER, evidence=EvidenceKind.ROSTER,
            title_vi="Kiện toàn đội ngũ báo cáo viên", title_en="Reporter team",
            due=LAST_DAY_OF_NEXT_YEAR, prerequisites=("plan",),
        ),
        TemplateItem(
            key="conference", stage=Stage.CONFERENCE, evidence=EvidenceKind.CONFERENCE,
            title_vi="Hội nghị báo cáo viên", title_en="Reporters' conference",
            due=LAST_DAY_OF_NEXT_YEAR, prerequisites=("roster",),
        ),
        TemplateItem(
            key="disseminate", stage=Stage.PLAN, evidence=EvidenceKind.DISSEMINATION,
            title_vi="Quán triệt Chỉ thị 30-CT/TW", title_en="Directive 30 disseminated",
            opens=_md(2, 10), due=LAST_DAY_OF_NEXT_YEAR,
        ),
        TemplateItem(
            key="report-h1", stage=Stage.REPORT, evidence=EvidenceKind.REPORT,
            title_vi="Báo cáo sơ kết", title_en="6-month report",
            opens=_md(3, 1), due=_md(3, 1),
        ),
    ),
)

PLAN: dict[str, Kind] = {
    "plan": Kind.LATE,
    "review": Kind.WAIVED,
    "roster": Kind.EARLY,
    "conference": Kind.EARLY,
    "disseminate": Kind.EARLY,
    "report-h1": Kind.LATE,
}
LATE_RUNGS = ("reminder", "overdue", "parent", "board")


def expected_outcome() -> dict[str, Any]:
    """What every run must end with, whatever went wrong on the way."""
    items = {
        key: {
            "state": "waived" if kind is Kind.WAIVED else "completed",
            "late": kind is Kind.LATE,
            "rung": "board" if kind is Kind.LATE else None,
        }
        for key, kind in PLAN.items()
    }
    kinds = Counter(PLAN.values())
    return {
        "total": len(PLAN), "on_time": kinds[Kind.EARLY], "late": kinds[Kind.LATE],
        "waived": kinds[Kind.WAIVED], "items": items,
    }


def outcome(result: CycleResult) -> dict[str, Any]:
    """The parts of a cycle's result that do not depend on timing."""
    return {
        "total": result.total, "on_time": result.on_time, "late": result.late,
        "waived": result.waived,
        "items": {
            i.key: {"state": i.state.value, "late": i.late,
                    "rung": i.rung.value if i.rung else None}
            for i in result.items
        },
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class People:
    admin: str
    staff: str
    supervisor: str
    board: str


async def prepare(api_url: str, database_url: str) -> People:
    """The rehearsal template, a three-level tree and a token for each role."""
    engine = make_engine(database_url)
    try:
        async with make_sessions(engine)() as session, session.begin():
            session.add(TemplateRow(code=REHEARSAL.code, version=REHEARSAL.version,
                                    body=REHEARSAL.model_dump(mode="json")))
    finally:
        await engine.dispose()
    admin = await create_user_with_token(database_url, name="admin", role="admin")
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        for code, level, parent in (("BLOC", "root", None), ("UP", "upper", "BLOC"),
                                    (COMMITTEE, "grassroots", "UP")):
            response = await client.post(
                "/committees", headers=bearer(admin),
                json={"code": code, "name": f"Đảng ủy {code}", "level": level, "parent": parent},
            )
            assert response.status_code == 201, response.text
    return People(
        admin=admin,
        staff=await create_user_with_token(database_url, name="staff", role="staff",
                                           committee=COMMITTEE),
        supervisor=await create_user_with_token(database_url, name="supervisor",
                                                role="supervisor", committee="UP"),
        board=await create_user_with_token(database_url, name="board", role="board",
                                           committee="BLOC"),
    )


@dataclass
class Staff:
    """The committee's staff and supervisor, acting on each task by its kind until the cycle
    closes. Every error answer is kept: faults show up here as problems and refused
    connections, and an error that is not problem+json as a failure of its own."""

    api_url: str
    people: People
    cycle_id: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    non_problem_errors: list[str] = field(default_factory=list)
    connection_errors: int = 0
    closed_at: float | None = None

    async def start_cycle(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.api_url, timeout=30) as client:
            response = await client.post(
                "/cycles", headers=bearer(self.people.admin),
                json={"committee": COMMITTEE, "year": YEAR, "time_scale": SECONDS_PER_DAY},
            )
        assert response.status_code == 201, response.text
        cycle: dict[str, Any] = response.json()
        self.cycle_id = cycle["id"]
        return cycle

    async def run(self, *, within: float = 240.0) -> None:
        """Act until the cycle is closed; fails after `within` seconds."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.api_url, timeout=90) as client:
            while True:
                assert time.monotonic() < deadline, f"the cycle did not close within {within} s"
                with contextlib.suppress(httpx.TransportError):
                    if await self._round(client):
                        self.closed_at = time.monotonic()
                        return
                await asyncio.sleep(0.1)

    async def _round(self, client: httpx.AsyncClient) -> bool:
        """One look at the tasks and one action on each that is due one; True once closed."""
        cycle = await self._get(client, f"/cycles/{self.cycle_id}", self.people.board)
        if cycle is not None and cycle["status"] == "closed":
            return True
        tasks = await self._get(client, "/tasks", self.people.board,
                                params={"committee": COMMITTEE, "limit": 100})
        for task in tasks["items"] if tasks else []:
            kind = PLAN[task["key"]]
            if task["state"] in ("completed", "waived"):
                continue
            if kind is Kind.LATE and task["rung"] != "board":
                continue
            await self.act(client, task, kind)
        return False

    async def act(self, client: httpx.AsyncClient, task: dict[str, Any], kind: Kind) -> int:
        """Complete or waive one task, with the ETag the API gave; returns the status."""
        token = self.people.supervisor if kind is Kind.WAIVED else self.people.staff
        headers = bearer(token)
        current = await client.get(f"/tasks/{task['id']}", headers=headers)
        self._keep(current)
        if current.status_code != 200:
            return current.status_code
        headers["If-Match"] = current.headers["etag"]
        if kind is Kind.WAIVED:
            path, body = "waive", {"reason": "Đơn vị sáp nhập, miễn thực hiện năm nay"}
        else:
            evidence = evidence_for(task["evidence_kind"], "grassroots", date(YEAR, 2, 1),
                                    random.Random(task["key"]))
            path, body = "complete", {"evidence": evidence}
        response = await client.post(f"/tasks/{task['id']}/{path}", json=body, headers=headers)
        self._keep(response)
        return response.status_code

    async def _get(self, client: httpx.AsyncClient, url: str, token: str,
                   params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        try:
            response = await client.get(url, headers=bearer(token), params=params)
        except httpx.TransportError:
            self.connection_errors += 1
            raise
        self._keep(response)
        return dict(response.json()) if response.status_code == 200 else None

    def _keep(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        if response.headers.get("content-type") != "application/problem+json":
            self.non_problem_errors.append(f"{response.status_code} {response.text[:200]}")
            return
        self.problems.append(response.json())


# Reading what the database holds.


@dataclass
class Recorded:
    """The cycle's rows after it closed: counts, duplicates, the audit chain, the result."""

    counts: dict[str, int]
    duplicates: dict[str, list[Any]]
    chain_ok: bool
    result: dict[str, Any]
    notifications: Counter[str]


DUPLICATE_QUERIES = {
    "tasks by cycle and key":
        "SELECT cycle_id, key FROM tasks GROUP BY cycle_id, key HAVING COUNT(*) > 1",
    "tasks by cycle, item and occurrence":
        "SELECT cycle_id, item_key, occurrence FROM tasks "
        "GROUP BY cycle_id, item_key, occurrence HAVING COUNT(*) > 1",
    "completions by task":
        "SELECT task_id FROM submissions GROUP BY task_id HAVING COUNT(*) > 1",
    "escalations by task, rung and due date":
        "SELECT task_id, rung, due_on FROM escalations GROUP BY task_id, rung, due_on "
        "HAVING COUNT(*) > 1",
    "notifications by task, kind, escalation and recipient committee":
        "SELECT task_id, kind, COALESCE(escalation_id, 0), recipient_committee_id "
        "FROM notifications GROUP BY task_id, kind, COALESCE(escalation_id, 0), "
        "recipient_committee_id HAVING COUNT(*) > 1",
    "task changes by task and kind":
        "SELECT task_id, change FROM task_changes GROUP BY task_id, change HAVING COUNT(*) > 1",
    "audit events by action and subject":
        "SELECT action, subject FROM audit_events WHERE action <> 'request.refused' "
        "GROUP BY action, subject HAVING COUNT(*) > 1",
}
# A refused attempt is audited too (api/refusals.py): how many there are depends on timing.
REFUSED = "request.refused"
COUNTED = {
    "tasks": Task, "submissions": Submission, "escalations": Escalation,
    "notifications": Notification, "task_changes": TaskChange, "audit_events": AuditEvent,
    "idempotency_keys": IdempotencyKey,
}


async def recorded(database_url: str) -> Recorded:
    engine: AsyncEngine = make_engine(database_url)
    try:
        async with make_sessions(engine)() as session:
            counts = {
                name: int(await session.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in COUNTED.items()
            }
            refused = await session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == REFUSED)
            )
            counts["audit_events"] -= int(refused or 0)
            duplicates = {
                name: [tuple(row) for row in (await session.execute(text(sql))).all()]
                for name, sql in DUPLICATE_QUERIES.items()
            }
            chain = await verify_chain(session=session)
            cycle = await session.scalar(select(Cycle))
            assert cycle is not None and cycle.result is not None, "the cycle has no result"
            kinds = Counter(
                (await session.scalars(select(Notification.kind))).all()
            )
            return Recorded(
                counts=counts, duplicates={k: v for k, v in duplicates.items() if v},
                chain_ok=chain.ok, result=outcome(CycleResult.model_validate(cycle.result)),
                notifications=kinds,
            )
    finally:
        await engine.dispose()


@dataclass
class Run:
    """A rehearsal cycle under way: its staff acting in the background until it closes."""

    staff: Staff
    cycle: dict[str, Any]
    acting: asyncio.Task[None]

    @property
    def workflow_id(self) -> str:
        return str(self.cycle["workflow_id"])

    async def finish(self) -> None:
        """Wait for the staff to see the cycle closed."""
        await self.acting


@contextlib.asynccontextmanager
async def rehearsal(api_url: str, database_url: str) -> AsyncIterator[Run]:
    """Prepare the stack, start the cycle, and let the staff act until it closes; on the way
    out, every error the staff got must have been problem+json."""
    staff = Staff(api_url, await prepare(api_url, database_url))
    cycle = await staff.start_cycle()
    run = Run(staff=staff, cycle=cycle, acting=asyncio.create_task(staff.run()))
    try:
        yield run
        assert staff.non_problem_errors == [], "every error answer must be problem+json"
    finally:
        run.acting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await run.acting


def assert_same_as(
    faulted: Recorded, undisturbed: Recorded, *, besides: dict[str, int] | None = None
) -> None:
    """The faulted run ended as the undisturbed one did, with no row written twice;
    `besides` counts rows the test itself added."""
    assert faulted.result == undisturbed.result
    assert faulted.duplicates == {}
    expected = Counter(undisturbed.counts)
    expected.update(besides or {})
    assert faulted.counts == dict(expected), (faulted.counts, dict(expected))
    assert faulted.notifications == undisturbed.notifications
    assert faulted.chain_ok


async def mid_cycle(database_url: str) -> None:
    """Wait until the cycle is under way: the plan has had its reminder."""

    async def the_plans_reminder() -> int:
        return await rows(database_url, task_key="plan", rung="reminder")

    await eventually(the_plans_reminder, within=120, interval=0.1)
