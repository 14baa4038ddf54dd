"""The demo year: a small committee tree, time-scaled cycles, and a simulated staff.

Most tasks are completed on time, some late enough to climb the ladder to the parent committee
or the Propaganda Board, and a few are waived by a supervisor, so every path shows.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from domain.periods import quarter_days
from yearwheel.demo_registers import report_from_draft

DEMO_TREE: list[tuple[str, str, str, str | None]] = [
    ("BLOC", "Đảng ủy Khối các cơ quan Trung ương", "root", None),
    ("BTC", "Đảng ủy Ban Tổ chức Trung ương", "upper", "BLOC"),
    ("BTC-V1", "Đảng bộ Vụ Tổ chức cán bộ", "grassroots", "BTC"),
    ("BTC-V2", "Đảng bộ Vụ Cơ sở đảng", "grassroots", "BTC"),
    ("VPTW", "Đảng ủy Văn phòng Trung ương Đảng", "upper", "BLOC"),
    ("VPTW-V1", "Đảng bộ Vụ Tổng hợp", "grassroots", "VPTW"),
    ("VPTW-V2", "Đảng bộ Cục Quản trị", "grassroots", "VPTW"),
    ("BND", "Đảng ủy Báo Nhân Dân", "upper", "BLOC"),
    ("BND-TS", "Đảng bộ Ban Thư ký tòa soạn", "grassroots", "BND"),
    ("BND-DT", "Đảng bộ Ban Điện tử", "grassroots", "BND"),
]


@dataclass
class DemoPeople:
    admin: str
    board: str
    staff: dict[str, str] = field(default_factory=dict)
    supervisors: dict[str, str] = field(default_factory=dict)


def evidence_for(kind: str, committee_level: str, on: date, rng: random.Random) -> dict[str, Any]:
    """Plausible evidence of each kind, dated `on`."""
    day = on.isoformat()
    if kind == "plan":
        return {
            "document_number": f"{rng.randint(10, 99)}-KH/ĐU",
            "document_date": day,
            "summary": "Kế hoạch tuyên truyền miệng và hoạt động báo cáo viên năm",
            "attachments": ["ke-hoach.pdf"],
        }
    if kind == "dissemination":
        total = rng.randint(5, 30)
        return {"cells_reached": total, "cells_total": total, "completed_on": day}
    if kind == "roster":
        size = 3 if committee_level == "upper" else 1
        reporters = [
            {
                "name": f"Báo cáo viên {i + 1}",
                "position": "Phó Bí thư" if i == 0 else "Chuyên viên",
                "committee_member": i == 0,
                "level": "central",
            }
            for i in range(size + rng.randint(0, 2))
        ]
        return {
            "decision_number": f"{rng.randint(100, 999)}-QĐ/ĐU",
            "decision_date": day,
            "reporters": reporters,
        }
    if kind == "conference":
        return {
            "held_on": day,
            "attendees": rng.randint(20, 120),
            "topics": ["Nghị quyết Trung ương", "Tình hình thời sự"],
            "listeners": rng.randint(50, 400),
            "online": rng.random() < 0.3,
        }
    if kind == "review":
        return {
            "findings": "Các chi bộ thực hiện nghiêm túc",
            "commendations": ["Chi bộ 1"],
            "follow_ups": [],
        }
    figures = {
        "reporters_total": rng.randint(3, 8),
        "committee_members": 1,
        "conferences_held": rng.randint(1, 4),
        "sessions_delivered": rng.randint(2, 12),
        "attendances": rng.randint(100, 900),
    }
    return {
        "period": "h1" if on.month <= 7 else "year",
        "figures": figures,
        "difficulties": "",
        "proposals": "",
    }


def held_day(task: dict[str, Any], today: date) -> date:
    """The day the evidence names: today, but a quarter's conference filed late was held in
    its quarter (the last day of it)."""
    if task["evidence_kind"] == "conference" and task["occurrence"] in (1, 2, 3, 4):
        _, last = quarter_days(task["year"], task["occurrence"])
        return min(today, last)
    return today


@dataclass
class Plan:
    """What the simulated staff will do with one task, in calendar days."""

    act_on: date
    action: str  # "complete" or "waive"


def plan_for(task: dict[str, Any], rng: random.Random) -> Plan:
    opens = date.fromisoformat(task.get("opens_on") or task["due_on"])
    due = date.fromisoformat(task["due_on"])
    opened = (
        max(opens, date.fromisoformat(task["opened_at"][:10])) if task.get("opened_at") else opens
    )
    roll = rng.random()
    if roll < 0.04:
        return Plan(due + timedelta(days=16), "waive")
    if roll < 0.09:
        return Plan(due + timedelta(days=rng.randint(15, 22)), "complete")  # reaches the board
    if roll < 0.20:
        return Plan(due + timedelta(days=rng.randint(2, 12)), "complete")  # late
    window = max(0, min((due - opened).days - 1, 30))
    return Plan(opened + timedelta(days=rng.randint(0, window)), "complete")


class Calendar:
    """The calendar day of a time-scaled demo, as the staff reckon it."""

    def __init__(self, year: int, seconds_per_day: float) -> None:
        self.origin = date(year, 1, 1)
        self.seconds_per_day = seconds_per_day
        self.started = time.monotonic()

    def today(self) -> date:
        return self.origin + timedelta(
            days=int((time.monotonic() - self.started) / self.seconds_per_day)
        )


class SimulatedStaff:
    def __init__(
        self,
        client: httpx.AsyncClient,
        people: DemoPeople,
        levels: dict[str, str],
        calendar: Calendar,
        *,
        seed: int,
    ) -> None:
        self.client = client
        self.people = people
        self.levels = levels
        self.calendar = calendar
        self.seed = seed
        self.plans: dict[int, Plan] = {}
        self.done: set[int] = set()
        self.errors: list[str] = []

    def _rng(self, task: dict[str, Any]) -> random.Random:
        return random.Random(f"{self.seed}/{task['committee']}/{task['key']}")

    async def step(self, tasks: list[dict[str, Any]]) -> None:
        today = self.calendar.today()
        for task in tasks:
            if task["state"] not in ("open", "overdue", "escalated") or task["id"] in self.done:
                continue
            plan = self.plans.setdefault(task["id"], plan_for(task, self._rng(task)))
            if plan.act_on > today:
                continue
            self.done.add(task["id"])
            await self._act(task, plan, today)

    async def _act(self, task: dict[str, Any], plan: Plan, today: date) -> None:
        committee = task["committee"]
        body: dict[str, Any]
        if plan.action == "waive":
            parent = next(p for c, _, _, p in DEMO_TREE if c == committee)
            token = self.people.supervisors.get(parent or "", self.people.board)
            path, body = "waive", {"reason": "Đơn vị sáp nhập, miễn thực hiện năm nay"}
        else:
            token = self.people.staff[committee]
            drafted = None
            if task["evidence_kind"] == "report":  # the figures the registers hold
                drafted = await report_from_draft(self.client, task["id"],
                                                  {"Authorization": f"Bearer {token}"})
            evidence = drafted or evidence_for(
                task["evidence_kind"], self.levels[committee], held_day(task, today),
                self._rng(task),
            )
            path, body = "complete", {"evidence": evidence}
        headers = {"Authorization": f"Bearer {token}"}
        current = await self.client.get(f"/tasks/{task['id']}", headers=headers)
        if "etag" in current.headers:
            headers["If-Match"] = current.headers["etag"]
        response = await self.client.post(f"/tasks/{task['id']}/{path}", json=body, headers=headers)
        if response.status_code >= 400:
            self.errors.append(
                f"{committee} {task['key']} {path}: {response.status_code} {response.text[:200]}"
            )
            self.done.discard(task["id"])  # try again on the next round


async def list_tasks(client: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    offset = 0
    while True:
        response = await client.get(
            "/tasks",
            params={"limit": 200, "offset": offset},
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()
        page = response.json()
        items = page["items"] if isinstance(page, dict) else page
        tasks.extend(items)
        if len(items) < 200:
            return tasks
        offset += 200


async def seed_tree(client: httpx.AsyncClient, admin_token: str) -> dict[str, str]:
    """Create the demo committees (again is harmless); returns code -> level."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    for code, name, level, parent in DEMO_TREE:
        response = await client.post(
            "/committees",
            json={"code": code, "name": name, "level": level, "parent": parent},
            headers=headers,
        )
        if response.status_code not in (200, 201, 409):
            response.raise_for_status()
    return {code: level for code, _, level, _ in DEMO_TREE}


async def start_year(
    client: httpx.AsyncClient, admin_token: str, *, year: int, seconds_per_day: float
) -> None:
    response = await client.post(
        f"/years/{year}/cycles",
        json={"time_scale": seconds_per_day},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    response.raise_for_status()


async def wait_forever() -> None:
    await asyncio.Event().wait()
