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
    number = _calls_for(call, timing.run_seconds)
    runs = [_timed(call, number) for _ in range(timing.repeat)]
    return Measurement(statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))


@dataclass
class Pair:
    """Two callables timed in alternation: each side's medians, and the median of the per-round
    ratios (peer time / ours)."""

    ours: Measurement
    theirs: Measurement
    ratio: float


def _calls_for(call: Callable[[], int], seconds: float) -> int:
    start = time.perf_counter_ns()
    call()  # warm-up, and calibration
    once = max(time.perf_counter_ns() - start, 1)
    return max(1, math.ceil(seconds * 1e9 / once))


def _timed(call: Callable[[], int], number: int) -> tuple[float, float]:
    gc.collect()
    units = 0
    start, start_cpu = time.perf_counter_ns(), time.process_time_ns()
    for _ in range(number):
        units += call()
    return (time.perf_counter_ns() - start) / units, (time.process_time_ns() - start_cpu) / units


def measure_pair(ours: Callable[[], int], theirs: Callable[[], int], timing: Timing, peer_timing: Timing) -> Pair:
    """Rounds of one run of `ours` then one run of `theirs` (each as in `measure`): a change of the
    machine's speed during the benchmark (another tenant, the clock) falls on both sides of a round
    alike, so the median of the rounds' ratios is steadier than the ratio of two medians taken
    one after the other. max(timing.repeat, peer_timing.repeat) rounds."""
    ours_number, theirs_number = _calls_for(ours, timing.run_seconds), _calls_for(theirs, peer_timing.run_seconds)
    ours_runs, theirs_runs = [], []
    for _ in range(max(timing.repeat, peer_timing.repeat)):
        ours_runs.append(_timed(ours, ours_number))
        theirs_runs.append(_timed(theirs, theirs_number))
    ratios = [theirs_wall / ours_wall for (ours_wall, _), (theirs_wall, _) in zip(ours_runs, theirs_runs, strict=True)]

    def medians(runs: list[tuple[float, float]]) -> Measurement:
        return Measurement(statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))

    return Pair(medians(ours_runs), medians(theirs_runs), statistics.median(ratios))
