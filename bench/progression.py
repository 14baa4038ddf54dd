"""1. Progression throughput: time-scaled cycles played to the end through the real API.

Ours: N committees' cycles, started with POST /cycles, driven by a simulated staff that polls
GET /tasks and completes each task with POST /tasks/{id}/complete. Counted as workflow actions
(activities scheduled + updates accepted, read from the histories) per second of wall time.
Baseline: N bare workflows doing the same number of no-op activities and updates, each
update sent straight to Temporal with execute_update.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from temporalio.client import WorkflowHistory

from bench import histories
from bench.bare import BARE_TASK_QUEUE, BareProgression, ProgressionInput
from bench.harness import Bench, BenchError, acting_on, bearer, gather_limited
from bench.report import Goal, Measurement
from bench.stats import rate
from domain.contracts import (
    ACTIVITY_CLOSE_CYCLE,
    ACTIVITY_OPEN_TASK,
    ACTIVITY_RECORD_LADDER_STEP,
    CycleClosed,
    LadderStepRecorded,
    TaskOpened,
)
from yearwheel.demo import evidence_for

YEAR = 2100
UPPER = "PROG"
ACTIONABLE = ("open", "overdue", "escalated")
POLL_SECONDS = 0.05
COMPLETIONS_IN_FLIGHT = 16
TIMEOUT = 600.0


@dataclass
class Driver:
    """The simulated staff: completes every actionable task it sees, each with its own token."""

    bench: Bench
    supervisor: str
    staff: dict[str, str]
    rng: random.Random = field(default_factory=lambda: random.Random(30))
    done: set[int] = field(default_factory=set)
    in_flight: set[int] = field(default_factory=set)
    answers: Counter[int] = field(default_factory=Counter)
    polls: int = 0
    cpu: dict[str, float] = field(default_factory=dict)

    async def run(self, stop: asyncio.Event) -> None:
        gate = asyncio.Semaphore(COMPLETIONS_IN_FLIGHT)
        pending: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            for task in await self._actionable():
                if task["id"] in self.done or task["id"] in self.in_flight:
                    continue
                if task["committee"] not in self.staff:
                    continue
                self.in_flight.add(task["id"])
                job = asyncio.create_task(self._complete(task, gate))
                pending.add(job)
                job.add_done_callback(pending.discard)
            try:
                await asyncio.wait_for(stop.wait(), timeout=POLL_SECONDS)
            except TimeoutError:
                pass
        for job in pending:
            job.cancel()

    async def _actionable(self) -> list[dict[str, Any]]:
        # Late tasks are overdue or escalated; look for those every fourth poll only.
        states = ACTIONABLE if self.polls % 4 == 0 else ("open",)
        self.polls += 1
        found: list[dict[str, Any]] = []
        for state in states:
            response = await self.bench.http.get(
                "/tasks", params={"state": state, "limit": 500}, headers=bearer(self.supervisor)
            )
            response.raise_for_status()
            found.extend(response.json()["items"])
        return found

    async def _complete(self, task: dict[str, Any], gate: asyncio.Semaphore) -> None:
        """Complete a task on the version the list showed; on 412 (a ladder step moved it on
        meanwhile) read it again and retry once, as a person in front of the form would."""
        token = self.staff[task["committee"]]
        try:
            async with gate:
                evidence = evidence_for(
                    task["evidence_kind"], "grassroots", date.fromisoformat(task["due_on"]),
                    self.rng,
                )
                for _ in range(2):
                    response = await self.bench.http.post(
                        f"/tasks/{task['id']}/complete", json={"evidence": evidence},
                        headers=acting_on(token, task),
                    )
                    self.answers[response.status_code] += 1
                    if response.status_code != 412:
                        break
                    fresh = await self.bench.http.get(f"/tasks/{task['id']}", headers=bearer(token))
                    if fresh.status_code != 200:
                        break
                    task = fresh.json()
            if response.status_code == 200:
                self.done.add(task["id"])
        finally:
            self.in_flight.discard(task["id"])


async def ours(bench: Bench, n: int, seconds_per_day: float) -> tuple[float, list[Any], Driver]:
    committees = [f"P{i:03d}" for i in range(1, n + 1)]
    await bench.branch(UPPER, committees)
    supervisor = await bench.user("bench-prog-supervisor", "supervisor", UPPER)
    staff = {c: await bench.user(f"bench-staff-{c}", "staff", c) for c in committees}
    driver = Driver(bench, supervisor, staff)
    stop = asyncio.Event()
    meter = bench.cpu_meter()
    started = time.perf_counter()
    driving = asyncio.create_task(driver.run(stop))
    try:
        cycles = await gather_limited(
            (bench.start_cycle(c, YEAR, seconds_per_day) for c in committees), 8
        )
        handles = [bench.client.get_workflow_handle(c["workflow_id"]) for c in cycles]
        async with asyncio.timeout(TIMEOUT):
            await asyncio.gather(*(h.result() for h in handles))
        elapsed = time.perf_counter() - started
        driver.cpu = meter.stop()
    finally:
        stop.set()
        await driving
    return elapsed, await histories.fetch(bench.client, [h.id for h in handles]), driver


async def shape_of(bench: Bench, history: WorkflowHistory) -> ProgressionInput:
    """The bare twin of a finished cycle: its tasks, each one's ladder steps, its closing."""
    runs = await histories.activity_runs(
        bench.client, history,
        {ACTIVITY_OPEN_TASK: TaskOpened, ACTIVITY_RECORD_LADDER_STEP: LadderStepRecorded,
         ACTIVITY_CLOSE_CYCLE: CycleClosed},
    )
    ladders: Counter[str] = Counter()
    for run_ in runs:
        if run_.name == ACTIVITY_OPEN_TASK:
            ladders[run_.input.key] += 0
        elif run_.name == ACTIVITY_RECORD_LADDER_STEP:
            ladders[run_.input.key] += 1
    closing = sum(run_.name == ACTIVITY_CLOSE_CYCLE for run_ in runs)
    return ProgressionInput(ladders=list(ladders.values()), closing=closing)


def bare_actions(shape: ProgressionInput) -> int:
    tasks = len(shape.ladders)
    return 2 * tasks + sum(shape.ladders) + shape.closing + tasks


async def _bare(
    bench: Bench, shapes: list[ProgressionInput]
) -> tuple[float, dict[str, float], list[str]]:
    stamp = time.time_ns()
    ids = [f"bench-progression-{stamp}-{i}" for i in range(len(shapes))]

    async def drive(index: int, shape: ProgressionInput) -> None:
        handle = await bench.client.start_workflow(
            BareProgression.run, shape, id=ids[index], task_queue=BARE_TASK_QUEUE,
        )
        await asyncio.gather(
            *(handle.execute_update(BareProgression.complete, k) for k in range(len(shape.ladders)))
        )
        await handle.result()

    meter = bench.cpu_meter()
    started = time.perf_counter()
    async with asyncio.timeout(TIMEOUT):
        await asyncio.gather(*(drive(i, shape) for i, shape in enumerate(shapes)))
    return time.perf_counter() - started, meter.stop(), ids


async def run(bench: Bench) -> list[Measurement]:
    sizes = bench.sizes
    n, seconds_per_day = sizes.progression_cycles, sizes.progression_seconds_per_day
    ours_seconds, cycle_histories, driver = await ours(bench, n, seconds_per_day)
    counts = [histories.count_actions(h) for h in cycle_histories]
    actions = sum(c.total for c in counts)
    bench.histories["full_cycle"] = max(cycle_histories, key=lambda h: len(h.events))
    bench.cycle_histories = cycle_histories
    shapes = [await shape_of(bench, h) for h in cycle_histories]
    bare_total = sum(bare_actions(shape) for shape in shapes)
    if bare_total != actions:
        raise BenchError(f"the baseline would do {bare_total} actions, ours did {actions}")
    bare_seconds, bare_cpu, bare_ids = await _bare(bench, shapes)
    bare_histories = await histories.fetch(bench.client, bare_ids)
    return [
        Measurement(
            bench="progression", metric="workflow actions per second", unit="actions/s",
            ours=rate(actions, ours_seconds), baseline=rate(actions, bare_seconds),
            baseline_label="bare workflow, no-op activities + updates", goal=Goal(">=", 0.7),
            details={
                "cycles": n, "seconds_per_day": seconds_per_day,
                "calendar_year_seconds": round(365 * seconds_per_day, 2),
                "actions": actions, "activities": sum(c.activities for c in counts),
                "updates": sum(c.updates for c in counts),
                "ours_seconds": round(ours_seconds, 3), "bare_seconds": round(bare_seconds, 3),
                "completion_answers": dict(driver.answers), "polls": driver.polls,
                "cpu_seconds_ours": driver.cpu, "cpu_seconds_bare": bare_cpu,
                "ours_ms": histories.median_ms(cycle_histories),
                "bare_ms": histories.median_ms(bare_histories),
            },
        )
    ]
