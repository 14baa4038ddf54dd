"""Webhook notifications reach a real HTTP receiver on loopback: signed over the timestamp and
the body, Vietnamese intact, a replay refused by the receiver, a receiver that is down retried
with backoff, every attempt recorded."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from api.channels import webhook
from api.models import NotificationDelivery, utcnow
from api.services.dispatch import Dispatcher
from api.settings import Settings
from domain.template import Rung
from tests.api.dispatching import Clock, attempts
from tests.api.factories import Factory, bearer, ladder, opened, record
from tests.api.receiver import Receiver, receiving

SECRET = "a-committee-office-shared-secret-0123456789"


async def _subscribe(api: httpx.AsyncClient, factory: Factory, url: str) -> dict[str, str]:
    await factory.tree()
    staff = bearer(await factory.token("staff", "GR", name="gr-system"))
    saved = await api.put("/users/me/preferences", headers=staff, json={
        "email": None, "language": "vi", "webhook_url": url, "webhook_secret": SECRET,
    })
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"email": None, "language": "vi", "email_mode": "immediate",
                            "webhook_url": url}
    return staff


async def test_a_signed_webhook_arrives_and_a_replay_is_refused(
    api: httpx.AsyncClient, factory: Factory, settings: Settings
) -> None:
    async with receiving(Receiver(SECRET)) as receiver:
        await _subscribe(api, factory, receiver.url)
        task_id = (await record(api, "tasks/opened", opened("GR"))).json()["id"]
        await record(api, "ladder", ladder("GR", rung=Rung.REMINDER))
        assert await Dispatcher(factory.sessions, settings).run_once() == 2

        assert receiver.refused == []
        first, reminder = (r.payload for r in receiver.taken)
        assert (first["kind"], reminder["kind"]) == ("task_opened", "reminder")
        assert reminder["task"]["id"] == task_id
        assert reminder["subject"].startswith(f"Nhắc việc: {reminder['task']['title_vi']}")
        assert reminder["committee"] == {"code": "GR", "name": "Đảng ủy GR"}
        assert reminder["link"].endswith(f"/tasks/{task_id}")

        # A replay of a captured request, byte for byte, is refused by the receiver; so is a
        # body changed under the signature and a signature from another secret.
        captured = receiver.taken[1]
        sent = {k: v for k, v in captured.headers.items() if k.startswith("x-yearwheel")}
        async with httpx.AsyncClient() as attacker:
            replay = await attacker.post(receiver.url, content=captured.body, headers=sent)
            forged = await attacker.post(
                receiver.url, content=captured.body.replace(b"reminder", b"overdue"),
                headers={**sent, webhook.DELIVERY.lower(): "forged"},
            )
            stale_at = int(utcnow().timestamp()) - 3600
            stale = await attacker.post(receiver.url, content=captured.body, headers={
                **sent, webhook.DELIVERY.lower(): "stale", webhook.TIMESTAMP.lower(): str(stale_at),
                webhook.SIGNATURE.lower(): webhook.sign(SECRET, stale_at, captured.body),
            })
        assert (replay.status_code, forged.status_code, stale.status_code) == (409, 401, 401)
        assert len(receiver.taken) == 2
    async with factory.sessions() as session:
        keys = (await session.execute(
            select(NotificationDelivery.delivery_key, NotificationDelivery.message_id)
            .where(NotificationDelivery.channel == "webhook")
        )).tuples().all()
    assert [key for key, _ in keys] == [r.headers[webhook.DELIVERY.lower()]
                                        for r in receiver.taken]
    assert all(key == message_id for key, message_id in keys)
    assert await attempts(factory) == [(1, "sent")] * 2


async def test_a_receiver_that_is_down_is_retried_with_backoff(
    api: httpx.AsyncClient, factory: Factory, settings: Settings
) -> None:
    clock = Clock()
    async with receiving(Receiver(SECRET, outages=2)) as receiver:
        await _subscribe(api, factory, receiver.url)
        await record(api, "tasks/opened", opened("GR"))
        dispatcher = Dispatcher(
            factory.sessions, settings.model_copy(update={"notify_backoff_seconds": 60.0}),
            clock=clock,
        )
        assert await dispatcher.run_once() == 1  # 503
        assert await dispatcher.run_once() == 0  # waits out its backoff
        clock.now += timedelta(seconds=61)
        assert await dispatcher.run_once() == 1  # 503 again; now waits 120 s
        clock.now += timedelta(seconds=121)
        assert await dispatcher.run_once() == 1
    assert [status for status, _ in receiver.refused] == [503, 503]
    assert len(receiver.taken) == 1
    assert await attempts(factory) == [(1, "failed"), (2, "failed"), (3, "sent")]
    async with factory.sessions() as session:
        delivery = await session.scalar(select(NotificationDelivery).where(
            NotificationDelivery.channel == "webhook"))
    assert delivery is not None and delivery.status == "sent"
    assert delivery.last_error is not None and "503" in delivery.last_error


async def test_a_webhook_without_its_secret_is_refused_and_changes_nothing(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    staff = bearer(await factory.token("staff", "GR"))
    before = await factory.counts()
    for body, word in (
        ({"webhook_url": "https://gr.example/hook"}, "webhook_secret"),
        ({"webhook_url": "ftp://gr.example/hook", "webhook_secret": SECRET}, "webhook_url"),
        ({"webhook_url": "https://gr.example/hook", "webhook_secret": "short"}, "32"),
    ):
        refused = await api.put("/users/me/preferences", headers=staff,
                                json={"email": None, "language": "vi", **body})
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert word in refused.text, refused.json()
    assert await factory.counts() == before
