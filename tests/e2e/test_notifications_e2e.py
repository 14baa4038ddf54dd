"""Email from a running year: the real dev server, the API (with its dispatcher) and a worker as
processes, and a real SMTP server on loopback that receives the reminder and the escalation of
a time-scaled cycle, in Vietnamese."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from tests.api.mailbox import Mailbox, free_port, smtp_server
from yearwheel.processes import ProcessGroup
from yearwheel.stack import Stack, plan_stack, start_stack
from yearwheel.users import create_user_with_token

pytestmark = pytest.mark.e2e

SECONDS_PER_DAY = 0.1


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    box = Mailbox()
    port = free_port()
    with smtp_server(box, port=port):
        monkeypatch.setenv("YEARWHEEL_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("YEARWHEEL_SMTP_PORT", str(port))
        monkeypatch.setenv("YEARWHEEL_NOTIFY_POLL_SECONDS", "0.2")
        yield box


@pytest.fixture
def stack(tmp_path: Path, mailbox: Mailbox) -> Iterator[Stack]:
    stack = plan_stack(tmp_path / "state", temporal_port=None, api_port=None, ui=False)
    with ProcessGroup(tmp_path / "logs") as group:
        start_stack(group, stack)
        yield stack


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def subjects(mailbox: Mailbox, to: str) -> list[str]:
    return [str(m["Subject"]) for m in mailbox.received if m["To"] == to]


async def test_the_reminder_and_the_escalation_of_a_running_year_arrive(
    stack: Stack, mailbox: Mailbox
) -> None:
    db = stack.database_url
    admin = await create_user_with_token(db, name="admin", role="admin")
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as client:
        for code, level, parent in (("BLOC", "root", None), ("UP", "upper", "BLOC"),
                                    ("GR", "grassroots", "UP")):
            created = await client.post("/committees", headers=bearer(admin), json={
                "code": code, "name": f"Đảng ủy {code}", "level": level, "parent": parent})
            assert created.status_code == 201, created.text
        people = {
            "vanthu@gr.example": await create_user_with_token(
                db, name="staff", role="staff", committee="GR"),
            "thuongtruc@up.example": await create_user_with_token(
                db, name="supervisor", role="supervisor", committee="UP"),
        }
        for address, token in people.items():
            chose = await client.put("/users/me/preferences", headers=bearer(token),
                                     json={"email": address, "language": "vi"})
            assert chose.status_code == 200, chose.text
        started = await client.post("/cycles", headers=bearer(admin), json={
            "committee": "GR", "year": date.today().year, "time_scale": SECONDS_PER_DAY})
        assert started.status_code in (200, 201), started.text

        deadline = time.monotonic() + 120
        while not any("cấp trên" in s for s in subjects(mailbox, "thuongtruc@up.example")):
            got = [str(m["Subject"]) for m in mailbox.received]
            assert time.monotonic() < deadline, f"no escalation email; received: {got}"
            await asyncio.sleep(0.2)
        plan = next(t for t in (await client.get(
            "/tasks", params={"committee": "GR"}, headers=bearer(people["vanthu@gr.example"])
        )).json()["items"] if t["key"] == "plan")

    title, due = plan["title_vi"], date.fromisoformat(plan["due_on"]).strftime("%d/%m/%Y")
    staff_mail = subjects(mailbox, "vanthu@gr.example")
    assert f"Nhiệm vụ mới: {title}" in staff_mail
    assert f"Nhắc việc: {title} đến hạn ngày {due}" in staff_mail
    assert f"Quá hạn: {title} (hạn ngày {due})" in staff_mail
    assert f"Chuyển cấp ủy cấp trên: Đảng ủy GR chưa hoàn thành {title}" in subjects(
        mailbox, "thuongtruc@up.example")
    escalation = next(m for m in mailbox.received if "cấp trên" in str(m["Subject"]))
    assert isinstance(escalation, EmailMessage)
    text = escalation.get_body(("plain",))
    assert text is not None and f"{stack.api_url}/tasks/{plan['id']}" in text.get_content()
    # One message per delivery: no subject twice to the same person.
    for address in people:
        assert len(subjects(mailbox, address)) == len(set(subjects(mailbox, address)))
