"""Starting and reading cycles against the real workflow, worker and served API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from temporalio.client import WorkflowExecutionStatus

from api.models import AuditEvent, Cycle
from api.services.audit import verify_chain
from domain.contracts import CycleResult, cycle_workflow_id
from domain.template import EvidenceKind
from tests.api.conftest import Live
from tests.api.factories import SERVICE, Factory, bearer
from tests.api.support import Year, eventually
from tests.domain.samples import evidence_for
from yearwheel.bulk import start_year_async


async def test_starting_twice_returns_the_same_cycle(live: Live, factory: Factory) -> None:
    year = await Year(live, factory).start(time_scale=0.5)
    again = await live.client.post(
        "/cycles", json={"committee": "GR", "year": year.year, "time_scale": 0.5},
        headers=year.admin,
    )
    assert again.status_code == 200
    assert again.json() == year.cycle
    assert year.cycle["status"] == "running"
    assert again.headers["location"] == f"/cycles/{year.cycle['id']}"
    assert year.cycle["workflow_id"] == cycle_workflow_id("GR", year.year)
    described = await live.temporal.get_workflow_handle(year.cycle["workflow_id"]).describe()
    assert described.status is WorkflowExecutionStatus.RUNNING
    assert await factory.count(Cycle) == 1
    async with factory.sessions() as session:
        created = (
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "cycle.created"))
        ).all()
    assert [e.subject for e in created] == [year.cycle["workflow_id"]]


async def test_detail_comes_from_the_workflow_query(live: Live, factory: Factory) -> None:
    year = await Year(live, factory).start(time_scale=0.5)
    await year.task("review")

    async def detail() -> dict[str, Any] | None:
        response = await live.client.get(f"/cycles/{year.cycle['id']}", headers=year.staff)
        body: dict[str, Any] = response.json()
        opened = {i["key"] for i in body["items"] if i["task_id"] is not None}
        return body if {"plan", "disseminate", "review"} <= opened else None

    body = await eventually(detail)
    assert body["source"] == "workflow"
    assert body["calendar_now"].startswith(f"{year.year}-01-0")
    states = {i["key"]: i["state"] for i in body["items"]}
    assert states["plan"] == "open"
    assert states["roster"] == states["report-year"] == "pending"
    assert len(states) == 10


async def test_year_start_starts_each_active_committee_once(live: Live, factory: Factory) -> None:
    await factory.tree()
    await factory.committee("OLD", parent="UP", active=False)
    board = bearer(await factory.token("board", "BLOC"))
    url = f"/years/{live.year}/cycles"
    first = await live.client.post(url, json={"time_scale": 5.0}, headers=board)
    assert first.status_code == 200, first.text
    assert {k: first.json()[k] for k in ("committees", "started", "existing", "failed")} == {
        "committees": 5, "started": 5, "existing": 0, "failed": 0
    }
    again = await live.client.post(f"/internal/years/{live.year}/cycles", headers=SERVICE)
    assert again.status_code == 200, again.text
    assert (again.json()["started"], again.json()["existing"]) == (0, 5)
    listed = (await live.client.get("/cycles", params={"year": live.year}, headers=board)).json()
    assert sorted(c["committee"] for c in listed["items"]) == ["GR", "GR2", "GR3", "UP", "UP2"]
    assert {c["seconds_per_day"] for c in listed["items"]} == {5.0}
    assert {c["status"] for c in listed["items"]} == {"running"}


async def test_the_command_lines_bulk_start_counts_and_shows_progress(
    live: Live, factory: Factory
) -> None:
    """yearwheel.bulk, as `yearwheel start-year` runs it, with more committees than start at
    once; a second run finds every cycle started."""
    await factory.tree()
    for n in range(4, 44):
        await factory.committee(f"GR{n}", parent="UP")
    board = await factory.token("board", "BLOC")
    seen: list[tuple[int, int]] = []
    outcome = await start_year_async(
        live.url, board, live.year, 5.0, on_progress=lambda done, total: seen.append((done, total)),
        poll_interval=0.05,
    )
    assert (outcome.committees, outcome.started, outcome.existing, outcome.failed) == (45, 45, 0, 0)
    assert seen[-1] == (45, 45)
    assert all(total == 45 and 0 <= done <= 45 for done, total in seen)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    async with factory.sessions() as session:
        rows = (await session.execute(select(Cycle.status, func.count()).group_by(Cycle.status)))
        by_status = dict(rows.tuples().all())
        check = await verify_chain(session=session)
        created = await session.scalar(
            select(func.count()).where(AuditEvent.action == "cycle.created")
        )
    assert by_status == {"running": 45}
    assert check.ok and created == 45
    again = await start_year_async(live.url, board, live.year, 5.0)
    assert (again.started, again.existing, again.failed) == (0, 45, 0)


async def test_a_whole_short_year_closes_with_its_result(live: Live, factory: Factory) -> None:
    year = await Year(live, factory, committee="GR").start(time_scale=0.01)
    done: set[int] = set()

    async def finished() -> dict[str, Any] | None:
        tasks = await live.client.get(
            "/tasks", params={"committee": "GR", "limit": 100}, headers=year.staff
        )
        for task in tasks.json()["items"]:
            if task["state"] in ("completed", "waived") or task["id"] in done:
                continue
            evidence = evidence_for(
                EvidenceKind(task["evidence_kind"]), key=task["key"], year=task["year"]
            )
            response = await year.post(task, "complete", {"evidence": evidence}, year.staff)
            assert response.status_code in (200, 409), response.text
            done.add(task["id"])
        detail = await live.client.get(f"/cycles/{year.cycle['id']}", headers=year.staff)
        body: dict[str, Any] = detail.json()
        return body if body["status"] == "closed" else None

    body = await eventually(finished, within=30)
    assert body["source"] == "database"
    assert body["closed_at"] is not None
    assert [i["state"] for i in body["items"]] == ["completed"] * 10
    assert all(i["task_id"] is not None for i in body["items"])
    async with factory.sessions() as session:
        cycle = await session.get(Cycle, year.cycle["id"])
        check = await verify_chain(session=session)
        last = await session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
    assert cycle is not None and cycle.result is not None and cycle.result["total"] == 10
    assert check.ok
    assert last is not None and last.action == "cycle.closed"
    handle = live.temporal.get_workflow_handle(
        year.cycle["workflow_id"], result_type=CycleResult
    )
    assert (await handle.result()).model_dump(mode="json") == cycle.result


async def test_a_workflow_ended_by_hand_is_a_failed_cycle_never_running(
    live: Live, factory: Factory
) -> None:
    year = await Year(live, factory).start(time_scale=86_400.0)
    url = f"/cycles/{year.cycle['id']}"
    running = (await live.client.get(url, headers=year.admin)).json()
    assert (running["status"], running["temporal_status"]) == ("running", None)
    await live.temporal.get_workflow_handle(year.cycle["workflow_id"]).terminate("by hand")
    failed = (await live.client.get(url, headers=year.admin)).json()
    assert (failed["status"], failed["temporal_status"]) == ("failed", "TERMINATED")
