"""The stack every benchmark runs on, and the helpers they share.

One Temporal dev server (SQLite file in a temporary folder), the API and the product's worker
as processes (yearwheel.stack), plus a worker process for the bare baseline workflows on the
same server. Benchmarks put their committees under one root, BENCH, each in its own branch.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.bare import BARE_TASK_QUEUE, BareSteps
from bench.config import Sizes
from bench.procstat import CpuMeter
from yearwheel.processes import ProcessGroup, yearwheel_argv
from yearwheel.stack import Stack, migrate, plan_stack, start_api, start_temporal
from yearwheel.users import create_user_with_token

ROOT = "BENCH"
T = TypeVar("T")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def acting_on(token: str, task: dict[str, Any]) -> dict[str, str]:
    """Headers for a change to a task as listed: the bearer token and If-Match on its version
    (the API's ETag is the quoted row version, so the list spares a GET per task)."""
    return {**bearer(token), "If-Match": f'"{task["version"]}"'}


class BenchError(RuntimeError):
    """A benchmark could not measure what it set out to (not a missed goal)."""


@dataclass
class Bench:
    """A running stack and what the benchmarks share across it."""

    stack: Stack
    group: ProcessGroup
    client: Client
    http: httpx.AsyncClient
    admin: str
    sizes: Sizes
    # Filled by one benchmark for another: a full cycle's history (progression -> replay).
    histories: dict[str, WorkflowHistory] = field(default_factory=dict)
    cycle_histories: list[WorkflowHistory] = field(default_factory=list)
    _committees: set[str] = field(default_factory=set)
    _users: dict[str, str] = field(default_factory=dict)

    def pid(self, name: str) -> int:
        return self.group.procs[name].pid

    def cpu_meter(self) -> CpuMeter:
        """CPU seconds of every process of the stack, and of this one (the driver)."""
        pids = {name: proc.pid for name, proc in self.group.procs.items()}
        return CpuMeter({**pids, "bench": os.getpid()}).start()

    def check_alive(self) -> None:
        dead = [n for n, p in self.group.procs.items() if p.poll() is not None]
        if dead:
            raise BenchError(f"stopped unexpectedly: {', '.join(dead)} (see {self.log_dir})")

    @property
    def log_dir(self) -> Path:
        return self.group.log_dir

    async def committee(self, code: str, level: str, parent: str | None) -> None:
        """Create a committee through the API; one that already exists is fine."""
        if code in self._committees:
            return
        response = await self.http.post(
            "/committees",
            json={"code": code, "name": f"Đảng ủy {code}", "level": level, "parent": parent},
            headers=bearer(self.admin),
        )
        if response.status_code not in (201, 409):
            raise BenchError(f"POST /committees {code}: {response.status_code} {response.text}")
        self._committees.add(code)

    async def branch(self, upper: str, children: list[str]) -> None:
        """An upper-grassroots committee under BENCH with grassroots committees below it."""
        await self.committee(ROOT, "root", None)
        await self.committee(upper, "upper", ROOT)
        await gather_limited((self.committee(c, "grassroots", upper) for c in children), 8)

    async def user(self, name: str, role: str, committee: str | None = None) -> str:
        """A user's token, created straight in the database (as `yearwheel user create` does)."""
        if name not in self._users:
            self._users[name] = await create_user_with_token(
                self.stack.database_url, name=name, role=role, committee=committee
            )
        return self._users[name]

    async def start_cycle(
        self, committee: str, year: int, seconds_per_day: float | None
    ) -> dict[str, Any]:
        response = await self.http.post(
            "/cycles",
            json={"committee": committee, "year": year, "time_scale": seconds_per_day},
            headers=bearer(self.admin),
        )
        if response.status_code not in (200, 201):
            raise BenchError(f"POST /cycles {committee}/{year}: {response.text}")
        body: dict[str, Any] = response.json()
        return body

    async def open_tasks(self, token: str, committee: str, *, limit: int = 500) -> list[Any]:
        response = await self.http.get(
            "/tasks", params={"committee": committee, "state": "open", "limit": limit},
            headers=bearer(token),
        )
        response.raise_for_status()
        items: list[Any] = response.json()["items"]
        return items

    async def inbox(self) -> tuple[str, str, int]:
        """A committee with at least 100 open tasks, its staff token and how many it has.

        Its cycles run at one calendar day per real day from 1 January of years far ahead, so
        their first three tasks open at once and stay open, not overdue, for weeks.
        """
        code, cycles = "INBOX", 34
        await self.committee(ROOT, "root", None)
        await self.committee(code, "grassroots", ROOT)
        token = await self.user("bench-inbox-staff", "staff", code)
        await gather_limited(
            (self.start_cycle(code, 2100 + i, 86_400.0) for i in range(cycles)), 8
        )
        count = await wait_for(
            lambda: self._open_count(token, code), lambda n: n >= 3 * cycles, within=120,
            what=f"{3 * cycles} open tasks in {code}",
        )
        return code, token, count

    async def _open_count(self, token: str, committee: str) -> int:
        response = await self.http.get(
            "/tasks", params={"committee": committee, "state": "open", "limit": 1},
            headers=bearer(token),
        )
        response.raise_for_status()
        return int(response.json()["total"])


async def gather_limited(awaitables: Any, limit: int) -> list[Any]:
    """Await every awaitable, at most `limit` at a time; results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(aw: Awaitable[T]) -> T:
        async with gate:
            return await aw

    return list(await asyncio.gather(*(one(a) for a in awaitables)))


async def wait_for(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    within: float,
    what: str,
    interval: float = 0.2,
) -> T:
    """Call `probe` until `done(result)`; BenchError after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {within:.0f} s waiting for {what} (last: {result})")
        await asyncio.sleep(interval)


@asynccontextmanager
async def running_stack(state_dir: Path, sizes: Sizes) -> AsyncIterator[Bench]:
    """The stack, warmed up; every process is stopped on the way out."""
    stack = plan_stack(state_dir / "state", temporal_port=None, api_port=None, ui=False)
    worker_env = {
        **stack.env(),
        "YEARWHEEL_MAX_CACHED_WORKFLOWS": str(sizes.scale_cache),
    }
    with ProcessGroup(state_dir / "logs") as group:
        await asyncio.to_thread(start_temporal, group, stack)
        await asyncio.to_thread(migrate, stack)
        await asyncio.to_thread(start_api, group, stack)
        group.start("worker", yearwheel_argv("worker"), env=worker_env)
        group.start(
            "bare-worker", [sys.executable, "-m", "bench.bare_worker"],
            env={**worker_env, "BENCH_BARE_TASK_QUEUE": BARE_TASK_QUEUE,
                 "PYTHONPATH": _pythonpath()},
        )
        client = await Client.connect(
            stack.temporal_address, data_converter=pydantic_data_converter
        )
        admin = await create_user_with_token(stack.database_url, name="bench-admin", role="admin")
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as http:
            bench = Bench(stack=stack, group=group, client=client, http=http, admin=admin,
                          sizes=sizes)
            await warm_up(bench)
            yield bench


def _pythonpath() -> str:
    root = str(Path(__file__).resolve().parent.parent)
    existing = os.environ.get("PYTHONPATH")
    return f"{root}{os.pathsep}{existing}" if existing else root


async def warm_up(bench: Bench) -> None:
    """Both workers answer and every path is warm before anything is timed."""
    code = "WARMUP"
    await bench.committee(ROOT, "root", None)
    await bench.committee(code, "grassroots", ROOT)
    token = await bench.user("bench-warmup-staff", "staff", code)
    await bench.start_cycle(code, 2199, 86_400.0)
    await wait_for(
        lambda: bench.open_tasks(token, code), lambda items: len(items) >= 3, within=120,
        what="the worker to open the warm-up cycle's tasks",
    )
    await bench.client.execute_workflow(
        BareSteps.run, 3, id="bench-warmup-bare", task_queue=BARE_TASK_QUEUE,
    )
