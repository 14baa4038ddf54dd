"""Cycle templates: what a committee owes in a year, as data.

A template is a dated rule: it names the texts it rests on (`Basis`) and the days it is in
force; each item may narrow both. `in_force` picks the version that governs a day or a cycle
year (see domain/default_templates.py for the default set and docs/calendar.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
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


class Source(StrEnum):
    """Where a rule comes from (the tags of ../shared/DOMAIN.md)."""

    DOC = "doc"  # stated in the document (as the article summarising it reports it)
    PUB = "pub"  # found in public reporting
    INFERRED = "inferred"  # our assumption, kept configurable


class Basis(Frozen):
    """A text an obligation rests on: which document, its number and date, and where in it."""

    document: str = Field(min_length=1, max_length=200, description="e.g. Công văn, Chỉ thị.")
    number: str = Field(min_length=1, max_length=100, description="e.g. 1751-CV/ĐUK.")
    issued_on: date
    issuer: str = Field(default="", max_length=300)
    clause: str = Field(
        default="", max_length=1000, description="Where in the text: a clause, or its words."
    )
    source: Source = Source.DOC


Level = Literal["upper", "grassroots"]
"""The committee levels a template may date differently (domain.contracts.CommitteeLevel)."""


class LevelDates(Frozen):
    """An item's dates for one committee level, where they differ from the item's own."""

    level: Level
    opens: MonthDay | None = Field(default=None, description="None: the item's own.")
    due: MonthDay


class DatedRule(Frozen):
    """The days a template or an item is in force, both counted; None: open-ended."""

    in_force_from: date | None = None
    in_force_until: date | None = None

    @model_validator(mode="after")
    def _in_order(self) -> DatedRule:
        if (
            self.in_force_from is not None
            and self.in_force_until is not None
            and self.in_force_until < self.in_force_from
        ):
            raise ValueError("in_force_until cannot be before in_force_from")
        return self

    def in_force_on(self, day: date) -> bool:
        return (self.in_force_from is None or self.in_force_from <= day) and (
            self.in_force_until is None or day <= self.in_force_until
        )


class TemplateItem(DatedRule):
    """An obligation of the year. Titles may name `{year}` and, for a quarterly item,
    `{quarter}`; an occurrence due outside the item's days in force (its own, else the
    template's) is not owed."""

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
    basis: tuple[Basis, ...] = ()
    due_source: Source | None = Field(
        default=None, description="Where the due date comes from; None: not stated."
    )
    by_level: tuple[LevelDates, ...] = Field(
        default=(), description="Dates for a committee level where they differ."
    )
    period: Literal["h1", "year"] | None = Field(
        default=None, description="A report: the period it counts (domain.periods)."
    )

    @model_validator(mode="after")
    def _one_date_per_level(self) -> TemplateItem:
        levels = [entry.level for entry in self.by_level]
        if len(levels) != len(set(levels)):
            raise ValueError(f"item {self.key!r} dates a committee level twice")
        return self

    def dates_for(self, level: str | None) -> tuple[MonthDay | None, MonthDay]:
        """The open and due rules for a committee level (the item's own if it has none)."""
        for entry in self.by_level:
            if entry.level == level:
                return (entry.opens or self.opens), entry.due
        return self.opens, self.due


class Template(DatedRule):
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
    title_vi: str = Field(default="", max_length=300)
    basis: tuple[Basis, ...] = ()

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


def in_force(versions: Iterable[Template], day: date) -> Template | None:
    """The version in force on `day`: of several, the latest version; None if none."""
    found = [t for t in versions if t.in_force_on(day)]
    return max(found, key=lambda t: t.version, default=None)


def in_force_for_year(versions: Iterable[Template], year: int) -> Template | None:
    """The version a cycle of `year` takes: the one in force on its first day, else the first
    to come into force during the year (a text issued mid-year governs that year from then)."""
    versions = tuple(versions)
    found = in_force(versions, date(year, 1, 1))
    if found is not None:
        return found
    later = [
        t for t in versions
        if t.in_force_from is not None and t.in_force_from.year == year
    ]
    return min(later, key=lambda t: (t.in_force_from or date.min, -t.version), default=None)


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
