"""Webhooks: one JSON POST per delivery, signed so a receiver can tell it is ours and refuse a
replay.

The signature is HMAC-SHA256 with the user's shared secret over "<timestamp>.<body>", sent as
`X-Yearwheel-Signature: sha256=<hex>` beside `X-Yearwheel-Timestamp` (Unix seconds) and
`X-Yearwheel-Delivery` (the delivery key, the same on every attempt). A receiver recomputes the
signature, refuses a timestamp outside its tolerance and a delivery key it has already taken;
`verify` does the first two.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

import httpx

SIGNATURE = "X-Yearwheel-Signature"
TIMESTAMP = "X-Yearwheel-Timestamp"
DELIVERY = "X-Yearwheel-Delivery"
TOLERANCE_SECONDS = 300


class Refused(Exception):
    """The receiver answered, but not with 2xx."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify(
    secret: str, *, timestamp: str, body: bytes, signature: str, now: float,
    tolerance: float = TOLERANCE_SECONDS,
) -> str | None:
    """Why a received request is refused, or None when it is ours and fresh."""
    try:
        sent = int(timestamp)
    except ValueError:
        return f"{TIMESTAMP} is not a Unix time: {timestamp!r}"
    if abs(now - sent) > tolerance:
        return f"{TIMESTAMP} {sent} is more than {tolerance:.0f} s from now"
    if not hmac.compare_digest(sign(secret, sent, body), signature):
        return f"{SIGNATURE} does not match the body"
    return None


def body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode()


async def send(
    *, url: str, secret: str, delivery_key: str, payload: dict[str, Any], at: datetime,
    wait_seconds: float,
) -> None:
    """POST the payload; anything but a 2xx answer raises."""
    data = body(payload)
    stamp = int(at.timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        TIMESTAMP: str(stamp), DELIVERY: delivery_key, SIGNATURE: sign(secret, stamp, data),
    }
    async with httpx.AsyncClient(timeout=wait_seconds) as client:
        response = await client.post(url, content=data, headers=headers)
    if not response.is_success:
        raise Refused(f"{url} answered {response.status_code}: {response.text[:200]}")
