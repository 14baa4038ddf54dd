"""A supervisor extends and waives a task below it from the web page, with a reason, the page's
version as If-Match: a missing reason is shown beside its field, and a stale page says what
changed instead of acting."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from playwright.async_api import Browser, expect
from sqlalchemy import select

from api.models import AuditEvent, Task
from tests.api.conftest import Live
from tests.api.factories import Factory
from tests.api.support import Year
from tests.web.conftest import checked_page, person
from tests.web.test_browser import sign_in


async def test_a_supervisor_extends_then_waives_from_a_stale_page(
    live: Live, factory: Factory, browser: Browser, tmp_path: Path
) -> None:
    year = await Year(live, factory).start(time_scale=60.0)
    plan = await year.task("plan", state="open")
    await year.open_in_workflow("plan")
    await person(factory.sessions, name="sup-UP", role="supervisor", committee="UP")
    page = await browser.new_page(base_url=live.url, locale="vi-VN")
    await page.goto("/web/sign-in")
    await sign_in(page, name="sup-UP")
    below = page.get_by_role("region", name=re.compile("^Cấp ủy cấp dưới"))
    row = below.get_by_role("row").filter(has_text=plan["title_vi"])
    await expect(row).to_contain_text("GR")
    progress = page.get_by_role("region", name=re.compile(f"^Tiến độ năm {year.year}"))
    await expect(progress.get_by_role("cell", name="Đảng ủy GR", exact=True)).to_have_count(1)
    await checked_page(page, tmp_path, "supervisor-inbox")
    await row.get_by_role("link").click()
    await expect(page.get_by_role("button", name="Hoàn thành công việc")).to_have_count(0)

    await page.get_by_label("Hạn mới").fill(f"30/06/{year.year}")
    await page.get_by_role("button", name="Gia hạn").click()
    await expect(page.locator("#e-extend-reason")).to_have_text("Cần nêu lý do.")
    await expect(page.get_by_label("Hạn mới")).to_have_value(f"30/06/{year.year}")
    await checked_page(page, tmp_path, "extend-invalid")
    await page.get_by_label("Lý do gia hạn").fill("Đang kiện toàn cấp ủy")
    await page.get_by_role("button", name="Gia hạn").click()
    await expect(page.locator("#done")).to_have_text("Đã gia hạn công việc.")
    due = page.get_by_role("definition").filter(has_text=f"30/06/{year.year}")
    await expect(due).to_have_count(1)
    async with factory.sessions() as session:
        task = await session.get(Task, plan["id"])
    assert task is not None and task.due_on == date(year.year, 6, 30)

    # Someone else moves the deadline again while this page is open.
    moved = await year.post(plan, "extend", {"new_due_on": f"{year.year}-07-31",
                                             "reason": "Theo đề nghị"}, year.supervisor)
    assert moved.status_code == 200, moved.text
    await page.get_by_label("Lý do miễn").fill("Đơn vị sáp nhập")
    await page.get_by_role("button", name="Miễn thực hiện").click()
    stale = page.locator("#stale")
    await expect(stale).to_contain_text(f"Hạn: 30/06/{year.year} → 31/07/{year.year}")
    await checked_page(page, tmp_path, "waive-stale")
    async with factory.sessions() as session:
        task = await session.get(Task, plan["id"])
    assert task is not None and task.state == "open"  # the stale page changed nothing

    await page.get_by_label("Lý do miễn").fill("Đơn vị sáp nhập")
    await page.get_by_role("button", name="Miễn thực hiện").click()
    await expect(page.locator("#done")).to_have_text("Đã miễn thực hiện công việc.")
    await expect(page.locator("#state")).to_have_text("Được miễn")
    timeline = page.locator("#timeline")
    await expect(timeline).to_contain_text(
        f"Gia hạn bởi sup-UP: {date.fromisoformat(plan['due_on']):%d/%m/%Y} → "
        f"30/06/{year.year}. Lý do: Đang kiện toàn cấp ủy"
    )
    await expect(timeline).to_contain_text("Miễn thực hiện bởi sup-UP. Lý do: Đơn vị sáp nhập")
    await checked_page(page, tmp_path, "waived")
    async with factory.sessions() as session:
        task = await session.get(Task, plan["id"])
        refused = (await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "request.refused")
        )).all()
    assert task is not None and (task.state, task.closed_by) == ("waived", "sup-UP")
    assert refused == []  # a stale version is no refusal by the rules
