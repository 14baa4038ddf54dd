"""Reports that fill themselves in: a draft from what the system holds for the period.

A period is exactly the days domain/periods.py gives (the Decree 09 cut-off, both ends
counted). Reporters come from the reporter records (who served, joined, replaced someone, left
in the period); sessions delivered, their audience and those held online (online, or in person
and online at once) from the register of reporter activities held in it, withdrawn entries left
out; conferences from the conference submissions held in it; inspections and commendations
from the review submissions made in it. The submitted report keeps its draft and every figure
staff corrected.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Committee, Cycle, Reporter, Submission, Task, utcnow
from api.problems import NotFound
from api.schemas import TaskPublic
from api.schemas_reports import DraftPublic, Period
from api.services import committees, registers, rosters, tasks
from api.services.access import Principal
from api.services.tree import day_of
from domain.contracts import CommitteeLevel, RosterTally
from domain.evidence import (
    ConferenceEvidence,
    ReportDraft,
    ReportEvidence,
    ReportFigures,
    ReviewEvidence,
    corrections_of,
)
from domain.periods import report_period
from domain.registers import ActivityBody, ActivityFigures, RegisterKind, activity_figures
from domain.template import EvidenceKind

MAX_TOPICS = 200


def period_of(task: TaskPublic | Task) -> Period:
    """The period a report task covers: its key says so (report-h1, report-year), else its date."""
    if task.item_key.endswith("h1"):
        return "h1"
    if task.item_key.endswith("year"):
        return "year"
    return "h1" if task.due_on.month <= 7 else "year"


def reporter_figures(
    reporters: list[Reporter], start: date, end: date
) -> tuple[dict[str, int], list[Reporter]]:
    """Reporters total, added, replaced, removed and committee members over a period, and those
    serving at its end."""
    serving = [
        r for r in reporters
        if r.term_start <= end and (r.left_on is None or r.left_on > end)
    ]
    added = [r for r in reporters if start <= r.term_start <= end]
    figures = {
        "reporters_total": len(serving),
        "reporters_added": len(added),
        "reporters_replaced": sum(r.replaces_id is not None for r in added),
        "reporters_removed": sum(
            r.left_on is not None and start <= r.left_on <= end for r in reporters
        ),
        "committee_members": sum(r.committee_member for r in serving),
    }
    return figures, serving


async def _submissions(
    session: AsyncSession, committee_id: int, kind: EvidenceKind
) -> list[Submission]:
    query = (
        select(Submission)
        .join(Task, Submission.task_id == Task.id)
        .join(Cycle, Task.cycle_id == Cycle.id)
        .where(Cycle.committee_id == committee_id, Task.evidence_kind == kind.value)
        .order_by(Submission.submitted_at, Submission.id)
    )
    return [s for s in (await session.scalars(query)).all() if s.evidence.get("kind") == kind]


async def _activities(
    session: AsyncSession, committee_id: int, start: date, end: date
) -> list[ActivityBody]:
    bodies = await registers.counted_bodies(session=session, committee_id=committee_id,
                                            kind=RegisterKind.ACTIVITY, start=start, end=end)
    return [b for b in bodies if isinstance(b, ActivityBody)]


async def compute_draft(
    *, session: AsyncSession, committee: Committee, year: int, period: Period,
    now: datetime | None = None,
) -> ReportDraft:
    """The draft report of a committee for a period, from the records the database holds."""
    start, end = report_period(period, year)
    reporters = await rosters.reporters_of(session=session, committee_id=committee.id)
    people, serving = reporter_figures(reporters, start, end)
    conferences = [
        ConferenceEvidence.model_validate(s.evidence)
        for s in await _submissions(session, committee.id, EvidenceKind.CONFERENCE)
    ]
    held = [c for c in conferences if start <= c.held_on <= end]
    reviews = [
        ReviewEvidence.model_validate(s.evidence)
        for s in await _submissions(session, committee.id, EvidenceKind.REVIEW)
        if start <= day_of(s.submitted_at) <= end
    ]
    sessions = await _activities(session, committee.id, start, end)
    delivered = activity_figures(sessions, start, end)
    topics = list(dict.fromkeys(
        [topic for c in held for topic in c.topics] + [a.topic for a in sessions]
    ))[:MAX_TOPICS]
    figures = ReportFigures(
        **people,
        conferences_held=len(held),
        conference_attendees=sum(c.attendees for c in held),
        listeners=sum(c.listeners for c in held),
        sessions_delivered=delivered.sessions,
        attendances=delivered.audience,
        online_sessions=delivered.online,
        inspections=len(reviews),
        commendations=sum(len(r.commendations) for r in reviews),
    )
    latest = max(serving, key=lambda r: (r.decision_date, r.id), default=None)
    grassroots = committee.level == CommitteeLevel.GRASSROOTS
    return ReportDraft(
        period_start=start, period_end=end, figures=figures, topics=topics,
        grassroots_has_member_reporter=people["committee_members"] >= 1 if grassroots else None,
        decision_number=latest.decision_number if latest else None,
        decision_date=latest.decision_date if latest else None,
        computed_at=now or utcnow(),
    )


def online_share(figures: ReportFigures) -> float | None:
    """The share of the sessions delivered that were held online, or None without sessions."""
    return ActivityFigures(sessions=figures.sessions_delivered, audience=figures.attendances,
                           online=figures.online_sessions).online_share


def evidence_from(draft: ReportDraft, period: Period) -> dict[str, Any]:
    """Report evidence that confirms the draft as it is."""
    evidence: dict[str, Any] = {
        "kind": "report", "period": period, "figures": draft.figures.model_dump(mode="json"),
        "topics": draft.topics, "difficulties": "", "proposals": "",
        "grassroots_has_member_reporter": draft.grassroots_has_member_reporter,
    }
    if draft.decision_number is not None and draft.decision_date is not None:
        evidence["decision_number"] = draft.decision_number
        evidence["decision_date"] = draft.decision_date.isoformat()
    return evidence


async def _report_task(
    *, session: AsyncSession, principal: Principal, task_id: int
) -> tuple[TaskPublic, Committee]:
    task = await tasks.get_public(session=session, principal=principal, task_id=task_id)
    if task.evidence_kind is not EvidenceKind.REPORT:
        raise NotFound(
            f"task {task_id} ({task.key}) takes {task.evidence_kind.value} evidence: only "
            "report tasks have a draft or a report"
        )
    committee = await committees.get_by_code(session=session, code=task.committee)
    assert committee is not None
    return task, committee


async def draft_for_task(
    *, session: AsyncSession, principal: Principal, task_id: int
) -> DraftPublic:
    """The draft a report task offers, if the caller can see the task."""
    task, committee = await _report_task(session=session, principal=principal, task_id=task_id)
    period = period_of(task)
    draft = await compute_draft(session=session, committee=committee, year=task.year,
                                period=period)
    return DraftPublic(task_id=task.id, committee=task.committee, year=task.year, period=period,
                       draft=draft, evidence=evidence_from(draft, period),
                       online_share=online_share(draft.figures))


async def with_draft(
    *, session: AsyncSession, task: TaskPublic, evidence: dict[str, Any]
) -> dict[str, Any]:
    """A report submission as stored: with the committee, the draft and the corrections."""
    committee = await committees.get_by_code(session=session, code=task.committee)
    assert committee is not None
    draft = await compute_draft(session=session, committee=committee, year=task.year,
                                period=period_of(task))
    submitted = ReportEvidence.model_validate({**evidence, "kind": "report"})
    corrections = corrections_of(draft.figures, submitted.figures)
    return {
        **evidence, "kind": "report", "committee": committee.code,
        "draft": draft.model_dump(mode="json"),
        "corrections": {name: c.model_dump() for name, c in corrections.items()},
    }


async def prepare_completion(
    *, session: AsyncSession, task: TaskPublic, evidence: dict[str, Any]
) -> tuple[dict[str, Any], RosterTally | None]:
    """What a completion sends the workflow: a roster held to the rules (422 naming the rule,
    and the team it leaves), a report with its draft and corrections, a conference whose named
    activities are the committee's, held that day (else 422), else the evidence as is."""
    if task.evidence_kind is EvidenceKind.ROSTER:
        return evidence, await rosters.check_submission(
            session=session, task=task, evidence=evidence
        )
    if task.evidence_kind is EvidenceKind.REPORT:
        return await with_draft(session=session, task=task, evidence=evidence), None
    if task.evidence_kind is EvidenceKind.CONFERENCE:
        conference = ConferenceEvidence.model_validate({"kind": "conference", **evidence})
        await registers.check_activities_held(
            session=session, committee_code=task.committee, entry_ids=conference.activities,
            day=conference.held_on, field="evidence.activities",
        )
    return evidence, None


async def submitted_report(
    *, session: AsyncSession, principal: Principal, task_id: int
) -> tuple[TaskPublic, ReportEvidence]:
    """The report a task's submission holds; 404 until it has one."""
    task, _ = await _report_task(session=session, principal=principal, task_id=task_id)
    submission = await session.scalar(
        select(Submission).where(Submission.task_id == task.id)
        .order_by(Submission.submitted_at.desc(), Submission.id.desc())
    )
    if submission is None or submission.evidence.get("kind") != "report":
        raise NotFound(f"task {task_id} has no submitted report yet")
    return task, ReportEvidence.model_validate(submission.evidence)
