"""A committee's year end to end: the real dev server, the API and a worker as processes."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.calendar import obligations
from domain.default_templates import DEFAULT_VERSIONS
from domain.template import in_force_for_year
from yearwheel.demo import evidence_for
from yearwheel.processes import ProcessGroup
from yearwheel.stack import Stack, plan_stack, start_stack
from yearwheel.users import create_user_with_token

pytestmark = pytest.mark.e2e

# A report opens the day after its period and is due five days later (docs/calendar.md): a
# day must last long enough for this loop to see and complete a task within the window.
SECONDS_PER_DAY = 0.25


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    stack = plan_stack(tmp_path / "state", temporal_port=None, api_port=None, ui=False)
    with ProcessGroup(tmp_path / "logs") as group:
        start_stack(group, stack)
        yield stack


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def post_ok(client: httpx.AsyncClient, url: str, token: str, body: Any) -> Any:
    response = await client.post(url, json=body, headers=bearer(token))
    assert response.status_code in (200, 201), response.text
    return response.json()


async def test_a_time_scaled_year_runs_to_its_result(stack: Stack) -> None:
    db = stack.database_url
    admin = await create_user_with_token(db, name="admin", role="admin")
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as client:
        for code, level, parent in (("BLOC", "root", None), ("UP", "upper", "BLOC"),
                                    ("GR", "grassroots", "UP")):
            await post_ok(client, "/committees", admin,
                          {"code": code, "name": f"Đảng ủy {code}", "level": level,
                           "parent": parent})
        staff = await create_user_with_token(db, name="staff", role="staff", committee="GR")
        supervisor = await create_user_with_token(
            db, name="supervisor", role="supervisor", committee="UP"
        )
        year = date.today().year
        cycle = await post_ok(client, "/cycles", admin,
                              {"committee": "GR", "year": year, "time_scale": SECONDS_PER_DAY})
        assert cycle["status"] == "running"  # its workflow is started before the answer

        plan_escalated = False
        completed: set[str] = set()
        rng = random.Random(1)
        deadline = time.monotonic() + 180
        while True:
            assert time.monotonic() < deadline, f"the cycle did not finish; done: {completed}"
            detail = (await client.get(f"/cycles/{cycle['id']}", headers=bearer(staff))).json()
            if detail["status"] == "closed":
                break
            if not plan_escalated:
                escalations = await client.get(
                    "/escalations", params={"committee": "GR", "status": "open"},
                    headers=bearer(supervisor),
                )
                plan_escalated = any(
                    e["task_key"] == "plan" and e["rung"] == "parent"
                    and e["target_committee"] == "UP"
                    for e in escalations.json()["items"]
                )
            tasks = await client.get("/tasks", params={"committee": "GR"}, headers=bearer(staff))
            for task in tasks.json()["items"]:
                if task["state"] in ("completed", "waived") or task["key"] in completed:
                    continue
                if task["key"] == "plan" and not plan_escalated:
                    continue  # left late on purpose until the parent committee is told
                await complete(client, staff, task, rng)
                completed.add(task["key"])
            await asyncio.sleep(0.05)

        items = {item["key"]: item for item in detail["items"]}
        version = in_force_for_year(DEFAULT_VERSIONS, year)  # the calendar the API defaults to
        assert version is not None
        assert set(items) == {o.key for o in obligations(version, year, "grassroots")}
        assert all(item["state"] == "completed" for item in items.values())
        assert [key for key, item in items.items() if item["late"]] == ["plan"]
        assert items["plan"]["rung"] in ("parent", "board")  # board only if the machine lags
        still_open = await client.get(
            "/escalations", params={"committee": "GR", "status": "open"},
            headers=bearer(supervisor),
        )
        assert still_open.json()["items"] == []


async def complete(
    client: httpx.AsyncClient, token: str, task: dict[str, Any], rng: random.Random
) -> None:
    headers = bearer(token)
    current = await client.get(f"/tasks/{task['id']}", headers=headers)
    if "etag" in current.headers:
        headers["If-Match"] = current.headers["etag"]
    # Dated on its due day: a conference is held in its own quarter.
    evidence = evidence_for(
        task["evidence_kind"], "grassroots", date.fromisoformat(task["due_on"]), rng
    )
    for _ in range(3):  # a rung of the ladder may move the version between GET and POST
        response = await client.post(
            f"/tasks/{task['id']}/complete", json={"evidence": evidence}, headers=headers
        )
        if response.status_code != 412:
            break
        headers["If-Match"] = response.headers["etag"]
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "completed"
