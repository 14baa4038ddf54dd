"""The cross-check: a cycle's Temporal history, its audit log and its task tables, fact by fact.

Each record is read into facts with one name each ("plan completed", "plan parent (due
2027-01-31)", ...), a time and, where a person acted, an actor. A fact one record has and
another lacks, a different time or a different actor is a disagreement; so is a task whose
final state, due date or escalation level in the task table differs from the history's. A
decision still in flight in the history (its activity not yet answered) is not held against
the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import WorkflowHistory

from api.models import AuditEvent, Cycle, Escalation, Notification, Task, TaskChange
from api.services.history import EntryKind, Outcome, cycle_input, timeline
from api.services.history.state import fold
from api.services.withdrawals import KIND as WITHDRAWN

SOURCES = ("history", "audit", "tasks")
Source = Literal["history", "audit", "tasks"]
CLOSE_ENOUGH = timedelta(milliseconds=1)


class Disagreement(BaseModel):
    key: str | None = Field(description="The task, or none for the cycle itself.")
    fact: str
    problem: Literal["missing", "time", "actor", "value"]
    detail: str
    history: Any = None
    audit: Any = None
    tasks: Any = None


class CrossCheck(BaseModel):
    cycle_id: int
    workflow_id: str
    agrees: bool
    facts: dict[str, int] = Field(description="How many facts each record holds.")
    in_flight: list[str] = Field(description="Decisions the history holds whose recording is "
                                             "still in flight; not held against the others.")
    disagreements: list[Disagreement]


@dataclass(frozen=True)
class Fact:
    key: str | None
    name: str
    at: datetime | None = None
    actor: str | None = None

    @property
    def label(self) -> str:
        return f"{self.key} {self.name}" if self.key else self.name


Facts = dict[tuple[str | None, str], Fact]


def _rung(rung: str, due_on: object) -> str:
    return f"{rung} (due {due_on})"


def history_facts(history: WorkflowHistory) -> tuple[Facts, list[str]]:
    """The decisions the backend acknowledged, and those still in flight."""
    facts: Facts = {}
    in_flight: list[str] = []
    names = {EntryKind.TASK_OPENED: "opened", EntryKind.TASK_COMPLETED: "completed",
             EntryKind.TASK_WAIVED: "waived", EntryKind.CYCLE_CLOSED: "closed"}
    for entry in timeline(history).entries:
        if entry.kind in names:
            name = names[entry.kind]
        elif entry.kind is EntryKind.DEADLINE_EXTENDED:
            name = f"extended to {entry.new_due_on}"
        elif entry.kind is EntryKind.RUNG_REACHED and entry.rung:
            name = _rung(entry.rung.value, entry.due_on)
        elif entry.kind is EntryKind.RUNG_WITHDRAWN and entry.rung:
            name = f"{_rung(entry.rung.value, entry.due_on)} withdrawn"
        else:
            continue
        fact = Fact(entry.key, name, entry.at, entry.actor)
        if entry.outcome is Outcome.RECORDED:
            facts[(fact.key, fact.name)] = fact
        elif entry.outcome is Outcome.PENDING:
            in_flight.append(fact.label)
    return facts, in_flight


async def audit_facts(*, session: AsyncSession, workflow_id: str) -> Facts:
    """What the audit log says happened to the cycle and its tasks."""
    rows = await session.scalars(
        select(AuditEvent).where(or_(
            AuditEvent.subject == workflow_id,
            AuditEvent.subject.startswith(f"{workflow_id}/", autoescape=True),
        )).order_by(AuditEvent.seq)
    )
    facts: Facts = {}
    for row in rows:
        p = row.payload
        key = row.subject[len(workflow_id) + 1:] or None
        if row.action == "task.opened":
            fact = Fact(key, "opened", _time(p.get("opened_at")))
        elif row.action == "task.completed":
            fact = Fact(key, "completed", _time(p.get("completed_at")), p.get("actor"))
        elif row.action == "task.waived":
            fact = Fact(key, "waived", _time(p.get("at")), p.get("actor"))
        elif row.action == "task.extended":
            fact = Fact(key, f"extended to {p.get('new_due_on')}", _time(p.get("at")),
                        p.get("actor"))
        elif row.action in ("task.reminder", "task.overdue", "task.parent", "task.board"):
            fact = Fact(key, _rung(p.get("rung", ""), p.get("due_on")), _time(p.get("at")))
        elif row.action == "escalation.withdrawn":
            fact = Fact(key, f"{_rung(p.get('rung', ''), p.get('due_on'))} withdrawn",
                        _time(p.get("at")), p.get("actor"))
        elif row.action == "cycle.closed":
            fact = Fact(None, "closed", _time(p.get("at")))
        else:
            continue
        facts[(fact.key, fact.name)] = fact
    return facts


async def task_facts(*, session: AsyncSession, cycle: Cycle) -> tuple[Facts, list[Task]]:
    """What the task table and its records (escalations, changes, notices) say."""
    tasks = list((await session.scalars(select(Task).where(Task.cycle_id == cycle.id))).all())
    by_id = {t.id: t for t in tasks}
    facts: Facts = {}

    def add(fact: Fact) -> None:
        facts[(fact.key, fact.name)] = fact

    for task in tasks:
        if task.opened_at is not None:  # else pending: changed before it opened
            add(Fact(task.key, "opened", task.opened_at))
        if task.state in ("completed", "waived"):
            add(Fact(task.key, task.state, task.closed_at, task.closed_by))
    ids = list(by_id)
    for change in (await session.scalars(
        select(TaskChange).where(TaskChange.task_id.in_(ids), TaskChange.change == "extended")
    )).all():
        add(Fact(by_id[change.task_id].key, f"extended to {change.new_due_on}", change.at,
                 change.actor))
    escalations = (await session.scalars(
        select(Escalation).where(Escalation.task_id.in_(ids)))).all()
    for e in escalations:
        add(Fact(by_id[e.task_id].key, _rung(e.rung, e.due_on), e.raised_at))
    told = {n.escalation_id: n for n in (await session.scalars(
        select(Notification).where(Notification.task_id.in_(ids), Notification.kind == WITHDRAWN)
    )).all()}
    for e in escalations:
        if e.id in told:
            add(Fact(by_id[e.task_id].key, f"{_rung(e.rung, e.due_on)} withdrawn",
                     told[e.id].created_at))
    if cycle.status == "closed":
        add(Fact(None, "closed", cycle.closed_at))
    return facts, tasks


def compare(records: dict[Source, Facts], in_flight: list[str]) -> list[Disagreement]:
    """Every fact some record lacks, and every time or actor the records disagree on."""
    found: list[Disagreement] = []
    names = sorted({n for facts in records.values() for n in facts}, key=lambda n: (n[0] or "",
                                                                                    n[1]))
    for name in names:
        have = {source: facts[name] for source, facts in records.items() if name in facts}
        label = next(iter(have.values())).label
        lacking = [s for s in SOURCES if s not in have]
        if lacking and label not in in_flight:  # in flight: the backend may not have it yet
            found.append(_disagree(name, "missing", have, lambda f: f.at,
                                   f"{label}: in {', '.join(have)}, not in {', '.join(lacking)}"))
        times = {s: f.at for s, f in have.items() if f.at is not None}
        if len(times) > 1 and _spread(list(times.values())) > CLOSE_ENOUGH:
            found.append(_disagree(name, "time", have, lambda f: f.at, f"{label}: times differ"))
        actors = {s: f.actor for s, f in have.items() if f.actor}
        if len(set(actors.values())) > 1:
            found.append(_disagree(name, "actor", have, lambda f: f.actor,
                                   f"{label}: actors differ"))
    return found


def state_disagreements(history: WorkflowHistory, tasks: list[Task]) -> list[Disagreement]:
    """Each recorded task's state, due date and escalation level against the history's."""
    state = {i.key: i for i in fold(timeline(history), cycle_input(history)).items}
    found = []
    for task in tasks:
        item = state.get(task.key)
        if item is None:
            continue
        for field, theirs, ours in (
            ("state", task.state, item.state.value), ("due_on", task.due_on, item.due_on),
            ("escalation_level", task.escalation_level, item.escalation_level),
        ):
            if theirs != ours:
                found.append(Disagreement(
                    key=task.key, fact=field, problem="value", history=ours, tasks=theirs,
                    detail=f"{task.key} {field}: {ours} in the history, {theirs} in tasks",
                ))
    return found


async def cross_check(
    *, session: AsyncSession, cycle: Cycle, history: WorkflowHistory,
    earlier: Sequence[WorkflowHistory] = (),
) -> CrossCheck:
    """Compare the three records of one cycle and list every disagreement. A resumed cycle's
    history is that of all its runs: `earlier` ones (oldest first), then the latest."""
    ours: Facts = {}
    in_flight: list[str] = []
    for run in [*earlier, history]:
        facts, pending = history_facts(run)
        ours |= facts
        in_flight += [label for label in pending if label not in in_flight]
    audited = await audit_facts(session=session, workflow_id=cycle.workflow_id)
    rows, tasks = await task_facts(session=session, cycle=cycle)
    records: dict[Source, Facts] = {"history": ours, "audit": audited, "tasks": rows}
    found = compare(records, in_flight) + state_disagreements(history, tasks)
    return CrossCheck(
        cycle_id=cycle.id, workflow_id=cycle.workflow_id, agrees=not found,
        facts={source: len(facts) for source, facts in records.items()},
        in_flight=in_flight, disagreements=found,
    )


def _disagree(name: tuple[str | None, str], problem: Any, have: dict[Source, Fact],
              value: Any, detail: str) -> Disagreement:
    shown = {s: _shown(value(f)) for s, f in have.items()}
    return Disagreement(key=name[0], fact=name[1], problem=problem, detail=detail, **shown)


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else (value if value else True)


def _spread(times: list[datetime]) -> timedelta:
    return max(times) - min(times)


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None
