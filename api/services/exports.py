"""Tables for people: the summary and a submitted report as CSV or XLSX.

Column headers are Vietnamese unless English is asked for; values are the same numbers the
JSON answers carry. CSV is UTF-8 with a byte-order mark, so spreadsheet programs read the
diacritics right.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from api.schemas_reports import Summary, SummaryRow
from domain.evidence import FIGURE_NAMES, ReportEvidence


class Lang(StrEnum):
    VI = "vi"
    EN = "en"


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


MEDIA_TYPES = {
    Format.CSV: "text/csv; charset=utf-8",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

LABELS: dict[str, tuple[str, str]] = {  # column -> (Vietnamese, English)
    "committee": ("Mã đơn vị", "Committee"),
    "name": ("Tên đơn vị", "Name"),
    "level": ("Cấp", "Level"),
    "scope": ("Phạm vi", "Scope"),
    "committees": ("Số đơn vị", "Committees"),
    "items_total": ("Tổng số nhiệm vụ", "Items"),
    "items_due": ("Nhiệm vụ đến hạn", "Items due"),
    "done_on_time": ("Hoàn thành đúng hạn", "Done on time"),
    "done_late": ("Hoàn thành chậm", "Done late"),
    "overdue_now": ("Đang quá hạn", "Overdue now"),
    "waived": ("Được miễn", "Waived"),
    "open_escalations": ("Cảnh báo vượt cấp đang mở", "Open escalations"),
    "reports": ("Số báo cáo đã nộp", "Reports submitted"),
    "reporters_total": ("Tổng số báo cáo viên", "Reporters total"),
    "reporters_added": ("Số báo cáo viên bổ sung", "Reporters added"),
    "reporters_replaced": ("Số báo cáo viên thay thế", "Reporters replaced"),
    "reporters_removed": ("Số báo cáo viên thôi nhiệm vụ", "Reporters left"),
    "committee_members": ("Số cấp ủy viên là báo cáo viên", "Committee members among them"),
    "conferences_held": ("Số hội nghị báo cáo viên", "Conferences held"),
    "sessions_delivered": ("Số buổi tuyên truyền miệng", "Sessions delivered"),
    "attendances": ("Số lượt người nghe", "Attendances"),
    "online_sessions": ("Số buổi trực tuyến", "Online sessions"),
    "trainings": ("Số lớp tập huấn", "Trainings"),
    "inspections": ("Số cuộc kiểm tra", "Inspections"),
    "commendations": ("Số khen thưởng", "Commendations"),
    "conference_attendees": ("Số đại biểu dự hội nghị", "Conference attendees"),
    "listeners": ("Số người nghe tại hội nghị", "Listeners at conferences"),
    "year": ("Năm", "Year"),
    "period": ("Kỳ báo cáo", "Period"),
    "figure": ("Mã chỉ tiêu", "Figure code"),
    "figure_label": ("Chỉ tiêu", "Figure"),
    "draft": ("Số liệu dự thảo", "Draft"),
    "reported": ("Số liệu báo cáo", "Reported"),
    "corrected": ("Đã điều chỉnh", "Corrected"),
}
SHEETS = {"summary": ("Tổng hợp", "Summary"), "report": ("Báo cáo", "Report")}
YES = ("có", "yes")

SUMMARY_COLUMNS = (
    "committee", "name", "level", "scope", "committees", "items_total", "items_due",
    "done_on_time", "done_late", "overdue_now", "waived", "open_escalations", "reports",
    *FIGURE_NAMES,
)
REPORT_COLUMNS = (
    "committee", "year", "period", "figure", "figure_label", "draft", "reported", "corrected",
)


def label(column: str, lang: Lang) -> str:
    vi, en = LABELS[column]
    return vi if lang is Lang.VI else en


@dataclass(frozen=True)
class Table:
    sheet: str
    headers: list[str]
    rows: list[list[Any]]


def summary_table(summary: Summary, lang: Lang) -> Table:
    """A row per child (and the committee's own cycle), then the total."""

    def cells(row: SummaryRow) -> list[Any]:
        data = {**row.model_dump(exclude={"figures"}), **row.figures.model_dump()}
        return [data[column] for column in SUMMARY_COLUMNS]

    return Table(
        sheet=_sheet("summary", lang), headers=[label(c, lang) for c in SUMMARY_COLUMNS],
        rows=[cells(r) for r in [*summary.rows, summary.total]],
    )


def report_table(*, committee: str, year: int, report: ReportEvidence, lang: Lang) -> Table:
    """A row per figure: the draft the system offered, what was reported, and if it changed."""
    reported = report.figures.model_dump()
    drafted = report.draft.figures.model_dump() if report.draft else {}
    yes = YES[0] if lang is Lang.VI else YES[1]
    rows = [
        [committee, year, report.period, name, label(name, lang), drafted.get(name),
         reported[name], yes if name in report.corrections else ""]
        for name in FIGURE_NAMES
    ]
    return Table(
        sheet=_sheet("report", lang), headers=[label(c, lang) for c in REPORT_COLUMNS], rows=rows
    )


def _sheet(name: str, lang: Lang) -> str:
    vi, en = SHEETS[name]
    return vi if lang is Lang.VI else en


def render(table: Table, fmt: Format) -> bytes:
    return _csv(table.headers, table.rows) if fmt is Format.CSV else _xlsx(table)


def _csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx(table: Table) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.sheet
    sheet.append(table.headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(stem: str, fmt: Format) -> str:
    return f"{stem}.{fmt.value}"
