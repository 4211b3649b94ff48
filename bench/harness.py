"""What every benchmark group shares: the result row and the timing loop."""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Result:
    """One row of the results table (one object of latest.json)."""

    name: str
    value: float | None
    unit: str
    peer: str | None = None
    peer_value: float | None = None
    ratio: float | None = None  # peer_value / value: how many times faster than the peer
    target: str | None = None
    met: bool | None = None  # None: no target
    note: str = ""


@dataclass
class Timing:
    """How long to time: `repeat` runs of at least `run_seconds` each (at least one call per run)."""

    repeat: int
    run_seconds: float


def median_ns_per_unit(call: Callable[[], int], timing: Timing) -> float:
    """Median over `timing.repeat` runs of nanoseconds per unit of work; `call` does one round of
    work and returns how many units it did (completed tasks, decisions)."""
    start = time.perf_counter_ns()
    call()  # warm-up, and calibration
    once = max(time.perf_counter_ns() - start, 1)
    number = max(1, math.ceil(timing.run_seconds * 1e9 / once))
    samples = []
    for _ in range(timing.repeat):
        gc.collect()
        units = 0
        start = time.perf_counter_ns()
        for _ in range(number):
            units += call()
        samples.append((time.perf_counter_ns() - start) / units)
    return statistics.median(samples)
