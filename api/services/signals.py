"""Signals owed to workflows: queued in the change's transaction, sent after its commit.

A change that a workflow must hear of (a roster change) queues its signal in the same
transaction as the change. Once that commits, the API sends it outside any transaction and
deletes it; one Temporal did not take stays queued and is sent again (by the next change of
that workflow, and by the API's redelivery loop), oldest first per workflow, so a workflow
hears its changes in order. The signals say what is (the whole team), not what changed, so one
delivered twice changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.db import Sessions, run_unit_of_work
from api.models import PendingSignal
from domain.contracts import SIGNAL_ROSTER_CHANGED, RosterChanged

log = logging.getLogger(__name__)

MODELS: dict[str, type[BaseModel]] = {SIGNAL_ROSTER_CHANGED: RosterChanged}
REDELIVERY_SECONDS = 15.0


def queue(*, session: AsyncSession, workflow_id: str, name: str, signal: BaseModel) -> None:
    """Owe `workflow_id` the signal `name`; it is sent once the session's transaction commits."""
    assert name in MODELS, f"no model for signal {name!r}"
    session.add(PendingSignal(
        workflow_id=workflow_id, name=name, payload=signal.model_dump(mode="json"), attempts=0
    ))


async def deliver(
    *, sessions: Sessions, client: Client | None, wait_seconds: float,
    workflow_ids: Iterable[str] | None = None,
) -> int:
    """Send what is owed (to `workflow_ids`, or to every workflow), oldest first; returns how
    many were taken. A workflow whose signal Temporal did not take gets no later one now."""
    async with sessions() as session:
        query = select(PendingSignal).order_by(PendingSignal.id)
        if workflow_ids is not None:
            query = query.where(PendingSignal.workflow_id.in_(list(workflow_ids)))
        owed = list((await session.scalars(query)).all())
    if client is None or not owed:
        return 0
    blocked: set[str] = set()
    sent = 0
    for pending in owed:
        if pending.workflow_id in blocked:
            continue
        error = await _send(client, pending, wait_seconds)
        if error is None:
            await _forget(sessions, pending.id)
            sent += 1
        else:
            blocked.add(pending.workflow_id)
            await _note_failure(sessions, pending.id, error)
    return sent


async def _send(client: Client, pending: PendingSignal, wait_seconds: float) -> str | None:
    """None once Temporal has the signal (or the workflow has ended), else why not."""
    signal = MODELS[pending.name].model_validate(pending.payload)
    try:
        async with asyncio.timeout(wait_seconds):
            await client.get_workflow_handle(pending.workflow_id).signal(pending.name, signal)
        return None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:  # the cycle has ended: nothing to tell
            return None
        error = f"{exc.status.name if exc.status else 'RPC'}: {exc.message}"
    except (RuntimeError, TimeoutError) as exc:
        error = f"Temporal is unreachable: {exc!r}"
    log.warning("signal %s to %s not delivered, kept to send again: %s", pending.name,
                pending.workflow_id, error)
    return error


async def _forget(sessions: Sessions, pending_id: int) -> None:
    async def work(session: AsyncSession) -> None:
        await session.execute(delete(PendingSignal).where(PendingSignal.id == pending_id))

    await run_unit_of_work(sessions, work)


async def _note_failure(sessions: Sessions, pending_id: int, error: str) -> None:
    async def work(session: AsyncSession) -> None:
        await session.execute(
            update(PendingSignal).where(PendingSignal.id == pending_id)
            .values(attempts=PendingSignal.attempts + 1, last_error=error[:2000])
        )

    await run_unit_of_work(sessions, work)


async def redeliver_forever(
    *, sessions: Sessions, client: Client | None, wait_seconds: float,
    every: float = REDELIVERY_SECONDS,
) -> None:
    """The API's redelivery loop: send what is still owed, then wait `every` seconds."""
    while True:
        try:
            await deliver(sessions=sessions, client=client, wait_seconds=wait_seconds)
        except Exception:  # a database outage: try again next round
            log.exception("redelivery of pending signals failed")
        await asyncio.sleep(every)
