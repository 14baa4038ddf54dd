"""Committees: the tree that scopes everything, and where each caller sits in it."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response, status

from api.deps import CurrentUser, IdempotencyDep, SessionDep
from api.problems import problem_responses
from api.schemas import (
    Code,
    CommitteeCreate,
    CommitteeList,
    CommitteePublic,
)
from api.services import committees
from api.services.access import Action, read_scope, require
from domain.contracts import CommitteeLevel

router = APIRouter(tags=["committees"])


@router.post(
    "/committees",
    status_code=status.HTTP_201_CREATED,
    response_model=CommitteePublic,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_committee(
    data: CommitteeCreate, session: SessionDep, user: CurrentUser, idem: IdempotencyDep,
    response: Response,
) -> CommitteePublic:
    """Create a committee under its parent (admin)."""
    require(user, Action.MANAGE_COMMITTEES)
    created = await committees.create_committee(session=session, data=data, actor=user.name)
    response.headers["Location"] = f"/committees/{created.code}"
    await idem.remember(
        status=status.HTTP_201_CREATED, body=created, session=session,
        headers={"Location": response.headers["Location"]},
    )
    await session.commit()
    return created


@router.get(
    "/committees/{code}",
    response_model=CommitteePublic,
    responses=problem_responses(401, 404, 422),
)
async def get_committee(code: str, session: SessionDep, user: CurrentUser) -> CommitteePublic:
    """One committee, if the caller can see it."""
    scope = await read_scope(session=session, principal=user)
    return await committees.get_public(session=session, scope=scope, code=code)


@router.get("/committees", response_model=CommitteeList, responses=problem_responses(401, 422))
async def list_committees(
    session: SessionDep,
    user: CurrentUser,
    parent: Code | None = Query(default=None, description="Only those under this committee."),
    level: CommitteeLevel | None = Query(default=None),
) -> CommitteeList:
    """The committees the caller can see, by code."""
    scope = await read_scope(session=session, principal=user)
    items = await committees.list_public(session=session, scope=scope, parent=parent, level=level)
    return CommitteeList(items=items)
