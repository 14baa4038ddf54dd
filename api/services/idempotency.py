"""Idempotency-Key: a repeated request gets the first answer back instead of acting again.

Every POST that changes state takes the header. A key belongs to its caller (two callers'
keys never meet) and to one request: its method, path, query and body.
- The first request claims the key (an in-flight row, committed at once). A repeat while it
  runs is 409 (`idempotency-key-in-flight`, Retry-After); a repeat with another request is 422
  (`idempotency-key-reused`).
- A successful (2xx) answer is remembered, with the work where the route writes in one
  transaction; a repeat then gets that status and body back, marked `Idempotent-Replayed: true`.
- A failed request releases its claim: it wrote nothing, so it may be retried with its key.
- A remembered key lives `idempotency_ttl_hours` (Settings); a claim whose request died with its
  process lapses after `update_timeout_seconds` + LEASE_MARGIN. A lapsed row is as good as
  none; lapsed rows are deleted when their key comes again, and all of them every PURGE_EVERY.
- A request whose work is one short transaction (the worker's recordings) needs no claim: it
  looks its key up (`answer_before`), then acts and remembers the answer in one transaction
  (`remember_with`). A repeat racing it finds the key taken when it commits, and its retry
  replays the answer (`answer_within`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.db import Sessions, run_unit_of_work
from api.models import IdempotencyKey, Role, utcnow
from api.problems import ProblemError, Unprocessable
from api.services.access import Principal
from api.services.audit import canonical

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 200
IN_FLIGHT = 0  # the response_status of a claimed key whose request has not answered yet
LEASE_MARGIN = timedelta(seconds=60)
REPLAYED_HEADER = "Idempotent-Replayed"
PURGE_EVERY = 60.0  # seconds between deletions of every lapsed row, in each process
_next_purge = 0.0  # time.monotonic() of this process's next one


class KeyInFlight(ProblemError):
    status, slug, title = 409, "idempotency-key-in-flight", "Request still in progress"


class KeyReused(ProblemError):
    status, slug, title = 422, "idempotency-key-reused", "Idempotency-Key already used"


class Replay(Exception):  # control flow, not an error: the dependency answers early
    """Raised by the dependency to answer with the remembered response."""

    def __init__(self, *, status: int, body: Any, headers: dict[str, str]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers


def request_hash(*, path: str, body: Any) -> str:
    """The fingerprint of a request: its path and its parsed body, canonically."""
    return hashlib.sha256(canonical({"path": path, "body": body}).encode()).hexdigest()


def fingerprint(*, method: str, path: str, query: str, raw_body: bytes) -> str:
    """The request a key stands for; JSON bodies compare by content, not by spelling."""
    try:
        body: Any = json.loads(raw_body) if raw_body else None
    except ValueError:
        body = {"raw_sha256": hashlib.sha256(raw_body).hexdigest()}
    return request_hash(path=f"{method} {path}?{query}", body=body)


def check_key(key: str) -> str:
    """422 unless the header value is a usable key."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Unprocessable(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters; "
            "a random UUID is a good key",
            errors=[{"location": "header", "field": "Idempotency-Key", "type": "value_error",
                     "pointer": "/Idempotency-Key", "detail": "invalid key"}],
        )
    return key


def stored_key(*, principal: Principal, key: str) -> str:
    """The key as stored: scoped to its caller, so one caller's key never answers another."""
    owner = "service" if principal.role is Role.SERVICE else f"user/{principal.user_id}"
    return hashlib.sha256(f"{owner}\n{key}".encode()).hexdigest()


@dataclass(frozen=True)
class KeyedRequest:
    """A request's Idempotency-Key as stored, and the fingerprint of the request it came with."""

    key: str
    fingerprint: str
    shown: str  # as the caller sent it, for the problems that name it


async def keyed_request(*, request: Request, principal: Principal, key: str) -> KeyedRequest:
    """The request's key, scoped to its caller; 422 unless the key is usable."""
    shown = check_key(key)
    return KeyedRequest(
        key=stored_key(principal=principal, key=shown),
        fingerprint=fingerprint(
            method=request.method, path=request.url.path, query=request.url.query,
            raw_body=await request.body(),
        ),
        shown=shown,
    )


def _live(
    row: IdempotencyKey | None, *, fingerprint: str, shown: str, now: datetime
) -> IdempotencyKey | None:
    """`row`, unless there is none or it lapsed. 422 if the key came with another request;
    409 if its first request is still running."""
    if row is None or row.expires_at <= now:
        return None
    if row.request_hash != fingerprint:
        raise KeyReused(
            "this Idempotency-Key was already used with another request (method, path or "
            "body); send a new key for a new request",
            idempotency_key=shown,
        )
    if row.response_status == IN_FLIGHT:
        raise KeyInFlight(
            "a request with this Idempotency-Key is still in progress; repeat it once that "
            "one has answered to get its response",
            idempotency_key=shown, headers={"Retry-After": "1"},
        )
    return row


async def _row(session: AsyncSession, key: str) -> IdempotencyKey | None:
    return await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == key))


async def _purge_if_due(session: AsyncSession, now: datetime) -> None:
    """In a write, once every PURGE_EVERY in this process: delete every lapsed row."""
    global _next_purge
    if time.monotonic() >= _next_purge:
        _next_purge = time.monotonic() + PURGE_EVERY
        await session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))


async def _live_or_cleared(
    *, session: AsyncSession, key: str, fingerprint: str, shown: str
) -> IdempotencyKey | None:
    """In a write: the key's live row; a lapsed one is deleted."""
    now = utcnow()
    await _purge_if_due(session, now)
    row = await _row(session, key)
    live = _live(row, fingerprint=fingerprint, shown=shown, now=now)
    if row is not None and live is None:
        await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id))
    return live


async def claim(
    *, session: AsyncSession, key: str, fingerprint: str, lease: timedelta, shown: str
) -> IdempotencyKey | None:
    """Claim `key` for this request (None), or the remembered answer to replay.

    422 if the key came with another request; 409 if its first request is still running.
    """
    row = await _live_or_cleared(session=session, key=key, fingerprint=fingerprint, shown=shown)
    if row is not None:
        return row
    now = utcnow()
    session.add(
        IdempotencyKey(
            key=key, request_hash=fingerprint, response_status=IN_FLIGHT, response_body={},
            created_at=now, expires_at=now + lease,
        )
    )
    await session.flush()
    return None


async def answer_before(*, sessions: Sessions, keyed: KeyedRequest) -> Replay | None:
    """Before acting, and outside its write: the answer remembered for the key, to replay, or
    None when the key is free (the request is to act and then `remember_with` its rows)."""
    async with sessions() as session:
        row = await _row(session, keyed.key)
    live = _live(row, fingerprint=keyed.fingerprint, shown=keyed.shown, now=utcnow())
    return replay_of(live) if live is not None else None


async def answer_within(*, session: AsyncSession, keyed: KeyedRequest) -> Replay | None:
    """As `answer_before`, but in the write's transaction: for a retry after a lost race (to a
    repeat of this request, perhaps), and clearing a lapsed row the key still had."""
    row = await _live_or_cleared(
        session=session, key=keyed.key, fingerprint=keyed.fingerprint, shown=keyed.shown
    )
    return replay_of(row) if row is not None else None


async def remember_with(
    *, session: AsyncSession, keyed: KeyedRequest, status: int, body: BaseModel,
    ttl: timedelta,
) -> None:
    """Remember the answer to an unclaimed key in the transaction that wrote what it answers
    for. A repeat that raced it finds the key taken when it commits; retried, it replays this."""
    now = utcnow()
    await _purge_if_due(session, now)
    session.add(
        IdempotencyKey(
            key=keyed.key, request_hash=keyed.fingerprint, response_status=status,
            response_body={"body": body.model_dump(mode="json"), "headers": {}},
            created_at=now, expires_at=now + ttl,
        )
    )


async def remember(
    *,
    session: AsyncSession,
    key: str,
    status: int,
    body: Any,
    headers: dict[str, str],
    ttl: timedelta,
) -> None:
    """Store the answer to a claimed key, in the caller's transaction."""
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.key == key, IdempotencyKey.response_status == IN_FLIGHT)
        .values(
            response_status=status, response_body={"body": body, "headers": headers},
            expires_at=utcnow() + ttl,
        )
    )


async def release(*, session: AsyncSession, key: str) -> None:
    """Drop an unanswered claim, so the failed request may be retried with its key."""
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.key == key, IdempotencyKey.response_status == IN_FLIGHT
        )
    )


def replay_of(row: IdempotencyKey) -> Replay:
    stored = row.response_body
    if "body" not in stored:  # an answer remembered before headers were
        return Replay(status=row.response_status, body=stored, headers={})
    return Replay(status=row.response_status, body=stored["body"], headers=stored["headers"])


async def replay_response(request: Request, exc: Exception) -> Response:
    """The remembered response, as the first request got it."""
    assert isinstance(exc, Replay)
    return JSONResponse(
        exc.body, status_code=exc.status, headers={**exc.headers, REPLAYED_HEADER: "true"}
    )


@dataclass
class Idempotency:
    """One request's Idempotency-Key (claimed), or none; `remember` stores its answer."""

    sessions: Sessions
    ttl: timedelta
    key: str | None = None  # the stored form; None when the request sent no key
    fingerprint: str = ""
    remembered: bool = field(default=False, init=False)

    def reference(self) -> str:
        """An id for what this request starts (an update, a submission): stable across
        repeats of one keyed request, so a retry after a timeout cannot act twice."""
        if self.key is None:
            return secrets.token_hex(16)
        return hashlib.sha256(f"{self.key}\n{self.fingerprint}".encode()).hexdigest()[:32]

    async def remember(
        self,
        *,
        status: int,
        body: BaseModel | dict[str, Any],
        headers: dict[str, str] | None = None,
        session: AsyncSession | None = None,
    ) -> None:
        """Remember a successful answer: in `session`'s transaction, or in its own."""
        if self.key is None:
            return
        key, ttl = self.key, self.ttl
        data = body.model_dump(mode="json") if isinstance(body, BaseModel) else body

        async def work(own: AsyncSession) -> None:
            await remember(
                session=own, key=key, status=status, body=data, headers=headers or {}, ttl=ttl
            )

        if session is not None:
            await work(session)
        else:
            await run_unit_of_work(self.sessions, work)
        self.remembered = True

    async def release(self) -> None:
        """Give the key back after a failure; a lapsed claim does the same if this fails."""
        if self.key is None:
            return
        key = self.key

        async def work(session: AsyncSession) -> None:
            await release(session=session, key=key)

        try:
            await run_unit_of_work(self.sessions, work)
        except Exception:
            log.warning("could not release Idempotency-Key claim %s", key, exc_info=True)


async def claim_for(
    *, sessions: Sessions, ttl: timedelta, lease: timedelta, key: str, fingerprint: str,
    shown: str,
) -> Idempotency:
    """Claim a request's key (its stored form) in a transaction of its own; raises Replay with
    the remembered answer instead when the request was answered before."""
    idem = Idempotency(sessions=sessions, ttl=ttl, key=key, fingerprint=fingerprint)

    async def work(session: AsyncSession) -> IdempotencyKey | None:
        return await claim(
            session=session, key=key, fingerprint=fingerprint, lease=lease, shown=shown
        )

    remembered = await run_unit_of_work(sessions, work)
    if remembered is not None:
        raise replay_of(remembered)
    return idem
