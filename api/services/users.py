"""Users and their bearer tokens: random, shown once, stored only as a sha256 hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from api.models import Committee, Role, User, utcnow
from api.problems import Conflict, NotFound, Unprocessable
from api.schemas import UserPublic
from api.services.access import Principal, Scope
from api.services.audit import append_audit

SERVICE_NAME = "worker"
COMMITTEE_ROLES = frozenset({Role.STAFF, Role.SUPERVISOR})
# How long an API process may go on trusting a token it has looked up. A revocation made in a
# process takes effect there at once (it clears that process's cache); in any other process
# (the CLI, a second API) it takes effect within this many seconds.
PRINCIPAL_CACHE_SECONDS = 2.0
PRINCIPAL_CACHE_SIZE = 10_000
_CLEARS_PRINCIPALS = "yearwheel.clears_principals"


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


@dataclass(frozen=True)
class _Looked:
    principal: Principal
    expires_at: datetime | None
    looked_at: float  # on the cache's clock, taken before the database was read
    generation: int


class PrincipalCache:
    """Token hash -> principal for `ttl` seconds, so a request need not read its user's row.

    `clear()` forgets every entry, including one a lookup already under way is about to add:
    each entry carries the generation it was read in, and a clear starts a new one.
    """

    def __init__(
        self, *, ttl: float = PRINCIPAL_CACHE_SECONDS, size: int = PRINCIPAL_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self.generation = 0
        self._entries: dict[str, _Looked] = {}

    def get(self, token_hash: str) -> Principal | None:
        """The principal cached for `token_hash`, if it is fresh and its token unexpired."""
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        stale = (
            entry.generation != self.generation
            or self.clock() - entry.looked_at >= self.ttl
            or (entry.expires_at is not None and entry.expires_at <= utcnow())
        )
        if stale:
            self._entries.pop(token_hash, None)
            return None
        return entry.principal

    def begin(self) -> tuple[float, int]:
        """When a lookup starts, and in which generation: what `put` needs."""
        return self.clock(), self.generation

    def put(
        self, token_hash: str, principal: Principal, *, expires_at: datetime | None,
        started: tuple[float, int],
    ) -> None:
        """Remember a lookup that began at `started`, unless a clear has happened since."""
        looked_at, generation = started
        if generation != self.generation:
            return
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[token_hash] = _Looked(principal, expires_at, looked_at, generation)

    def clear(self) -> None:
        """Forget every principal (a user was revoked or changed)."""
        self.generation += 1
        self._entries.clear()


PRINCIPALS = PrincipalCache()


def forget_principals_on_commit(session: AsyncSession) -> None:
    """Clear this process's principal cache now and again when `session` commits.

    Call it from anything that revokes a user or changes its role or committee. Clearing now
    stops this process trusting the old row while the change is being made; clearing after
    the commit drops whatever a request read, and cached, before the change was visible.
    """
    PRINCIPALS.clear()
    session.sync_session.info[_CLEARS_PRINCIPALS] = True


@event.listens_for(Session, "after_commit")
def _clear_principals_after_commit(session: Session, *_: Any) -> None:
    if session.info.pop(_CLEARS_PRINCIPALS, False):
        PRINCIPALS.clear()


async def authenticate(
    *, session: AsyncSession, token: str, service_token: str,
    cache: PrincipalCache = PRINCIPALS,
) -> Principal | None:
    """The principal a bearer token names, or None if it is unknown, expired or revoked."""
    token_hash = hash_token(token)
    if hmac.compare_digest(token_hash, hash_token(service_token)):
        return Principal(name=SERVICE_NAME, role=Role.SERVICE)
    cached = cache.get(token_hash)
    if cached is not None:
        return cached
    started = cache.begin()
    user = await session.scalar(select(User).where(User.token_hash == token_hash))
    if user is None or user.revoked_at is not None:
        return None
    if user.expires_at is not None and user.expires_at <= utcnow():
        return None
    principal = Principal(
        name=user.name, role=Role(user.role), committee_id=user.committee_id, user_id=user.id
    )
    cache.put(token_hash, principal, expires_at=user.expires_at, started=started)
    return principal


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
    scope: Scope | None = None,
) -> tuple[list[UserPublic], int]:
    """Users by name, optionally of one role or committee, and how many match in all; with a
    scope, only the users of its committees."""
    query = select(User, Committee.code).outerjoin(Committee, User.committee_id == Committee.id)
    if scope is not None and scope.committee_ids is not None:
        query = query.where(User.committee_id.in_(sorted(scope.committee_ids)))
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
        forget_principals_on_commit(session)
        await session.flush()
        await append_audit(
            session=session, actor=actor, action="user.revoked", subject=f"user/{user.id}",
            payload={"name": user.name, "role": user.role, "reason": reason},
        )
    return to_public(user, code)
