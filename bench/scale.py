"""6. Scale: a whole year's cycles started with one POST /years/{year}/cycles.

Committees are created straight in the database until the tree owes `scale_cycles` cycles.
Baseline: bare workflows that sleep on one timer, started with start_workflow from this
process, `bare_start_concurrency` at a time, a quarter of the count before ours and a quarter
after (the dev server slows as it fills). Ours: next year's
cycles (unscaled, so every one sleeps until its first open day) started through the API with
the CLI's bulk start (yearwheel.bulk), while this process samples the worker's memory and
reads GET /tasks once every 100 ms. Rows: the start rate against bare starts; the worker's
peak memory against the bare worker's (same cache setting); the growth of the worker's peak
memory over the second half of its work on the new cycles (bounded by the cache: about 1.0;
growing with the cycles: about 2.0); GET /tasks p95 during the start against at rest. The
worker runs each new cycle's first workflow task behind the starts, at a steady rate, so the
half-way point is read off its CPU time, sampled with its memory until it is idle again.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from api.db import make_engine, make_sessions
from api.schemas import CommitteeCreate
from api.services.committees import create_committee
from bench.bare import BARE_TASK_QUEUE, BareSleep
from bench.harness import ROOT, Bench, BenchError, bearer, gather_limited
from bench.procstat import cpu_seconds, memory_kib
from bench.report import Goal, Measurement
from bench.stats import percentile, rate
from domain.calendar import HCM
from domain.contracts import CommitteeLevel
from yearwheel.bulk import owing_committees, start_year_async

UPPER = "SCALE"
BATCH = 500
READ_EVERY = 0.1


async def create_committees(database_url: str, codes: list[str], parent: str) -> None:
    """Grassroots committees under `parent`, straight in the database, in batches."""
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    try:
        for first in range(0, len(codes), BATCH):
            async with sessions() as session, session.begin():
                for code in codes[first:first + BATCH]:
                    await create_committee(
                        session=session, actor="bench",
                        data=CommitteeCreate(code=code, name=f"Chi bộ {code}",
                                             level=CommitteeLevel.GRASSROOTS, parent=parent),
                    )
    finally:
        await engine.dispose()


@dataclass
class Watch:
    """What this process sees of the worker and of GET /tasks while cycles are being started."""

    bench: Bench
    process: str
    # (s, started, RSS KiB, worker CPU s)
    samples: list[tuple[float, int, int, float]] = field(default_factory=list)
    reads: list[float] = field(default_factory=list)
    done: int = 0
    total: int = 0

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    async def memory(self, stop: asyncio.Event, began: float) -> None:
        pid = self.bench.pid(self.process)
        while not stop.is_set():
            mem = memory_kib(pid)
            self.samples.append(
                (time.perf_counter() - began, self.done, mem.get("VmRSS", 0), cpu_seconds(pid))
            )
            await _pause(stop, 0.5)

    def half_way_peak_kib(self) -> int:
        """The highest RSS sampled until the worker had spent half its CPU time of the run."""
        if not self.samples:
            return 0
        first, last = self.samples[0][3], self.samples[-1][3]
        half = first + (last - first) / 2
        return max(kib for _, _, kib, cpu in self.samples if cpu <= half)

    async def tasks(self, stop: asyncio.Event, path: str, params: dict[str, str | int],
                    token: str) -> None:
        while not stop.is_set():
            began = time.perf_counter()
            response = await self.bench.http.get(path, params=params, headers=bearer(token))
            response.raise_for_status()
            self.reads.append(time.perf_counter() - began)
            await _pause(stop, READ_EVERY)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


async def until_idle(pid: int, *, within: float, below: float = 0.05) -> float:
    """Wait until a process uses less than `below` of a core for a second; seconds waited."""
    began = time.perf_counter()
    while time.perf_counter() - began < within:
        before = cpu_seconds(pid)
        await asyncio.sleep(1.0)
        if cpu_seconds(pid) - before < below:
            break
    return time.perf_counter() - began


async def _bare_starts(bench: Bench, n: int, label: str) -> float:
    """Start `n` sleeping bare workflows; seconds it took (the worker's backlog not included)."""
    stamp = time.time_ns()
    began = time.perf_counter()
    await gather_limited(
        (
            bench.client.start_workflow(
                BareSleep.run, 400, id=f"bench-sleep-{label}-{stamp}-{i}",
                task_queue=BARE_TASK_QUEUE,
            )
            for i in range(n)
        ),
        bench.sizes.bare_start_concurrency,
    )
    elapsed = time.perf_counter() - began
    await until_idle(bench.pid("bare-worker"), within=60)  # its backlog of first tasks
    return elapsed


async def run(bench: Bench) -> list[Measurement]:
    sizes = bench.sizes
    target = sizes.scale_cycles
    setup_began = time.perf_counter()
    await bench.committee(ROOT, "root", None)
    await bench.committee(UPPER, "upper", ROOT)
    owing = await _owing(bench)
    codes = [f"S{i:05d}" for i in range(1, max(0, target - owing) + 1)]
    await create_committees(bench.stack.database_url, codes, UPPER)
    owing = await _owing(bench)
    inbox, inbox_token, _ = await bench.inbox()
    params: dict[str, str | int] = {"committee": inbox, "state": "open", "limit": 100}
    read = ("/tasks", params, inbox_token)
    at_rest = Watch(bench, "worker")
    rest_stop = asyncio.Event()
    reading = asyncio.create_task(at_rest.tasks(rest_stop, *read))
    await asyncio.sleep(3.0)
    rest_stop.set()
    await reading

    setup_seconds = time.perf_counter() - setup_began
    # The baseline brackets ours, a quarter of the count before and a quarter after: the dev
    # server slows as it fills, so neither side gets the emptier server.
    bare_count = owing // 4
    bare_before = await _bare_starts(bench, bare_count, "before")

    year = datetime.now(HCM).year + 1
    watch = Watch(bench, "worker")
    stop = asyncio.Event()
    meter = bench.cpu_meter()
    began = time.perf_counter()
    sampler = asyncio.create_task(watch.memory(stop, began))
    reader = asyncio.create_task(watch.tasks(stop, *read))
    outcome = await start_year_async(
        bench.stack.api_url, bench.admin, year, None, on_progress=watch.progress
    )
    ours_seconds = time.perf_counter() - began
    cpu = meter.stop()
    drained = await until_idle(bench.pid("worker"), within=600)
    stop.set()
    await asyncio.gather(sampler, reader)
    if outcome.failed or outcome.started < owing:
        raise BenchError(f"bulk start: {outcome.model_dump()}")
    bare_after = await _bare_starts(bench, bare_count, "after")
    bare_seconds = bare_before + bare_after

    peak = memory_kib(bench.pid("worker")).get("VmHWM", 0)
    bare_peak = memory_kib(bench.pid("bare-worker")).get("VmHWM", 0)
    half = watch.half_way_peak_kib() or peak
    series = [
        {"s": round(s, 1), "started": done, "rss_mib": round(kib / 1024, 1),
         "worker_cpu_s": round(cpu, 1)}
        for s, done, kib, cpu in watch.samples[:: max(1, len(watch.samples) // 12)]
    ]
    common = {"cycles": owing, "cache": sizes.scale_cache, "year": year}
    return [
        Measurement(
            bench="scale", metric=f"bulk start rate ({owing:,} cycles)", unit="starts/s",
            ours=rate(outcome.started, ours_seconds),
            baseline=rate(2 * bare_count, bare_seconds),
            baseline_label=f"bare start_workflow ×{sizes.bare_start_concurrency}",
            goal=Goal(">=", 0.8),
            details={**common, "ours_seconds": round(ours_seconds, 1),
                     "setup_seconds": round(setup_seconds, 1), "bare_starts": 2 * bare_count,
                     "bare_seconds_before": round(bare_before, 1),
                     "bare_seconds_after": round(bare_after, 1), "outcome": outcome.model_dump(),
                     "worker_drain_seconds": round(drained, 1), "cpu_seconds_ours": cpu},
        ),
        Measurement(
            bench="scale", metric="worker peak RSS, all cycles running", unit="MiB",
            ours=peak / 1024, baseline=bare_peak / 1024,
            baseline_label=f"bare worker, same cache, {2 * bare_count:,} workflows", goal=None,
            details=common,
        ),
        Measurement(
            bench="scale", metric="worker peak RSS growth, 2nd half of its work", unit="MiB",
            ours=peak / 1024, baseline=half / 1024,
            baseline_label="peak half-way through the worker's work",
            goal=Goal("<=", 1.1), details={**common, "series": series},
        ),
        Measurement(
            bench="scale", metric="GET /tasks p95 during the bulk start", unit="ms",
            ours=1000 * percentile(watch.reads, 95), baseline=1000 * percentile(at_rest.reads, 95),
            baseline_label="same read at rest", goal=None,
            details={"reads_during": len(watch.reads), "reads_at_rest": len(at_rest.reads),
                     "p50_during_ms": round(1000 * percentile(watch.reads, 50), 2),
                     "p50_at_rest_ms": round(1000 * percentile(at_rest.reads, 50), 2)},
        ),
    ]


async def _owing(bench: Bench) -> int:
    """Active committees below a root: what a bulk start starts."""
    async with httpx.AsyncClient(
        base_url=bench.stack.api_url, headers=bearer(bench.admin), timeout=60
    ) as client:
        return await owing_committees(client)
