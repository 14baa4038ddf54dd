"""Evidence forms built from the evidence models: which kinds have one, how a form reads back,
and a dissemination report completed in the browser after one unreadable field."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, expect
from sqlalchemy import select

from api.models import Submission, Task
from api.web.evidence_forms import FORMS, parse_form
from domain.evidence import parse_evidence
from domain.template import EvidenceKind
from tests.api.conftest import Live
from tests.api.factories import Factory
from tests.api.support import Year, eventually
from tests.web.conftest import checked_page, person
from tests.web.test_browser import sign_in


def test_every_kind_without_nested_records_has_a_form_from_its_model() -> None:
    assert set(FORMS) == {EvidenceKind.PLAN, EvidenceKind.DISSEMINATION,
                          EvidenceKind.CONFERENCE, EvidenceKind.REVIEW}
    widgets = {f.name: f.widget for f in FORMS[EvidenceKind.CONFERENCE]}
    assert widgets == {"held_on": "date", "attendees": "number", "topics": "lines",
                       "listeners": "number", "online": "checkbox", "activities": "numbers"}


def test_a_filled_form_reads_back_as_evidence_the_model_accepts() -> None:
    evidence, errors = parse_form(EvidenceKind.CONFERENCE, {
        "held_on": "20/03/2030", "attendees": "12", "topics": "Nghị quyết\n\n Chỉ thị 30 ",
        "listeners": "300", "online": "1", "activities": "",
    })
    assert errors == {}
    parsed = parse_evidence(EvidenceKind.CONFERENCE, evidence)
    assert parsed.model_dump() == {
        "kind": "conference", "held_on": date(2030, 3, 20),
        "attendees": 12, "topics": ["Nghị quyết", "Chỉ thị 30"], "listeners": 300,
        "online": True, "activities": [],
    }
    _, unreadable = parse_form(EvidenceKind.CONFERENCE, {
        "held_on": "2030-03-20", "attendees": "mười", "topics": "x", "listeners": "",
        "activities": "3\nba",
    })
    assert set(unreadable) == {"held_on", "attendees", "listeners", "activities"}


async def test_a_dissemination_report_through_its_form(
    live: Live, factory: Factory, browser: Browser, tmp_path: Path
) -> None:
    year = await Year(live, factory).start(time_scale=60.0)

    async def dissemination() -> dict[str, Any] | None:
        listed = await live.client.get("/tasks", params={"committee": "GR", "limit": 100},
                                       headers=year.board)
        return next((t for t in listed.json()["items"]
                     if t["evidence_kind"] == "dissemination" and t["state"] == "open"), None)

    task = await eventually(dissemination)
    await year.open_in_workflow(task["key"])
    await person(factory.sessions, name="clerk-GR", role="staff", committee="GR")
    page = await browser.new_page(base_url=live.url, locale="vi-VN")
    await page.goto(f"/web/tasks/{task['id']}")
    await sign_in(page, name="clerk-GR")
    await expect(page).to_have_url(re.compile(f"/web/tasks/{task['id']}$"))
    await page.get_by_label("Số chi bộ đã phổ biến").fill("12")
    await page.get_by_label("Tổng số chi bộ").fill("mười lăm")
    await page.get_by_label("Ngày hoàn thành").fill(f"20/03/{year.year}")
    await page.get_by_role("button", name="Hoàn thành công việc").click()
    await expect(page.locator("#e-cells_total")).to_have_text("Nhập một số nguyên không âm.")
    await expect(page.get_by_label("Số chi bộ đã phổ biến")).to_have_value("12")
    await checked_page(page, tmp_path, "dissemination-invalid")
    await page.get_by_label("Tổng số chi bộ").fill("15")
    await page.get_by_role("button", name="Hoàn thành công việc").click()
    await expect(page.locator("#done")).to_have_text("Đã hoàn thành công việc.")
    async with factory.sessions() as session:
        row = await session.get(Task, task["id"])
        submission = await session.scalar(
            select(Submission).where(Submission.task_id == task["id"])
        )
    assert row is not None and row.state == "completed"
    assert submission is not None and (
        submission.evidence["cells_reached"], submission.evidence["cells_total"]
    ) == (12, 15)
