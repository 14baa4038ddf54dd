"""How big each benchmark is: the full run (`make bench`) and the quick smoke run (`--quick`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    # 1. Progression: committees whose time-scaled cycles a driver plays to the end.
    progression_cycles: int
    progression_seconds_per_day: float
    # 2. Completion latency: completions sent one at a time (after a few warm-up ones).
    latency_samples: int
    # 3. Inbox read: how long and how many at once each endpoint is read.
    inbox_seconds: float
    inbox_concurrency: int
    # 4. Auditor replay: replays of each history after a warm-up one.
    replay_repeats: int
    # 5. Escalation punctuality: cycles left to climb their ladders, and their time scale.
    punctuality_cycles: int
    punctuality_seconds_per_day: float
    # 6. Scale: cycles started for next year, the worker's cache, the bare start concurrency.
    scale_cycles: int
    scale_cache: int
    bare_start_concurrency: int

    @property
    def mode(self) -> str:
        return "quick" if self is QUICK else "full"


FULL = Sizes(
    progression_cycles=30,
    progression_seconds_per_day=0.01,
    latency_samples=200,
    inbox_seconds=6.0,
    inbox_concurrency=8,
    replay_repeats=20,
    punctuality_cycles=20,
    punctuality_seconds_per_day=0.05,
    scale_cycles=10_000,
    scale_cache=1000,
    bare_start_concurrency=32,
)

QUICK = Sizes(
    progression_cycles=6,
    progression_seconds_per_day=0.01,
    latency_samples=40,
    inbox_seconds=2.0,
    inbox_concurrency=8,
    replay_repeats=5,
    punctuality_cycles=6,
    punctuality_seconds_per_day=0.02,
    scale_cycles=1000,
    scale_cache=200,
    bare_start_concurrency=32,
)
