"""The daily digest reaches a real SMTP server on loopback: one message a day at the set hour
(Asia/Ho_Chi_Minh) listing the user's notifications of the 24 hours before it, in Vietnamese,
never twice, retried while the server refuses; and no per-notification email for that user."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update

from api.models import Digest, Notification, NotificationDelivery, Task, User
from api.services.digest import digest_time
from api.services.dispatch import Dispatcher
from api.settings import Settings
from domain.calendar import HCM
from domain.template import Rung
from tests.api.dispatching import Clock
from tests.api.factories import Factory, bearer, ladder, opened, record
from tests.api.mailbox import Mailbox, smtp_server


async def _happened_on_one_day(factory: Factory, settings: Settings) -> datetime:
    """Put the recorded notifications (stamped with the cycle's calendar, weeks apart) a
    minute apart on one morning; answers the digest time that follows them."""
    morning = datetime(2026, 3, 2, 10, tzinfo=HCM)
    async with factory.sessions() as session:
        ids = (await session.scalars(select(Notification.id).order_by(Notification.id))).all()
        for minute, note_id in enumerate(ids):
            await session.execute(update(Notification).where(Notification.id == note_id)
                                  .values(created_at=morning + timedelta(minutes=minute)))
        await session.commit()
    return digest_time(settings, morning.date() + timedelta(days=1))


async def _people(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    staff = bearer(await factory.token("staff", "GR", name="gr-staff"))
    await factory.token("supervisor", "UP", name="up-supervisor")
    async with factory.sessions() as session:
        await session.execute(update(User).where(User.name == "up-supervisor")
                              .values(email="thuongtruc@up.example"))
        await session.commit()
    chose = await api.put("/users/me/preferences", headers=staff, json={
        "email": "vanthu@gr.example", "language": "vi", "email_mode": "digest",
    })
    assert chose.status_code == 200 and chose.json()["email_mode"] == "digest", chose.text


async def _digests(factory: Factory) -> list[tuple[str, int, int]]:
    async with factory.sessions() as session:
        rows = await session.execute(
            select(Digest.status, Digest.items, Digest.attempts).order_by(Digest.day)
        )
        return [tuple(row) for row in rows.tuples()]


async def test_one_digest_a_day_lists_the_day_in_vietnamese(
    api: httpx.AsyncClient, factory: Factory, settings: Settings
) -> None:
    await _people(api, factory)
    task_id = (await record(api, "tasks/opened", opened("GR"))).json()["id"]
    await record(api, "ladder", ladder("GR", rung=Rung.REMINDER))
    await record(api, "ladder", ladder("GR", rung=Rung.PARENT))
    async with factory.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        channels = (await session.execute(
            select(User.name, NotificationDelivery.channel)
            .join(User, NotificationDelivery.user_id == User.id)
            .where(NotificationDelivery.channel == "email")
        )).tuples().all()
    assert channels == [("up-supervisor", "email")]  # the digest user gets no single email

    due = await _happened_on_one_day(factory, settings)
    clock = Clock(due - timedelta(minutes=1))
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        smtp = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
        dispatcher = Dispatcher(factory.sessions, smtp, clock=clock)
        assert await dispatcher.run_once() == 1  # the supervisor's escalation, at once
        assert [str(m["To"]) for m in mailbox.received] == ["thuongtruc@up.example"]
        clock.now = due
        await dispatcher.run_once()
        clock.now = due + timedelta(hours=3)
        await dispatcher.run_once()
    digests = [m for m in mailbox.received if m["To"] == "vanthu@gr.example"]
    assert len(digests) == 1
    day = due.astimezone(HCM).strftime("%d/%m/%Y")
    assert str(digests[0]["Subject"]) == f"Tóm tắt ngày {day}: 2 thông báo"
    text = digests[0].get_body(("plain",))
    assert text is not None
    body = text.get_content()
    assert f"Nhiệm vụ mới: {task.title_vi}" in body
    assert f"Nhắc việc: {task.title_vi} đến hạn ngày {task.due_on:%d/%m/%Y}" in body
    assert f"http://127.0.0.1:8000/tasks/{task_id}" in body
    # The day before the first run had nothing for her: recorded as empty, nothing sent.
    assert await _digests(factory) == [("empty", 0, 1), ("sent", 2, 1)]


async def test_a_refusing_server_gets_the_digest_later_and_once(
    api: httpx.AsyncClient, factory: Factory, settings: Settings
) -> None:
    await _people(api, factory)
    await record(api, "tasks/opened", opened("GR"))
    due = await _happened_on_one_day(factory, settings)
    clock = Clock(due)
    mailbox = Mailbox(refusals=1)
    with smtp_server(mailbox) as port:
        smtp = settings.model_copy(update={
            "smtp_host": "127.0.0.1", "smtp_port": port, "notify_backoff_seconds": 60.0,
        })
        dispatcher = Dispatcher(factory.sessions, smtp, clock=clock)
        await dispatcher.run_once()
        assert await _digests(factory) == [("failed", 1, 1)]
        await dispatcher.run_once()  # not before its backoff
        clock.now += timedelta(seconds=61)
        await dispatcher.run_once()
        await dispatcher.run_once()
    assert [str(m["Subject"]).split(":")[1] for m in mailbox.received] == [" 1 thông báo"]
    assert await _digests(factory) == [("sent", 1, 2)]
