"""Report drafts from the roster and conferences recorded, and a submitted report exported."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from openpyxl import load_workbook

from api.models import Role
from api.services import reports, tasks
from api.services.access import Principal
from domain.evidence import ReportEvidence
from tests.api.factories import Factory, bearer
from tests.api.records import at, complete, conference, open_task, person, roster

REPORTER = {"position": "Chuyên viên", "committee_member": False, "decision_number": "21-QĐ/ĐU"}


async def arrange_year(api: httpx.AsyncClient, factory: Factory) -> dict[str, int]:
    """GR's 2025: a roster of three, one leaves and is replaced, one joins after June; three
    conferences (two in the first half), a review with two commendations."""
    await factory.tree()
    staff = bearer(await factory.token("staff", "GR"))
    ids = {key: await open_task(api, "GR", key) for key in (
        "roster", "conference-q1", "conference-q2", "conference-q3", "review", "report-h1",
        "report-year")}
    await complete(api, "GR", "roster", roster(
        person("Nguyễn Văn A", member=True), person("Trần Thị B"), person("Lê Văn C")),
        when=at(2, 3))
    listed = (await api.get("/committees/GR/reporters", headers=staff)).json()["items"]
    b = next(r["id"] for r in listed if r["name"] == "Trần Thị B")
    left = await api.post(f"/reporters/{b}/leave", headers=staff,
                          json={"left_on": "2025-05-01", "reason": "Chuyển công tác"})
    assert left.status_code == 200, left.text
    for body in ({"name": "Phạm Văn D", "decision_date": "2025-05-10", "replaces": b},
                 {"name": "Hoàng Thị E", "decision_date": "2025-08-01"}):
        added = await api.post("/committees/GR/reporters", json={**REPORTER, **body},
                               headers=staff)
        assert added.status_code == 201, added.text
    held = [
        ("conference-q1", conference("2025-03-20", attendees=40, listeners=300,
                                     topics=["Chỉ thị 30", "Nghị quyết Trung ương"])),
        ("conference-q2", conference("2025-06-10", attendees=35, listeners=250, online=True,
                                     topics=["Nghị quyết Trung ương", "Tình hình thời sự"])),
        ("conference-q3", conference("2025-09-15", attendees=20, listeners=100,
                                     topics=["Biển đảo"])),
    ]
    for key, evidence in held:
        await complete(api, "GR", key, evidence, when=at(int(evidence["held_on"][5:7]), 28))
    review = {"kind": "review", "findings": "Thực hiện tốt",
              "commendations": ["Chi bộ 1", "Chi bộ 2"]}
    await complete(api, "GR", "review", review, when=at(6, 5))
    return ids


async def test_the_draft_matches_the_roster_and_conferences_recorded(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    ids = await arrange_year(api, factory)
    staff = bearer(await factory.token("staff", "GR"))
    response = await api.get(f"/tasks/{ids['report-h1']}/draft", headers=staff)
    assert response.status_code == 200, response.text
    h1 = response.json()
    assert (h1["period"], h1["draft"]["period_start"], h1["draft"]["period_end"]) == (
        "h1", "2024-12-15", "2025-06-14")
    figures = h1["draft"]["figures"]
    assert {k: v for k, v in figures.items() if v} == {
        "reporters_total": 3, "reporters_added": 4, "reporters_replaced": 1,
        "reporters_removed": 1, "committee_members": 1, "conferences_held": 2,
        "conference_attendees": 75, "listeners": 550, "inspections": 1, "commendations": 2,
    }
    assert h1["draft"]["topics"] == ["Chỉ thị 30", "Nghị quyết Trung ương", "Tình hình thời sự"]
    assert h1["draft"]["grassroots_has_member_reporter"] is True
    assert (h1["draft"]["decision_number"], h1["draft"]["decision_date"]) == (
        "21-QĐ/ĐU", "2025-05-10")
    assert h1["evidence"]["figures"] == figures and h1["evidence"]["period"] == "h1"

    year = (await api.get(f"/tasks/{ids['report-year']}/draft", headers=staff)).json()
    assert {k: year["draft"]["figures"][k] for k in (
        "reporters_total", "reporters_added", "conferences_held", "listeners")} == {
        "reporters_total": 4, "reporters_added": 5, "conferences_held": 3, "listeners": 650}

    other = bearer(await factory.token("staff", "GR2"))
    assert (await api.get(f"/tasks/{ids['report-h1']}/draft", headers=other)).status_code == 404
    not_a_report = await api.get(f"/tasks/{ids['review']}/draft", headers=staff)
    assert not_a_report.status_code == 404 and "review" in not_a_report.json()["detail"]


async def test_a_submitted_report_keeps_its_draft_and_corrections_and_exports(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    ids = await arrange_year(api, factory)
    staff = bearer(await factory.token("staff", "GR"))
    offered = (await api.get(f"/tasks/{ids['report-h1']}/draft", headers=staff)).json()
    corrected = {**offered["evidence"],
                 "figures": {**offered["evidence"]["figures"], "sessions_delivered": 12,
                             "reporters_total": 4}}
    async with factory.sessions() as session:
        task = await tasks.get_public(session=session, principal=Principal("t", Role.AUDITOR),
                                      task_id=ids["report-h1"])
        stored = await reports.with_draft(session=session, task=task, evidence=corrected)
    report = ReportEvidence.model_validate(stored)  # what the workflow records, as it is
    assert report.draft is not None and report.draft.figures.reporters_total == 3
    assert {k: (c.draft, c.reported) for k, c in report.corrections.items()} == {
        "reporters_total": (3, 4), "sessions_delivered": (0, 12)}
    assert report.committee == "GR"

    missing = await api.get(f"/tasks/{ids['report-h1']}/report/export", headers=staff)
    assert missing.status_code == 404
    await complete(api, "GR", "report-h1", stored, when=at(6, 14))

    csv_file = await api.get(f"/tasks/{ids['report-h1']}/report/export", headers=staff)
    assert csv_file.status_code == 200, csv_file.text
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert 'filename="report-GR-2025-h1.csv"' in csv_file.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(csv_file.content.decode("utf-8-sig"))))
    assert rows[0] == ["Mã đơn vị", "Năm", "Kỳ báo cáo", "Mã chỉ tiêu", "Chỉ tiêu",
                       "Số liệu dự thảo", "Số liệu báo cáo", "Đã điều chỉnh"]
    by_figure = {row[3]: row for row in rows[1:]}
    assert by_figure["reporters_total"][4:] == ["Tổng số báo cáo viên", "3", "4", "có"]
    assert by_figure["listeners"][5:] == ["550", "550", ""]

    xlsx = await api.get(f"/tasks/{ids['report-h1']}/report/export",
                         params={"format": "xlsx", "lang": "en"}, headers=staff)
    assert xlsx.status_code == 200, xlsx.text
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.title == "Report"
    values: list[tuple[Any, ...]] = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("Committee", "Year", "Period")
    xlsx_rows = {row[3]: row for row in values[1:]}
    assert xlsx_rows["reporters_total"][5:] == (3, 4, "yes")
    assert xlsx_rows["sessions_delivered"][5:] == (0, 12, "yes")
