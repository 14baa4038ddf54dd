"""A committee's subtree rolled up for a year, as of any instant, from timestamps in the database.

Every count is reckoned as things stood at `as_of`'s end: the tree of that day, due dates as
extended by then, completions, waivers and escalations recorded by then. Only items due by
then are counted as done, waived or overdue, so on time + late + waived + overdue = due. An
item whose task had not opened by then counts from the template's plan of the cycle's own
pinned version.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import (
    Committee,
    Cycle,
    Escalation,
    Submission,
    Task,
    TaskChange,
    TemplateRow,
    utcnow,
)
from api.problems import NotFound
from api.schemas_reports import Summary, SummaryRow
from api.services.access import Principal, read_scope
from api.services.reports import period_of
from api.services.templates import template_of
from api.services.tree import children_of, day_of, parents_on, subtree_of
from domain.calendar import due_instant, obligations, start_of_day
from domain.contracts import ItemState
from domain.evidence import FIGURE_NAMES, ReportEvidence, ReportFigures

COUNTS = ("items_total", "items_due", "done_on_time", "done_late", "overdue_now", "waived",
          "open_escalations", "reports")


@dataclass
class Tally:
    """The counts of one committee's cycle, or of several added together."""

    committees: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    figures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURE_NAMES, 0))

    def add(self, other: Tally) -> None:
        self.committees += other.committees
        for name, value in other.counts.items():
            self.counts[name] += value
        for name, value in other.figures.items():
            self.figures[name] += value


def due_as_of(task: Task, changes: list[TaskChange], at: datetime) -> date:
    """The task's due date as it stood at `at`: before a later extension, its previous date."""
    later = [c for c in changes if c.change == "extended" and c.at > at]
    if later:
        first = min(later, key=lambda c: c.at)
        return first.previous_due_on or task.due_on
    return task.due_on


def _recorded_since(task: Task, changes: list[TaskChange]) -> datetime | None:
    """When the task's row first says something: it opened, or (pending) it was changed."""
    return min([t for t in (task.opened_at, *(c.at for c in changes)) if t is not None],
               default=None)


def tally_cycle(
    *, planned: list[tuple[str, date]], tasks: list[Task], changes: dict[int, list[TaskChange]],
    escalations: list[Escalation], at: datetime,
) -> Tally:
    """One cycle's counts at `at`. `planned` is the template's (key, due date) of each item."""
    tally = Tally(committees=1)
    counts = tally.counts
    opened = {
        t.key: t for t in tasks
        if (since := _recorded_since(t, changes.get(t.id, []))) is not None and since < at
    }
    planned_keys = {key for key, _ in planned}
    items: list[tuple[date, Task | None]] = [(due, opened.get(key)) for key, due in planned]
    items += [(t.due_on, t) for key, t in opened.items() if key not in planned_keys]
    for planned_due, task in items:
        counts["items_total"] += 1
        due = due_as_of(task, changes.get(task.id, []), at) if task else planned_due
        if due_instant(due) > at:
            continue  # not yet due: done early or not, it counts once its day has come
        counts["items_due"] += 1
        closed = task is not None and task.closed_at is not None and task.closed_at < at
        if closed and task is not None and task.state == ItemState.COMPLETED:
            counts["done_late" if task.late else "done_on_time"] += 1
        elif closed and task is not None and task.state == ItemState.WAIVED:
            counts["waived"] += 1
        else:
            counts["overdue_now"] += 1
    counts["open_escalations"] = sum(
        e.level >= 1 and e.raised_at < at and (e.resolved_at is None or e.resolved_at >= at)
        for e in escalations
    )
    return tally


def latest_report(reports: list[tuple[Task, Submission]], at: datetime) -> ReportFigures | None:
    """The figures of the latest report submitted before `at`: annual over 6-month."""
    made = [
        (t, s) for t, s in reports if s.submitted_at < at and s.evidence.get("kind") == "report"
    ]
    if not made:
        return None
    _, chosen = max(made, key=lambda ts: (period_of(ts[0]) == "year", ts[1].submitted_at))
    return ReportEvidence.model_validate(chosen.evidence).figures


async def summarise(
    *, session: AsyncSession, principal: Principal, code: str, year: int, as_of: date | None,
    now: datetime | None = None,
) -> Summary:
    """Roll up `code`'s subtree for `year` as of the end of `as_of` (default: now)."""
    scope = await read_scope(session=session, principal=principal)
    root = await session.scalar(select(Committee).where(Committee.code == code))
    if root is None or not scope.allows(root.id):
        raise NotFound(f"committee {code!r} not found")
    at = start_of_day(as_of + timedelta(days=1)) if as_of else now or utcnow()
    parents, committees = await parents_on(session=session, day=as_of or day_of(at))
    within = {c for c in subtree_of(parents, root.id) if scope.allows(c)}
    rows = (await session.execute(
        select(Cycle, TemplateRow).join(TemplateRow, Cycle.template_id == TemplateRow.id)
        .where(Cycle.year == year, Cycle.committee_id.in_(sorted(within)))
    )).tuples().all()
    cycle_ids = [c.id for c, _ in rows]
    tasks = list((await session.scalars(select(Task).where(Task.cycle_id.in_(cycle_ids)))).all())
    task_ids = [t.id for t in tasks]
    changes: dict[int, list[TaskChange]] = defaultdict(list)
    for change in (await session.scalars(
        select(TaskChange).where(TaskChange.task_id.in_(task_ids))
    )).all():
        changes[change.task_id].append(change)
    escalations: dict[int, list[Escalation]] = defaultdict(list)
    for escalation in (await session.scalars(
        select(Escalation).where(Escalation.task_id.in_(task_ids))
    )).all():
        escalations[escalation.task_id].append(escalation)
    reports: dict[int, list[tuple[Task, Submission]]] = defaultdict(list)
    for task, submission in (await session.execute(
        select(Task, Submission).join(Submission, Submission.task_id == Task.id)
        .where(Task.cycle_id.in_(cycle_ids), Task.evidence_kind == "report")
    )).tuples().all():
        reports[task.cycle_id].append((task, submission))
    if as_of is None:  # a time-scaled rehearsal runs ahead of real time: its latest record is now
        recorded = [t.opened_at for t in tasks if t.opened_at] + [
            t.closed_at for t in tasks if t.closed_at
        ]
        at = max([at, *(instant + timedelta(microseconds=1) for instant in recorded)])

    own: dict[int, Tally] = {}
    for cycle, template_row in rows:
        mine = [t for t in tasks if t.cycle_id == cycle.id]
        level = committees[cycle.committee_id].level
        planned = [
            (o.key, o.due_on) for o in obligations(template_of(template_row), year, level)
        ]
        tally = tally_cycle(
            planned=planned, tasks=mine, changes=changes,
            escalations=[e for t in mine for e in escalations.get(t.id, [])], at=at,
        )
        figures = latest_report(reports.get(cycle.id, []), at)
        if figures is not None:
            tally.counts["reports"] = 1
            tally.figures = figures.model_dump()
        own[cycle.committee_id] = tally

    def roll(committee_id: int) -> Tally:
        total = Tally()
        for cid in subtree_of(parents, committee_id) & within:
            total.add(own.get(cid, Tally()))
        return total

    def row(committee_id: int, tally: Tally, scope_name: str) -> SummaryRow:
        committee = committees[committee_id]
        return SummaryRow(
            committee=committee.code, name=committee.name, level=committee.level,
            scope=scope_name,  # type: ignore[arg-type]
            committees=tally.committees, **tally.counts,
            figures=ReportFigures(**tally.figures),
        )

    lines = [row(root.id, own[root.id], "own")] if root.id in own else []
    lines += [row(c, roll(c), "subtree") for c in children_of(parents, root.id) if c in within]
    return Summary(
        committee=root.code, year=year, as_of=as_of or day_of(at), as_of_instant=at,
        rows=lines, total=row(root.id, roll(root.id), "total"),
    )
