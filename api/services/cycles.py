"""Reading cycles: their rows, and every item's status from the workflow or else the rows."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowExecutionStatus

from api.models import Committee, Cycle, StuckCycle, Task, TaskChange, TemplateRow
from api.problems import NotFound
from api.schemas import CycleDetail, CycleItemPublic, CyclePublic
from api.services import stuck
from api.services.access import Scope
from api.services.templates import template_of
from domain.calendar import obligations
from domain.contracts import QUERY_STATUS, CycleResult, CycleStatus, ItemState, ItemStatus
from domain.template import EvidenceKind, Rung, Stage

log = logging.getLogger(__name__)

CycleRow = tuple[Cycle, Committee, TemplateRow]


def _rows() -> Select[tuple[Cycle, Committee, TemplateRow]]:
    return (
        select(Cycle, Committee, TemplateRow)
        .join(Committee, Cycle.committee_id == Committee.id)
        .join(TemplateRow, Cycle.template_id == TemplateRow.id)
    )


def to_public(cycle: Cycle, committee: Committee, template: TemplateRow) -> CyclePublic:
    """A cycle row as the API shows it."""
    return CyclePublic(
        id=cycle.id, workflow_id=cycle.workflow_id, committee=committee.code, year=cycle.year,
        template_code=template.code, template_version=template.version,
        seconds_per_day=cycle.seconds_per_day, status=cycle.status,  # type: ignore[arg-type]
        started_at=cycle.started_at, closed_at=cycle.closed_at,
    )


async def get_row(*, session: AsyncSession, scope: Scope, cycle_id: int) -> CycleRow:
    """A cycle within `scope` with its committee and template, or 404."""
    row = (
        await session.execute(_rows().where(Cycle.id == cycle_id, scope.where(Committee.id)))
    ).first()
    if row is None:
        raise NotFound(f"cycle {cycle_id} not found")
    return row[0], row[1], row[2]


async def list_public(
    *,
    session: AsyncSession,
    scope: Scope,
    committee: str | None,
    year: int | None,
    limit: int,
    offset: int,
) -> tuple[list[CyclePublic], int]:
    """Cycles within `scope`, newest year first, and how many match in all."""
    query = _rows().where(scope.where(Committee.id))
    if committee is not None:
        query = query.where(Committee.code == committee)
    if year is not None:
        query = query.where(Cycle.year == year)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = list((await session.execute(
        query.order_by(Cycle.year.desc(), Committee.code).limit(limit).offset(offset)
    )).tuples())
    stuck_ids = set((await session.scalars(
        select(StuckCycle.workflow_id).where(
            StuckCycle.workflow_id.in_([cycle.workflow_id for cycle, _, _ in rows])
        )
    )).all()) if rows else set()
    items = []
    for cycle, row_committee, template in rows:
        public = to_public(cycle, row_committee, template)
        if cycle.workflow_id in stuck_ids and cycle.result is None:
            public = public.model_copy(update={"status": "stuck"})
        items.append(public)
    return items, int(total or 0)


async def detail(
    *, session: AsyncSession, client: Client | None, row: CycleRow, query_wait: float
) -> CycleDetail:
    """Every item of the cycle: the final result, else the workflow's status query, else rows."""
    cycle, committee, template_row = row
    tasks = list((await session.scalars(select(Task).where(Task.cycle_id == cycle.id))).all())
    task_ids = {t.key: (t.id, t.version) for t in tasks}
    refusal = await stuck.last_refusal(session=session, workflow_id=cycle.workflow_id)
    await session.commit()  # hold no transaction open while Temporal answers
    public = to_public(cycle, committee, template_row).model_dump()
    if refusal is not None and cycle.result is None:  # its workflow waits on the refusal
        public |= {"status": "stuck", "refusal": refusal}
    if cycle.result is not None:
        result = CycleResult.model_validate(cycle.result)
        return CycleDetail(
            **public, source="database", items=_with_ids(result.items, task_ids)
        )
    if client is not None and cycle.status == "running":
        ended = await _ended_without_result(client, cycle.workflow_id, query_wait)
        if ended is not None:  # failed or terminated: it will never record its result, even
            # if it waited on a refusal first; a start resumes it
            public |= {"status": "failed", "temporal_status": ended}
    status = await _query(client, cycle.workflow_id, query_wait) if client else None
    if status is not None:
        return CycleDetail(
            **public, source="workflow", calendar_now=status.calendar_now,
            items=_with_ids(status.items, task_ids),
        )
    items = await _from_rows(session=session, row=row, tasks=tasks)
    return CycleDetail(**public, source="database", items=_with_ids(items, task_ids))


async def _query(client: Client, workflow_id: str, wait_seconds: float) -> CycleStatus | None:
    handle = client.get_workflow_handle(workflow_id)
    try:
        async with asyncio.timeout(wait_seconds):
            status: CycleStatus = await handle.query(
                QUERY_STATUS, result_type=CycleStatus, rpc_timeout=timedelta(seconds=wait_seconds)
            )
            return status
    except Exception as exc:  # any failure means: answer from the database instead
        log.info("status query of %s failed, answering from rows: %r", workflow_id, exc)
        return None


async def _ended_without_result(
    client: Client, workflow_id: str, wait_seconds: float
) -> str | None:
    """Temporal's status of a workflow that ended without closing its cycle (FAILED,
    TERMINATED, ...), or None while it runs, or when Temporal does not say."""
    try:
        async with asyncio.timeout(wait_seconds):
            described = await client.get_workflow_handle(workflow_id).describe(
                rpc_timeout=timedelta(seconds=wait_seconds)
            )
    except Exception as exc:  # unknown: say what the rows say
        log.info("describe of %s failed: %r", workflow_id, exc)
        return None
    ended = described.status
    if ended is None or ended in (
        WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.COMPLETED,
        WorkflowExecutionStatus.CONTINUED_AS_NEW,
    ):
        return None
    return ended.name


def _with_ids(
    items: list[ItemStatus], task_ids: dict[str, tuple[int, int]]
) -> list[CycleItemPublic]:
    """Each item with its task row's id and version (none yet: no id, version 0)."""
    return [
        CycleItemPublic(
            **item.model_dump(), task_id=task_ids.get(item.key, (None, 0))[0],
            version=task_ids.get(item.key, (None, 0))[1],
        )
        for item in items
    ]


async def _from_rows(
    *, session: AsyncSession, row: CycleRow, tasks: list[Task]
) -> list[ItemStatus]:
    """The projection: recorded tasks as they are, the rest pending on their template dates."""
    cycle, committee, template_row = row
    template = template_of(template_row)
    by_key = {t.key: t for t in tasks}
    changes = (
        await session.scalars(
            select(TaskChange)
            .join(Task, TaskChange.task_id == Task.id)
            .where(Task.cycle_id == cycle.id)
            .order_by(TaskChange.at)
        )
    ).all()
    extensions: dict[int, int] = {}
    reasons: dict[int, str] = {}
    for change in changes:
        reasons[change.task_id] = change.reason
        if change.change == "extended":
            extensions[change.task_id] = extensions.get(change.task_id, 0) + 1
    items = []
    for obligation in obligations(template, cycle.year, committee.level):
        item = template.item(obligation.item_key)
        task = by_key.get(obligation.key)
        pending = ItemStatus(
            key=obligation.key, item_key=obligation.item_key, occurrence=obligation.occurrence,
            stage=item.stage, evidence=item.evidence, title_vi=obligation.title_vi,
            title_en=obligation.title_en, state=ItemState.PENDING, opens_on=obligation.opens_on,
            due_on=obligation.due_on, prerequisites=list(obligation.prerequisites),
        )
        if task is None:
            items.append(pending)
            continue
        items.append(_recorded(pending, task, reasons, extensions))
    planned = {item.key for item in items}
    for task in tasks:  # a task the workflow added beyond its template
        if task.key not in planned:
            extra = ItemStatus(
                key=task.key, item_key=task.item_key, occurrence=task.occurrence,
                stage=Stage(task.stage), evidence=EvidenceKind(task.evidence_kind),
                title_vi=task.title_vi, title_en=task.title_en, state=ItemState.PENDING,
                opens_on=task.opens_on, due_on=task.due_on,
            )
            items.append(_recorded(extra, task, reasons, extensions))
    return items


def _recorded(
    item: ItemStatus, task: Task, reasons: dict[int, str], extensions: dict[int, int]
) -> ItemStatus:
    return item.model_copy(
        update={
            "state": ItemState(task.state), "due_on": task.due_on,
            "rung": Rung(task.rung) if task.rung else None,
            "escalation_level": task.escalation_level, "opened_at": task.opened_at,
            "closed_at": task.closed_at, "closed_by": task.closed_by, "late": task.late,
            "reason": reasons.get(task.id), "extensions": extensions.get(task.id, 0),
        }
    )
