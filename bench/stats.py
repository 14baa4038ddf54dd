"""Small statistics the benchmarks share: percentiles and rates, with no third-party package."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def rate(count: float, seconds: float) -> float:
    """Events per second; a zero or negative duration is a bug in the caller."""
    if seconds <= 0:
        raise ValueError(f"a rate needs a positive duration, got {seconds}")
    return count / seconds
