"""Email notifications reach a real SMTP server on loopback: Vietnamese intact, retried while
the server refuses, every attempt recorded, and a crash between send and record costs at most
one copy with the same Message-ID."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from api.models import NotificationDelivery, Task, User, utcnow
from api.services.dispatch import Dispatcher
from api.settings import Settings
from domain.template import Rung
from tests.api.conftest import asgi_client
from tests.api.dispatching import Clock, attempts
from tests.api.factories import Factory, bearer, ladder, opened, record
from tests.api.mailbox import Mailbox, smtp_server
from tests.api.support import eventually


class Killed(BaseException):
    """The process dying right after the server accepted the message."""


async def _people(factory: Factory) -> None:
    await factory.tree()
    await factory.token("staff", "GR", name="gr-staff")
    await factory.token("supervisor", "UP", name="up-supervisor")
    async with factory.sessions() as session:
        await session.execute(update(User).where(User.name == "gr-staff")
                              .values(email="vanthu@gr.example"))
        await session.execute(update(User).where(User.name == "up-supervisor")
                              .values(email="thuongtruc@up.example", language="vi"))
        await session.commit()


def _dispatcher(factory: Factory, settings: Settings, port: int, clock: Clock) -> Dispatcher:
    smtp = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port,
                                       "notify_backoff_seconds": 60.0})
    return Dispatcher(factory.sessions, smtp, clock=clock)


async def test_reminder_and_escalation_arrive_in_vietnamese(
    api: httpx.AsyncClient, factory: Factory, settings: Settings
) -> None:
    await _people(factory)
    task_id = (await record(api, "tasks/opened", opened("GR"))).json()["id"]
    await record(api, "ladder", ladder("GR", rung=Rung.REMINDER))
    await record(api, "ladder", ladder("GR", rung=Rung.PARENT))
    async with factory.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
    due = task.due_on.strftime("%d/%m/%Y")
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        assert await _dispatcher(factory, settings, port, Clock()).run_once() == 3
    subjects = sorted(str(m["Subject"]) for m in mailbox.received)
    assert subjects == sorted([
        f"Nhiệm vụ mới: {task.title_vi}",
        f"Nhắc việc: {task.title_vi} đến hạn ngày {due}",
        f"Chuyển cấp ủy cấp trên: Đảng ủy GR chưa hoàn thành {task.title_vi}",
    ])
    escalation = next(m for m in mailbox.received if "cấp trên" in str(m["Subject"]))
    assert escalation["To"] == "thuongtruc@up.example"
    text = escalation.get_body(("plain",))
    html = escalation.get_body(("html",))
    assert text is not None and html is not None
    body = text.get_content().replace("\r\n", "\n")
    assert f"Nhiệm vụ: {task.title_vi}\n" in body
    assert f"Hạn: {due}\n" in body and "Mức: cấp ủy cấp trên\n" in body
    assert f"http://127.0.0.1:8000/tasks/{task_id}" in body
    assert task.title_vi in html.get_content()
    assert await attempts(factory) == [(1, "sent")] * 3


async def test_a_refusing_server_is_retried_with_backoff(
    api: httpx.AsyncClient, factory: Factory, settings: Settings
) -> None:
    await _people(factory)
    await record(api, "tasks/opened", opened("GR"))
    mailbox, clock = Mailbox(refusals=2), Clock()
    with smtp_server(mailbox) as port:
        dispatcher = _dispatcher(factory, settings, port, clock)
        assert await dispatcher.run_once() == 1  # refused
        assert await dispatcher.run_once() == 0  # not due before its backoff
        clock.now += timedelta(seconds=61)
        assert await dispatcher.run_once() == 1  # refused again; now waits 120 s
        clock.now += timedelta(seconds=61)
        assert await dispatcher.run_once() == 0
        clock.now += timedelta(seconds=60)
        assert await dispatcher.run_once() == 1
    assert len(mailbox.received) == 1 and mailbox.refused == 2
    assert await attempts(factory) == [(1, "failed"), (2, "failed"), (3, "sent")]
    async with factory.sessions() as session:
        delivery = await session.scalar(
            select(NotificationDelivery).where(NotificationDelivery.channel == "email")
        )
    assert delivery is not None and (delivery.status, delivery.attempts) == ("sent", 3)
    assert delivery.last_error is not None and "451" in delivery.last_error


async def test_a_crash_between_send_and_record_costs_one_copy_at_most(
    api: httpx.AsyncClient, factory: Factory, settings: Settings
) -> None:
    await _people(factory)
    await record(api, "tasks/opened", opened("GR"))
    mailbox, clock = Mailbox(), Clock()

    async def die() -> None:
        raise Killed

    with smtp_server(mailbox) as port:
        crashing = _dispatcher(factory, settings, port, clock)
        crashing.after_send = die
        with pytest.raises(Killed):
            await crashing.run_once()
        restarted = _dispatcher(factory, settings, port, clock)
        assert await restarted.run_once() == 0  # the dead one's lease still holds
        clock.now += timedelta(seconds=settings.notify_lease_seconds)
        assert await restarted.run_once() == 1
        assert await restarted.run_once() == 0
    assert len(mailbox.received) == 2
    first, copy = (m["Message-ID"] for m in mailbox.received)
    assert first == copy  # the documented bound: one copy, recognisably the same message
    assert await attempts(factory) == [(1, "sending"), (2, "sent")]


async def test_the_api_process_dispatches_to_eml_files_without_smtp(
    factory: Factory, settings: Settings, tmp_path: Path
) -> None:
    await _people(factory)
    mail = tmp_path / "mail"
    running = settings.model_copy(update={
        "notify_dispatch": True, "notify_poll_seconds": 0.05, "mail_dir": str(mail),
    })
    async with asgi_client(running) as client:
        await record(client, "tasks/opened", opened("GR"))

        async def recorded() -> bool:  # the file is written before the attempt is recorded
            return await attempts(factory) == [(1, "sent")]

        await eventually(recorded)
    files = sorted(mail.glob("*.eml"))
    assert len(files) == 1
    message = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert str(message["Subject"]).startswith("Nhiệm vụ mới: ")
    assert message["To"] == "vanthu@gr.example"


async def test_admins_see_a_failure_and_resend_it(
    api: httpx.AsyncClient, factory: Factory, settings: Settings
) -> None:
    await _people(factory)
    admin = bearer(await factory.token("admin"))
    staff = bearer(await factory.token("staff", "GR"))
    await record(api, "tasks/opened", opened("GR"))
    mailbox, clock = Mailbox(refusals=1), Clock()
    with smtp_server(mailbox) as port:
        dispatcher = _dispatcher(factory, settings, port, clock)
        dispatcher.settings = dispatcher.settings.model_copy(update={"notify_max_attempts": 1})
        assert await dispatcher.run_once() == 1
        failed = (await api.get("/notifications/deliveries?status=failed", headers=admin)).json()
        assert failed["total"] == 1
        gauge = 'yearwheel_notification_deliveries{channel="email",status="failed"} 1.0'
        assert gauge in (await api.get("/metrics")).text.splitlines()
        item = failed["items"][0]
        assert (item["channel"], item["user"], item["attempts"]) == ("email", "gr-staff", 1)
        assert "451" in item["last_error"]
        assert (await api.get("/notifications/deliveries", headers=staff)).status_code == 403
        path = f"/notifications/deliveries/{item['id']}/resend"
        assert (await api.post(path, headers=staff)).status_code == 403
        resent = await api.post(path, headers=admin)
        assert resent.status_code == 200 and resent.json()["status"] == "pending"
        again = await api.post(path, headers=admin)
        assert again.status_code == 409
        assert again.headers["content-type"].startswith("application/problem+json")
        clock.now = utcnow()  # the resend made it due at the wall clock's now
        assert await dispatcher.run_once() == 1
    assert len(mailbox.received) == 1
    assert await attempts(factory) == [(1, "failed"), (2, "sent")]
    sent = (await api.get("/notifications/deliveries?status=sent", headers=admin)).json()
    assert [i["id"] for i in sent["items"] if i["channel"] == "email"] == [item["id"]]
