"""Reading tasks within the caller's reach, and checking a human action before it is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Committee, Cycle, Task
from api.problems import (
    Conflict,
    NotFound,
    PreconditionFailed,
    Unprocessable,
    field_problems,
)
from api.schemas import TaskPublic
from api.services import preconditions
from api.services.access import Action, Principal, Scope, authorize
from domain.contracts import ItemState, RejectionType
from domain.dates import dates_outside_window, evidence_window
from domain.evidence import parse_evidence
from domain.task_states import CLOSED_STATES, OPEN_STATES
from domain.template import EvidenceKind, Rung, Stage


def _rows() -> Select[tuple[Task, Cycle, Committee]]:
    return (
        select(Task, Cycle, Committee)
        .join(Cycle, Task.cycle_id == Cycle.id)
        .join(Committee, Cycle.committee_id == Committee.id)
    )


def to_public(task: Task, cycle: Cycle, committee: Committee) -> TaskPublic:
    """A task row as the API shows it."""
    return TaskPublic(
        id=task.id, cycle_id=cycle.id, workflow_id=cycle.workflow_id, committee=committee.code,
        year=cycle.year, key=task.key, item_key=task.item_key, occurrence=task.occurrence,
        stage=Stage(task.stage), evidence_kind=EvidenceKind(task.evidence_kind),
        title_vi=task.title_vi, title_en=task.title_en, state=ItemState(task.state),
        opens_on=task.opens_on, due_on=task.due_on, opened_at=task.opened_at,
        closed_at=task.closed_at, closed_by=task.closed_by, late=task.late,
        rung=Rung(task.rung) if task.rung else None, escalation_level=task.escalation_level,
        version=task.version,
    )


def etag(task: TaskPublic) -> str:
    """The task's entity tag: its row version."""
    return f'"{task.version}"'


# Only what TaskPublic shows, named as it names it: a list reads columns, not entities.
_PUBLIC_COLUMNS = (
    Task.id, Task.cycle_id, Cycle.workflow_id, Committee.code.label("committee"), Cycle.year,
    Task.key, Task.item_key, Task.occurrence, Task.stage, Task.evidence_kind, Task.title_vi,
    Task.title_en, Task.state, Task.opens_on, Task.due_on, Task.opened_at, Task.closed_at,
    Task.closed_by, Task.late, Task.rung, Task.escalation_level, Task.version,
)


@dataclass(frozen=True)
class _Filters:
    """Which filters a list applies; their values are bound when it runs."""

    every_committee: bool
    committee: bool
    state: bool
    due_before: bool


def _matching(filters: _Filters) -> Select[Any]:
    """The tasks a list shows, before paging."""
    query = (
        select(*_PUBLIC_COLUMNS)
        .join(Cycle, Task.cycle_id == Cycle.id)
        .join(Committee, Cycle.committee_id == Committee.id)
    )
    if not filters.every_committee:
        query = query.where(Committee.id.in_(bindparam("committee_ids", expanding=True)))
    if filters.committee:
        query = query.where(Committee.code == bindparam("committee"))
    if filters.state:
        query = query.where(Task.state == bindparam("state"))
    if filters.due_before:
        query = query.where(Task.due_on < bindparam("due_before"))
    return query


# Built once per combination of filters: building a statement and its cache key costs more
# than running it on a committee's inbox.
@cache
def _page_statement(filters: _Filters) -> Select[Any]:
    """A page of matching tasks, each row also carrying how many match in all.

    The count is in the page's own statement, so both come from one snapshot in one round
    trip; a window count would make the database sort every match, not just the top of it.
    """
    query = _matching(filters)
    total = select(func.count()).select_from(query.subquery()).scalar_subquery()
    return (
        query.add_columns(total.label("total"))
        .order_by(Task.due_on, Committee.code, Task.key)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


@cache
def _count_statement(filters: _Filters) -> Select[tuple[int]]:
    """How many tasks match, for a page past the end (it has no row to carry the count)."""
    return select(func.count()).select_from(_matching(filters).subquery())


async def list_public(
    *,
    session: AsyncSession,
    scope: Scope,
    committee: str | None = None,
    state: ItemState | None = None,
    due_before: date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[TaskPublic], int]:
    """Tasks within `scope`, earliest due first, and how many match in all."""
    filters = _Filters(
        every_committee=scope.committee_ids is None, committee=committee is not None,
        state=state is not None, due_before=due_before is not None,
    )
    params: dict[str, object] = {
        "committee_ids": sorted(scope.committee_ids or ()), "committee": committee,
        "state": state.value if state is not None else None, "due_before": due_before,
    }
    connection = await session.connection()  # columns only: no need for the ORM's result layer
    result = await connection.execute(
        _page_statement(filters), {**params, "limit": limit, "offset": offset}
    )
    *names, _total = result.keys()
    rows = result.all()
    if rows:
        # A plain dict per row: pydantic validates one several times faster than a RowMapping.
        items = [TaskPublic.model_validate(dict(zip(names, row, strict=False))) for row in rows]
        return items, int(rows[0].total)
    if offset == 0:
        return [], 0
    return [], int(await session.scalar(_count_statement(filters), params) or 0)


async def get_public(
    *, session: AsyncSession, principal: Principal, task_id: int, action: Action = Action.READ
) -> TaskPublic:
    """One task, if the caller can see it (else 404) and may take `action` on it (else 403)."""
    row = (await session.execute(_rows().where(Task.id == task_id))).first()
    missing = f"task {task_id} not found"
    if row is None:
        raise NotFound(missing)
    await authorize(
        session=session, principal=principal, action=action, committee_id=row[2].id,
        missing=missing,
    )
    return to_public(row[0], row[1], row[2])


# The entity tag of a task that has no row yet (not opened, never changed): version 0.
NO_ROW_ETAG = '"0"'


@dataclass(frozen=True)
class CycleTask:
    """A task of a cycle addressed by its key: its row if it has one (None: pending, never
    changed), its cycle's workflow and whether the cycle is still running."""

    cycle_id: int
    workflow_id: str
    closed: bool
    key: str
    task: TaskPublic | None

    @property
    def etag(self) -> str:
        return etag(self.task) if self.task is not None else NO_ROW_ETAG


async def get_in_cycle(
    *, session: AsyncSession, principal: Principal, cycle_id: int, key: str, action: Action
) -> CycleTask:
    """A cycle's task by key, opened or not, if the caller can see the cycle (else 404) and
    may take `action` on its committee (else 403). Whether the cycle has such a task at all is
    the workflow's to say."""
    found = (
        await session.execute(
            select(Cycle, Committee)
            .join(Committee, Cycle.committee_id == Committee.id)
            .where(Cycle.id == cycle_id)
        )
    ).first()
    missing = f"cycle {cycle_id} not found"
    if found is None:
        raise NotFound(missing)
    cycle, committee = found
    await authorize(
        session=session, principal=principal, action=action, committee_id=committee.id,
        missing=missing,
    )
    row = (
        await session.execute(_rows().where(Task.cycle_id == cycle.id, Task.key == key))
    ).first()
    return CycleTask(
        cycle_id=cycle.id, workflow_id=cycle.workflow_id, closed=cycle.status == "closed",
        key=key, task=to_public(row[0], row[1], row[2]) if row is not None else None,
    )


def check_in_cycle_changeable(*, item: CycleTask, if_match: str | None) -> None:
    """428 without If-Match; 409 if the task or its cycle is closed; 412 unless If-Match
    names the task's version (`"0"` for a task with no row yet)."""
    where = f"task {item.key!r} of cycle {item.cycle_id}"
    tags = preconditions.parse_if_match(
        if_match,
        missing=f"send If-Match with the ETag of {where} (its `version` in GET /cycles/"
        f"{item.cycle_id}, quoted; \"0\" for a task not yet opened), so the change cannot "
        "overwrite one you have not seen",
        source=f"the `version` of {where} in GET /cycles/{item.cycle_id} (\"0\" for a task "
        "not yet opened)",
    )
    if item.closed:
        raise Conflict(
            f"cycle {item.cycle_id} is closed; its tasks can no longer change",
            rejection=RejectionType.TASK_NOT_OPEN,
        )
    if item.task is not None and item.task.state in CLOSED_STATES:
        raise Conflict(
            f"{where} is {item.task.state.value}; it can no longer change",
            rejection=RejectionType.TASK_NOT_OPEN,
        )
    if not preconditions.matches(tags, item.etag):
        raise PreconditionFailed(
            preconditions.mismatch_detail(
                tags=tags, current=item.etag, source=f"GET /cycles/{item.cycle_id}",
                stale=f"{where} is at {item.etag} but If-Match was {', '.join(tags)}: it "
                "changed since you read it; GET the cycle again and retry",
            ),
            headers={"ETag": item.etag},
        )


def check_open(*, task: TaskPublic, if_match: list[str], or_pending: bool = False) -> None:
    """409 unless the task can still change; then 412 if If-Match names another version.

    `or_pending`: a task not yet opened can change too (a supervisor extends or waives it).
    A closed task is 409 whatever the version: the change would fail without the condition too.
    """
    if task.state not in OPEN_STATES and not (or_pending and task.state is ItemState.PENDING):
        raise Conflict(
            f"task {task.id} is {task.state.value}; it can no longer change",
            rejection=RejectionType.TASK_NOT_OPEN,
        )
    if not preconditions.matches(if_match, etag(task)):
        raise PreconditionFailed(
            preconditions.mismatch_detail(
                tags=if_match, current=etag(task), source=f"GET /tasks/{task.id}",
                stale=f"task {task.id} is at version {task.version} ({etag(task)}) but If-Match "
                f"was {', '.join(if_match)}: it changed since you read it; GET it again and retry",
            ),
            headers={"ETag": etag(task)},
        )


def check_evidence(*, task: TaskPublic, evidence: object) -> None:
    """422 with field paths unless `evidence` is what the task's kind takes, with every date
    within the window of the task's cycle year (domain.dates)."""
    try:
        parsed = parse_evidence(task.evidence_kind, evidence)
    except ValidationError as error:
        problems = field_problems(error.errors(), prefix=("body", "evidence"))
        fields = ", ".join(sorted({p.field for p in problems}))
        raise Unprocessable(
            f"not valid {task.evidence_kind.value} evidence: {fields}", errors=problems
        ) from None
    outside = dates_outside_window(parsed, cycle_year=task.year)
    if outside:
        first, last = evidence_window(task.year)
        detail = f"must lie between {first} and {last} for a {task.year} task"
        problems = field_problems(
            [{"loc": tuple(path.split(".")), "msg": f"{day} {detail}", "type": "date_out_of_range"}
             for path, day in outside],
            prefix=("body", "evidence"),
        )
        fields = ", ".join(p.field for p in problems)
        raise Unprocessable(f"evidence dates outside the cycle: {fields}", errors=problems)
