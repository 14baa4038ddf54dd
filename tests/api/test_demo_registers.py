"""The demo's offices record their reporters' sessions, and its reports carry the figures."""

from __future__ import annotations

from datetime import date

import httpx

from tests.api.factories import Factory, bearer
from tests.api.records import open_task
from tests.api.test_registers import add_reporter
from yearwheel.demo_registers import RegisterKeeper, report_from_draft


async def test_the_offices_record_sessions_and_the_report_is_its_draft(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    tokens = {code: await factory.token("staff", code) for code in ("GR", "GR2")}
    staff = bearer(tokens["GR"])
    ids = {await add_reporter(api, staff, name, decision_date="2024-11-01")
           for name in ("Nguyễn Văn An", "Trần Thị Bình")}
    keeper = RegisterKeeper(api, tokens, seed=30)
    assert await keeper.keep(date(2025, 1, 1), real_today=date(2025, 3, 1)) == 0
    recorded = await keeper.keep(date(2025, 12, 31), real_today=date(2025, 3, 1))
    assert keeper.errors == [] and recorded > 0

    listed = (await api.get("/committees/GR/registers/activities", params={"limit": 500},
                            headers=staff)).json()
    assert listed["total"] == recorded  # GR2 has no reporters, so no sessions
    assert {e["day"] for e in listed["items"]} == {"2025-03-01"}  # never after the real today
    assert {r for e in listed["items"] for r in e["body"]["reporters"]} <= ids
    audience = sum(e["body"]["audience"] for e in listed["items"])

    task = await open_task(api, "GR", "report-h1")
    evidence = await report_from_draft(api, task, staff)
    assert evidence is not None
    assert (evidence["figures"]["sessions_delivered"], evidence["figures"]["attendances"]) == (
        recorded, audience)
    assert evidence["difficulties"]
