"""The cycles the saved histories come from, as people would live them, on the default template.

Each story runs one committee's whole year through the API on a `Stand` and returns its
histories by name: the closed cycle's, and for `late` also a snapshot taken while it was still
running (its plan just escalated to the Board).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from temporalio.client import WorkflowHistory

from tests.replay.scenarios import CycleRun, Stand, at

Story = Callable[[Stand, int], Awaitable[dict[str, WorkflowHistory]]]


Act = Callable[[], Awaitable[object]]


async def _rest_on_time(run: CycleRun, *, instead: dict[str, Act] | None = None) -> None:
    """Complete, within its period, every task from conference-q1 on, in calendar order;
    a task named in `instead` gets that act at its turn."""
    y, instead = run.year, instead or {}
    for key, when in (
        ("conference-q1", at(y, 3, 10)),
        ("disseminate", at(y, 3, 20)),
        ("conference-q2", at(y, 5, 10)),
        ("report-h1", at(y, 6, 3)),
        ("conference-q3", at(y, 8, 10)),
        ("conference-q4", at(y, 11, 5)),
        ("review", at(y, 11, 10)),
        ("report-year", at(y, 12, 3)),
    ):
        if key in instead:
            await instead[key]()
        else:
            await run.complete(key, when)


async def on_time(stand: Stand, year: int) -> dict[str, WorkflowHistory]:
    """Every task completed within its period: no reminder, no escalation."""
    run = await CycleRun(stand, "ONTIME", year).start()
    await run.complete("plan", at(year, 1, 10))
    await run.complete("roster", at(year, 1, 20))
    await _rest_on_time(run)
    return {"on-time": await run.closed()}


async def late(stand: Stand, year: int) -> dict[str, WorkflowHistory]:
    """The plan climbs every rung (reminder, overdue, parent, Board) before it comes in late;
    the 6-month report is overdue for a day; the rest is on time."""
    run = await CycleRun(stand, "LATE", year).start()
    await run.advance_to(at(year, 2, 16))
    await run.task("plan", state="escalated", rung="board")
    running = await run.history()
    await run.complete("plan", at(year, 2, 20))
    await run.complete("roster", at(year, 2, 25))

    async def overdue_report() -> None:
        await run.advance_to(at(year, 6, 17))
        await run.task("report-h1", state="overdue")
        await run.complete("report-h1", at(year, 6, 17, 10))

    await _rest_on_time(run, instead={"report-h1": overdue_report})
    return {"late": await run.closed(), "late-running": running}


async def extended(stand: Stand, year: int) -> dict[str, WorkflowHistory]:
    """The plan reaches the parent rung, the supervisor extends it and it comes in on time
    for the new date; the 6-month report is extended before its reminder and completed
    after its new reminder."""
    run = await CycleRun(stand, "EXTEND", year).start()
    await run.advance_to(at(year, 2, 9))
    await run.task("plan", state="escalated", rung="parent")
    await run.extend("plan", at(year, 2, 10), date(year, 3, 15),
                     "Đảng ủy đang kiện toàn Ban Thường vụ; gia hạn đến 15/3")
    await run.complete("plan", at(year, 3, 1))
    await run.complete("roster", at(year, 3, 5))

    async def reminded_report() -> None:
        await run.extend("report-h1", at(year, 6, 5), date(year, 6, 30),
                         "Chờ số liệu sơ kết của các chi bộ")
        await run.advance_to(at(year, 6, 25))
        await run.task("report-h1", rung="reminder")
        await run.complete("report-h1", at(year, 6, 25, 10))

    await _rest_on_time(run, instead={"report-h1": reminded_report})
    return {"extended": await run.closed()}


async def waived(stand: Stand, year: int) -> dict[str, WorkflowHistory]:
    """The roster is waived (the conferences it blocked open at once); the Q4 conference is
    waived the day it opens; the review is waived by the Board once it reached the parent rung,
    so the annual report opens late and reminds at once."""
    run = await CycleRun(stand, "WAIVE", year).start()
    await run.complete("plan", at(year, 1, 10))
    await run.waive("roster", at(year, 1, 15),
                    "Đơn vị sáp nhập; đội ngũ báo cáo viên do đảng ủy cấp trên quản lý")
    for key, when in (("conference-q1", at(year, 3, 10)), ("disseminate", at(year, 3, 20)),
                      ("conference-q2", at(year, 5, 10)), ("report-h1", at(year, 6, 3)),
                      ("conference-q3", at(year, 8, 10))):
        await run.complete(key, when)
    await run.waive("conference-q4", at(year, 10, 2), "Hội nghị quý IV ghép với tổng kết năm")
    await run.advance_to(at(year, 12, 9))
    await run.task("review", state="escalated", rung="parent")
    await run.waive("review", at(year, 12, 9, 10), "Kiểm tra do Ủy ban Kiểm tra thực hiện",
                    who="board")
    await run.complete("report-year", at(year, 12, 12))
    return {"waived": await run.closed()}


async def roster_consolidation(stand: Stand, year: int) -> dict[str, WorkflowHistory]:
    """The committee's only committee-member reporter leaves: the cycle opens a consolidation
    task, which reminds before a new reporter joins and the cycle closes it."""
    run = await CycleRun(stand, "ROSTER", year).start()
    await run.complete("plan", at(year, 1, 10))
    await run.complete("roster", at(year, 1, 20))
    staff = stand.tokens["staff-ROSTER"]

    async def leaves() -> None:
        await run.advance_to(at(year, 3, 1))
        team = (await run.http.get("/committees/ROSTER/reporters", headers=staff)).json()
        gone = team["items"][0]
        response = await run.http.post(
            f"/reporters/{gone['id']}/leave", headers={**staff, **run.fresh_key()},
            json={"left_on": f"{year}-02-28", "reason": "Chuyển công tác"},
        )
        assert response.status_code == 200, response.text
        run.replaced = int(gone["id"])
        await run.task("consolidate-1", state="open")
        await run.complete("conference-q1", at(year, 3, 10))

    async def joins() -> None:
        await run.complete("disseminate", at(year, 3, 20))
        await run.advance_to(at(year, 3, 26))
        await run.task("consolidate-1", rung="reminder")
        response = await run.http.post(
            "/committees/ROSTER/reporters", headers={**staff, **run.fresh_key()},
            json={"name": "Trần Thị B", "position": "Phó Bí thư", "committee_member": True,
                  "decision_number": "21-QĐ/ĐU", "decision_date": f"{year}-03-25",
                  "replaces": run.replaced},
        )
        assert response.status_code == 201, response.text
        await run.task("consolidate-1", state="completed")

    await _rest_on_time(run, instead={"conference-q1": leaves, "disseminate": joins})
    return {"roster-consolidation": await run.closed()}


async def resumed(stand: Stand, year: int) -> dict[str, WorkflowHistory]:
    """The plan reaches the parent rung and is extended to 5 February (the parent rung is
    withdrawn; reminder and overdue stand); the review is waived; then the workflow is
    terminated by hand and the cycle started again. The saved history is the new run's: seeded
    with those tasks, it raises the plan's parent rung anew and goes on as usual."""
    run = await CycleRun(stand, "RESUME", year).start()
    await run.advance_to(at(year, 2, 9))
    await run.task("plan", state="escalated", rung="parent")
    await run.extend("plan", at(year, 2, 10), date(year, 2, 5), "Gia hạn đến 05/02")
    await run.waive("review", at(year, 2, 10, 10), "Kiểm tra do Ủy ban Kiểm tra thực hiện")
    await run.advance_to(at(year, 2, 11))
    await stand.env.client.get_workflow_handle(run.workflow_id).terminate("dừng tay (thử)")
    response = await run.http.post(
        "/cycles", json={"committee": run.committee, "year": year},
        headers={**stand.tokens["admin"], **run.fresh_key()},
    )
    assert response.status_code == 201, response.text
    await run.advance_to(at(year, 2, 13))
    await run.task("plan", state="escalated", rung="parent")
    await run.complete("plan", at(year, 2, 14))
    await run.complete("roster", at(year, 2, 20))

    async def already_waived() -> None:
        pass

    await _rest_on_time(run, instead={"review": already_waived})
    return {"resumed": await run.closed()}


async def extended_unopened(stand: Stand, year: int) -> dict[str, WorkflowHistory]:
    """The 6-month report is extended in May, before it opens, by its key in the cycle; it
    opens on 1 June due on the moved date, reminds under it and is completed."""
    run = await CycleRun(stand, "UNOPENED", year).start()
    await run.complete("plan", at(year, 1, 10))
    await run.complete("roster", at(year, 1, 20))

    async def extended_before_it_opens() -> None:
        await run.extend_by_key("report-h1", at(year, 5, 20), date(year, 7, 15),
                                "Sơ kết 6 tháng lùi sang tháng 7")
        await run.advance_to(at(year, 7, 9))
        await run.task("report-h1", rung="reminder")
        await run.complete("report-h1", at(year, 7, 10))

    await _rest_on_time(run, instead={"report-h1": extended_before_it_opens})
    return {"extended-unopened": await run.closed()}


async def calendar_1751(stand: Stand, year: int) -> dict[str, WorkflowHistory]:
    """The 1751-CV/ĐUK calendar (cv-1751, its standing version) for an upper committee directly
    under the root: its report dates are its level's; the plan climbs reminder, overdue and
    parent, and the Board rung is skipped (the parent is the root); the rest is on time."""
    run = await CycleRun(stand, "CAL", year, level="upper", parent="BLOC").start()
    await run.advance_to(at(year, 2, 16))
    await run.task("plan", state="escalated", rung="parent")
    await run.complete("plan", at(year, 2, 20))
    for key, when in (
        ("conference-q1", at(year, 3, 20)), ("disseminate", at(year, 3, 25)),
        ("conference-q2", at(year, 5, 20)), ("report-h1", at(year, 6, 22)),
        ("conference-q3", at(year, 8, 20)), ("review", at(year, 11, 10)),
        ("conference-q4", at(year, 11, 20)), ("report-year", at(year, 12, 22)),
    ):
        await run.complete(key, when)
    return {"calendar-1751": await run.closed()}


# The template code each story's cycles take (default: the legacy template `default`).
STORY_TEMPLATES: dict[str, str] = {"calendar-1751": "cv-1751"}

STORIES: dict[str, Story] = {
    "on-time": on_time, "late": late, "extended": extended, "waived": waived,
    "roster-consolidation": roster_consolidation, "resumed": resumed,
    "extended-unopened": extended_unopened, "calendar-1751": calendar_1751,
}
