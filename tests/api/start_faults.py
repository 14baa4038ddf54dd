"""Faults for the start tests, on the real dev server: a client interceptor that loses chosen
`start_workflow` calls, and a proxy in front of the dev server that can be cut and restored."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    WorkflowHandle,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode

from tests.conftest import free_port
from tests.reliability.tcp_proxy import pipe

StartHook = Callable[[int, str], Awaitable[None]]


def unavailable() -> RPCError:
    return RPCError("injected: Temporal did not answer", RPCStatusCode.UNAVAILABLE, b"")


class StartFaults(Interceptor):
    """Loses the starts of chosen workflow ids as a network would: the request before it
    reaches Temporal (`lose_request`), or the answer after Temporal started the workflow
    (`lose_answer`). `before_start(n, workflow_id)` runs before the n-th start (from 1)."""

    def __init__(self) -> None:
        self.lose_request: set[str] = set()
        self.lose_answer: set[str] = set()
        self.before_start: StartHook | None = None
        self.calls: list[str] = []
        self.answered: list[str] = []

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Outbound(next, self)

    def heal(self) -> None:
        self.lose_request.clear()
        self.lose_answer.clear()
        self.before_start = None


class _Outbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, faults: StartFaults) -> None:
        super().__init__(next)
        self.faults = faults

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        faults, workflow_id = self.faults, input.id
        faults.calls.append(workflow_id)
        if faults.before_start is not None:
            await faults.before_start(len(faults.calls), workflow_id)
        if workflow_id in faults.lose_request:
            raise unavailable()
        try:
            handle = await super().start_workflow(input)
        finally:
            faults.answered.append(workflow_id)
        if workflow_id in faults.lose_answer:
            raise unavailable()
        return handle


def faulty_client(temporal: Client, faults: StartFaults) -> Client:
    """A client on `temporal`'s connection whose starts go through `faults`."""
    return Client(
        temporal.service_client, namespace=temporal.namespace,
        data_converter=pydantic_data_converter, interceptors=[faults],
    )


class CuttableProxy:
    """A TCP proxy in this event loop: `cut()` is the network to Temporal going away (open
    connections reset, new ones refused); `restore()` brings it back on the same port.
    `hold()` is Temporal turning slow: what the client sends waits in the proxy (`held` is
    set once something does) until `release()`."""

    def __init__(self, upstream: str) -> None:
        host, _, port = upstream.rpartition(":")
        self.upstream = (host, int(port))
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.streams: set[asyncio.StreamWriter] = set()
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.held = asyncio.Event()

    def hold(self) -> None:
        self.held.clear()
        self.flowing.clear()

    def release(self) -> None:
        self.flowing.set()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Like `pipe`, each chunk waiting while the proxy holds."""
        try:
            while chunk := await reader.read(65536):
                if not self.flowing.is_set():
                    self.held.set()
                    await self.flowing.wait()
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def restore(self) -> None:
        self.server = await asyncio.start_server(
            self._connect, "127.0.0.1", self.port, reuse_address=True
        )

    def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for stream in self.streams:
            stream.transport.abort()
        self.streams.clear()

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        self.streams |= {writer, up_writer}
        await asyncio.gather(self._forward(reader, up_writer), pipe(up_reader, writer))

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, upstream: str) -> AsyncIterator[CuttableProxy]:
        proxy = cls(upstream)
        await proxy.restore()
        try:
            yield proxy
        finally:
            proxy.cut()

