"""Escalations: who was reminded, who is overdue, what reached the parent or the board."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from api.deps import CurrentUser, SessionDep
from api.problems import problem_responses
from api.schemas import Code, EscalationPage
from api.services import escalations
from api.services.access import read_scope

router = APIRouter(tags=["escalations"])


@router.get("/escalations", response_model=EscalationPage, responses=problem_responses(401, 422))
async def list_escalations(
    session: SessionDep,
    user: CurrentUser,
    committee: Code | None = Query(default=None, description="The committee whose task it is."),
    status: Literal["open", "resolved"] | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> EscalationPage:
    """Escalations on tasks the caller can see, newest first."""
    scope = await read_scope(session=session, principal=user)
    items, total = await escalations.list_public(
        session=session, scope=scope, committee=committee, status=status, limit=limit,
        offset=offset,
    )
    return EscalationPage(items=items, total=total, limit=limit, offset=offset)
