"""A webhook receiver on loopback, written as a committee's own system would write one: it
checks the signature and the timestamp, refuses a delivery it has already taken, and can be
told to answer 503 for a while."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse

from api.channels import webhook
from tests.api.mailbox import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str
    outages: int = 0  # answer 503 to this many requests first
    taken: list[Received] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    url: str = ""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        body = await request.body()
        status, answer = self._judge(dict(request.headers), body)
        if status != 200:
            self.refused.append((status, answer))
        await JSONResponse({"detail": answer}, status_code=status)(scope, receive, send)

    def _judge(self, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        if self.outages:
            self.outages -= 1
            return 503, "down for maintenance"
        why = webhook.verify(
            self.secret, timestamp=headers.get(webhook.TIMESTAMP.lower(), ""), body=body,
            signature=headers.get(webhook.SIGNATURE.lower(), ""), now=time.time(),
        )
        if why is not None:
            return 401, why
        key = headers.get(webhook.DELIVERY.lower(), "")
        if any(r.headers.get(webhook.DELIVERY.lower()) == key for r in self.taken):
            return 409, f"delivery {key} already taken"
        self.taken.append(Received(headers, body))
        return 200, "taken"


@contextlib.asynccontextmanager
async def receiving(receiver: Receiver) -> AsyncIterator[Receiver]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(receiver, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.01)
    receiver.url = f"http://127.0.0.1:{port}/yearwheel"
    try:
        yield receiver
    finally:
        server.should_exit = True
        await serving
