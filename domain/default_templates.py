"""The default calendar: what Document 1751-CV/ĐUK asks of a committee, as dated templates.

Two versions of one template code (../shared/DOMAIN.md, docs/calendar.md):
- version 1, in force from the document's date to the end of 2024: the first year, with the
  one-off roster build due before November 2024 and no first-quarter conference (the quarter
  ended before the document was issued);
- version 2, in force from 1 January 2025: the standing yearly duties.

Reports count the periods of Decree 09/2019 (domain.periods): each opens the day after its
period's last day; a grassroots committee's falls due before its upper committee's, which
compiles it. Dates tagged "inferred" are our assumption and can change in a new version.
"""

from __future__ import annotations

from datetime import date

from domain.periods import PERIOD_BASIS
from domain.template import (
    Basis,
    EvidenceKind,
    LevelDates,
    MonthDay,
    Source,
    Stage,
    Template,
    TemplateItem,
)

CODE = "cv-1751"
BLOC_STANDING_COMMITTEE = "Ban Thường vụ Đảng ủy Khối các cơ quan Trung ương"
ISSUED_1751 = date(2024, 4, 22)


def _md(month: int, day: int) -> MonthDay:
    return MonthDay(month=month, day=day)


def cv1751(clause: str) -> Basis:
    """Document 1751-CV/ĐUK, at the words `clause` quotes (as the article summarising it
    reports them; the duty numbers D1-D10 are DOMAIN.md's)."""
    return Basis(
        document="Công văn", number="1751-CV/ĐUK", issued_on=ISSUED_1751,
        issuer=BLOC_STANDING_COMMITTEE, clause=clause, source=Source.DOC,
    )


DIRECTIVE_30 = Basis(
    document="Chỉ thị", number="30-CT/TW", issued_on=date(2024, 2, 5), issuer="Ban Bí thư",
    clause="về tăng cường công tác tuyên truyền miệng trong tình hình mới", source=Source.DOC,
)
GUIDANCE_31 = Basis(
    document="Hướng dẫn", number="31-HD/BTGTW", issued_on=date(2011, 11, 30),
    issuer="Ban Tuyên giáo Trung ương",
    clause="đội ngũ báo cáo viên (cited by 1751-CV/ĐUK, D4)", source=Source.DOC,
)
DECREE_09 = Basis(
    document="Nghị định", number="09/2019/NĐ-CP", issued_on=date(2019, 1, 24),
    issuer="Chính phủ",
    clause=f"{PERIOD_BASIS}: 6 tháng từ 15/12 năm trước đến 14/6; năm từ 15/12 năm trước "
    "đến 14/12",
    source=Source.PUB,
)

PLAN_TITLE_VI = (
    "Xây dựng chương trình, kế hoạch công tác tuyên truyền miệng và hoạt động báo cáo viên "
    "năm {year}"
)


def _plan(due: MonthDay) -> TemplateItem:
    return TemplateItem(
        key="plan", stage=Stage.PLAN, evidence=EvidenceKind.PLAN,
        title_vi=PLAN_TITLE_VI,
        title_en="Programme and plan for oral propaganda and reporter activity, {year}",
        due=due, due_source=Source.INFERRED,
        basis=(cv1751("D8: «Hằng năm, xây dựng chương trình, kế hoạch công tác tuyên truyền "
                      "miệng và hoạt động báo cáo viên»"),),
    )


DISSEMINATE = TemplateItem(
    key="disseminate", stage=Stage.PLAN, evidence=EvidenceKind.DISSEMINATION,
    title_vi="Quán triệt Chỉ thị số 30-CT/TW của Ban Bí thư và các văn bản của Đảng ủy Khối "
    "đến tất cả các chi bộ, nhất là người đứng đầu",
    title_en="Directive 30 and the Bloc's texts disseminated to every party cell, heads first",
    due=_md(6, 30), due_source=Source.INFERRED,
    basis=(cv1751("D1: «quán triệt … đến tất cả các chi bộ», «nhất là người đứng đầu»"),
           DIRECTIVE_30),
)

ROSTER_2024 = TemplateItem(
    key="roster", stage=Stage.ROSTER, evidence=EvidenceKind.ROSTER,
    title_vi="Thành lập, kiện toàn, bổ sung, thay thế đội ngũ báo cáo viên; đảng ủy cơ sở có ít "
    "nhất 01 đồng chí cấp ủy viên là báo cáo viên (hoàn thành trước tháng 11/2024)",
    title_en="Reporter team built or consolidated; a grassroots committee names at least one "
    "committee member (done before November 2024)",
    due=_md(10, 31), due_source=Source.DOC,
    basis=(cv1751("D5: «kịp thời kiện toàn, bổ sung, thay thế», «khẩn trương xây dựng», «ít "
                  "nhất 01 đồng chí cấp ủy viên», «trước tháng 11/2024»"), GUIDANCE_31),
)

CONFERENCE = TemplateItem(
    key="conference", stage=Stage.CONFERENCE, evidence=EvidenceKind.CONFERENCE,
    title_vi="Hội nghị định kỳ đánh giá công tác tuyên truyền miệng và hoạt động báo cáo viên "
    "quý {quarter_roman} năm {year}",
    title_en="Periodic conference on oral propaganda and reporter activity, Q{quarter} {year}",
    opens=_md(1, 1), due=_md(3, 31), recurrence="quarterly", due_source=Source.INFERRED,
    basis=(cv1751("D9: «định kỳ tổ chức hội nghị, tổ chức đánh giá, tổng kết»"),),
)

REVIEW = TemplateItem(
    key="review", stage=Stage.REVIEW, evidence=EvidenceKind.REVIEW,
    title_vi="Kiểm tra, giám sát, định hướng công tác tuyên truyền miệng và hoạt động báo cáo "
    "viên; khen thưởng, động viên báo cáo viên năm {year}",
    title_en="Inspection and supervision of propaganda and reporter work; commendations, {year}",
    due=_md(11, 30), due_source=Source.INFERRED,
    basis=(cv1751("D6: «kiểm tra, giám sát, định hướng»"),
           cv1751("D7: «kịp thời khen thưởng, động viên»")),
)

_REPORT_BASIS = (
    cv1751("D10: «6 tháng, 1 năm báo cáo … về Đảng ủy Khối qua Ban Tuyên giáo Đảng ủy Khối để "
           "tổng hợp»"),
    DECREE_09,
)

REPORT_H1 = TemplateItem(
    key="report-h1", stage=Stage.REPORT, evidence=EvidenceKind.REPORT,
    title_vi="Báo cáo kết quả hoạt động của đội ngũ báo cáo viên 6 tháng đầu năm {year}",
    title_en="Report on the reporter team's work, first 6 months of {year}",
    period="h1", opens=_md(6, 15), due=_md(6, 25), due_source=Source.INFERRED,
    by_level=(LevelDates(level="grassroots", due=_md(6, 20)),),
    basis=_REPORT_BASIS,
)

REPORT_YEAR = TemplateItem(
    key="report-year", stage=Stage.REPORT, evidence=EvidenceKind.REPORT,
    title_vi="Báo cáo kết quả hoạt động của đội ngũ báo cáo viên năm {year}",
    title_en="Report on the reporter team's work in {year}",
    period="year", opens=_md(12, 15), due=_md(12, 25), due_source=Source.INFERRED,
    by_level=(LevelDates(level="grassroots", due=_md(12, 20)),),
    prerequisites=("review",), basis=_REPORT_BASIS,
)

FIRST_YEAR = Template(
    code=CODE, version=1,
    title_vi="Nhiệm vụ năm 2024 theo Công văn số 1751-CV/ĐUK",
    in_force_from=ISSUED_1751, in_force_until=date(2024, 12, 31),
    basis=(cv1751(""), DIRECTIVE_30),
    items=(_plan(_md(5, 31)), DISSEMINATE, ROSTER_2024, CONFERENCE, REVIEW, REPORT_H1,
           REPORT_YEAR),
)

STANDING = Template(
    code=CODE, version=2,
    title_vi="Nhiệm vụ hằng năm theo Công văn số 1751-CV/ĐUK",
    in_force_from=date(2025, 1, 1),
    basis=(cv1751(""), DIRECTIVE_30),
    items=(_plan(_md(1, 31)), DISSEMINATE, CONFERENCE, REVIEW, REPORT_H1, REPORT_YEAR),
)

DEFAULT_VERSIONS: tuple[Template, ...] = (FIRST_YEAR, STANDING)
