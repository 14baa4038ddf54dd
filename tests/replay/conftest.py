"""A whole system per test on its own time-skipping server: API, worker, SQLite, people.

Its own server, so that skipping a year of its calendar moves no other test's clock, and
nothing it leaves running can hold up another test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from tests.replay.scenarios import CycleRun, Stand, at, next_year, stand, time_skipping


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[Stand]:
    async with time_skipping() as env, stand(env, tmp_path) as ready:
        yield ready


async def short_cycle(system: Stand, committee: str = "AUD") -> CycleRun:
    """Three months of a cycle: the plan reminds, goes overdue and comes in late; the roster
    opens, is extended and completed; the review is waived; the first conference goes overdue
    and its extension withdraws both rungs."""
    year = await next_year(system.env)
    run = await CycleRun(system, committee, year).start()
    await run.advance_to(at(year, 2, 2))
    await run.task("plan", state="overdue")
    await run.complete("plan", at(year, 2, 2, 10))
    await run.task("roster", state="open")
    await run.extend("roster", at(year, 2, 3), date(year, 11, 15), "Chờ quyết định công nhận")
    await run.waive("review", at(year, 2, 4), "Đã kiểm tra cùng đợt với cấp trên")
    await run.complete("roster", at(year, 2, 5))
    await run.advance_to(at(year, 4, 1))
    await run.task("conference-q1", state="overdue")
    await run.extend("conference-q1", at(year, 4, 1, 10), date(year, 4, 30), "Lùi hội nghị")
    return run
