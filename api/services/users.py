"""Users and their bearer tokens: random, shown once, stored only as a sha256 hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Committee, Role, User, utcnow
from api.problems import Conflict, NotFound, Unprocessable
from api.schemas import UserPublic
from api.services.access import Principal
from api.services.audit import append_audit

SERVICE_NAME = "worker"
COMMITTEE_ROLES = frozenset({Role.STAFF, Role.SUPERVISOR})


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh random bearer token."""
    return secrets.token_urlsafe(32)


async def create_user(
    *,
    session: AsyncSession,
    name: str,
    role: Role,
    committee_code: str | None = None,
    expires_at: datetime | None = None,
    actor: str = "system",
) -> tuple[User, str]:
    """Create a user with a fresh token; the token is returned here and never again."""
    committee_id: int | None = None
    if committee_code is not None:
        committee = await session.scalar(select(Committee).where(Committee.code == committee_code))
        if committee is None:
            raise NotFound(f"committee {committee_code!r} not found")
        committee_id = committee.id
    if role in COMMITTEE_ROLES and committee_id is None:
        raise Unprocessable(f"a {role} user needs a committee")
    if expires_at is not None and expires_at.tzinfo is None:
        raise Unprocessable("expires_at must carry a timezone")
    if await session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict(f"a user named {name!r} already exists")
    token = new_token()
    user = User(
        name=name, role=role.value, committee_id=committee_id, token_hash=hash_token(token),
        expires_at=expires_at,
    )
    session.add(user)
    await session.flush()
    await append_audit(
        session=session, actor=actor, action="user.created", subject=f"user/{user.id}",
        payload={"name": name, "role": role.value, "committee": committee_code,
                 "expires_at": expires_at.isoformat() if expires_at else None},
    )
    return user, token


async def authenticate(
    *, session: AsyncSession, token: str, service_token: str
) -> Principal | None:
    """The principal a bearer token names, or None if it is unknown, expired or revoked."""
    if hmac.compare_digest(hash_token(token), hash_token(service_token)):
        return Principal(name=SERVICE_NAME, role=Role.SERVICE)
    user = await session.scalar(select(User).where(User.token_hash == hash_token(token)))
    if user is None or user.revoked_at is not None:
        return None
    if user.expires_at is not None and user.expires_at <= utcnow():
        return None
    return Principal(
        name=user.name, role=Role(user.role), committee_id=user.committee_id, user_id=user.id
    )


def to_public(user: User, committee_code: str | None) -> UserPublic:
    """A user as the API shows it: never its token or hash."""
    expired = user.expires_at is not None and user.expires_at <= utcnow()
    return UserPublic(
        id=user.id, name=user.name, role=Role(user.role), committee=committee_code,
        created_at=user.created_at, expires_at=user.expires_at, revoked_at=user.revoked_at,
        active=user.revoked_at is None and not expired,
    )


async def list_public(
    *,
    session: AsyncSession,
    role: Role | None = None,
    committee: str | None = None,
    active: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[UserPublic], int]:
    """Users by name, optionally of one role or committee, and how many match in all."""
    query = select(User, Committee.code).outerjoin(Committee, User.committee_id == Committee.id)
    if role is not None:
        query = query.where(User.role == role.value)
    if committee is not None:
        query = query.where(Committee.code == committee)
    if active is not None:
        usable = (User.revoked_at.is_(None)) & (
            User.expires_at.is_(None) | (User.expires_at > utcnow())
        )
        query = query.where(usable if active else ~usable)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(query.order_by(User.name).limit(limit).offset(offset))
    return [to_public(user, code) for user, code in rows.tuples()], int(total or 0)


async def revoke_user(
    *, session: AsyncSession, user_id: int, actor: str, reason: str | None = None
) -> UserPublic:
    """Revoke a user's token for good; revoking it again changes nothing."""
    row = (
        await session.execute(
            select(User, Committee.code)
            .outerjoin(Committee, User.committee_id == Committee.id)
            .where(User.id == user_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"user {user_id} not found")
    user, code = row
    if user.revoked_at is None:
        user.revoked_at = utcnow()
        await session.flush()
        await append_audit(
            session=session, actor=actor, action="user.revoked", subject=f"user/{user.id}",
            payload={"name": user.name, "role": user.role, "reason": reason},
        )
    return to_public(user, code)
