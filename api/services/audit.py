"""The append-only audit log: each event's hash covers the previous hash and its own content."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import lock_for_writing
from api.models import AuditEvent, utcnow

GENESIS = "0" * 64
# Appends take this transaction-scoped lock on PostgreSQL, so the chain never forks.
_PG_AUDIT_LOCK = 0x59574155  # "YWAU"
# session.info: (transaction, event) of the last append in that transaction, under its lock.
_LAST_APPENDED = "audit.last_appended"


def canonical(value: Any) -> str:
    """The one JSON text of a value that every hash is computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(
    *, prev_hash: str, seq: int, at: datetime, actor: str, action: str, subject: str,
    payload: dict[str, Any],
) -> str:
    """sha256 over the previous hash and the canonical JSON of the event's content."""
    content = canonical(
        {"seq": seq, "at": _stamp(at), "actor": actor, "action": action, "subject": subject,
         "payload": payload}
    )
    return hashlib.sha256((prev_hash + content).encode()).hexdigest()


async def append_audit(
    *,
    session: AsyncSession,
    actor: str,
    action: str,
    subject: str,
    payload: dict[str, Any],
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction (written at its next flush).

    The chain's head is read under a lock that keeps every other append out until this
    transaction ends, so no two events get one seq and none is lost to a retry.
    """
    last_seq, prev_hash = await _head(session)
    seq = last_seq + 1
    at = (at or utcnow()).astimezone(UTC)
    payload = json.loads(canonical(payload))  # exactly what a reader will get back
    event = AuditEvent(
        seq=seq, at=at, actor=actor, action=action, subject=subject, payload=payload,
        prev_hash=prev_hash,
        hash=event_hash(prev_hash=prev_hash, seq=seq, at=at, actor=actor, action=action,
                        subject=subject, payload=payload),
    )
    session.add(event)
    session.info[_LAST_APPENDED] = (session.sync_session.get_transaction(), event)
    return event


async def _head(session: AsyncSession) -> tuple[int, str]:
    """The last event's seq and hash, once this transaction holds the chain's lock: PostgreSQL's
    advisory lock, or SQLite's write lock. A transaction that appended already holds it, and
    the event it appended last is the head."""
    appended = session.info.get(_LAST_APPENDED)
    if appended is not None:
        transaction, event = appended
        if transaction is session.sync_session.get_transaction() and event in session:
            return event.seq, event.hash
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    else:
        await lock_for_writing(session)
    last = (
        await session.execute(
            select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
        )
    ).first()
    return (last[0], last[1]) if last else (0, GENESIS)


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    events: int
    broken_at: int | None = None
    reason: str | None = None


async def verify_chain(*, session: AsyncSession, batch: int = 1000) -> ChainCheck:
    """Walk the whole chain and report the first event whose link or hash is wrong."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    while True:
        rows = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.seq >= expected_seq)
                .order_by(AuditEvent.seq)
                .limit(batch)
            )
        ).all()
        if not rows:
            return ChainCheck(ok=True, events=count)
        for row in rows:
            if row.seq != expected_seq:
                return ChainCheck(False, count, row.seq, f"gap: expected seq {expected_seq}")
            if row.prev_hash != prev_hash:
                return ChainCheck(False, count, row.seq, "prev_hash does not link")
            recomputed = event_hash(
                prev_hash=row.prev_hash, seq=row.seq, at=row.at, actor=row.actor,
                action=row.action, subject=row.subject, payload=row.payload,
            )
            if recomputed != row.hash:
                return ChainCheck(False, count, row.seq, "hash does not match content")
            prev_hash, expected_seq, count = row.hash, expected_seq + 1, count + 1
