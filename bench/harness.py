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


@dataclass
class Measurement:
    """Median nanoseconds per unit of work: wall clock (perf_counter_ns) and this process's CPU time
    (process_time_ns; on a busy machine the wall figure includes waiting for a core, this one not)."""

    wall_ns: float
    cpu_ns: float


def measure(call: Callable[[], int], timing: Timing) -> Measurement:
    """Medians over `timing.repeat` runs of nanoseconds per unit of work; `call` does one round of
    work and returns how many units it did (completed tasks, decisions)."""
    start = time.perf_counter_ns()
    call()  # warm-up, and calibration
    once = max(time.perf_counter_ns() - start, 1)
    number = max(1, math.ceil(timing.run_seconds * 1e9 / once))
    wall, cpu = [], []
    for _ in range(timing.repeat):
        gc.collect()
        units = 0
        start, start_cpu = time.perf_counter_ns(), time.process_time_ns()
        for _ in range(number):
            units += call()
        cpu.append((time.process_time_ns() - start_cpu) / units)
        wall.append((time.perf_counter_ns() - start) / units)
    return Measurement(statistics.median(wall), statistics.median(cpu))
