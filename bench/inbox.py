"""3. Inbox read: GET /tasks for a committee with 100 open tasks against GET /health.

Both are read for the same time with the same number of concurrent clients on the same API
process; the ratio is requests per second. The API's CPU use during each is in the details,
to show whether the API (not the load generator) was the limit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from bench.harness import Bench, BenchError, bearer
from bench.procstat import cpu_seconds
from bench.report import Goal, Measurement
from bench.stats import percentile, rate

PAGE = 100


async def load(
    send: Callable[[], Awaitable[httpx.Response]],
    *,
    seconds: float,
    concurrency: int,
    check: Callable[[httpx.Response], None],
) -> tuple[int, float, list[float]]:
    """Send requests from `concurrency` loops for `seconds`; count, elapsed, latencies."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            response = await send()
            latencies.append(time.perf_counter() - began)
            check(response)

    began = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return len(latencies), time.perf_counter() - began, latencies


def _expect_page(response: httpx.Response) -> None:
    if response.status_code != 200 or len(response.json()["items"]) != PAGE:
        raise BenchError(f"GET /tasks: {response.status_code} {response.text[:200]}")


def _expect_ok(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise BenchError(f"GET /health: {response.status_code} {response.text[:200]}")


async def run(bench: Bench) -> list[Measurement]:
    sizes = bench.sizes
    code, token, open_count = await bench.inbox()
    params: dict[str, str | int] = {"committee": code, "state": "open", "limit": PAGE}
    headers = bearer(token)
    api = bench.pid("api")
    figures: dict[str, dict[str, float]] = {}
    for name, send, check in (
        ("inbox", lambda: bench.http.get("/tasks", params=params, headers=headers), _expect_page),
        ("health", lambda: bench.http.get("/health"), _expect_ok),
    ):
        await load(send, seconds=0.5, concurrency=sizes.inbox_concurrency, check=check)  # warm
        cpu_before = cpu_seconds(api)
        count, elapsed, latencies = await load(
            send, seconds=sizes.inbox_seconds, concurrency=sizes.inbox_concurrency, check=check
        )
        figures[name] = {
            "requests": count, "seconds": round(elapsed, 2), "rps": rate(count, elapsed),
            "p50_ms": round(1000 * percentile(latencies, 50), 2),
            "p95_ms": round(1000 * percentile(latencies, 95), 2),
            "api_cpu_share": round((cpu_seconds(api) - cpu_before) / elapsed, 2),
        }
    return [
        Measurement(
            bench="inbox", metric=f"GET /tasks ({PAGE} open tasks) throughput", unit="req/s",
            ours=figures["inbox"]["rps"], baseline=figures["health"]["rps"],
            baseline_label="GET /health, same server", goal=Goal(">=", 0.5),
            details={"open_tasks": open_count, "concurrency": sizes.inbox_concurrency,
                     **{f"{k}_{n}": v for k, f in figures.items() for n, v in f.items()}},
        )
    ]
