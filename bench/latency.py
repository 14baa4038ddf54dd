"""2. Completion latency: POST /tasks/{id}/complete against a bare execute_update round trip.

Ours: open tasks completed one at a time through the API (auth, evidence validation, database
reads, the Update, whose handler records the completion through an activity that calls the
API back, and the answer). Baseline: execute_update on a bare workflow whose handler returns
at once. Also shown, to tell Temporal's share from ours: the same update with one no-op
activity in its handler (what our handler's recording costs when the recording is free), and
with one no-op local activity instead (what recording as a local activity would cost).
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import date
from typing import Any

from bench import histories
from bench.bare import BARE_TASK_QUEUE, BareUpdates
from bench.harness import ROOT, Bench, BenchError, acting_on, bearer, gather_limited, wait_for
from bench.report import Goal, Measurement
from bench.stats import percentile
from yearwheel.demo import evidence_for

COMMITTEE = "LAT"
FIRST_YEAR = 2100
WARM_UP = 5
PAUSE = 0.025  # lets the previous completion's follow-up (an opened task) settle


def _ms(values: list[float], q: float) -> float:
    return 1000 * percentile(values, q)


async def _open_tasks(bench: Bench, token: str, wanted: int) -> list[dict[str, Any]]:
    cycles = -(-wanted // 3)
    await gather_limited(
        (bench.start_cycle(COMMITTEE, FIRST_YEAR + i, 86_400.0) for i in range(cycles)), 8
    )
    return await wait_for(
        lambda: bench.open_tasks(token, COMMITTEE), lambda items: len(items) >= wanted,
        within=120, what=f"{wanted} open tasks in {COMMITTEE}",
    )


async def _ours(bench: Bench, token: str, tasks: list[dict[str, Any]]) -> list[float]:
    rng = random.Random(1751)
    seconds: list[float] = []
    for task in tasks:
        evidence = evidence_for(task["evidence_kind"], "grassroots", date(2100, 1, 10), rng)
        began = time.perf_counter()
        response = await bench.http.post(
            f"/tasks/{task['id']}/complete", json={"evidence": evidence},
            headers=acting_on(token, task),
        )
        elapsed = time.perf_counter() - began
        if response.status_code != 200:
            raise BenchError(f"completing {task['id']}: {response.status_code} {response.text}")
        seconds.append(elapsed)
        await asyncio.sleep(PAUSE)
    return seconds[WARM_UP:]


async def _reads(bench: Bench, token: str, tasks: list[dict[str, Any]]) -> list[float]:
    """GET /tasks/{id}: the same auth and database read a completion starts with."""
    seconds = []
    for task in tasks:
        began = time.perf_counter()
        response = await bench.http.get(f"/tasks/{task['id']}", headers=bearer(token))
        seconds.append(time.perf_counter() - began)
        response.raise_for_status()
    return seconds[WARM_UP:]


async def _bare(bench: Bench, samples: int, update: str) -> list[float]:
    handle = await bench.client.start_workflow(
        BareUpdates.run, id=f"bench-latency-{update}-{time.time_ns()}",
        task_queue=BARE_TASK_QUEUE,
    )
    seconds = []
    for n in range(samples + WARM_UP):
        began = time.perf_counter()
        await handle.execute_update(update, n, result_type=int)
        seconds.append(time.perf_counter() - began)
        await asyncio.sleep(PAUSE)
    await handle.signal(BareUpdates.finish)
    await handle.result()
    return seconds[WARM_UP:]


async def run(bench: Bench) -> list[Measurement]:
    samples = bench.sizes.latency_samples
    await bench.committee(ROOT, "root", None)
    await bench.committee(COMMITTEE, "grassroots", ROOT)
    token = await bench.user("bench-latency-staff", "staff", COMMITTEE)
    tasks = (await _open_tasks(bench, token, samples + WARM_UP))[: samples + WARM_UP]
    reads = await _reads(bench, token, tasks)
    ours = await _ours(bench, token, tasks)
    bare = await _bare(bench, samples, "touch")
    bare_recorded = await _bare(bench, samples, "touch_recorded")
    bare_local = await _bare(bench, samples, "touch_recorded_locally")
    cycle_ids = sorted({task["workflow_id"] for task in tasks})
    inside = histories.median_ms(await histories.fetch(bench.client, cycle_ids))
    details = {
        "samples": len(ours),
        "ours_p50_ms": round(_ms(ours, 50), 2), "ours_p95_ms": round(_ms(ours, 95), 2),
        "bare_update_p50_ms": round(_ms(bare, 50), 2),
        "bare_update_p95_ms": round(_ms(bare, 95), 2),
        "bare_update_with_noop_activity_p50_ms": round(_ms(bare_recorded, 50), 2),
        "bare_update_with_noop_activity_p95_ms": round(_ms(bare_recorded, 95), 2),
        "bare_update_with_noop_local_activity_p50_ms": round(_ms(bare_local, 50), 2),
        "bare_update_with_noop_local_activity_p95_ms": round(_ms(bare_local, 95), 2),
        "get_task_p50_ms": round(_ms(reads, 50), 2),
        "in_history_update_median_ms": inside["update_median_ms"],
        "in_history_activity_median_ms": inside["activity_median_ms"],
    }
    return [
        Measurement(
            bench="latency", metric=f"POST /tasks/{{id}}/complete p{q}", unit="ms",
            ours=_ms(ours, q), baseline=_ms(bare, q), baseline_label="bare execute_update",
            goal=Goal("<=", 2.0), details=details,
        )
        for q in (50, 95)
    ]
