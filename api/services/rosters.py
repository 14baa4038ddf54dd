"""Reporters as records: the committee's team, the roster rules over it, and telling its cycle.

A roster submission lists people under one recognition decision; once the workflow accepts it,
its reporters are stored (a name already on the active team is updated, not doubled). Reporters
may also be added or marked as left directly; when a leave breaks the rules, or an addition
restores them while a consolidation is open, the committee's running cycle is signalled once
the change has committed (api/services/signals.py).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.models import (
    Committee,
    Cycle,
    Reporter,
    ReporterStatus,
    Submission,
    Task,
    TemplateRow,
    utcnow,
)
from api.problems import Conflict, NotFound, Unprocessable
from api.schemas import TaskPublic
from api.schemas_rosters import (
    ReporterChanged,
    ReporterCreate,
    ReporterLeave,
    ReporterPublic,
    RosterStatus,
)
from api.services import committees, signals
from api.services.access import Action, Principal, authorize
from api.services.audit import append_audit
from api.services.templates import current_template, template_of
from domain.contracts import (
    CLOSED_STATES,
    SIGNAL_ROSTER_CHANGED,
    CommitteeLevel,
    ItemState,
    RejectionType,
    RosterChanged,
    RosterTally,
)
from domain.evidence import ReporterEntry, RosterEvidence
from domain.roster import CONSOLIDATE_ITEM_KEY, check_tally, describe
from domain.template import EvidenceKind

log = logging.getLogger(__name__)
OPEN_STATES = [s.value for s in ItemState if s not in CLOSED_STATES]


def _key(name: str) -> str:
    """Names compare without case or extra spaces: one person is not listed twice."""
    return " ".join(name.split()).casefold()


def to_public(reporter: Reporter, committee_code: str) -> ReporterPublic:
    return ReporterPublic(
        id=reporter.id, committee=committee_code, name=reporter.name, position=reporter.position,
        committee_member=reporter.committee_member, level=reporter.level,
        decision_number=reporter.decision_number, decision_date=reporter.decision_date,
        term_start=reporter.term_start, term_end=reporter.term_end,
        status=reporter.status,  # type: ignore[arg-type]
        left_on=reporter.left_on, left_reason=reporter.left_reason,
        replaces=reporter.replaces_id, submission_id=reporter.submission_id,
        created_at=reporter.created_at, created_by=reporter.created_by,
    )


async def reporters_of(
    *, session: AsyncSession, committee_id: int, status: ReporterStatus | None = None
) -> list[Reporter]:
    query = select(Reporter).where(Reporter.committee_id == committee_id)
    if status is not None:
        query = query.where(Reporter.status == status.value)
    return list((await session.scalars(query.order_by(Reporter.id))).all())


def team_after(active: list[Reporter], submitted: list[ReporterEntry]) -> RosterTally:
    """The team once a roster submission is stored: a listed name replaces the same name."""
    members = {_key(r.name): r.committee_member for r in active}
    members.update({_key(e.name): e.committee_member for e in submitted})
    return RosterTally(total=len(members), committee_members=sum(members.values()))


async def rules_template(*, session: AsyncSession, committee_id: int) -> TemplateRow:
    """The template whose roster rules apply: the latest running cycle's, else the current."""
    row = await session.scalar(
        select(TemplateRow)
        .join(Cycle, Cycle.template_id == TemplateRow.id)
        .where(Cycle.committee_id == committee_id, Cycle.status == "running")
        .order_by(Cycle.year.desc())
    )
    return row or await current_template(session=session)


async def roster_status(
    *, session: AsyncSession, committee: Committee, template: TemplateRow | None = None
) -> RosterStatus:
    """The active team against the rules of the committee's template."""
    template = template or await rules_template(session=session, committee_id=committee.id)
    active = await reporters_of(
        session=session, committee_id=committee.id, status=ReporterStatus.ACTIVE
    )
    team = RosterTally(total=len(active), committee_members=sum(r.committee_member for r in active))
    violations = check_tally(CommitteeLevel(committee.level), team, template_of(template))
    return RosterStatus(
        committee=committee.code, level=committee.level, active=team.total,
        committee_members=team.committee_members, holds=not violations, violations=violations,
        template_code=template.code, template_version=template.version,
    )


def _problem(detail: str, field: str, **extra: Any) -> Unprocessable:
    return Unprocessable(
        detail,
        errors=[{"location": "body", "field": field, "pointer": "/" + field.replace(".", "/"),
                 "detail": detail, "type": "value_error"}],
        **extra,
    )


async def _check_replaces(
    *, session: AsyncSession, committee_id: int, replaces: int | None, field: str
) -> None:
    if replaces is None:
        return
    replaced = await session.get(Reporter, replaces)
    if replaced is None or replaced.committee_id != committee_id:
        raise _problem(f"reporter {replaces} is not one of this committee's reporters", field)


async def check_submission(
    *, session: AsyncSession, task: TaskPublic, evidence: dict[str, Any]
) -> RosterTally:
    """The team a roster submission leaves; 422 naming the rule and the shortfall if it breaks
    the roster rules of the task's cycle. The evidence's shape is already checked."""
    roster = RosterEvidence.model_validate({"kind": "roster", **evidence})
    cycle = await session.get(Cycle, task.cycle_id)
    committee = await committees.get_by_code(session=session, code=task.committee)
    assert cycle is not None and committee is not None
    for i, entry in enumerate(roster.reporters):
        await _check_replaces(
            session=session, committee_id=committee.id, replaces=entry.replaces,
            field=f"evidence.reporters.{i}.replaces",
        )
    template = await session.get(TemplateRow, cycle.template_id)
    assert template is not None
    active = await reporters_of(
        session=session, committee_id=committee.id, status=ReporterStatus.ACTIVE
    )
    team = team_after(active, list(roster.reporters))
    violations = check_tally(CommitteeLevel(committee.level), team, template_of(template))
    if violations:
        raise _problem(
            f"the roster breaks the roster rules: {describe(violations)}", "evidence.reporters",
            rejection=RejectionType.ROSTER_RULE_BROKEN.value, rule=violations[0].rule.value,
            violations=[v.model_dump(mode="json") for v in violations],
        )
    return team


async def store_submitted(*, session: AsyncSession, task: Task, submission: Submission) -> None:
    """Store the reporters of an accepted roster submission, linked to it."""
    if task.evidence_kind != EvidenceKind.ROSTER or submission.evidence.get("kind") != "roster":
        return
    roster = RosterEvidence.model_validate(submission.evidence)
    cycle = await session.get(Cycle, task.cycle_id)
    assert cycle is not None
    active = {
        _key(r.name): r
        for r in await reporters_of(
            session=session, committee_id=cycle.committee_id, status=ReporterStatus.ACTIVE
        )
    }
    for entry in roster.reporters:
        known = active.get(_key(entry.name))
        if known is not None:  # re-recognised: the same person, under the new decision
            known.position, known.committee_member = entry.position, entry.committee_member
            known.level, known.decision_number = entry.level, roster.decision_number
            known.decision_date, known.term_end = roster.decision_date, roster.term_end
            continue
        replaced = await session.get(Reporter, entry.replaces) if entry.replaces else None
        reporter = Reporter(
            committee_id=cycle.committee_id, name=entry.name, position=entry.position,
            committee_member=entry.committee_member, level=entry.level,
            decision_number=roster.decision_number, decision_date=roster.decision_date,
            term_start=roster.term_start or roster.decision_date, term_end=roster.term_end,
            status=ReporterStatus.ACTIVE.value, submission_id=submission.id,
            replaces_id=replaced.id if replaced and replaced.committee_id == cycle.committee_id
            else None,
            created_at=submission.submitted_at, created_by=submission.actor,
        )
        session.add(reporter)
        active[_key(entry.name)] = reporter
    await session.flush()


async def _committee_for(
    *, session: AsyncSession, principal: Principal, code: str, action: Action
) -> Committee:
    committee = await committees.get_by_code(session=session, code=code)
    missing = f"committee {code!r} not found"
    if committee is None:
        raise NotFound(missing)
    await authorize(
        session=session, principal=principal, action=action, committee_id=committee.id,
        missing=missing,
    )
    return committee


async def list_reporters(
    *, session: AsyncSession, principal: Principal, code: str, status: ReporterStatus | None
) -> tuple[list[ReporterPublic], RosterStatus]:
    """A committee's reporters, oldest first, and whether its active team keeps the rules."""
    committee = await _committee_for(session=session, principal=principal, code=code,
                                     action=Action.READ)
    found = await reporters_of(session=session, committee_id=committee.id, status=status)
    status_now = await roster_status(session=session, committee=committee)
    return [to_public(r, committee.code) for r in found], status_now


async def add_reporter(
    *, session: AsyncSession, client: Client | None, principal: Principal, code: str,
    data: ReporterCreate, wait_seconds: float,
) -> ReporterChanged:
    """Add a reporter; if that restores the rules while a consolidation is open, say so."""
    committee = await _committee_for(session=session, principal=principal, code=code,
                                     action=Action.MANAGE_ROSTER)
    await _check_replaces(session=session, committee_id=committee.id, replaces=data.replaces,
                          field="replaces")
    reporter = Reporter(
        committee_id=committee.id, name=data.name, position=data.position,
        committee_member=data.committee_member, level=data.level,
        decision_number=data.decision_number, decision_date=data.decision_date,
        term_start=data.term_start or data.decision_date, term_end=data.term_end,
        status=ReporterStatus.ACTIVE.value, replaces_id=data.replaces, created_by=principal.name,
    )
    session.add(reporter)
    await session.flush()
    await append_audit(
        session=session, actor=principal.name, action="reporter.added",
        subject=f"committee/{committee.code}/reporters/{reporter.id}",
        payload=data.model_dump(mode="json"),
    )
    status = await roster_status(session=session, committee=committee)
    told: list[str] = []
    if status.holds:
        told = await _tell(session=session, client=client, committee=committee, change="added",
                           reporter=reporter, actor=principal.name, status=status,
                           only_with_consolidation=True, wait_seconds=wait_seconds)
    return ReporterChanged(reporter=to_public(reporter, committee.code), roster=status,
                           signalled=told)


async def mark_left(
    *, session: AsyncSession, client: Client | None, principal: Principal, reporter_id: int,
    data: ReporterLeave, wait_seconds: float,
) -> ReporterChanged:
    """Mark a reporter as having left; if the rules break, the cycle opens a consolidation."""
    reporter = await session.get(Reporter, reporter_id)
    missing = f"reporter {reporter_id} not found"
    committee = await session.get(Committee, reporter.committee_id) if reporter else None
    if reporter is None or committee is None:
        raise NotFound(missing)
    await authorize(session=session, principal=principal, action=Action.MANAGE_ROSTER,
                    committee_id=committee.id, missing=missing)
    if reporter.status == ReporterStatus.LEFT:
        raise Conflict(f"reporter {reporter_id} already left on {reporter.left_on}")
    if data.left_on < reporter.term_start:
        raise _problem(f"left_on is before the reporter's term began ({reporter.term_start})",
                       "left_on")
    reporter.status, reporter.left_on, reporter.left_reason = "left", data.left_on, data.reason
    reporter.left_by = principal.name
    reporter.left_at = utcnow()
    await session.flush()
    await append_audit(
        session=session, actor=principal.name, action="reporter.left",
        subject=f"committee/{committee.code}/reporters/{reporter.id}",
        payload=data.model_dump(mode="json"),
    )
    status = await roster_status(session=session, committee=committee)
    told: list[str] = []
    if not status.holds:
        told = await _tell(session=session, client=client, committee=committee, change="left",
                           reporter=reporter, actor=principal.name, status=status,
                           only_with_consolidation=False, wait_seconds=wait_seconds)
    return ReporterChanged(reporter=to_public(reporter, committee.code), roster=status,
                           signalled=told)


async def _tell(
    *, session: AsyncSession, client: Client | None, committee: Committee,
    change: Literal["left", "added"], reporter: Reporter, actor: str, status: RosterStatus,
    only_with_consolidation: bool, wait_seconds: float,
) -> list[str]:
    """Owe the committee's latest running cycle a signal, sent after the change commits."""
    query = (
        select(Cycle.workflow_id, Cycle.id)
        .where(Cycle.committee_id == committee.id, Cycle.status == "running")
        .order_by(Cycle.year.desc())
        .limit(1)
    )
    row = (await session.execute(query)).first()
    if row is None:
        return []
    workflow_id, cycle_id = row
    if only_with_consolidation:
        open_task = await session.scalar(
            select(Task.id).where(Task.cycle_id == cycle_id, Task.item_key ==
                                  CONSOLIDATE_ITEM_KEY, Task.state.in_(OPEN_STATES))
        )
        if open_task is None:
            return []
    signal = RosterChanged(
        change=change, reporter=reporter.name, actor=actor,
        team=RosterTally(total=status.active, committee_members=status.committee_members),
    )
    signals.queue(session=session, workflow_id=workflow_id, name=SIGNAL_ROSTER_CHANGED,
                  signal=signal)
    return [workflow_id]
