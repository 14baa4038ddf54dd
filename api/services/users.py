"""Users and their bearer tokens: random, shown once, stored only as a sha256 hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Committee, Role, User, utcnow
from api.problems import Conflict, NotFound, Unprocessable
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
