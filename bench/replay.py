"""4. Auditor replay: finished cycles' histories replayed against the current code.

Ours: the histories of the cycles the progression benchmark played to the end (or one made
here), replayed in one go with the workflows the worker runs and the project's data converter,
as `yearwheel audit replay --year` does. Baseline: trivial workflows (no-op activities one
after another) with histories of the same lengths, replayed the same way. Both in milliseconds
per 1,000 history events, median of warm passes; the first (cold) replay of a single history,
which pays for the sandbox importing the workflow code, is in the details, and so is a pass with
our modules passed through the sandbox (what the worker's setting saves; replays stay strict).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from bench import progression
from bench.bare import BARE_TASK_QUEUE, BareSteps
from bench.harness import Bench, gather_limited
from bench.report import Goal, Measurement
from bench.stats import median
from workflows import WORKFLOWS
from workflows.sandbox import workflow_runner

EVENTS_PER_STEP = 6  # scheduled, started, completed + a workflow task's three


async def _each(items: Sequence[WorkflowHistory]) -> AsyncIterator[WorkflowHistory]:
    for item in items:
        yield item


async def _timed(
    replayer: Replayer, items: Sequence[WorkflowHistory], repeats: int
) -> tuple[float, list[float]]:
    """The first replay of one history (cold), then `repeats` passes over all of them."""
    began = time.perf_counter()
    await replayer.replay_workflow(items[0])
    cold = time.perf_counter() - began
    passes = []
    for _ in range(repeats):
        began = time.perf_counter()
        async with replayer.workflow_replay_iterator(_each(items)) as results:
            async for result in results:
                if result.replay_failure is not None:
                    raise result.replay_failure
        passes.append(time.perf_counter() - began)
    return cold, passes


async def _bare_twins(bench: Bench, items: Sequence[WorkflowHistory]) -> list[WorkflowHistory]:
    """A BareSteps history about as long as each of `items`."""
    stamp = time.time_ns()

    async def twin(i: int, history: WorkflowHistory) -> WorkflowHistory:
        steps = max(1, round((len(history.events) - 5) / EVENTS_PER_STEP))
        handle = await bench.client.start_workflow(
            BareSteps.run, steps, id=f"bench-replay-{stamp}-{i}", task_queue=BARE_TASK_QUEUE
        )
        await handle.result()
        return await handle.fetch_history()

    return await gather_limited((twin(i, h) for i, h in enumerate(items)), 16)


def per_thousand(seconds: float, events: int) -> float:
    return 1000 * seconds / events * 1000


async def run(bench: Bench) -> list[Measurement]:
    items = list(bench.cycle_histories)
    if not items:
        _, items, _ = await progression.ours(bench, 1, 0.01)
    bare_items = await _bare_twins(bench, items)
    events = sum(len(h.events) for h in items)
    bare_events = sum(len(h.events) for h in bare_items)
    repeats = max(1, bench.sizes.replay_repeats // 4)
    ours_cold, ours = await _timed(
        Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter,
                 workflow_runner=workflow_runner()),
        items, repeats
    )
    # What the production worker's YEARWHEEL_SANDBOX_PASS_THROUGH_OWN saves per new cycle.
    _, passed = await _timed(
        Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter,
                 workflow_runner=workflow_runner(pass_through_own=True)),
        items, repeats
    )
    bare_cold, bare = await _timed(
        Replayer(workflows=[BareSteps], data_converter=pydantic_data_converter,
                 workflow_runner=workflow_runner("bench")),
        bare_items,
        repeats,
    )
    return [
        Measurement(
            bench="replay", metric="replay time per 1,000 history events", unit="ms/1k events",
            ours=per_thousand(median(ours), events),
            baseline=per_thousand(median(bare), bare_events),
            baseline_label="trivial workflows, same lengths", goal=Goal("<=", 1.5),
            details={
                "histories": len(items), "events": events, "bare_events": bare_events,
                "passes": repeats, "ours_pass_ms": round(1000 * median(ours), 1),
                "ours_passed_through_pass_ms": round(1000 * median(passed), 1),
                "bare_pass_ms": round(1000 * median(bare), 1),
                "ours_cold_single_ms": round(1000 * ours_cold, 1),
                "bare_cold_single_ms": round(1000 * bare_cold, 1),
            },
        )
    ]
