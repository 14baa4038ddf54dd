"""Create and revoke users from the command line and the dev runner, straight against the
database. Every way it can fail is a `UserCommandError`: one line, and an exit code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import make_engine, make_sessions
from api.models import Role, User, utcnow
from api.problems import ProblemError
from api.services.signin import issue_link, set_password
from api.services.users import create_user, revoke_user
from yearwheel.schema import migrate_command

T = TypeVar("T")
USER_ROLES = tuple(role.value for role in Role if role is not Role.SERVICE)


class UserCommandError(Exception):
    """Why a user command did nothing: `code` 2 for a bad request, 1 for the environment."""

    def __init__(self, message: str, *, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


class DatabaseSettings(BaseSettings):
    """Only what user commands need: they work without the worker's service token."""

    model_config = SettingsConfigDict(env_prefix="YEARWHEEL_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///.yearwheel/yearwheel.db"
    public_url: str = "http://127.0.0.1:8000"  # where the web workspace's links point

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must use sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value


def parse_role(role: str) -> Role:
    """The role a person may have; the service identity is the worker's token, not a user."""
    if role not in USER_ROLES:
        raise UserCommandError(f"unknown role {role!r}; choose one of: {', '.join(USER_ROLES)}")
    return Role(role)


async def _in_transaction(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    engine = make_engine(database_url)
    try:
        async with make_sessions(engine)() as session, session.begin():
            return await work(session)
    except ProblemError as error:
        raise UserCommandError(error.detail) from None
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        missing = "no such table" in reason or "does not exist" in reason
        hint = f"; bring the schema up to date first: {migrate_command(database_url)}" if (
            missing) else ""
        raise UserCommandError(f"database {database_url}: {reason}{hint}", code=1) from None
    except OSError as error:
        raise UserCommandError(f"database {database_url} unreachable: {error}", code=1) from None
    finally:
        await engine.dispose()


async def create_user_with_token(
    database_url: str,
    *,
    name: str,
    role: str,
    committee: str | None = None,
    expires_days: int | None = None,
) -> str:
    """Create a user and return its token, which is shown once and stored only hashed."""
    checked = parse_role(role)
    if expires_days is not None and expires_days < 1:
        raise UserCommandError("--expires-days must be at least 1")

    async def work(session: AsyncSession) -> str:
        _, token = await create_user(
            session=session, name=name, role=checked, committee_code=committee,
            expires_at=utcnow() + timedelta(days=expires_days) if expires_days else None,
            actor="cli",
        )
        return token

    return await _in_transaction(database_url, work)


def password_url(public_url: str, token: str) -> str:
    """The one-time web page that sets a password."""
    return f"{public_url.rstrip('/')}/web/password/{token}"


async def create_user_with_link(
    database_url: str, *, name: str, role: str, committee: str | None = None,
    expires_days: int | None = None,
) -> tuple[str, str]:
    """Create a user; return its API token and a one-time password link token, both shown once
    and stored only hashed."""
    checked = parse_role(role)
    if expires_days is not None and expires_days < 1:
        raise UserCommandError("--expires-days must be at least 1")

    async def work(session: AsyncSession) -> tuple[str, str]:
        user, token = await create_user(
            session=session, name=name, role=checked, committee_code=committee,
            expires_at=utcnow() + timedelta(days=expires_days) if expires_days else None,
            actor="cli",
        )
        return token, await issue_link(session=session, user_id=user.id, actor="cli")

    return await _in_transaction(database_url, work)


async def password_link(database_url: str, *, name: str) -> str:
    """A new one-time link token that sets (or resets) the password of the user `name`."""

    async def work(session: AsyncSession) -> str:
        user = await session.scalar(
            select(User).where(User.name == name, User.role != Role.SERVICE.value)
        )
        if user is None:
            raise UserCommandError(f"no user is called {name!r}")
        if user.revoked_at is not None:
            raise UserCommandError(f"user {name!r} is revoked")
        return await issue_link(session=session, user_id=user.id, actor="cli")

    return await _in_transaction(database_url, work)


async def set_passwords(database_url: str, *, names: list[str], password: str) -> None:
    """Give each named user `password`, through a one-time link spent at once (the demo)."""

    async def work(session: AsyncSession) -> None:
        for name in names:
            user_id = await session.scalar(select(User.id).where(User.name == name))
            if user_id is None:
                raise UserCommandError(f"no user is called {name!r}")
            link = await issue_link(session=session, user_id=user_id, actor="cli")
            await set_password(session=session, token=link, password=password)

    await _in_transaction(database_url, work)


async def revoke_user_token(database_url: str, *, name: str, reason: str | None = None) -> None:
    """Revoke the token of the user called `name`."""

    async def work(session: AsyncSession) -> None:
        user_id = await session.scalar(select(User.id).where(User.name == name))
        if user_id is None:
            raise UserCommandError(f"no user is called {name!r}")
        await revoke_user(session=session, user_id=user_id, actor="cli", reason=reason)

    await _in_transaction(database_url, work)
