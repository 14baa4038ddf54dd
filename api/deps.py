"""Request dependencies as Annotated aliases: SessionDep, CurrentUser, TemporalDep and friends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.db import Sessions
from api.models import Role
from api.problems import Forbidden, Unauthorized, Unavailable
from api.services.access import Principal
from api.services.users import authenticate
from api.settings import Settings

bearer = HTTPBearer(auto_error=False, description="A user's token, or the worker's service token.")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_sessions(request)() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionsDep = Annotated[Sessions, Depends(get_sessions)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_principal(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller named by the bearer token; 401 if there is none or it is not valid."""
    challenge = {"WWW-Authenticate": 'Bearer realm="yearwheel"'}
    if credentials is None or not credentials.credentials:
        raise Unauthorized("send Authorization: Bearer <token>", headers=challenge)
    principal = await authenticate(
        session=session, token=credentials.credentials, service_token=settings.service_token
    )
    if principal is None:
        raise Unauthorized("the token is unknown, expired or revoked", headers=challenge)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_user(principal: PrincipalDep) -> Principal:
    """A person: the worker's service token reaches only /internal/*."""
    if principal.role is Role.SERVICE:
        raise Forbidden("the service token reaches only /internal/*")
    return principal


async def get_service(principal: PrincipalDep) -> Principal:
    """The worker: only the service identity records what workflows decided."""
    if principal.role is not Role.SERVICE:
        raise Forbidden("only the worker's service identity may call /internal/*")
    return principal


def get_temporal(request: Request) -> Client:
    client: Client | None = getattr(request.app.state, "temporal", None)
    if client is None:
        raise Unavailable("no Temporal client is configured")
    return client


CurrentUser = Annotated[Principal, Depends(get_user)]
ServiceCaller = Annotated[Principal, Depends(get_service)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
