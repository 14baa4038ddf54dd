"""What the auditing routes share: the cycle they may look into, and its Temporal history."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from api.models import AuditEvent
from api.problems import NotFound, TimedOut, Unavailable
from api.services import cycles
from api.services.access import Action, Principal, Scope, authorize
from api.services.audit import ChainCheck, verify_chain
from api.services.cycles import CycleRow

log = logging.getLogger(__name__)


async def audited_cycle(
    *, session: AsyncSession, principal: Principal, cycle_id: int
) -> CycleRow:
    """The cycle, if the caller can see it (else 404) and may audit it (else 403)."""
    row = await cycles.get_row(session=session, scope=Scope(None), cycle_id=cycle_id)
    await authorize(
        session=session, principal=principal, action=Action.AUDIT, committee_id=row[1].id,
        missing=f"cycle {cycle_id} not found",
    )
    return row


async def fetch_history(
    *, client: Client, workflow_id: str, wait_seconds: float
) -> WorkflowHistory:
    """The workflow's whole history (its latest run); 404 if Temporal has none, 503/504 if it
    does not answer."""
    try:
        async with asyncio.timeout(wait_seconds):
            return await client.get_workflow_handle(workflow_id).fetch_history()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise NotFound(
                f"Temporal has no history of {workflow_id}: it never started here, or its "
                "retention period has passed"
            ) from exc
        log.warning("history of %s: %r", workflow_id, exc)
        raise Unavailable(f"Temporal did not give the history: {exc.message}") from exc
    except TimeoutError as exc:
        raise TimedOut(f"Temporal did not give the history within {wait_seconds:g} s") from exc
    except RuntimeError as exc:  # a lazy client that cannot connect
        raise Unavailable(f"Temporal is unreachable: {exc}") from exc


async def earlier_runs(
    *, client: Client, workflow_id: str, latest_run_id: str, wait_seconds: float
) -> list[WorkflowHistory]:
    """The histories of the workflow's runs before `latest_run_id`, oldest first: a resumed
    cycle's earlier runs, which recorded what its latest run was seeded with. Empty if
    Temporal does not list them (their retention passed, or it does not answer)."""
    try:
        async with asyncio.timeout(wait_seconds):
            runs = [
                execution async for execution in client.list_workflows(
                    f"WorkflowId = '{_quoted(workflow_id)}'"
                )
                if execution.run_id != latest_run_id
            ]
            runs.sort(key=lambda execution: execution.start_time)
            return [
                await client.get_workflow_handle(workflow_id, run_id=run.run_id).fetch_history()
                for run in runs
            ]
    except (RPCError, TimeoutError, RuntimeError) as exc:
        log.warning("earlier runs of %s: %r", workflow_id, exc)
        return []


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


async def verify(*, session: AsyncSession) -> dict[str, Any]:
    """The chain's check, with the first broken row named as it stands in the database."""
    check: ChainCheck = await verify_chain(session=session)
    broken: dict[str, Any] | None = None
    if check.broken_at is not None:
        row = await session.get(AuditEvent, check.broken_at)
        if row is not None:
            broken = {"seq": row.seq, "at": row.at, "actor": row.actor, "action": row.action,
                      "subject": row.subject, "hash": row.hash, "prev_hash": row.prev_hash}
    return {"ok": check.ok, "events": check.events, "broken_at": check.broken_at,
            "reason": check.reason, "broken_row": broken}
