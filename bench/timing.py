"""Timing samples and the two statistics the targets are written in."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable


def p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile: a value that was really measured, never interpolated."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def summary_ms(samples: list[float]) -> dict:
    """Median, p95 and max in milliseconds of samples taken in seconds."""
    return {
        "n": len(samples),
        "median_ms": round(statistics.median(samples) * 1000, 2),
        "p95_ms": round(p95(samples) * 1000, 2),
        "max_ms": round(max(samples) * 1000, 2),
    }


def timed(func: Callable[[], object]) -> tuple[float, object]:
    """Seconds ``func`` took, and what it returned."""
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result
