"""The outbox: each notification reaches its recipients' in-app list in the recording's own
transaction, once, however often the recording is retried."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from api.models import Notification, NotificationDelivery, User
from domain.calendar import start_of_day
from domain.template import Rung
from tests.api.factories import (
    Factory,
    bearer,
    closed,
    completion,
    extended,
    ladder,
    obligation,
    opened,
    record,
)


async def _deliveries(factory: Factory) -> list[tuple[str, str, str, str]]:
    """(kind, user name, channel, status) of every delivery, in the order written."""
    async with factory.sessions() as session:
        rows = await session.execute(
            select(Notification.kind, User.name, NotificationDelivery.channel,
                   NotificationDelivery.status)
            .join(Notification, NotificationDelivery.notification_id == Notification.id)
            .join(User, NotificationDelivery.user_id == User.id)
            .order_by(NotificationDelivery.id)
        )
        return [tuple(row) for row in rows.tuples()]


async def test_each_event_reaches_its_audience(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    await factory.token("staff", "GR", name="gr-staff")
    await factory.token("supervisor", "GR", name="gr-supervisor")
    await factory.token("staff", "UP", name="up-staff")
    await factory.token("supervisor", "UP", name="up-supervisor")
    await factory.token("board", "BLOC", name="board")
    await factory.token("auditor", name="auditor")

    assert (await record(api, "tasks/opened", opened("GR"))).status_code == 201
    for rung in (Rung.REMINDER, Rung.PARENT, Rung.BOARD):
        assert (await record(api, "ladder", ladder("GR", rung=rung))).status_code == 201
    due = obligation("plan").due_on
    later = extended(
        "GR", new_due_on=due + timedelta(days=30), at=start_of_day(due + timedelta(days=20))
    )
    assert (await record(api, "tasks/changed", later)).status_code == 201

    assert await _deliveries(factory) == [
        ("task_opened", "gr-staff", "in_app", "sent"),
        ("reminder", "gr-staff", "in_app", "sent"),
        ("parent", "up-supervisor", "in_app", "sent"),
        ("board", "board", "in_app", "sent"),
        ("task_extended", "gr-staff", "in_app", "sent"),
    ]


async def test_a_retried_recording_delivers_once(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    await factory.token("staff", "GR", name="gr-staff")
    await factory.token("supervisor", "UP", name="up-supervisor")
    for _ in range(3):
        await record(api, "tasks/opened", opened("GR"))
        await record(api, "ladder", ladder("GR", rung=Rung.PARENT))
    assert await _deliveries(factory) == [
        ("task_opened", "gr-staff", "in_app", "sent"),
        ("parent", "up-supervisor", "in_app", "sent"),
    ]
    async with factory.sessions() as session:
        keys = (await session.scalars(select(NotificationDelivery.delivery_key))).all()
    assert len(set(keys)) == 2


async def test_a_revoked_user_is_not_told(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    await factory.token("staff", "GR", name="gr-staff")
    await factory.token("staff", "GR", name="gone")
    async with factory.sessions() as session:
        gone = await session.scalar(select(User).where(User.name == "gone"))
        assert gone is not None
        gone.revoked_at = gone.created_at
        await session.commit()
    await record(api, "tasks/opened", opened("GR"))
    assert await _deliveries(factory) == [("task_opened", "gr-staff", "in_app", "sent")]


async def test_a_user_reads_their_own_list(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    staff = bearer(await factory.token("staff", "GR", name="gr-staff"))
    other = bearer(await factory.token("staff", "GR2", name="gr2-staff"))
    await record(api, "tasks/opened", opened("GR"))
    await record(api, "ladder", ladder("GR", rung=Rung.REMINDER))

    listed = (await api.get("/notifications", headers=staff)).json()
    assert (listed["total"], listed["unread"]) == (2, 2)
    assert [i["kind"] for i in listed["items"]] == ["reminder", "task_opened"]
    assert {i["committee"] for i in listed["items"]} == {"GR"}
    first = listed["items"][0]["id"]

    assert (await api.post(f"/notifications/{first}/read", headers=other)).status_code == 404
    read = await api.post(f"/notifications/{first}/read", headers=staff)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    again = await api.post(f"/notifications/{first}/read", headers=staff)
    assert again.json()["read_at"] == read.json()["read_at"]

    unread = (await api.get("/notifications?unread=true", headers=staff)).json()
    assert (unread["total"], unread["unread"]) == (1, 1)
    assert [i["kind"] for i in unread["items"]] == ["task_opened"]
    assert (await api.get("/notifications", headers=other)).json()["total"] == 0
    typo = await api.get("/notifications?unraed=true", headers=staff)
    assert typo.status_code == 422 and "unraed" in typo.json()["detail"]
    missing = await api.post("/notifications/999999/read", headers=staff)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


async def test_preferences_add_an_email_delivery(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    staff = bearer(await factory.token("staff", "GR", name="gr-staff"))
    before = await factory.counts()
    bad = await api.put("/users/me/preferences", headers=staff,
                        json={"email": "not an address", "language": "vi"})
    assert bad.status_code == 422 and "email" in bad.text
    assert await factory.counts() == before
    saved = await api.put("/users/me/preferences", headers=staff,
                          json={"email": "vanthu@gr.example", "language": "en"})
    assert saved.status_code == 200
    assert saved.json() == {"email": "vanthu@gr.example", "language": "en",
                            "email_mode": "immediate", "webhook_url": None}
    await record(api, "tasks/opened", opened("GR"))
    assert await _deliveries(factory) == [
        ("task_opened", "gr-staff", "in_app", "sent"),
        ("task_opened", "gr-staff", "email", "pending"),
    ]


async def test_a_report_reaches_the_parent_and_a_closed_year_its_committee(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    await factory.token("staff", "GR", name="gr-staff")
    await factory.token("supervisor", "UP", name="up-supervisor")
    await factory.token("board", "BLOC", name="board")
    await record(api, "tasks/opened", opened("GR", "report-h1"))
    report = completion("GR", "report-h1", ref="report-h1-GR").model_copy(update={
        "evidence": {"kind": "report", "period": "h1", "figures": {"reporters_total": 5}},
    })
    assert (await record(api, "tasks/completed", report)).status_code == 201
    assert (await record(api, "tasks/completed", report)).status_code == 200  # retried: once
    await record(api, "tasks/opened", opened("GR", "plan"))
    assert (await record(api, "tasks/completed", completion("GR"))).status_code == 201
    assert (await record(api, "cycles/closed", closed("GR"))).status_code == 201
    assert await _deliveries(factory) == [
        ("task_opened", "gr-staff", "in_app", "sent"),
        ("report_received", "up-supervisor", "in_app", "sent"),
        ("report_received", "board", "in_app", "sent"),
        ("task_opened", "gr-staff", "in_app", "sent"),  # a plan is not a report: no one told
        ("cycle_finished", "gr-staff", "in_app", "sent"),
    ]
    async with factory.sessions() as session:
        notes = dict((await session.execute(
            select(Notification.kind, Notification.message)
            .where(Notification.kind.in_(["report_received", "cycle_finished"]))
        )).tuples().all())
    assert notes["report_received"].startswith("Đảng ủy GR đã gửi Báo cáo")
    assert notes["cycle_finished"] == (
        "Năm 2025: 0 nhiệm vụ, 0 đúng hạn, 0 trễ hạn, 0 được miễn."
    )


async def test_a_report_to_the_root_is_one_notice_for_its_supervisors_and_board(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    await factory.token("supervisor", "BLOC", name="bloc-supervisor")
    await factory.token("board", "BLOC", name="board")
    await record(api, "tasks/opened", opened("UP", "report-h1"))
    report = completion("UP", "report-h1", ref="report-h1-UP").model_copy(update={
        "evidence": {"kind": "report", "period": "h1", "figures": {"reporters_total": 5}},
    })
    assert (await record(api, "tasks/completed", report)).status_code == 201
    assert await _deliveries(factory) == [
        ("report_received", "bloc-supervisor", "in_app", "sent"),
        ("report_received", "board", "in_app", "sent"),
    ]
    async with factory.sessions() as session:
        notices = await session.scalars(
            select(Notification.id).where(Notification.kind == "report_received"))
        assert len(notices.all()) == 1
