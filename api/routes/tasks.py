"""Tasks: reading them, and completing, extending or waiving them through the workflow.

These routes write no task state: the workflow accepts or refuses the action, and its
activities record the outcome through /internal/*. The route returns the item's new status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import BaseModel

from api.deps import CurrentUser, IdempotencyDep, SessionDep, SettingsDep, TemporalDep
from api.problems import problem_responses
from api.schemas import Code, CompleteRequest, ExtendRequest, TaskPage, TaskPublic, WaiveRequest
from api.services import actions, tasks
from api.services.access import Action, read_scope
from domain.contracts import (
    UPDATE_EXTEND,
    UPDATE_WAIVE,
    ExtendDeadline,
    ItemState,
    ItemStatus,
    WaiveTask,
)
from domain.dates import IsoDate

router = APIRouter(tags=["tasks"])

IfMatch = Annotated[
    str | None,
    Header(
        description="Required: the task's ETag from GET /tasks/{task_id}, in its double quotes "
        "(`\"3\"`); a list of them is allowed. Missing: 428; unquoted, or `*` (which would "
        "skip the version check): 400; another version (the task changed since): 412."
    ),
]
ACTION_ERRORS = problem_responses(400, 401, 403, 404, 409, 412, 422, 428, 502, 503, 504)


@router.get("/tasks", response_model=TaskPage, responses=problem_responses(401, 422))
async def list_tasks(
    session: SessionDep,
    user: CurrentUser,
    committee: Code | None = None,
    state: ItemState | None = None,
    due_before: IsoDate | None = Query(default=None, description="Due strictly before this day."),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> TaskPage:
    """Tasks the caller can see, earliest due first."""
    scope = await read_scope(session=session, principal=user)
    items, total = await tasks.list_public(
        session=session, scope=scope, committee=committee, state=state, due_before=due_before,
        limit=limit, offset=offset,
    )
    return TaskPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/tasks/{task_id}", response_model=TaskPublic, responses=problem_responses(401, 404))
async def get_task(
    task_id: int, session: SessionDep, user: CurrentUser, response: Response
) -> TaskPublic:
    """One task, with its version as the ETag."""
    task = await tasks.get_public(session=session, principal=user, task_id=task_id)
    response.headers["ETag"] = tasks.etag(task)
    return task


@router.post("/tasks/{task_id}/complete", response_model=ItemStatus, responses=ACTION_ERRORS)
async def complete_task(
    task_id: int,
    data: CompleteRequest,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
    user: CurrentUser,
    idem: IdempotencyDep,
    if_match: IfMatch = None,
) -> ItemStatus:
    """Complete an open task with its evidence (the committee's staff)."""
    return await actions.complete(
        session=session, settings=settings, client=client, user=user, idem=idem,
        task_id=task_id, evidence=data.evidence, if_match=if_match,
    )


@router.post("/tasks/{task_id}/extend", response_model=ItemStatus, responses=ACTION_ERRORS)
async def extend_task(
    task_id: int,
    data: ExtendRequest,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
    user: CurrentUser,
    idem: IdempotencyDep,
    if_match: IfMatch = None,
) -> ItemStatus:
    """Move a task's due date later, with a reason (supervisor, board, admin); a task not yet
    open is changed here once it has a row, else by key (POST /cycles/{cycle_id}/tasks/{task_key}/
    extend)."""
    return await _supervise(
        task_id, session=session, settings=settings, client=client, user=user, idem=idem,
        if_match=if_match, action=Action.EXTEND, update=UPDATE_EXTEND,
        command=lambda key: ExtendDeadline(
            key=key, actor=user.name, new_due_on=data.new_due_on, reason=data.reason
        ),
    )


@router.post("/tasks/{task_id}/waive", response_model=ItemStatus, responses=ACTION_ERRORS)
async def waive_task(
    task_id: int,
    data: WaiveRequest,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
    user: CurrentUser,
    idem: IdempotencyDep,
    if_match: IfMatch = None,
) -> ItemStatus:
    """Waive a task not yet closed, with a reason (supervisor, board, admin)."""
    return await _supervise(
        task_id, session=session, settings=settings, client=client, user=user, idem=idem,
        if_match=if_match, action=Action.WAIVE, update=UPDATE_WAIVE,
        command=lambda key: WaiveTask(key=key, actor=user.name, reason=data.reason),
    )


async def _supervise(
    task_id: int, *, session: SessionDep, settings: SettingsDep, client: TemporalDep,
    user: CurrentUser, idem: IdempotencyDep, if_match: str | None, action: Action,
    update: str, command: Callable[[str], BaseModel],
) -> ItemStatus:
    return await actions.supervise(
        session=session, settings=settings, client=client, user=user, idem=idem,
        task_id=task_id, if_match=if_match, action=action, update=update, command=command,
    )


TaskKey = Annotated[
    str, Path(pattern=r"^[a-z][a-z0-9-]{0,63}$", description="The task's key in its cycle.")
]
ItemIfMatch = Annotated[
    str | None,
    Header(
        description="Required: the task's ETag, its `version` in GET /cycles/{cycle_id} in "
        'double quotes (`"0"` for a task not yet opened). Missing: 428; unquoted, or `*`: 400; '
        "another version: 412."
    ),
]


@router.post(
    "/cycles/{cycle_id}/tasks/{task_key}/extend", response_model=ItemStatus, responses=ACTION_ERRORS
)
async def extend_cycle_task(
    cycle_id: int,
    task_key: TaskKey,
    data: ExtendRequest,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
    user: CurrentUser,
    idem: IdempotencyDep,
    if_match: ItemIfMatch = None,
) -> ItemStatus:
    """Move a task's due date later, opened or not yet, with a reason (supervisor, board,
    admin): a year's future tasks are addressed by their key, as GET /cycles/{cycle_id} lists
    them."""
    return await _supervise_in_cycle(
        cycle_id, task_key, session=session, settings=settings, client=client, user=user, idem=idem,
        if_match=if_match, action=Action.EXTEND, update=UPDATE_EXTEND,
        command=lambda key: ExtendDeadline(
            key=key, actor=user.name, new_due_on=data.new_due_on, reason=data.reason
        ),
    )


@router.post(
    "/cycles/{cycle_id}/tasks/{task_key}/waive", response_model=ItemStatus, responses=ACTION_ERRORS
)
async def waive_cycle_task(
    cycle_id: int,
    task_key: TaskKey,
    data: WaiveRequest,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
    user: CurrentUser,
    idem: IdempotencyDep,
    if_match: ItemIfMatch = None,
) -> ItemStatus:
    """Waive a task, opened or not yet, with a reason (supervisor, board, admin)."""
    return await _supervise_in_cycle(
        cycle_id, task_key, session=session, settings=settings, client=client, user=user, idem=idem,
        if_match=if_match, action=Action.WAIVE, update=UPDATE_WAIVE,
        command=lambda key: WaiveTask(key=key, actor=user.name, reason=data.reason),
    )


async def _supervise_in_cycle(
    cycle_id: int, key: str, *, session: SessionDep, settings: SettingsDep,
    client: TemporalDep, user: CurrentUser, idem: IdempotencyDep, if_match: str | None,
    action: Action, update: str, command: Callable[[str], BaseModel],
) -> ItemStatus:
    return await actions.supervise_in_cycle(
        session=session, settings=settings, client=client, user=user, idem=idem,
        cycle_id=cycle_id, key=key, if_match=if_match, action=action, update=update,
        command=command,
    )
