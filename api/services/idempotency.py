"""Idempotency-Key: a repeated request gets the first answer back instead of acting again."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import IdempotencyKey, utcnow
from api.problems import Unprocessable
from api.services.audit import canonical

MAX_KEY_LENGTH = 200


def request_hash(*, path: str, body: Any) -> str:
    """The fingerprint of a request: its path and its parsed body, canonically."""
    return hashlib.sha256(canonical({"path": path, "body": body}).encode()).hexdigest()


def check_key(key: str) -> str:
    """422 unless the header value is a usable key."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Unprocessable(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
            errors=[{"location": "header", "field": "Idempotency-Key", "type": "value_error",
                     "pointer": "/Idempotency-Key", "detail": "invalid key"}],
        )
    return key


async def replay(
    *, session: AsyncSession, key: str, fingerprint: str
) -> dict[str, Any] | None:
    """The stored answer to this key, or None; 422 if the key came with another request."""
    row = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == key))
    if row is None:
        return None
    if row.expires_at <= utcnow():
        await session.delete(row)
        await session.flush()
        return None
    if row.request_hash != fingerprint:
        raise Unprocessable(
            "this Idempotency-Key was used with a different request", idempotency_key=key
        )
    return row.response_body


async def remember(
    *,
    session: AsyncSession,
    key: str,
    fingerprint: str,
    status: int,
    body: dict[str, Any],
    ttl: timedelta,
) -> None:
    """Store the answer to this key, in the same transaction as the work it answers for."""
    now = utcnow()
    await session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
    session.add(
        IdempotencyKey(
            key=key, request_hash=fingerprint, response_status=status, response_body=body,
            created_at=now, expires_at=now + ttl,
        )
    )
    await session.flush()
