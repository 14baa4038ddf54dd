"""What the workflow's activities record: the only writes of task state, each idempotent by its
natural key, each audited. Times in the events are calendar instants, as the workflow reckons.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import (
    ChangeKind,
    Committee,
    Cycle,
    CycleState,
    Escalation,
    Role,
    Submission,
    Task,
    TemplateRow,
)
from api.models import TaskChange as TaskChangeRow
from api.problems import Conflict, NotFound, Unprocessable
from api.services import committees, rosters, tree
from api.services.audit import append_audit
from api.services.notify import CYCLE_FINISHED, REPORT_RECEIVED, audience, notify
from api.services.templates import current_template
from domain.contracts import (
    CLOSED_STATES,
    CompletionRecorded,
    CycleClosed,
    ItemState,
    LadderStepRecorded,
    Recorded,
    TaskChanged,
    TaskDescribed,
    TaskOpened,
)
from domain.task_states import highest_rung, level_of, reached_already, state_of
from domain.template import DEFAULT_TEMPLATE, RUNG_ORDER, Rung, Stage


def _subject(workflow_id: str, key: str) -> str:
    return f"{workflow_id}/{key}"


async def _template_run_by(*, session: AsyncSession, event: TaskDescribed) -> TemplateRow:
    """The stored template the workflow was started with, as its event names it.

    An event that names none comes from a worker older than the field: the current template
    is all there is to go on. A template this backend does not hold is 409: the cycle waits,
    and says so, until it is stored.
    """
    if event.template_code is None or event.template_version is None:
        return await current_template(session=session)
    if event.template_code == DEFAULT_TEMPLATE.code:
        await current_template(session=session)  # seeds the default's first version
    row = await session.scalar(
        select(TemplateRow).where(
            TemplateRow.code == event.template_code,
            TemplateRow.version == event.template_version,
        )
    )
    if row is None:
        raise Conflict(
            f"{event.workflow_id} runs template {event.template_code!r} version "
            f"{event.template_version}, which this backend does not hold: store that version "
            "before its cycle can be adopted"
        )
    return row


async def _adopt_cycle(
    *, session: AsyncSession, event: TaskDescribed, at: datetime, actor: str
) -> Cycle:
    """The cycle of a workflow started outside the API, adopted with the template it runs."""
    committee = await committees.get_by_code(session=session, code=event.committee)
    if committee is None:
        raise NotFound(f"committee {event.committee!r} not found")
    clash = await session.scalar(
        select(Cycle).where(Cycle.committee_id == committee.id, Cycle.year == event.year)
    )
    if clash is not None and clash.workflow_id == event.workflow_id:
        return clash  # committed between the two reads
    if clash is not None:
        raise Conflict(f"{event.committee}/{event.year} already runs as {clash.workflow_id}")
    template = await _template_run_by(session=session, event=event)
    cycle = Cycle(
        workflow_id=event.workflow_id, committee_id=committee.id, year=event.year,
        template_id=template.id, status="running", started_at=at,
    )
    session.add(cycle)
    await session.flush()
    await append_audit(
        session=session, actor=actor, action="cycle.adopted", subject=event.workflow_id,
        payload={"committee": event.committee, "year": event.year, "template": template.code,
                 "template_version": template.version},
    )
    return cycle


async def _task_for(*, session: AsyncSession, workflow_id: str, key: str) -> tuple[Task, Cycle]:
    row = (
        await session.execute(
            select(Task, Cycle)
            .join(Cycle, Task.cycle_id == Cycle.id)
            .where(Cycle.workflow_id == workflow_id, Task.key == key)
        )
    ).first()
    if row is None:
        raise NotFound(f"no task {key!r} has been opened in {workflow_id}")
    return row[0], row[1]


async def _step_context(
    *, session: AsyncSession, event: LadderStepRecorded
) -> tuple[Task, Committee, list[Escalation]]:
    """In one query: the task, its cycle's committee, and the task's escalations that are open
    or are this step's own (by rung and due date); 404 if the task was not opened."""
    rows = (
        await session.execute(
            select(Task, Committee, Escalation)
            .join(Cycle, Task.cycle_id == Cycle.id)
            .join(Committee, Cycle.committee_id == Committee.id)
            .outerjoin(
                Escalation,
                and_(
                    Escalation.task_id == Task.id,
                    or_(
                        Escalation.resolved_at.is_(None),
                        and_(Escalation.rung == event.rung.value,
                             Escalation.due_on == event.due_on),
                    ),
                ),
            )
            .where(Cycle.workflow_id == event.workflow_id, Task.key == event.key)
        )
    ).all()
    if not rows:
        raise NotFound(f"no task {event.key!r} has been opened in {event.workflow_id}")
    task, committee, _ = rows[0]
    return task, committee, [row[2] for row in rows if row[2] is not None]


async def open_rungs(*, session: AsyncSession, task: Task) -> list[Escalation]:
    """The task's escalations that still stand."""
    return list(
        (
            await session.scalars(
                select(Escalation).where(
                    Escalation.task_id == task.id, Escalation.resolved_at.is_(None)
                )
            )
        ).all()
    )


def settle(task: Task, open_rungs: set[Rung]) -> None:
    """An unclosed task's state, rung and level follow the highest rung still open."""
    if ItemState(task.state) in CLOSED_STATES:
        return
    highest = highest_rung(open_rungs)
    task.rung = highest.value if highest else None
    task.escalation_level = level_of(highest)
    task.state = state_of(highest).value


async def _resolve_all(*, session: AsyncSession, task: Task, at: datetime) -> None:
    await session.execute(
        update(Escalation)
        .where(Escalation.task_id == task.id, Escalation.resolved_at.is_(None))
        .values(resolved_at=at)
    )


async def _cycle_and_task(
    *, session: AsyncSession, event: TaskDescribed, at: datetime, actor: str
) -> tuple[Cycle, Task | None]:
    """The task's cycle (adopted if the API did not start it) and its row, if it has one."""
    found = (
        await session.execute(
            select(Cycle, Task)
            .outerjoin(Task, and_(Task.cycle_id == Cycle.id, Task.key == event.key))
            .where(Cycle.workflow_id == event.workflow_id)
        )
    ).first()
    if found is not None:
        cycle, existing = found
        if cycle.status == CycleState.STARTING:
            # Its workflow records tasks, so it runs: the start's answer was lost on the way.
            cycle.status = CycleState.RUNNING
        return cycle, existing
    cycle = await _adopt_cycle(session=session, event=event, at=at, actor=actor)
    existing = await session.scalar(
        select(Task).where(Task.cycle_id == cycle.id, Task.key == event.key)
    )
    return cycle, existing


async def record_opened(*, session: AsyncSession, event: TaskOpened, actor: str) -> Recorded:
    """Create the task row (or open the pending one), open, and tell its committee."""
    cycle, existing = await _cycle_and_task(
        session=session, event=event, at=event.opened_at, actor=actor
    )
    if existing is not None and existing.state != ItemState.PENDING.value:
        return Recorded(id=existing.id, created=False)
    if existing is None:
        task = Task(
            cycle_id=cycle.id, key=event.key, item_key=event.item_key,
            occurrence=event.occurrence, stage=event.stage.value,
            evidence_kind=event.evidence.value, title_vi=event.title_vi,
            title_en=event.title_en, state=ItemState.OPEN.value, opens_on=event.opens_on,
            due_on=event.due_on, opened_at=event.opened_at, late=False, escalation_level=0,
        )
        session.add(task)
    else:  # changed before it opened: it opens now, on the due date the workflow holds
        task = existing
        task.state = ItemState.OPEN.value
        task.opened_at = event.opened_at
        task.due_on = event.due_on
    await session.flush()
    await notify(
        session, committee_id=cycle.committee_id, task=task, kind="task_opened",
        message=f"{event.title_en} is open; due {event.due_on.isoformat()}.", at=event.opened_at,
    )
    await append_audit(
        session=session, actor=actor, action="task.opened",
        subject=_subject(event.workflow_id, event.key), payload=event.model_dump(mode="json"),
    )
    return Recorded(id=task.id, created=True)


async def _pending_task(
    *, session: AsyncSession, event: TaskChanged, actor: str
) -> tuple[Task, Cycle]:
    """The row of a task changed before it opened, created pending from the workflow's
    description the first time; 404 without one (a worker older than the description)."""
    described = event.task
    if described is None or described.key != event.key:
        raise NotFound(f"no task {event.key!r} has been opened in {event.workflow_id}")
    cycle, existing = await _cycle_and_task(
        session=session, event=described, at=event.at, actor=actor
    )
    if existing is not None:
        return existing, cycle
    task = Task(
        cycle_id=cycle.id, key=described.key, item_key=described.item_key,
        occurrence=described.occurrence, stage=described.stage.value,
        evidence_kind=described.evidence.value, title_vi=described.title_vi,
        title_en=described.title_en, state=ItemState.PENDING.value,
        opens_on=described.opens_on, due_on=described.due_on, opened_at=None, late=False,
        escalation_level=0,
    )
    session.add(task)
    await session.flush()
    return task, cycle


async def record_completion(
    *, session: AsyncSession, event: CompletionRecorded, actor: str
) -> Recorded:
    """Store the submission, close the task (late or not), and resolve its escalations."""
    existing = await session.scalar(
        select(Submission).where(Submission.submission_ref == event.submission_ref)
    )
    if existing is not None:
        return Recorded(id=existing.id, created=False)
    task, _ = await _task_for(session=session, workflow_id=event.workflow_id, key=event.key)
    submission = Submission(
        task_id=task.id, submission_ref=event.submission_ref, actor=event.actor,
        evidence=event.evidence, submitted_at=event.completed_at,
        workflow_event_id=event.event_id,
    )
    session.add(submission)
    task.state = ItemState.COMPLETED.value
    task.closed_at = event.completed_at
    task.closed_by = event.actor
    task.late = event.late
    await _resolve_all(session=session, task=task, at=event.completed_at)
    await session.flush()
    await rosters.store_submitted(session=session, task=task, submission=submission)
    if task.stage == Stage.REPORT.value:
        await _report_received(session=session, task=task, at=event.completed_at)
    await append_audit(
        session=session, actor=event.actor, action="submission.stored",
        subject=_subject(event.workflow_id, event.key),
        payload={"submission_id": submission.id, "submission_ref": event.submission_ref,
                 "evidence": event.evidence, "workflow_event_id": event.event_id},
    )
    await append_audit(
        session=session, actor=event.actor, action="task.completed",
        subject=_subject(event.workflow_id, event.key),
        payload={**event.model_dump(mode="json"), "recorded_by": actor},
    )
    return Recorded(id=submission.id, created=True)


async def _report_received(*, session: AsyncSession, task: Task, at: datetime) -> None:
    """A committee's report reached its parent: the parent's supervisors and the board of its
    organisation hear."""
    committee = await session.scalar(
        select(Committee).join(Cycle, Cycle.committee_id == Committee.id)
        .where(Cycle.id == task.cycle_id)
    )
    assert committee is not None
    day = tree.day_of(at)
    parent = await tree.parent_as_of(session=session, committee=committee, day=day)
    if parent is None:
        return
    root = await tree.root_as_of(session=session, committee=committee, day=day)
    told: dict[int, tuple[Role, ...]] = {parent.id: (Role.SUPERVISOR,)}
    told[root.id] = (*told.get(root.id, ()), Role.BOARD)  # one notice when they are one body
    for target_id, roles in told.items():
        await notify(
            session, committee_id=target_id, task=task, kind=REPORT_RECEIVED, roles=roles,
            message=f"{committee.name} đã gửi {task.title_vi}.", at=at,
        )


async def record_ladder_step(
    *, session: AsyncSession, event: LadderStepRecorded, actor: str
) -> Recorded:
    """Raise an escalation to the rung's target and move the task up the ladder."""
    task, committee, rungs = await _step_context(session=session, event=event)
    # The tree of the step's own day: a committee moved mid-year escalates to its new parent.
    on = tree.day_of(event.at)
    also: frozenset[Rung] = frozenset()
    parent: Committee | None = None
    if event.rung is Rung.PARENT:
        parent = await tree.parent_as_of(session=session, committee=committee, day=on)
        root = await tree.root_as_of(session=session, committee=committee, day=on)
        also = reached_already(parent_id=parent.id if parent else None, root_id=root.id)
    also_reached = sorted(also, key=RUNG_ORDER.index)
    for existing in rungs:
        if existing.rung == event.rung.value and existing.due_on == event.due_on:
            return Recorded(id=existing.id, created=False, also_reached=also_reached)
    target = committee
    if event.rung is Rung.PARENT:
        target = parent or committee
    elif event.rung is Rung.BOARD:
        target = await tree.root_as_of(session=session, committee=committee, day=on)
    closed = ItemState(task.state) in CLOSED_STATES
    escalation = Escalation(
        task_id=task.id, rung=event.rung.value, level=level_of(event.rung),
        target_committee_id=target.id, due_on=event.due_on, raised_at=event.at,
        resolved_at=event.at if closed else None,
    )
    session.add(escalation)
    await session.flush()
    settle(task, {Rung(e.rung) for e in [*rungs, escalation] if e.resolved_at is None})
    await notify(
        session, committee_id=target.id, task=task, kind=event.rung.value, escalation=escalation,
        message=f"{committee.code}: {task.title_en} (due {event.due_on.isoformat()}) "
        f"reached the {event.rung.value} rung.",
        at=event.at,
        # One body for the parent and the Board: one notice to both, the Board rung skipped.
        roles=(*audience(Rung.PARENT.value), *audience(Rung.BOARD.value)) if also else None,
    )
    await append_audit(
        session=session, actor=actor, action=f"task.{event.rung.value}",
        subject=_subject(event.workflow_id, event.key),
        payload={**event.model_dump(mode="json"), "target": target.code,
                 **({"also_reached": [r.value for r in also_reached]} if also_reached else {})},
    )
    return Recorded(id=escalation.id, created=True, also_reached=also_reached)


async def record_change(*, session: AsyncSession, event: TaskChanged, actor: str) -> Recorded:
    """A supervisor's extension (the due date moves) or waiver (the task closes)."""
    try:
        task, cycle = await _task_for(
            session=session, workflow_id=event.workflow_id, key=event.key
        )
    except NotFound:
        task, cycle = await _pending_task(session=session, event=event, actor=actor)
    existing = await session.scalar(
        select(TaskChangeRow).where(
            TaskChangeRow.task_id == task.id, TaskChangeRow.change == event.change,
            TaskChangeRow.at == event.at,
        )
    )
    if existing is not None:
        return Recorded(id=existing.id, created=False)
    if event.change == ChangeKind.EXTENDED and event.new_due_on is None:
        raise Unprocessable("an extension needs new_due_on")
    change = TaskChangeRow(
        task_id=task.id, change=event.change, actor=event.actor, reason=event.reason,
        at=event.at, previous_due_on=event.previous_due_on or task.due_on,
        new_due_on=event.new_due_on,
    )
    session.add(change)
    if event.change == ChangeKind.WAIVED:
        task.state = ItemState.WAIVED.value
        task.closed_at = event.at
        task.closed_by = event.actor
        await _resolve_all(session=session, task=task, at=event.at)
    else:
        assert event.new_due_on is not None
        _extend(task=task, event=event)
    await session.flush()
    await notify(
        session, committee_id=cycle.committee_id, task=task, kind=f"task_{event.change}",
        message=f"{task.title_en}: {event.change} by {event.actor}: {event.reason}", at=event.at,
    )
    await append_audit(
        session=session, actor=event.actor, action=f"task.{event.change}",
        subject=_subject(event.workflow_id, event.key),
        payload={**event.model_dump(mode="json"), "recorded_by": actor},
    )
    return Recorded(id=change.id, created=True)


def _extend(*, task: Task, event: TaskChanged) -> None:
    """Move the due date, and only that: which reached rungs the move takes back is the
    workflow's decision, applied as each one's withdrawal (withdrawals.record_withdrawal)."""
    assert event.new_due_on is not None
    task.due_on = event.new_due_on


async def record_closed(*, session: AsyncSession, event: CycleClosed, actor: str) -> Recorded:
    """Close the cycle with its result."""
    cycle = await session.scalar(select(Cycle).where(Cycle.workflow_id == event.workflow_id))
    if cycle is None:
        raise NotFound(f"cycle {event.workflow_id} not found")
    if cycle.status == "closed":
        return Recorded(id=cycle.id, created=False)
    cycle.status = "closed"
    cycle.result = event.result.model_dump(mode="json")
    cycle.closed_at = event.at
    await session.flush()
    summary = event.result
    await notify(
        session, committee_id=cycle.committee_id, task=None, kind=CYCLE_FINISHED,
        message=f"Năm {cycle.year}: {summary.total} nhiệm vụ, {summary.on_time} đúng hạn, "
        f"{summary.late} trễ hạn, {summary.waived} được miễn.",
        at=event.at,
    )
    await append_audit(
        session=session, actor=actor, action="cycle.closed", subject=event.workflow_id,
        payload={"total": summary.total, "on_time": summary.on_time, "late": summary.late,
                 "waived": summary.waived, "at": event.at.isoformat()},
    )
    return Recorded(id=cycle.id, created=True)
