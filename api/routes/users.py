"""Users and their tokens: issuing one (shown once), listing who exists, revoking a token,
and the one-time link that sets a user's web password."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from api.deps import CurrentUser, IdempotencyDep, SessionDep, SettingsDep
from api.models import Role, User, utcnow
from api.problems import problem_responses
from api.schemas import (
    Code,
    PasswordLinkCreated,
    UserCreate,
    UserCreated,
    UserPage,
    UserPublic,
    UserRevoke,
)
from api.services import signin, users
from api.services.access import Action, require, scope_for

router = APIRouter(tags=["users"])


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserCreated,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_user(
    data: UserCreate, session: SessionDep, user: CurrentUser, idem: IdempotencyDep,
    response: Response,
) -> UserCreated:
    """Create a user and return its token, shown this once (admin)."""
    require(user, Action.MANAGE_USERS)
    created, token = await users.create_user(
        session=session, name=data.name, role=Role(data.role), committee_code=data.committee,
        expires_at=data.expires_at, actor=user.name,
    )
    answer = UserCreated(
        id=created.id, name=created.name, role=Role(created.role), committee=data.committee,
        expires_at=created.expires_at, token=token,
    )
    response.headers["Location"] = f"/users/{created.id}"
    # The token is stored nowhere in clear, so a replay answers without it.
    await idem.remember(
        status=status.HTTP_201_CREATED, body=answer.model_copy(update={"token": None}),
        headers={"Location": response.headers["Location"]}, session=session,
    )
    await session.commit()
    return answer


@router.get("/users", response_model=UserPage, responses=problem_responses(401, 403, 422))
async def list_users(
    session: SessionDep,
    user: CurrentUser,
    role: Role | None = Query(default=None),
    committee: Code | None = None,
    active: bool | None = Query(default=None, description="Only users whose token works."),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> UserPage:
    """Users by name, with whether their token still works (admin, board, auditor)."""
    require(user, Action.READ_USERS)
    items, total = await users.list_public(
        session=session, role=role, committee=committee, active=active, limit=limit,
        offset=offset,
        scope=await scope_for(session=session, principal=user, action=Action.READ_USERS),
    )
    return UserPage(items=items, total=total, limit=limit, offset=offset)


@router.post(
    "/users/{user_id}/revoke",
    response_model=UserPublic,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def revoke_user(
    user_id: Annotated[int, Path(ge=1)],
    session: SessionDep,
    user: CurrentUser,
    idem: IdempotencyDep,
    data: UserRevoke | None = None,
) -> UserPublic:
    """Revoke a user's token: it answers 401 from now on; revoking twice is harmless (admin)."""
    require(user, Action.MANAGE_USERS)
    revoked = await users.revoke_user(
        session=session, user_id=user_id, actor=user.name, reason=data.reason if data else None
    )
    await idem.remember(status=status.HTTP_200_OK, body=revoked, session=session)
    await session.commit()
    return revoked


@router.post(
    "/users/{user_id}/password-link",
    response_model=PasswordLinkCreated,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_password_link(
    user_id: Annotated[int, Path(ge=1)],
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    idem: IdempotencyDep,
) -> PasswordLinkCreated:
    """Issue a one-time link that sets (or resets) a user's web password (admin)."""
    require(user, Action.MANAGE_USERS)
    token = await signin.issue_link(session=session, user_id=user_id, actor=user.name)
    target = await session.get(User, user_id)
    assert target is not None  # issue_link found it
    created = PasswordLinkCreated(
        user_id=user_id, name=target.name,
        url=f"{settings.public_url.rstrip('/')}/web/password/{token}",
        expires_at=utcnow() + timedelta(hours=signin.LINK_HOURS),
    )
    await idem.remember(status=status.HTTP_201_CREATED, body=created, session=session)
    await session.commit()
    return created
