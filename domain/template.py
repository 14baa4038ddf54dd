"""Cycle templates: what a committee owes in a year, as data."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Frozen(BaseModel):
    """Template models: a cycle's input carries them, so a field a newer release added is
    ignored by an older worker or replay. A template sent to the API is held to the known
    fields by the edge (`extra="forbid"` at validation, api/routes/templates.py); the schema
    says so."""

    model_config = ConfigDict(
        frozen=True, extra="ignore", json_schema_extra={"additionalProperties": False}
    )


class Stage(StrEnum):
    PLAN = "plan"
    ROSTER = "roster"
    CONFERENCE = "conference"
    REVIEW = "review"
    REPORT = "report"


class EvidenceKind(StrEnum):
    """Which evidence form a task takes; see domain.evidence."""

    PLAN = "plan"
    DISSEMINATION = "dissemination"
    ROSTER = "roster"
    CONFERENCE = "conference"
    REVIEW = "review"
    REPORT = "report"


class Rung(StrEnum):
    """One step of the escalation ladder, in the order they are climbed."""

    REMINDER = "reminder"
    OVERDUE = "overdue"
    PARENT = "parent"
    BOARD = "board"


RUNG_ORDER: tuple[Rung, ...] = (Rung.REMINDER, Rung.OVERDUE, Rung.PARENT, Rung.BOARD)


class MonthDay(Frozen):
    """A day of the cycle year; `day` past the month's end means its last day (Feb 31 -> 28/29)."""

    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    year_offset: int = Field(default=0, ge=-1, le=1)


class LadderStep(Frozen):
    rung: Rung
    offset_days: int = Field(ge=-366, le=366, description="Days relative to the due instant.")


DEFAULT_LADDER: tuple[LadderStep, ...] = (
    LadderStep(rung=Rung.REMINDER, offset_days=-7),
    LadderStep(rung=Rung.OVERDUE, offset_days=0),
    LadderStep(rung=Rung.PARENT, offset_days=7),
    LadderStep(rung=Rung.BOARD, offset_days=14),
)


class TemplateItem(Frozen):
    key: str = Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")
    stage: Stage
    evidence: EvidenceKind
    title_vi: str = Field(min_length=1, max_length=300)
    title_en: str = Field(min_length=1, max_length=300)
    opens: MonthDay | None = Field(default=None, description="None: the cycle's first day.")
    due: MonthDay
    recurrence: Literal["once", "quarterly"] = "once"
    prerequisites: tuple[str, ...] = ()
    ladder: tuple[LadderStep, ...] | None = Field(
        default=None, description="None: the template's ladder."
    )


class Template(Frozen):
    """A versioned set of items; a cycle snapshots one into its workflow input."""

    code: str = Field(default="default", pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    version: int = Field(default=1, ge=1)
    timezone: Literal["Asia/Ho_Chi_Minh"] = Field(
        default="Asia/Ho_Chi_Minh",
        description="Deadlines fall in Vietnam's time (DOMAIN.md); no other zone is taken.",
    )
    ladder: tuple[LadderStep, ...] = DEFAULT_LADDER
    items: tuple[TemplateItem, ...]
    roster_minimum_upper: int = Field(default=3, ge=1, le=1000)
    roster_minimum_grassroots_members: int = Field(default=1, ge=1, le=1000)
    consolidation_days: int = Field(default=30, ge=1, le=366)

    @model_validator(mode="after")
    def _check_items(self) -> Template:
        keys = [item.key for item in self.items]
        duplicated = sorted({k for k in keys if keys.count(k) > 1})
        if duplicated:
            raise ValueError(f"item keys must be unique; repeated: {', '.join(duplicated)}")
        known = set(keys)
        for item in self.items:
            unknown = [p for p in item.prerequisites if p not in known]
            if unknown:
                raise ValueError(f"item {item.key!r} has unknown prerequisites: {unknown}")
        _check_acyclic({item.key: item.prerequisites for item in self.items})
        return self

    def item(self, key: str) -> TemplateItem:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)


def _check_acyclic(graph: dict[str, tuple[str, ...]]) -> None:
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(key: str) -> None:
        if key in done:
            return
        if key in visiting:
            raise ValueError(f"prerequisites form a cycle through {key!r}")
        visiting.add(key)
        for pre in graph[key]:
            visit(pre)
        visiting.discard(key)
        done.add(key)

    for key in graph:
        visit(key)


def _md(month: int, day: int) -> MonthDay:
    return MonthDay(month=month, day=day)


DEFAULT_TEMPLATE = Template(
    code="default",
    version=1,
    items=(
        TemplateItem(
            key="plan", stage=Stage.PLAN, evidence=EvidenceKind.PLAN,
            title_vi="Xây dựng chương trình, kế hoạch tuyên truyền miệng năm",
            title_en="Annual plan for oral propaganda and reporter activity",
            due=_md(1, 31),
        ),
        TemplateItem(
            key="disseminate", stage=Stage.PLAN, evidence=EvidenceKind.DISSEMINATION,
            title_vi="Quán triệt Chỉ thị 30-CT/TW đến các chi bộ",
            title_en="Directive 30 disseminated to every party cell",
            due=_md(6, 30),
        ),
        TemplateItem(
            key="roster", stage=Stage.ROSTER, evidence=EvidenceKind.ROSTER,
            title_vi="Xây dựng, kiện toàn đội ngũ báo cáo viên",
            title_en="Reporter team built or consolidated",
            due=_md(10, 31), prerequisites=("plan",),
        ),
        TemplateItem(
            key="conference", stage=Stage.CONFERENCE, evidence=EvidenceKind.CONFERENCE,
            title_vi="Hội nghị báo cáo viên định kỳ",
            title_en="Periodic reporters' conference",
            due=_md(3, 31), recurrence="quarterly", prerequisites=("roster",),
        ),
        TemplateItem(
            key="review", stage=Stage.REVIEW, evidence=EvidenceKind.REVIEW,
            title_vi="Kiểm tra, giám sát công tác tuyên truyền miệng; khen thưởng",
            title_en="Inspection and review of propaganda work; commendations",
            due=_md(11, 30),
        ),
        TemplateItem(
            key="report-h1", stage=Stage.REPORT, evidence=EvidenceKind.REPORT,
            title_vi="Báo cáo sơ kết 6 tháng về đội ngũ báo cáo viên",
            title_en="6-month report on the reporter team",
            opens=_md(6, 1), due=_md(6, 15),
        ),
        TemplateItem(
            key="report-year", stage=Stage.REPORT, evidence=EvidenceKind.REPORT,
            title_vi="Báo cáo tổng kết năm về đội ngũ báo cáo viên",
            title_en="Annual report on the reporter team",
            opens=_md(12, 1), due=_md(12, 15), prerequisites=("review",),
        ),
    ),
)
