"""Commit, then signal, on the dev server with a worker: a roster change is told to its cycle
only once it has committed, and a signal Temporal did not take is delivered later."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api.models import PendingSignal, Reporter, Role
from api.schemas_rosters import ReporterLeave
from api.services import rosters, signals
from api.services.access import Principal
from tests.api.conftest import Live, served
from tests.api.factories import Factory
from tests.api.start_faults import CuttableProxy
from tests.api.support import Year

FROZEN = 86_400.0
REPORTER = {"position": "Chuyên viên", "committee_member": False,
            "decision_number": "30-QĐ/ĐU"}


async def team_of_three(year: Year) -> list[int]:
    decided = date(year.year, 1, 2).isoformat()
    ids = []
    for name in ("A", "B", "C"):
        response = await year.live.client.post(
            "/committees/UP/reporters", headers=year.staff,
            json={**REPORTER, "name": name, "decision_date": decided},
        )
        assert response.status_code == 201, response.text
        assert response.json()["signalled"] == []  # the rules hold: nothing to tell
        ids.append(int(response.json()["reporter"]["id"]))
    return ids


async def signals_heard(temporal: Client, workflow_id: str) -> int:
    history = await temporal.get_workflow_handle(workflow_id).fetch_history()
    return sum(
        1 for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    )


async def owed(factory: Factory) -> list[PendingSignal]:
    async with factory.sessions() as session:
        return list((await session.scalars(select(PendingSignal))).all())


async def test_a_signal_temporal_did_not_take_is_delivered_later(
    live: Live, factory: Factory
) -> None:
    year = await Year(live, factory, committee="UP").start(time_scale=FROZEN)
    workflow_id = year.cycle["workflow_id"]
    first, *_ = await team_of_three(year)
    leave: dict[str, Any] = {"left_on": date(year.year, 1, 3).isoformat(), "reason": "Nghỉ hưu"}
    async with CuttableProxy.running(live.temporal.service_client.config.target_host) as proxy:
        temporal = await Client.connect(
            proxy.address, namespace=live.temporal.namespace,
            data_converter=pydantic_data_converter,
        )
        proxy.cut()  # Temporal goes away after the API has connected to it
        async with (
            served(live.settings, temporal) as served_url,
            httpx.AsyncClient(base_url=served_url, timeout=60) as api,
        ):
            left = await api.post(f"/reporters/{first}/leave", json=leave, headers=year.staff)
    assert left.status_code == 200, left.text  # the change stands
    assert left.json()["signalled"] == [workflow_id]
    [pending] = await owed(factory)
    assert (pending.workflow_id, pending.attempts) == (workflow_id, 1)
    assert await signals_heard(live.temporal, workflow_id) == 0

    sent = await signals.deliver(sessions=factory.sessions, client=live.temporal,
                                 wait_seconds=20)
    assert sent == 1
    assert await owed(factory) == []
    assert await signals_heard(live.temporal, workflow_id) == 1
    task = await year.task("consolidate-1")
    assert task["state"] == "open"


async def test_a_roster_change_whose_commit_fails_is_never_told(
    live: Live, factory: Factory
) -> None:
    """The change and its signal are one transaction: rolled back (a commit that failed), the
    cycle hears nothing and nothing is owed; the database and the workflow agree."""
    year = await Year(live, factory, committee="UP").start(time_scale=FROZEN)
    workflow_id = year.cycle["workflow_id"]
    first, *_ = await team_of_three(year)
    principal = Principal(name="admin-test", role=Role.ADMIN)
    async with factory.sessions() as session:
        changed = await rosters.mark_left(
            session=session, client=live.temporal, principal=principal, reporter_id=first,
            data=ReporterLeave(left_on=date(year.year, 1, 3), reason="Nghỉ hưu"),
            wait_seconds=10,
        )
        assert changed.signalled == [workflow_id]
        await session.rollback()  # the commit failed
    assert await owed(factory) == []
    assert await signals.deliver(sessions=factory.sessions, client=live.temporal,
                                 wait_seconds=10) == 0
    assert await signals_heard(live.temporal, workflow_id) == 0
    async with factory.sessions() as session:
        reporter = await session.get(Reporter, first)
        assert reporter is not None and reporter.status == "active"
