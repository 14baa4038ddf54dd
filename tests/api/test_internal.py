"""/internal/*: recording what the workflow decided, once, however often it is retried."""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx
from sqlalchemy import select

from api.models import (
    AuditEvent,
    Cycle,
    Escalation,
    Notification,
    Submission,
    Task,
    TemplateRow,
)
from api.services import templates
from domain.calendar import HCM
from domain.template import DEFAULT_TEMPLATE, Rung
from tests.api.factories import Factory, closed, completion, ladder, opened, record


async def test_task_opened_records_row_notification_and_audit(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    response = await record(api, "tasks/opened", opened("GR", "plan"))
    assert response.status_code == 201
    recorded = response.json()
    assert recorded["created"] is True
    async with factory.sessions() as session:
        task = await session.get(Task, recorded["id"])
        assert task is not None
        assert (task.key, task.state, task.version, task.escalation_level) == ("plan", "open", 1, 0)
        assert task.opened_at == datetime(2025, 1, 1, tzinfo=HCM)
        cycle = await session.get(Cycle, task.cycle_id)
        assert cycle is not None and cycle.workflow_id == "cycle/GR/2025"
        notes = (await session.scalars(select(Notification))).all()
        assert [(n.kind, n.task_id) for n in notes] == [("task_opened", task.id)]
        actions = (await session.scalars(select(AuditEvent.action))).all()
        assert actions == ["template.created", "cycle.adopted", "task.opened"]


async def test_repeat_by_natural_key_returns_the_same_id(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    first = await record(api, "tasks/opened", opened())
    before = await factory.counts()
    again = await record(api, "tasks/opened", opened())
    assert again.status_code == 200
    assert again.json() == {"id": first.json()["id"], "created": False}
    assert await factory.counts() == before


async def test_repeat_by_idempotency_key_returns_the_first_answer(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    first = await record(api, "tasks/opened", opened(), key="run-1/1")
    before = await factory.counts()
    again = await record(api, "tasks/opened", opened(), key="run-1/1")
    assert (again.status_code, again.json()) == (201, {"id": first.json()["id"], "created": True})
    assert again.headers["idempotent-replayed"] == "true"
    assert await factory.counts() == before


async def test_idempotency_key_with_another_body_is_422(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    await record(api, "tasks/opened", opened("GR", "plan"), key="run-1/1")
    before = await factory.counts()
    reused = await record(api, "tasks/opened", opened("GR", "review"), key="run-1/1")
    assert reused.status_code == 422
    assert reused.json()["idempotency_key"] == "run-1/1"
    assert await factory.counts() == before


async def test_concurrent_duplicates_record_once(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    responses = await asyncio.gather(
        *(record(api, "tasks/opened", opened(), key=f"k{i % 2}") for i in range(6))
    )
    answered = [r for r in responses if r.status_code != 409]
    busy = [r for r in responses if r.status_code == 409]  # a repeat while its key is in flight
    assert all(r.status_code in (200, 201) for r in answered), [r.text for r in responses]
    assert all(r.json()["type"] == "/problems/idempotency-key-in-flight" for r in busy)
    again = await asyncio.gather(*(record(api, "tasks/opened", opened(), key=f"k{i}")
                                   for i in range(2)))  # each key now answers what it answered
    assert [r.headers["idempotent-replayed"] for r in again] == ["true", "true"]
    ids = {r.json()["id"] for r in [*answered, *again]}
    assert len(ids) == 1
    assert sum(r.json()["created"] for r in again) == 1
    assert await factory.count(Task) == 1
    assert await factory.count(Cycle) == 1


async def test_invalid_event_is_422_and_writes_nothing(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    before = await factory.counts()
    body = opened().model_dump(mode="json") | {"due_on": "31/01/2025", "stage": "party"}
    response = await api.post(
        "/internal/tasks/opened", json=body,
        headers={"Authorization": "Bearer test-service-token-0123456789abcdef"},
    )
    assert response.status_code == 422
    assert sorted(e["field"] for e in response.json()["errors"]) == ["due_on", "stage"]
    assert await factory.counts() == before


async def test_unknown_committee_or_task_is_404(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    before = await factory.counts()
    assert (await record(api, "tasks/opened", opened("NOPE"))).status_code == 404
    assert (await record(api, "tasks/completed", completion("GR"))).status_code == 404
    assert (await record(api, "ladder", ladder("GR"))).status_code == 404
    assert (await record(api, "cycles/closed", closed("GR"))).status_code == 404
    assert await factory.counts() == before


async def test_completion_closes_the_task_and_resolves_its_escalations(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    task_id = (await record(api, "tasks/opened", opened())).json()["id"]
    await record(api, "ladder", ladder(rung=Rung.REMINDER))
    await record(api, "ladder", ladder(rung=Rung.OVERDUE))
    done_at = datetime(2025, 2, 3, 10, tzinfo=HCM)
    response = await record(api, "tasks/completed", completion(at=done_at, late=True), key="c1")
    assert response.status_code == 201
    again = await record(api, "tasks/completed", completion(at=done_at, late=True))
    assert again.json() == {"id": response.json()["id"], "created": False}
    async with factory.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        assert (task.state, task.late, task.closed_by, task.closed_at) == (
            "completed", True, "staff-GR", done_at
        )
        assert task.rung == "overdue"  # the highest rung it reached stays on record
        submission = await session.scalar(select(Submission))
        assert submission is not None
        assert (submission.submission_ref, submission.workflow_event_id) == ("ref-1", 42)
        assert submission.evidence["document_number"] == "12-KH/ĐU"
        resolved = (await session.scalars(select(Escalation.resolved_at))).all()
        assert resolved == [done_at, done_at]
        audit = (await session.scalars(select(AuditEvent).order_by(AuditEvent.seq))).all()
        assert (audit[-1].action, audit[-1].actor) == ("task.completed", "staff-GR")
        assert audit[-1].payload["recorded_by"] == "worker"


async def test_cycle_closed_stores_the_result_once(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    await record(api, "tasks/opened", opened())
    first = await record(api, "cycles/closed", closed())
    assert first.status_code == 201
    again = await record(api, "cycles/closed", closed())
    assert again.json() == {"id": first.json()["id"], "created": False}
    async with factory.sessions() as session:
        cycle = await session.get(Cycle, first.json()["id"])
        assert cycle is not None
        assert cycle.status == "closed"
        assert cycle.result is not None and cycle.result["total"] == 0
        assert cycle.closed_at == datetime(2025, 12, 20, tzinfo=HCM)


async def test_an_adopted_cycle_takes_the_template_its_workflow_runs(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    async with factory.sessions() as session:
        await templates.create_version(
            session=session, template=DEFAULT_TEMPLATE, version_given=False, actor="test"
        )
        await session.commit()
    # The workflow was started with version 1; version 2 is the current one.
    event = opened().model_copy(
        update={"template_code": DEFAULT_TEMPLATE.code, "template_version": 1}
    )
    response = await record(api, "tasks/opened", event)
    assert response.status_code == 201, response.text
    async with factory.sessions() as session:
        row = (
            await session.execute(
                select(TemplateRow.code, TemplateRow.version)
                .join(Cycle, Cycle.template_id == TemplateRow.id)
                .where(Cycle.workflow_id == event.workflow_id)
            )
        ).one()
        adopted = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "cycle.adopted")
        )
    assert tuple(row) == (DEFAULT_TEMPLATE.code, 1)
    assert adopted is not None and adopted.payload["template_version"] == 1


async def test_a_workflow_running_a_template_the_backend_lacks_is_not_adopted(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    await record(api, "tasks/opened", opened("GR2"))  # seeds the default template
    event = opened().model_copy(
        update={"template_code": DEFAULT_TEMPLATE.code, "template_version": 7}
    )
    before = await factory.counts()
    response = await record(api, "tasks/opened", event)
    assert response.status_code == 409, response.text
    assert "version 7" in response.json()["detail"]
    assert await factory.counts() == before
