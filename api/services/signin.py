"""Web sign-in: argon2id passwords set through one-time links, throttled failures, and browser
sessions that lapse when idle. Every failed attempt is written to the audit chain."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import Sessions, run_unit_of_work
from api.models import PasswordLink, Role, User, WebSession, utcnow
from api.problems import Conflict, NotFound, Unprocessable
from api.services.access import Principal
from api.services.audit import append_audit
from api.services.users import hash_token

HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
# Checked against when the name is unknown, so a miss costs what a wrong password costs.
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))
LINK_HOURS = 72
MIN_PASSWORD = 10
FREE_FAILURES = 3  # consecutive failures before each further attempt has to wait
MAX_WAIT = timedelta(minutes=15)
SEEN_EVERY = timedelta(seconds=60)  # how often a session's last-seen time is written


def wait_after(failures: int) -> timedelta:
    """How long a name must wait after `failures` consecutive failed sign-ins: 0 for the first
    few, then 1 s doubling up to MAX_WAIT."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - FREE_FAILURES)), MAX_WAIT)


async def issue_link(*, session: AsyncSession, user_id: int, actor: str) -> str:
    """A one-time token that sets (or resets) the user's password; returned once. 404 for no
    such user, 409 for a revoked one."""
    user = await session.get(User, user_id)
    if user is None or user.role == Role.SERVICE.value:
        raise NotFound(f"user {user_id} not found")
    if user.revoked_at is not None:
        raise Conflict(f"user {user_id} is revoked; a revoked user cannot sign in again")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(PasswordLink(
        user_id=user_id, token_hash=hash_token(token), created_at=now,
        expires_at=now + timedelta(hours=LINK_HOURS),
    ))
    await session.flush()
    await append_audit(
        session=session, actor=actor, action="user.password_link", subject=f"user/{user_id}",
        payload={"name": user.name, "expires_in_hours": LINK_HOURS},
    )
    return token


async def link_user(*, session: AsyncSession, token: str) -> User | None:
    """The user a live (unused, unexpired) link names, or None."""
    link = await session.scalar(
        select(PasswordLink).where(PasswordLink.token_hash == hash_token(token))
    )
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    user = await session.get(User, link.user_id)
    return user if user is not None and user.revoked_at is None else None


async def set_password(*, session: AsyncSession, token: str, password: str) -> User:
    """Use a link: hash and store the password, spend the link and every other one the user
    holds. 422 if the password is too short; 404 if the link is unknown, used or expired."""
    user = await link_user(session=session, token=token)
    if user is None:
        raise NotFound("this link is unknown, already used or expired; ask for a new one")
    if len(password) < MIN_PASSWORD:
        raise Unprocessable(f"the password needs at least {MIN_PASSWORD} characters")
    user.password_hash = await asyncio.to_thread(HASHER.hash, password)
    user.failed_signins = 0
    user.signin_blocked_until = None
    await session.execute(
        update(PasswordLink).where(PasswordLink.user_id == user.id, PasswordLink.used_at.is_(None))
        .values(used_at=utcnow())
    )
    await append_audit(
        session=session, actor=user.name, action="user.password_set", subject=f"user/{user.id}",
        payload={"name": user.name},
    )
    return user


@dataclass(frozen=True)
class SignIn:
    """A sign-in's outcome: a new session's cookie token, or why not (and for how long)."""

    token: str | None = None
    refused: str | None = None  # "password" | "blocked"
    wait: timedelta = timedelta(0)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def sign_in(*, sessions: Sessions, name: str, password: str, client: str | None) -> SignIn:
    """Check a name and password; on success open a session. A failure is audited and counted
    against the name; past FREE_FAILURES each attempt waits longer (wait_after).

    The password is checked (argon2, tens of ms) outside the write transaction that records
    the outcome, so a sign-in holds no database lock while it hashes.
    """
    async with sessions() as session:
        user = await session.scalar(select(User).where(User.name == name))
        stored = user.password_hash if user is not None else None
        blocked_until = user.signin_blocked_until if user is not None else None
    now = utcnow()
    if blocked_until is not None and blocked_until > now:
        ok = False
    else:
        blocked_until = None
        ok = await asyncio.to_thread(_verify, stored, password)

    async def record(session: AsyncSession) -> SignIn:
        current = await session.scalar(select(User).where(User.name == name))
        if blocked_until is not None:
            await _audit_failure(session, name=name, reason="blocked", user=current,
                                 client=client)
            return SignIn(refused="blocked", wait=blocked_until - now)
        usable = (
            current is not None and current.role != Role.SERVICE.value
            and current.revoked_at is None
            and (current.expires_at is None or current.expires_at > now)
        )
        if current is None or not usable or not ok:
            reason = ("unknown-user" if current is None
                      else "password" if usable else "inactive-user")
            wait = timedelta(0)
            if current is not None:
                current.failed_signins += 1
                wait = wait_after(current.failed_signins)
                current.signin_blocked_until = now + wait if wait else None
            await _audit_failure(session, name=name, reason=reason, user=current, client=client)
            return SignIn(refused="password", wait=wait)
        current.failed_signins = 0
        current.signin_blocked_until = None
        token = secrets.token_urlsafe(32)
        session.add(WebSession(
            user_id=current.id, token_hash=hash_token(token),
            csrf_token=secrets.token_urlsafe(32), created_at=now, last_seen_at=now,
        ))
        await append_audit(
            session=session, actor=current.name, action="web.signed_in",
            subject=f"user/{current.id}", payload={"client": client},
        )
        return SignIn(token=token)

    return await run_unit_of_work(sessions, record)


async def _audit_failure(
    session: AsyncSession, *, name: str, reason: str, user: User | None, client: str | None
) -> None:
    await append_audit(
        session=session, actor="anonymous", action="web.signin_failed",
        subject=f"user/{user.id}" if user else f"name/{name[:150]}",
        payload={"name": name[:200], "reason": reason, "client": client,
                 "failures": user.failed_signins if user else None},
    )


@dataclass(frozen=True)
class Signed:
    """A live browser session: who, and the CSRF token its forms must carry."""

    principal: Principal
    csrf_token: str
    session_id: int


async def resume(*, sessions: Sessions, token: str, idle: timedelta) -> Signed | None:
    """The live session a cookie names; None if unknown, ended, idle past `idle`, or its user
    can no longer sign in. Its last-seen time is written at most once per SEEN_EVERY."""
    now = utcnow()
    async with sessions() as session:
        row = (await session.execute(
            select(WebSession, User).join(User, WebSession.user_id == User.id)
            .where(WebSession.token_hash == hash_token(token))
        )).first()
    if row is None:
        return None
    web, user = row
    lapsed = web.ended_at is not None or now - web.last_seen_at > idle
    inactive = user.revoked_at is not None or (
        user.expires_at is not None and user.expires_at <= now
    )
    if lapsed or inactive:
        return None
    if now - web.last_seen_at >= SEEN_EVERY:
        session_id = web.id

        async def touch(session: AsyncSession) -> None:
            await session.execute(
                update(WebSession).where(WebSession.id == session_id).values(last_seen_at=now)
            )

        await run_unit_of_work(sessions, touch)
    principal = Principal(
        name=user.name, role=Role(user.role), committee_id=user.committee_id, user_id=user.id
    )
    return Signed(principal=principal, csrf_token=web.csrf_token, session_id=web.id)


async def sign_out(*, session: AsyncSession, session_id: int, actor: str) -> None:
    """End a browser session for good."""
    web = await session.get(WebSession, session_id)
    if web is not None and web.ended_at is None:
        web.ended_at = utcnow()
        await append_audit(
            session=session, actor=actor, action="web.signed_out",
            subject=f"user/{web.user_id}", payload={},
        )
