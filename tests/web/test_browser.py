"""The web workspace in a real browser (Debian's Chromium through Playwright) against the live
stack: a staff clerk signs in and completes the plan task through its form, and what must be
refused is refused. Each page is screenshotted and checked by axe-core."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from api.models import AuditEvent, Submission, Task
from tests.api.conftest import Live
from tests.api.factories import Factory
from tests.api.support import Year
from tests.web.conftest import PASSWORD, checked_page, person


async def sign_in(page: Page, *, name: str, password: str = PASSWORD) -> None:
    await page.get_by_label("Tên đăng nhập").fill(name)
    await page.get_by_label("Mật khẩu").fill(password)
    await page.get_by_role("button", name="Đăng nhập").click()


async def test_staff_sign_in_and_complete_the_plan_through_its_form(
    live: Live, factory: Factory, browser: Browser, tmp_path: Path
) -> None:
    # A day lasts a minute: the plan stays open, unescalated, while the browser works.
    year = await Year(live, factory).start(time_scale=60.0)
    plan = await year.task("plan", state="open")
    await year.open_in_workflow("plan")
    await person(factory.sessions, name="clerk-GR", role="staff", committee="GR")
    page = await browser.new_page(base_url=live.url, locale="vi-VN")

    await page.goto("/web/inbox")  # signed out: sent to sign in, and back here after
    await expect(page).to_have_url(f"{live.url}/web/sign-in?next=/web/inbox")
    await checked_page(page, tmp_path, "sign-in")
    await sign_in(page, name="clerk-GR")
    await expect(page).to_have_url(f"{live.url}/web/inbox")
    open_tasks = page.get_by_role("region", name=re.compile(r"^Đang mở \(\d+\)$"))
    row = open_tasks.get_by_role("row").filter(has_text=plan["title_vi"])
    due = plan["due_on"]  # yyyy-mm-dd from the API, dd/mm/yyyy on the page
    await expect(row).to_contain_text(f"{due[8:10]}/{due[5:7]}/{due[0:4]}")
    waiting = page.get_by_role("region", name=re.compile("^Chờ công việc khác"))
    await expect(waiting).to_contain_text(f"chờ: {plan['title_vi']}")  # the roster waits
    await checked_page(page, tmp_path, "inbox")
    await page.set_viewport_size({"width": 390, "height": 844})  # a phone
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await checked_page(page, tmp_path, "inbox-phone")
    await page.set_viewport_size({"width": 1280, "height": 800})

    await row.get_by_role("link").click()
    await expect(page).to_have_url(f"{live.url}/web/tasks/{plan['id']}")
    await page.get_by_label("Số văn bản").fill("12-KH/ĐU")
    # Before 2000, outside the window whatever year the session's cycles have reached.
    await page.get_by_label("Ngày ban hành").fill("15/01/1999")
    await page.get_by_label("Tóm tắt nội dung").fill("Kế hoạch tuyên truyền miệng năm nay")
    await page.get_by_role("button", name="Hoàn thành công việc").click()
    message = page.locator("#e-document_date")  # beside its field, and named by it
    await expect(message).to_contain_text(
        f"Ngày phải nằm trong khoảng 01/01/2000 – 31/12/{year.year + 2}"
    )
    await expect(page.get_by_label("Ngày ban hành")).to_have_attribute(
        "aria-describedby", "h-document_date e-document_date"
    )
    await expect(page.get_by_label("Số văn bản")).to_have_value("12-KH/ĐU")  # kept
    await expect(page.locator(".field-error")).to_have_count(1)
    await checked_page(page, tmp_path, "task-invalid")
    async with factory.sessions() as session:
        assert await session.scalar(select(Submission)) is None  # the refusal wrote nothing

    await page.get_by_label("Ngày ban hành").fill(f"15/01/{year.year}")
    await page.get_by_role("button", name="Hoàn thành công việc").click()
    await expect(page.locator("#done")).to_have_text("Đã hoàn thành công việc.")
    await expect(page.locator("#state")).to_have_text("Đã hoàn thành")
    timeline = page.locator("#timeline")
    await expect(timeline).to_contain_text("Mở công việc")
    await expect(timeline).to_contain_text("Hoàn thành bởi clerk-GR")
    await checked_page(page, tmp_path, "task-completed")
    async with factory.sessions() as session:
        task = await session.get(Task, plan["id"])
        submission = await session.scalar(select(Submission))
        signed_in = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "web.signed_in")
        )
    assert task is not None and (task.state, task.closed_by) == ("completed", "clerk-GR")
    assert submission is not None and submission.evidence["document_date"] == f"{year.year}-01-15"
    assert signed_in is not None and signed_in.actor == "clerk-GR"

    await page.get_by_role("button", name="Đăng xuất").click()
    await expect(page).to_have_url(f"{live.url}/web/sign-in")
    await page.goto(f"/web/tasks/{plan['id']}")  # the old session no longer opens pages
    await expect(page).to_have_url(f"{live.url}/web/sign-in?next=/web/tasks/{plan['id']}")


async def test_another_committee_and_a_form_without_its_token_are_refused(
    live: Live, factory: Factory, browser: Browser, tmp_path: Path
) -> None:
    year = await Year(live, factory).start(time_scale=60.0)
    plan = await year.task("plan", state="open")
    await person(factory.sessions, name="clerk-GR2", role="staff", committee="GR2")
    await person(factory.sessions, name="clerk-GR", role="staff", committee="GR")
    page = await browser.new_page(base_url=live.url, locale="vi-VN")

    await page.goto("/web/sign-in")  # by keyboard alone: skip link, home link, then the form
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Bỏ qua, đến nội dung chính")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Yearwheel")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Tên đăng nhập")).to_be_focused()
    await page.keyboard.type("clerk-GR2")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Mật khẩu")).to_be_focused()
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Đang mở (0)")).to_be_visible()
    response = await page.goto(f"/web/tasks/{plan['id']}")  # GR's task: not in GR2's reach
    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Không tìm thấy")
    await checked_page(page, tmp_path, "refused-other-committee")
    posted = await page.request.post(
        f"/web/tasks/{plan['id']}/complete",
        form={"document_number": "1", "document_date": f"15/01/{year.year}", "summary": "x"},
    )
    assert posted.status in (403, 404)

    await page.context.clear_cookies()
    await page.goto("/web/sign-in")
    await sign_in(page, name="clerk-GR")
    await page.goto(f"/web/tasks/{plan['id']}")
    form = {"document_number": "12-KH/ĐU", "document_date": f"15/01/{year.year}",
            "summary": "Kế hoạch", "version": str(plan["version"]), "submission": "no-csrf"}
    forged = await page.request.post(f"/web/tasks/{plan['id']}/complete", form=form)
    assert forged.status == 403
    assert "CSRF" in await forged.text()
    await page.set_content(await forged.text())
    await checked_page(page, tmp_path, "refused-csrf")
    async with factory.sessions() as session:
        task = await session.get(Task, plan["id"])
        refused = (await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "request.refused")
        )).all()
    assert task is not None and task.state == "open"
    assert [(e.actor, e.payload["status"]) for e in refused][-1] == ("clerk-GR", 403)
