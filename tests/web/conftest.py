"""Web fixtures: the live stack of tests/api (served app, real worker, dev server), Debian's
Chromium driven by Playwright (skipped, saying why, when it is not installed), and people who
sign in with a password."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright

from api.db import Sessions
from api.models import Role
from api.services.signin import issue_link, set_password
from api.services.users import create_user

# The live stack and its database, as tests/api builds them.
from tests.api.conftest import database_url, factory, live, sessions, settings  # noqa: F401

CHROMIUM = Path("/usr/lib/chromium/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
LAUNCH_ARGS = [
    "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
PASSWORD = "mật-khẩu-đủ-dài-2030"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium package "
                    "(make setup and .ci/run do)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


async def person(
    store: Sessions, *, name: str, role: str, committee: str | None, password: str = PASSWORD
) -> None:
    """A user who has set a web password through a one-time link."""
    async with store() as session:
        user, _ = await create_user(
            session=session, name=name, role=Role(role), committee_code=committee, actor="test"
        )
        link = await issue_link(session=session, user_id=user.id, actor="test")
        await set_password(session=session, token=link, password=password)
        await session.commit()


async def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page, one line each."""
    results = await Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(", ".join(node["target"]) for node in v["nodes"])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def checked_page(page: Page, directory: Path, name: str) -> None:
    """Save a full-page screenshot under `directory` and fail on a serious axe finding."""
    await page.screenshot(path=str(directory / f"{name}.png"), full_page=True)
    assert await serious_violations(page) == [], f"{name}: accessibility"
