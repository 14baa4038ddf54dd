"""Auditing: a cycle's Temporal history, its timeline and past states, its replay against the
current code, the cross-check of its three records, and the audit log's chain.

Board, auditor and admin (Action.AUDIT). Nothing here changes anything: the replay runs the
workflow code in this process against the history and writes no row (its answer is remembered
for an Idempotency-Key, like every POST's).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowHistory

from api.deps import CurrentUser, IdempotencyDep, SessionDep, SettingsDep, TemporalDep
from api.models import Cycle
from api.problems import problem_responses
from api.services import crosscheck, cycle_audit, history
from api.services.access import Action, Principal, require
from api.services.history.state import HistoricState
from api.services.replay import ReplayReport, replay
from api.settings import Settings
from domain.calendar import HCM

router = APIRouter(tags=["audit"])
READ_ERRORS = problem_responses(401, 403, 404, 422, 503, 504)


class BrokenRow(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    hash: str
    prev_hash: str


class ChainVerification(BaseModel):
    ok: bool
    events: int
    broken_at: int | None = None
    reason: str | None = None
    broken_row: BrokenRow | None = None


HISTORY_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The event history as Temporal's JSON: what WorkflowHistory.from_json "
        "and `temporal workflow show --output json` read.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    **READ_ERRORS,
}


async def _history(
    session: AsyncSession, settings: Settings, client: Client, user: Principal, cycle_id: int
) -> tuple[Cycle, WorkflowHistory]:
    """The cycle the caller may audit, and its history."""
    cycle, _, _ = await cycle_audit.audited_cycle(
        session=session, principal=user, cycle_id=cycle_id
    )
    await session.commit()  # hold no transaction while Temporal answers
    return cycle, await cycle_audit.fetch_history(
        client=client, workflow_id=cycle.workflow_id,
        wait_seconds=settings.update_timeout_seconds,
    )


@router.get("/cycles/{cycle_id}/history", response_class=Response, responses=HISTORY_RESPONSE)
async def get_history(
    cycle_id: int, session: SessionDep, settings: SettingsDep, client: TemporalDep,
    user: CurrentUser,
) -> Response:
    """The cycle's Temporal event history, exactly as WorkflowHistory.from_json loads it."""
    cycle, found = await _history(session, settings, client, user, cycle_id)
    return Response(
        content=found.to_json(), media_type="application/json",
        headers={"X-Workflow-Id": cycle.workflow_id, "X-Run-Id": found.run_id},
    )


@router.get("/cycles/{cycle_id}/timeline", response_model=history.Timeline,
            responses=READ_ERRORS)
async def get_timeline(
    cycle_id: int, session: SessionDep, settings: SettingsDep, client: TemporalDep,
    user: CurrentUser,
    timers: Annotated[bool, Query(description="Also list the workflow's timers.")] = False,
) -> history.Timeline:
    """What happened in the cycle, in order, read from the Temporal history alone."""
    _, found = await _history(session, settings, client, user, cycle_id)
    return history.timeline(found, timers=timers)


@router.get("/cycles/{cycle_id}/state", response_model=HistoricState, responses=READ_ERRORS)
async def get_state(
    cycle_id: int, session: SessionDep, settings: SettingsDep, client: TemporalDep,
    user: CurrentUser,
    as_of: Annotated[datetime | None, Query(
        description="A calendar instant; without a zone it is read in Asia/Ho_Chi_Minh. "
        "Omitted: the end of the history."
    )] = None,
) -> HistoricState:
    """Every item's state as of an instant, rebuilt from the Temporal history."""
    _, found = await _history(session, settings, client, user, cycle_id)
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=HCM)
    return history.state_as_of(found, as_of)


@router.post("/cycles/{cycle_id}/replay", response_model=ReplayReport, responses=READ_ERRORS)
async def replay_cycle(
    cycle_id: int, session: SessionDep, settings: SettingsDep, client: TemporalDep,
    user: CurrentUser, idem: IdempotencyDep,
) -> ReplayReport:
    """Replay the history through the current workflow code; compare what it re-derives."""
    _, found = await _history(session, settings, client, user, cycle_id)
    report = await replay(found)
    await idem.remember(status=200, body=report)
    return report


@router.get("/cycles/{cycle_id}/audit-check", response_model=crosscheck.CrossCheck,
            responses=READ_ERRORS)
async def audit_check(
    cycle_id: int, session: SessionDep, settings: SettingsDep, client: TemporalDep,
    user: CurrentUser,
) -> crosscheck.CrossCheck:
    """Compare the Temporal history, the audit log and the task table; list disagreements."""
    cycle, found = await _history(session, settings, client, user, cycle_id)
    earlier = await cycle_audit.earlier_runs(
        client=client, workflow_id=cycle.workflow_id, latest_run_id=found.run_id,
        wait_seconds=settings.update_timeout_seconds,
    )
    return await crosscheck.cross_check(
        session=session, cycle=cycle, history=found, earlier=earlier
    )


@router.get("/audit/verify", response_model=ChainVerification,
            responses=problem_responses(401, 403))
async def verify_audit_log(session: SessionDep, user: CurrentUser) -> ChainVerification:
    """Walk the audit log's hash chain; name the first row whose link or hash is wrong."""
    require(user, Action.AUDIT)
    return ChainVerification.model_validate(await cycle_audit.verify(session=session))
