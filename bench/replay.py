"""4. Auditor replay: a full cycle's history replayed against the current code.

Ours: the history of a cycle played to its end (from the progression benchmark, or one made
here), replayed with the workflows the worker runs and the project's data converter.
Baseline: a trivial workflow (no-op activities one after another) whose history is about as
long, replayed the same way. Both in milliseconds per 1,000 history events, median of warm
replays; the first (cold) replay of each is in the details.
"""

from __future__ import annotations

import time

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from bench import progression
from bench.bare import BARE_TASK_QUEUE, BareSteps
from bench.harness import Bench
from bench.report import Goal, Measurement
from bench.stats import median
from workflows import WORKFLOWS

EVENTS_PER_STEP = 6  # scheduled, started, completed + a workflow task's three


async def _timed(
    replayer: Replayer, history: WorkflowHistory, repeats: int
) -> tuple[float, list[float]]:
    began = time.perf_counter()
    await replayer.replay_workflow(history)
    cold = time.perf_counter() - began
    warm = []
    for _ in range(repeats):
        began = time.perf_counter()
        await replayer.replay_workflow(history)
        warm.append(time.perf_counter() - began)
    return cold, warm


def per_thousand(seconds: float, events: int) -> float:
    return 1000 * seconds / events * 1000


async def run(bench: Bench) -> list[Measurement]:
    history = bench.histories.get("full_cycle")
    if history is None:
        _, made, _ = await progression.ours(bench, 1, 0.01)
        history = made[0]
    events = len(history.events)
    steps = max(1, round((events - 5) / EVENTS_PER_STEP))
    handle = await bench.client.start_workflow(
        BareSteps.run, steps, id=f"bench-replay-{time.time_ns()}", task_queue=BARE_TASK_QUEUE
    )
    await handle.result()
    bare_history = await handle.fetch_history()
    bare_events = len(bare_history.events)

    repeats = bench.sizes.replay_repeats
    ours_cold, ours = await _timed(
        Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter), history, repeats
    )
    bare_cold, bare = await _timed(
        Replayer(workflows=[BareSteps], data_converter=pydantic_data_converter), bare_history,
        repeats,
    )
    return [
        Measurement(
            bench="replay", metric="replay time per 1,000 history events", unit="ms/1k events",
            ours=per_thousand(median(ours), events),
            baseline=per_thousand(median(bare), bare_events),
            baseline_label="trivial workflow, same length", goal=Goal("<=", 1.5),
            details={
                "events": events, "bare_events": bare_events, "repeats": repeats,
                "ours_median_ms": round(1000 * median(ours), 2),
                "bare_median_ms": round(1000 * median(bare), 2),
                "ours_cold_ms": round(1000 * ours_cold, 2),
                "bare_cold_ms": round(1000 * bare_cold, 2),
            },
        )
    ]
