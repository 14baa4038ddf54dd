"""5. Escalation punctuality: how late a ladder step is recorded after its due instant.

Ours: time-scaled cycles nobody works on, so every task that opens climbs its whole ladder
(reminder, overdue, parent, board). For each step: the time its recording activity completed
(the API had written the escalation by then) minus the real instant its calendar instant
maps to under the cycle's time scale. Steps that fired on opening (their instant had passed
before the task opened) are left out: they are not timer-driven. Baseline: bare workflows
sleeping on timers to the same offsets from their start and recording each with a no-op
activity. The ratio is of the p99s.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from datetime import datetime, timedelta

from temporalio.client import WorkflowHistory

from bench import histories
from bench.bare import BARE_TASK_QUEUE, BareTimers, TimersInput, TimerStep
from bench.harness import Bench, BenchError, gather_limited
from bench.report import Goal, Measurement
from bench.stats import percentile
from domain.calendar import cycle_start, ladder_for, ladder_instants, obligations
from domain.contracts import (
    ACTIVITY_OPEN_TASK,
    ACTIVITY_RECORD_LADDER_STEP,
    CycleInput,
    LadderStepRecorded,
    TaskOpened,
)
from domain.template import DEFAULT_TEMPLATE
from workflows.clock import CalendarClock

UPPER = "PUNC"
YEAR = 2100
MARGIN = 3.0


def expected_steps() -> tuple[int, float]:
    """Ladder steps per cycle when no task is ever done, and the calendar days until the last."""
    template = DEFAULT_TEMPLATE
    steps, last = 0, 0.0
    for obligation in obligations(template, YEAR):
        if obligation.prerequisites:
            continue  # waits forever for a task nobody completes
        for _, instant in ladder_instants(ladder_for(template, obligation.item_key),
                                          obligation.due_on):
            steps += 1
            last = max(last, (instant - cycle_start(YEAR)) / timedelta(days=1))
    return steps, last


async def _lateness(
    bench: Bench, history: WorkflowHistory, recording: list[float]
) -> tuple[list[float], list[list[TimerStep]]]:
    """Lateness of each timer-driven ladder step, and the cycle's schedule as bare timer steps."""
    cycle: CycleInput = await histories.workflow_input(bench.client, history, CycleInput)
    started = histories.started_at(history)
    clock = CalendarClock.for_cycle(
        year=cycle.year, started=started, seconds_per_day=cycle.seconds_per_day,
        calendar_origin=cycle.calendar_origin,
    )
    runs = await histories.activity_runs(
        bench.client, history,
        {ACTIVITY_OPEN_TASK: TaskOpened, ACTIVITY_RECORD_LADDER_STEP: LadderStepRecorded},
    )
    items = {o.key: o.item_key for o in obligations(cycle.template, cycle.year)}
    schedule: dict[str, list[TimerStep]] = defaultdict(list)
    late: list[float] = []
    for run_ in runs:
        event = run_.input
        due = clock.real_at(event.opened_at if run_.name == ACTIVITY_OPEN_TASK else event.at)
        offset = (due - started).total_seconds()
        if run_.name == ACTIVITY_OPEN_TASK:
            schedule[event.key].append(TimerStep(offset=offset, measured=False))
            continue
        instants = dict(ladder_instants(ladder_for(cycle.template, items[event.key]), event.due_on))
        timer_driven = instants[event.rung] == event.at
        schedule[event.key].append(TimerStep(offset=offset, measured=timer_driven))
        if timer_driven and run_.completed is not None:
            late.append((run_.completed - due).total_seconds())
            recording.append((run_.completed - run_.scheduled).total_seconds())
    return late, list(schedule.values())


async def _bare_lateness(
    bench: Bench, history: WorkflowHistory, request: TimersInput, recording: list[float]
) -> list[float]:
    started: datetime = histories.started_at(history)
    runs = await histories.activity_runs(bench.client, history, {"bench_noop": str})
    late = []
    for run_ in runs:
        item, _, n = run_.input.partition("/")
        step = request.items[int(item)][int(n)]
        if step.measured and run_.completed is not None:
            due = started + timedelta(seconds=step.offset)
            late.append((run_.completed - due).total_seconds())
            recording.append((run_.completed - run_.scheduled).total_seconds())
    return late


async def run(bench: Bench) -> list[Measurement]:
    sizes = bench.sizes
    m, seconds_per_day = sizes.punctuality_cycles, sizes.punctuality_seconds_per_day
    committees = [f"U{i:03d}" for i in range(1, m + 1)]
    await bench.branch(UPPER, committees)
    per_cycle, last_day = expected_steps()
    cycles = await gather_limited(
        (bench.start_cycle(c, YEAR, seconds_per_day) for c in committees), 8
    )
    await asyncio.sleep(last_day * seconds_per_day + MARGIN)
    ids = [c["workflow_id"] for c in cycles]
    ours: list[float] = []
    schedule: list[list[TimerStep]] = []
    recording: list[float] = []
    for _ in range(30):
        ours, schedule, recording = [], [], []
        for history in await histories.fetch(bench.client, ids):
            late, steps = await _lateness(bench, history, recording)
            ours.extend(late)
            schedule = schedule or steps
        if len(ours) >= per_cycle * m * 0.9:
            break
        await asyncio.sleep(2)
    else:
        raise BenchError(f"only {len(ours)} of {per_cycle * m} ladder steps were recorded")

    request = TimersInput(items=schedule)
    stamp = time.time_ns()
    handles = await asyncio.gather(*(
        bench.client.start_workflow(
            BareTimers.run, request, id=f"bench-timers-{stamp}-{i}", task_queue=BARE_TASK_QUEUE
        )
        for i in range(m)
    ))
    await asyncio.gather(*(h.result() for h in handles))
    bare: list[float] = []
    bare_recording: list[float] = []
    for handle in handles:
        bare.extend(
            await _bare_lateness(bench, await handle.fetch_history(), request, bare_recording)
        )

    def ms(values: list[float], q: float) -> float:
        return 1000 * percentile(values, q)

    return [
        Measurement(
            bench="punctuality", metric="ladder step lateness p99", unit="ms",
            ours=ms(ours, 99), baseline=ms(bare, 99), baseline_label="bare timer + no-op activity",
            goal=Goal("<=", 1.2),
            details={
                "cycles": m, "seconds_per_day": seconds_per_day, "steps": len(ours),
                "bare_steps": len(bare),
                "ours_p50_ms": round(ms(ours, 50), 2), "bare_p50_ms": round(ms(bare, 50), 2),
                "ours_recording_activity_p99_ms": round(ms(recording, 99), 2),
                "bare_recording_activity_p99_ms": round(ms(bare_recording, 99), 2),
                "ours_max_ms": round(1000 * max(ours), 2),
                "bare_max_ms": round(1000 * max(bare), 2),
                "ours_min_ms": round(1000 * min(ours), 2),
                "bare_min_ms": round(1000 * min(bare), 2),
            },
        )
    ]
