"""Committees and users: the tree that scopes everything, and who acts in it."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response, status

from api.deps import CurrentUser, SessionDep
from api.models import Role
from api.problems import problem_responses
from api.schemas import (
    Code,
    CommitteeCreate,
    CommitteeList,
    CommitteePublic,
    UserCreate,
    UserCreated,
)
from api.services import committees
from api.services.access import Action, read_scope, require
from api.services.users import create_user
from domain.contracts import CommitteeLevel

router = APIRouter(tags=["committees"])


@router.post(
    "/committees",
    status_code=status.HTTP_201_CREATED,
    response_model=CommitteePublic,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_committee(
    data: CommitteeCreate, session: SessionDep, user: CurrentUser, response: Response
) -> CommitteePublic:
    """Create a committee under its parent (admin)."""
    require(user, Action.MANAGE_COMMITTEES)
    created = await committees.create_committee(session=session, data=data, actor=user.name)
    await session.commit()
    response.headers["Location"] = f"/committees/{created.code}"
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


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserCreated,
    responses=problem_responses(401, 403, 404, 409, 422),
    tags=["users"],
)
async def create_user_route(
    data: UserCreate, session: SessionDep, user: CurrentUser
) -> UserCreated:
    """Create a user and return its token, shown this once (admin)."""
    require(user, Action.MANAGE_USERS)
    created, token = await create_user(
        session=session, name=data.name, role=Role(data.role), committee_code=data.committee,
        expires_at=data.expires_at, actor=user.name,
    )
    await session.commit()
    return UserCreated(
        id=created.id, name=created.name, role=Role(created.role), committee=data.committee,
        expires_at=created.expires_at, token=token,
    )
