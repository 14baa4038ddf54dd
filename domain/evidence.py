"""The evidence each kind of task takes; unknown fields and lax coercion are refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from domain.dates import IsoDate
from domain.periods import quarter_days
from domain.template import EvidenceKind

Text = Annotated[str, Field(min_length=1, max_length=2000)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
Count = Annotated[int, Field(ge=0, le=10_000_000)]


class _Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PlanEvidence(_Evidence):
    kind: Literal["plan"] = "plan"
    document_number: ShortText
    document_date: IsoDate
    summary: Text
    attachments: list[ShortText] = Field(default_factory=list, max_length=50)


class DisseminationEvidence(_Evidence):
    kind: Literal["dissemination"] = "dissemination"
    cells_reached: Count
    cells_total: Count
    completed_on: IsoDate

    @model_validator(mode="after")
    def _reached_within_total(self) -> DisseminationEvidence:
        if self.cells_reached > self.cells_total:
            raise ValueError("cells_reached cannot exceed cells_total")
        return self


class ReporterEntry(_Evidence):
    name: ShortText
    position: ShortText
    committee_member: bool
    level: Literal["central", "provincial", "district"] = "central"
    replaces: int | None = Field(
        default=None, ge=1, description="The id of the reporter this one replaces, if any."
    )


class RosterEvidence(_Evidence):
    kind: Literal["roster"] = "roster"
    decision_number: ShortText
    decision_date: IsoDate
    reporters: list[ReporterEntry] = Field(min_length=1, max_length=1000)
    term_start: IsoDate | None = Field(default=None, description="Default: decided.")
    term_end: IsoDate | None = Field(default=None)

    @model_validator(mode="after")
    def _term_in_order(self) -> RosterEvidence:
        start = self.term_start or self.decision_date
        if self.term_end is not None and self.term_end < start:
            raise ValueError("term_end cannot be before the term starts")
        return self


class ConferenceEvidence(_Evidence):
    kind: Literal["conference"] = "conference"
    held_on: IsoDate
    attendees: Count
    topics: list[ShortText] = Field(min_length=1, max_length=100)
    listeners: Count
    online: bool = False
    activities: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=list, max_length=200,
        description="The reporter activities held at the conference: ids of entries in the "
        "committee's register of reporter activities, held on the conference's day.",
    )

    @model_validator(mode="after")
    def _each_activity_once(self) -> ConferenceEvidence:
        if len(set(self.activities)) != len(self.activities):
            raise ValueError("an activity is named more than once")
        return self


class ReviewEvidence(_Evidence):
    kind: Literal["review"] = "review"
    findings: Text
    commendations: list[ShortText] = Field(default_factory=list, max_length=200)
    follow_ups: list[ShortText] = Field(default_factory=list, max_length=200)


class ReportFigures(_Evidence):
    """The figures of a 6-month or annual report (DOMAIN.md, report fields)."""

    reporters_total: Count
    reporters_added: Count = 0
    reporters_replaced: Count = 0
    reporters_removed: Count = 0
    committee_members: Count = 0
    conferences_held: Count = 0
    sessions_delivered: Count = 0
    attendances: Count = 0
    online_sessions: Count = 0
    trainings: Count = 0
    inspections: Count = 0
    commendations: Count = 0
    conference_attendees: Count = 0
    listeners: Count = 0


FIGURE_NAMES: tuple[str, ...] = tuple(ReportFigures.model_fields)


class FigureCorrection(_Evidence):
    """A figure staff changed from the draft: what the draft said, and what they reported."""

    draft: Count
    reported: Count


class ReportDraft(_Evidence):
    """What the system held for a report's period, as offered to staff and kept with the report."""

    period_start: IsoDate
    period_end: IsoDate
    figures: ReportFigures
    topics: list[ShortText] = Field(default_factory=list, max_length=200)
    grassroots_has_member_reporter: bool | None = None
    decision_number: ShortText | None = None
    decision_date: IsoDate | None = Field(default=None)
    computed_at: datetime = Field(strict=False)


class ReportEvidence(_Evidence):
    kind: Literal["report"] = "report"
    period: Literal["h1", "year"]
    figures: ReportFigures
    grassroots_has_member_reporter: bool | None = None
    decision_number: ShortText | None = None
    decision_date: IsoDate | None = Field(default=None)
    topics: list[ShortText] = Field(default_factory=list, max_length=200)
    difficulties: Annotated[str, Field(max_length=4000)] = ""
    proposals: Annotated[str, Field(max_length=4000)] = ""
    committee: ShortText | None = Field(default=None, description="Filled in by the API.")
    draft: ReportDraft | None = Field(default=None, description="Filled in by the API.")
    corrections: dict[str, FigureCorrection] = Field(
        default_factory=dict, max_length=len(FIGURE_NAMES),
        description="Filled in by the API: every figure that differs from the draft.",
    )

    @model_validator(mode="after")
    def _corrections_name_figures(self) -> ReportEvidence:
        unknown = sorted(set(self.corrections) - set(FIGURE_NAMES))
        if unknown:
            raise ValueError(f"corrections name unknown figures: {', '.join(unknown)}")
        return self


def corrections_of(draft: ReportFigures, reported: ReportFigures) -> dict[str, FigureCorrection]:
    """Every figure where the reported value differs from the draft's."""
    drafted, given = draft.model_dump(), reported.model_dump()
    return {
        name: FigureCorrection(draft=drafted[name], reported=given[name])
        for name in FIGURE_NAMES
        if drafted[name] != given[name]
    }


Evidence = Annotated[
    PlanEvidence
    | DisseminationEvidence
    | RosterEvidence
    | ConferenceEvidence
    | ReviewEvidence
    | ReportEvidence,
    Field(discriminator="kind"),
]

EVIDENCE_MODELS: dict[EvidenceKind, type[_Evidence]] = {
    EvidenceKind.PLAN: PlanEvidence,
    EvidenceKind.DISSEMINATION: DisseminationEvidence,
    EvidenceKind.ROSTER: RosterEvidence,
    EvidenceKind.CONFERENCE: ConferenceEvidence,
    EvidenceKind.REVIEW: ReviewEvidence,
    EvidenceKind.REPORT: ReportEvidence,
}

evidence_adapter: TypeAdapter[Evidence] = TypeAdapter(Evidence)


def parse_evidence(
    kind: EvidenceKind, payload: object, *, extra: Literal["forbid", "ignore"] = "forbid"
) -> _Evidence:
    """Validate a payload as the evidence `kind` takes; raises pydantic.ValidationError.

    The API's edge forbids unknown fields; the workflow ignores them (`extra="ignore"`), so
    that evidence a newer API accepted never fails an older worker's check or a replay.
    """
    model = EVIDENCE_MODELS[kind]
    if isinstance(payload, dict) and "kind" not in payload:
        payload = {**payload, "kind": kind.value}
    return model.model_validate(payload, extra=extra)


def held_outside_quarter(evidence: BaseModel, *, year: int, quarter: int) -> str | None:
    """Why a conference's evidence does not belong to its quarter of `year`, or None if it does
    (or is not a conference): the conference of a quarter is held in that quarter."""
    if not isinstance(evidence, ConferenceEvidence):
        return None
    first, last = quarter_days(year, quarter)
    if first <= evidence.held_on <= last:
        return None
    return (
        f"held_on {evidence.held_on.isoformat()} is not in quarter {quarter} of {year} "
        f"({first.isoformat()} to {last.isoformat()})"
    )
