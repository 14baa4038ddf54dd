"""The subtree summary: counts where some committees are late, as of mid-year and year end, and
the same numbers in CSV and XLSX."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import httpx
from openpyxl import load_workbook

from domain.template import Rung
from tests.api.factories import Factory, bearer, ladder, record, waived
from tests.api.records import at, complete, open_task, report

PLAN = {"kind": "plan", "document_number": "01-KH/ĐU", "document_date": "2025-01-15",
        "summary": "Kế hoạch năm"}
DISSEMINATION = {"kind": "dissemination", "cells_reached": 5, "cells_total": 5,
                 "completed_on": "2025-07-10"}
COUNTED = ("committees", "items_total", "items_due", "done_on_time", "done_late", "overdue_now",
           "waived", "open_escalations", "reports")


async def arrange(api: httpx.AsyncClient, factory: Factory) -> None:
    """2025 under BLOC: UP is on time; GR is late with its dissemination; GR2 is late with its
    plan and was escalated to UP for it; GR3's plan is waived. GR and GR2 report."""
    await factory.tree()
    for committee in ("UP", "GR", "GR2", "GR3"):
        await open_task(api, committee, "plan")
    await complete(api, "UP", "plan", PLAN, when=at(1, 25))
    await complete(api, "GR", "plan", PLAN, when=at(1, 20))
    await open_task(api, "GR", "disseminate")
    await complete(api, "GR", "disseminate", DISSEMINATION, when=at(7, 10), late=True)
    for rung in (Rung.OVERDUE, Rung.PARENT):
        assert (await record(api, "ladder", ladder("GR2", rung=rung))).status_code == 201
    await complete(api, "GR2", "plan", PLAN, when=at(2, 20), late=True)
    assert (await record(api, "tasks/changed", waived("GR3", at=at(1, 15)))).status_code == 201
    for committee, key, when, figures in (
        ("GR", "report-h1", at(6, 10), {"reporters_total": 5, "conferences_held": 2}),
        ("GR2", "report-h1", at(6, 12), {"reporters_total": 3, "conferences_held": 1}),
        ("GR2", "report-year", at(12, 10), {"reporters_total": 4, "conferences_held": 4}),
    ):
        await open_task(api, committee, key)
        await complete(api, committee, key, report(key[7:], **figures), when=when)


def counts(row: dict[str, Any]) -> tuple[int, ...]:
    return tuple(row[name] for name in COUNTED)


async def summary(api: httpx.AsyncClient, headers: dict[str, str], code: str = "BLOC",
                  **params: Any) -> dict[str, Any]:
    response = await api.get(f"/committees/{code}/summary", params={"year": 2025, **params},
                             headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_summary_counts_a_tree_where_some_committees_are_late(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await arrange(api, factory)
    board = bearer(await factory.token("board"))
    year_end = await summary(api, board, as_of="2025-12-31")
    # committees, items, due, on time, late, overdue, waived, open escalations, reports
    assert [(r["committee"], r["scope"], counts(r)) for r in year_end["rows"]] == [
        ("UP", "subtree", (3, 30, 30, 5, 2, 23, 0, 0, 2)),
        ("UP2", "subtree", (1, 10, 10, 0, 0, 9, 1, 0, 0)),
    ]
    total = year_end["total"]
    assert counts(total) == (4, 40, 40, 5, 2, 32, 1, 0, 2)
    # GR's 6-month report and GR2's annual one (not its 6-month one) are summed.
    assert (total["figures"]["reporters_total"], total["figures"]["conferences_held"]) == (9, 6)

    assert counts((await summary(api, board))["total"]) == counts(total)  # default: now

    supervisor = bearer(await factory.token("supervisor", "UP"))
    mine = await summary(api, supervisor, "UP", as_of="2025-12-31")
    assert [(r["committee"], r["scope"], counts(r)[:6]) for r in mine["rows"]] == [
        ("UP", "own", (1, 10, 10, 1, 0, 9)),
        ("GR", "subtree", (1, 10, 10, 2, 1, 7)),
        ("GR2", "subtree", (1, 10, 10, 2, 1, 7)),
    ]
    assert counts(mine["total"]) == counts(year_end["rows"][0])
    staff = bearer(await factory.token("staff", "GR"))
    assert (await api.get("/committees/UP/summary", params={"year": 2025},
                          headers=staff)).status_code == 404


async def test_as_of_mid_year_answers_from_the_timestamps(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await arrange(api, factory)
    board = bearer(await factory.token("board"))
    february = await summary(api, board, as_of="2025-02-10")
    assert february["as_of"] == "2025-02-10"
    assert [counts(r) for r in february["rows"]] == [
        (3, 30, 3, 2, 0, 1, 0, 1, 0),  # GR2's plan is overdue and escalated to UP
        (1, 10, 1, 0, 0, 0, 1, 0, 0),
    ]
    june = await summary(api, board, as_of="2025-06-30")
    assert counts(june["total"]) == (4, 40, 20, 4, 1, 14, 1, 0, 2)
    assert june["total"]["figures"]["reporters_total"] == 8  # both 6-month reports, by then


async def test_the_summary_exports_the_same_numbers(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await arrange(api, factory)
    board = bearer(await factory.token("board"))
    expected = await summary(api, board, as_of="2025-12-31")
    lines = [*expected["rows"], expected["total"]]
    params = {"year": 2025, "as_of": "2025-12-31"}

    xlsx = await api.get("/committees/BLOC/summary/export",
                         params={**params, "format": "xlsx"}, headers=board)
    assert xlsx.status_code == 200, xlsx.text
    assert 'filename="summary-BLOC-2025-2025-12-31.xlsx"' in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.title == "Tổng hợp"
    rows = list(sheet.iter_rows(values_only=True))
    headers = list(rows[0])
    assert headers[:5] == ["Mã đơn vị", "Tên đơn vị", "Cấp", "Phạm vi", "Số đơn vị"]
    assert "Đang quá hạn" in headers and "Tổng số báo cáo viên" in headers
    for line, row in zip(lines, rows[1:], strict=True):
        assert row[0] == line["committee"] and row[3] == line["scope"]
        assert row[4:13] == counts(line)
        assert row[headers.index("Tổng số báo cáo viên")] == line["figures"]["reporters_total"]

    english = await api.get("/committees/BLOC/summary/export",
                            params={**params, "lang": "en"}, headers=board)
    table = list(csv.reader(io.StringIO(english.content.decode("utf-8-sig"))))
    assert table[0][:5] == ["Committee", "Name", "Level", "Scope", "Committees"]
    assert [tuple(int(v) for v in row[4:13]) for row in table[1:]] == [counts(x) for x in lines]


async def test_a_summary_request_is_checked(api: httpx.AsyncClient, factory: Factory) -> None:
    await factory.tree()
    board = bearer(await factory.token("board"))
    for params in ({}, {"year": 1999}, {"year": 2025, "as_of": "soon"},
                   {"year": 2025, "format": "pdf"}):
        response = await api.get("/committees/BLOC/summary/export", params=params, headers=board)
        assert response.status_code == 422, params
    assert (await api.get("/committees/NOPE/summary", params={"year": 2025},
                          headers=board)).status_code == 404
    empty = await summary(api, board, as_of=date(2025, 3, 1).isoformat())
    assert counts(empty["total"]) == (0,) * len(COUNTED)
