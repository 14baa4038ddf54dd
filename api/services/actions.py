"""A person's action on a task, as the API route and the web page both take it: reach and
rights, If-Match, the evidence and open-state checks, then the workflow update under the
request's idempotency reference. One path, so a page can allow nothing the API refuses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.services import preconditions, reports, tasks
from api.services.access import Action, Principal
from api.services.idempotency import Idempotency
from api.services.updates import send_update
from api.settings import Settings
from domain.contracts import UPDATE_COMPLETE, CompleteTask, ItemStatus


async def complete(
    *, session: AsyncSession, settings: Settings, client: Client, user: Principal,
    idem: Idempotency, task_id: int, evidence: Any, if_match: str | None,
) -> ItemStatus:
    """Complete an open task with its evidence (the committee's staff)."""
    task = await tasks.get_public(
        session=session, principal=user, task_id=task_id, action=Action.COMPLETE
    )
    await session.commit()  # nothing is written here; hold no transaction while Temporal works
    checked = preconditions.require_if_match(task=task, if_match=if_match)
    tasks.check_evidence(task=task, evidence=evidence)
    tasks.check_open(task=task, if_match=checked)
    # A roster is held to the roster rules here (422 naming the rule); a report gets its draft.
    prepared, team = await reports.prepare_completion(session=session, task=task, evidence=evidence)
    await session.commit()
    submission_ref = idem.reference()
    command = CompleteTask(
        key=task.key, actor=user.name, evidence=prepared, submission_ref=submission_ref,
        team=team,
    )
    result = await send_update(
        client=client, workflow_id=task.workflow_id, update=UPDATE_COMPLETE, command=command,
        update_id=f"complete/{submission_ref}", wait_seconds=settings.update_timeout_seconds,
    )
    await idem.remember(status=200, body=result)
    return result


async def supervise(
    *, session: AsyncSession, settings: Settings, client: Client, user: Principal,
    idem: Idempotency, task_id: int, if_match: str | None, action: Action, update: str,
    command: Callable[[str], BaseModel],
) -> ItemStatus:
    """A supervisor's change to a task not closed (open, or pending with a row): reach,
    If-Match, then the workflow update."""
    task = await tasks.get_public(session=session, principal=user, task_id=task_id, action=action)
    await session.commit()
    checked = preconditions.require_if_match(task=task, if_match=if_match)
    tasks.check_open(task=task, if_match=checked, or_pending=True)
    return await _send(
        settings=settings, client=client, idem=idem, workflow_id=task.workflow_id, key=task.key,
        action=action, update=update, command=command,
    )


async def supervise_in_cycle(
    *, session: AsyncSession, settings: Settings, client: Client, user: Principal,
    idem: Idempotency, cycle_id: int, key: str, if_match: str | None, action: Action,
    update: str, command: Callable[[str], BaseModel],
) -> ItemStatus:
    """A supervisor's change to a cycle's task by key, opened or not yet: reach, If-Match
    (`"0"` while it has no row), then the workflow update, which says whether there is such
    a task and whether it may change."""
    item = await tasks.get_in_cycle(
        session=session, principal=user, cycle_id=cycle_id, key=key, action=action
    )
    await session.commit()
    tasks.check_in_cycle_changeable(item=item, if_match=if_match)
    return await _send(
        settings=settings, client=client, idem=idem, workflow_id=item.workflow_id, key=key,
        action=action, update=update, command=command,
    )


async def _send(
    *, settings: Settings, client: Client, idem: Idempotency, workflow_id: str, key: str,
    action: Action, update: str, command: Callable[[str], BaseModel],
) -> ItemStatus:
    """The workflow decides: send the update, remember its answer for the Idempotency-Key."""
    result = await send_update(
        client=client, workflow_id=workflow_id, update=update, command=command(key),
        update_id=f"{action.value}/{idem.reference()}",
        wait_seconds=settings.update_timeout_seconds,
    )
    await idem.remember(status=200, body=result)
    return result
