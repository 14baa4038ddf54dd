"""A stack of real processes for fault tests: the dev server on a SQLite file, the API, workers.

`Rig` starts them through yearwheel.stack, lets a test stop, kill and restart each one, and on
exit stops everything and checks that no process of its groups is left and no port it used is
still listening. Blocking steps have `a`-prefixed twins that run in a thread, so a test's own
coroutines (the simulated staff) keep running while a process restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeTaskQueueRequest,
    ListTaskQueuePartitionsRequest,
)
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api.migrate import upgrade_async
from yearwheel.processes import ProcessGroup, free_port, wait_for_port
from yearwheel.stack import Stack, plan_stack, start_api, start_temporal, start_worker

WORKFLOW_TASKS = TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
ACTIVITY_TASKS = TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY


class LeftBehind(AssertionError):
    """A rig's process or port outlived it."""


def listening(port: int) -> bool:
    """Whether anything accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) not in (errno.ECONNREFUSED,)


def group_alive(pgid: int) -> bool:
    """Whether any process of the process group `pgid` is still there (zombies included)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_identity(pid: int) -> str:
    """The identity the SDK gives a worker by default: its client's `pid@host`."""
    return f"{pid}@{socket.gethostname()}"


@dataclass
class Rig:
    """The processes of one test's stack, and what is needed to check they are gone."""

    stack: Stack
    group: ProcessGroup
    pgids: set[int] = field(default_factory=set)
    ports: set[int] = field(default_factory=set)
    worker_pids: dict[str, int] = field(default_factory=dict)
    _client: Client | None = None

    # Starting and stopping each part.

    def start_temporal(self) -> None:
        start_temporal(self.group, self.stack)
        self._track("temporal", self.stack.temporal_port)

    def stop_temporal(self, *, sig: int = signal.SIGTERM) -> int | None:
        return self.group.stop("temporal", sig=sig)

    def start_api(self, name: str = "api", *, port: int | None = None) -> None:
        """The stack's API, or another API process `name` on `port` (same database, Temporal)."""
        start_api(self.group, self.stack, name=name, port=port)
        self._track(name, port or self.stack.api_port)

    def stop_api(self, *, sig: int = signal.SIGTERM) -> int | None:
        return self.group.stop("api", sig=sig)

    def start_worker(self, name: str = "worker", *, api_port: int | None = None) -> int:
        """A worker whose activities call the API on `api_port` (the stack's API by default)."""
        stack = self.stack if api_port is None else replace(self.stack, api_port=api_port)
        start_worker(self.group, stack, name=name)
        pid = self._track(name)
        self.worker_pids[name] = pid
        return pid

    def kill(self, name: str) -> int | None:
        """SIGKILL a process group: no handler runs, nothing is flushed."""
        return self.group.kill(name)

    def send_signal(self, name: str, sig: int) -> None:
        """Send a signal without waiting, e.g. SIGTERM to a worker that should drain."""
        os.killpg(self.group.procs[name].pid, sig)

    def process(self, name: str) -> subprocess.Popen[bytes]:
        return self.group.procs[name]

    def start_process(self, name: str, argv: list[str], *, port: int | None = None) -> None:
        """Any helper process (a TCP proxy), tracked like the stack's own."""
        proc = self.group.start(name, argv)
        self._track(name, port)
        if port is not None:
            wait_for_port(port, timeout=30, proc=proc)

    def _track(self, name: str, port: int | None = None) -> int:
        pid = self.group.procs[name].pid
        self.pgids.add(pid)  # started with start_new_session: the pid is the group id
        if port is not None:
            self.ports.add(port)
        return pid

    # The same steps from a coroutine, without blocking the event loop.

    async def astart_temporal(self) -> None:
        await asyncio.to_thread(self.start_temporal)

    async def astart_api(self, name: str = "api", *, port: int | None = None) -> None:
        await asyncio.to_thread(self.start_api, name, port=port)

    async def astop(self, name: str, *, sig: int = signal.SIGTERM) -> int | None:
        return await asyncio.to_thread(self.group.stop, name, sig=sig)

    async def akill(self, name: str) -> int | None:
        return await asyncio.to_thread(self.kill, name)

    async def astart_worker(self, name: str = "worker") -> int:
        return await asyncio.to_thread(self.start_worker, name)

    # Temporal, as the test sees it.

    async def temporal(self) -> Client:
        """The test's own client (reconnects by itself after a dev server restart)."""
        if self._client is None:
            self._client = await Client.connect(
                self.stack.temporal_address, data_converter=pydantic_data_converter
            )
        return self._client

    async def pollers(self, kind: TaskQueueType.ValueType = ACTIVITY_TASKS) -> set[str]:
        """Identities polling the stack's task queue for `kind` tasks lately (the server keeps
        them ~1 min), on any of its partitions: a poll waiting on a child partition is not
        seen on the root one until it ends, up to a minute later."""
        client = await self.temporal()
        partitions = await client.workflow_service.list_task_queue_partitions(
            ListTaskQueuePartitionsRequest(
                namespace="default", task_queue=TaskQueue(name=self.stack.task_queue)
            ),
            timeout=timedelta(seconds=5),
        )
        listed = (
            partitions.workflow_task_queue_partitions if kind == WORKFLOW_TASKS
            else partitions.activity_task_queue_partitions
        )
        identities: set[str] = set()
        for key in (p.key for p in listed):
            response = await client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace="default", task_queue=TaskQueue(name=key), task_queue_type=kind
                ),
                timeout=timedelta(seconds=5),
            )
            identities |= {p.identity for p in response.pollers}
        return identities

    async def wait_polling(
        self,
        name: str,
        *,
        within: float = 90.0,
        kinds: tuple[TaskQueueType.ValueType, ...] = (ACTIVITY_TASKS,),
    ) -> float:
        """Seconds until the worker `name` polls for each of `kinds` (activities by default)."""
        identity = worker_identity(self.worker_pids[name])
        started = time.monotonic()
        for kind in kinds:
            while identity not in await self.pollers(kind):
                proc = self.group.procs[name]
                if proc.poll() is not None:
                    log = self.group.log_dir / f"{name}.log"
                    raise RuntimeError(f"{name} exited with {proc.returncode}; see {log}")
                assert time.monotonic() - started < within, (
                    f"{name} ({identity}) did not poll for {TaskQueueType.Name(kind)} within "
                    f"{within} s; see {self.group.log_dir / f'{name}.log'}"
                )
                await asyncio.sleep(0.1)
        return time.monotonic() - started

    # Leaving nothing behind.

    def close(self, *, grace: float = 10.0) -> None:
        """Stop every process and check that none of their groups or ports is left `grace`
        seconds later; what is left is killed, and named in the failure."""
        self.group.stop_all()
        left = [pgid for pgid in sorted(self.pgids) if _still_there(pgid, within=grace)]
        held = [port for port in sorted(self.ports) if _still_listening(port, within=grace)]
        if left or held:
            for pgid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
            raise LeftBehind(f"process groups left: {left}; ports still listening: {held}")


def _still_there(pgid: int, *, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while group_alive(pgid):
        if time.monotonic() > deadline:
            return True
        time.sleep(0.05)
    return False


def _still_listening(port: int, *, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while listening(port):
        if time.monotonic() > deadline:
            return True
        time.sleep(0.05)
    return False


@contextlib.asynccontextmanager
async def running_stack(
    tmp_path: Path,
    *,
    workers: tuple[str, ...] = ("worker",),
    database_url: str | None = None,
    helpers: Sequence[tuple[str, list[str], int]] = (),
) -> AsyncIterator[Rig]:
    """Temporal (SQLite file), the migrated database, the API and `workers`, after any
    `helpers` (name, argv, port: a proxy the database URL goes through); all gone after."""
    # The rehearsals were written for the legacy template `default` (its roster and conferences).
    stack = replace(plan_stack(
        tmp_path / "state", temporal_port=None, api_port=None, ui=False, database_url=database_url
    ), cycle_template="default")
    built = Rig(stack=stack, group=ProcessGroup(tmp_path / "logs"))
    try:
        for name, argv, port in helpers:
            await asyncio.to_thread(built.start_process, name, argv, port=port)
        await built.astart_temporal()
        await upgrade_async(stack.database_url)
        await built.astart_api()  # answers /health once Temporal does
        for name in workers:
            built.start_worker(name)
        for name in workers:
            await built.wait_polling(name)
        yield built
    finally:
        await asyncio.to_thread(built.close)


def proxy_argv(*, listen: int, upstream: str) -> list[str]:
    """A TCP proxy process (tests/reliability/tcp_proxy.py) from `listen` to `upstream`."""
    return [sys.executable, "-m", "tests.reliability.tcp_proxy", str(listen), upstream]


__all__ = [
    "ACTIVITY_TASKS", "WORKFLOW_TASKS", "LeftBehind", "Rig", "free_port", "listening",
    "proxy_argv", "running_stack", "worker_identity",
]
