"""A bulk start (the yearly Schedule's path) resumes a cycle whose workflow was terminated by
hand, from what it recorded, and starts or leaves the others as ever."""

from __future__ import annotations

from sqlalchemy import select

from api.models import AuditEvent, utcnow
from api.services import stuck
from api.services.history import cycle_input
from tests.api.conftest import Live
from tests.api.factories import Factory
from tests.api.support import Year, eventually


async def test_a_bulk_start_resumes_a_terminated_cycle(live: Live, factory: Factory) -> None:
    year = await Year(live, factory).start(time_scale=0.5)
    workflow_id = year.cycle["workflow_id"]
    await year.task("plan")
    handle = live.temporal.get_workflow_handle(workflow_id)

    async def nothing_in_flight() -> bool:
        """No recording in flight: else the resume would wait for it (409) first."""
        return not (await handle.describe()).raw_description.pending_activities

    await eventually(nothing_in_flight)
    first = (await handle.describe()).run_id
    await handle.terminate("terminated by hand (test)")
    failed = await live.client.get(f"/cycles/{year.cycle['id']}", headers=year.board)
    assert failed.json()["status"] == "failed", failed.text

    response = await live.client.post(
        f"/years/{year.year}/cycles", json={"time_scale": 0.5}, headers=year.admin
    )
    assert response.status_code == 200, response.text
    assert response.json() | {"failures": []} == {
        "year": year.year, "committees": 5, "started": 5, "existing": 0, "failed": 0,
        "failures": [],
    }
    assert (await handle.describe()).run_id != first
    seeded = cycle_input(await handle.fetch_history())
    assert seeded is not None and seeded.seed is not None
    assert "plan" in {s.key for s in seeded.seed}
    again = await live.client.post(
        f"/years/{year.year}/cycles", json={"time_scale": 0.5}, headers=year.admin
    )
    assert (again.json()["started"], again.json()["existing"]) == (0, 5), again.text
    detail = await live.client.get(f"/cycles/{year.cycle['id']}", headers=year.board)
    assert detail.json()["status"] == "running", detail.text
    async with factory.sessions() as session:
        resumed = (await session.scalars(
            select(AuditEvent.subject).where(AuditEvent.action == "cycle.resumed")
        )).all()
        opened = (await session.scalars(
            select(AuditEvent.subject).where(AuditEvent.action == "task.opened")
        )).all()
    assert resumed == [workflow_id]
    assert opened.count(f"{workflow_id}/plan") == 1


async def test_a_stuck_cycle_whose_workflow_ended_is_failed_not_stuck(
    live: Live, factory: Factory
) -> None:
    """A cycle that waited on a refusal and then ended (failed under an earlier release, or
    terminated by hand) says `failed`: a start resumes it; waiting will not."""
    year = await Year(live, factory).start(time_scale=0.5)
    workflow_id = year.cycle["workflow_id"]
    await year.task("plan")
    handle = live.temporal.get_workflow_handle(workflow_id)

    async def nothing_in_flight() -> bool:
        """No recording in flight: one landing later would clear the refusal noted below."""
        return not (await handle.describe()).raw_description.pending_activities

    await eventually(nothing_in_flight)
    await handle.terminate("terminated by hand (test)")
    async with factory.sessions() as session:  # the refusal it waited on before it ended
        await stuck.note(session=session, refusal=stuck.Refusal(
            workflow_id=workflow_id, status=422, method="POST", path="/internal/ladder",
            detail="a field this release renamed"), at=utcnow(), known_only=True)
        await session.commit()
    body = (await live.client.get(f"/cycles/{year.cycle['id']}", headers=year.board)).json()
    assert (body["status"], body["temporal_status"]) == ("failed", "TERMINATED"), body
    assert body["refusal"]["status"] == 422, body
