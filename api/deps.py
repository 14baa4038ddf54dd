"""Request dependencies as Annotated aliases: SessionDep, CurrentUser, TemporalDep and friends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.db import Sessions
from api.models import Role
from api.problems import Forbidden, Unauthorized, Unavailable, Unprocessable
from api.services import idempotency
from api.services.access import Principal
from api.services.idempotency import Idempotency
from api.services.users import authenticate
from api.settings import Settings

bearer = HTTPBearer(auto_error=False, description="A user's token, or the worker's service token.")


# Dependencies are coroutines even when they do not await: FastAPI runs a plain `def` one in
# its thread pool, a thread hop per dependency per request.


def _query_aliases(dependant: Dependant) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_aliases(sub)
    return names


def _query_names(route: object) -> tuple[str, ...]:
    """The query parameters an API route takes (its dependencies' too), as a client spells
    them; none for a route outside the OpenAPI document (the web pages read their own)."""
    dependant = getattr(route, "dependant", None)
    if not isinstance(dependant, Dependant) or not getattr(route, "include_in_schema", False):
        return ()
    return tuple(sorted(_query_aliases(dependant)))


async def refuse_unknown_query(request: Request) -> None:
    """422 for a query parameter an API route does not take, on one that takes some: a
    mistyped filter is an error, not an unfiltered answer."""
    names = _query_names(request.scope.get("route"))
    unknown = sorted(set(request.query_params) - set(names)) if names else []
    if unknown:
        raise Unprocessable(
            f"unknown query parameters: {', '.join(unknown)}; this route takes "
            f"{', '.join(names)}"
        )


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    sessions: Sessions = request.app.state.sessions
    async with sessions() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionsDep = Annotated[Sessions, Depends(get_sessions)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_principal(
    request: Request,
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
    if session.in_transaction():  # a read: give the connection back before the request's
        await session.commit()  # own units of work take theirs, or a burst drains the pool
    if principal is None:
        raise Unauthorized("the token is unknown, expired or revoked", headers=challenge)
    request.state.principal = principal  # who a refusal is audited against
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


async def get_temporal(request: Request) -> Client:
    client: Client | None = getattr(request.app.state, "temporal", None)
    if client is None:
        raise Unavailable("no Temporal client is configured")
    return client


CurrentUser = Annotated[Principal, Depends(get_user)]
ServiceCaller = Annotated[Principal, Depends(get_service)]
TemporalDep = Annotated[Client, Depends(get_temporal)]


async def get_idempotency(
    request: Request,
    sessions: SessionsDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Any unique string, e.g. a UUID. A repeat with the same key and body "
            "gets the first answer back (marked Idempotent-Replayed: true); the same key with "
            "another body is 422; a repeat while the first still runs is 409. Keys are kept "
            "for idempotency_ttl_hours (24 by default).",
        ),
    ] = None,
) -> AsyncIterator[Idempotency]:
    """Claim the request's Idempotency-Key; a remembered answer is replayed instead."""
    ttl = timedelta(hours=settings.idempotency_ttl_hours)
    if key is None:
        yield Idempotency(sessions=sessions, ttl=ttl)
        return
    shown = idempotency.check_key(key)
    idem = await idempotency.claim_for(
        sessions=sessions, ttl=ttl,
        lease=timedelta(seconds=settings.update_timeout_seconds) + idempotency.LEASE_MARGIN,
        key=idempotency.stored_key(principal=principal, key=shown),
        fingerprint=idempotency.fingerprint(
            method=request.method, path=request.url.path, query=request.url.query,
            raw_body=await request.body(),
        ),
        shown=shown,
    )
    try:
        yield idem
    except BaseException:
        await idem.release()
        raise
    if not idem.remembered:
        await idem.release()


# Exits before the response is sent, so a failed request's key is free when its answer arrives.
IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency, scope="function")]
