"""Engine hot path against SpiffWorkflow 3.x in the same process (issue 8).

Unit: wall time per completed task = (start the case + start and complete every work item,
including the engine enabling the next ones) / work items completed. Both engines run the same
neutral net (bench.shapes) with the same data, and must complete the same tasks the same number of
times; spec construction and compilation are outside the timed region.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench import knhk_models, shapes, spiff_models
from bench.harness import Measurement, Result, Timing, measure, measure_pair
from knhk.engine import get_executor

PEER = "SpiffWorkflow 3.2"


@dataclass(frozen=True)
class Target:
    """One issue's bar for a shape: at most `max_us` per completed task (None: no bound) and at
    least `min_ratio` times the peer's rate."""

    issue: str
    max_us: float | None
    min_ratio: float

    def text(self) -> str:
        bound = "" if self.max_us is None else f"<= {self.max_us:g} us/task, "
        return f"{self.issue}: {bound}>= {self.min_ratio:g}x"

    def met(self, value: float, ratio: float) -> bool:
        return ratio >= self.min_ratio and (self.max_us is None or value <= self.max_us)


ISSUE_8 = Target("issue 8", 2.0, 90.0)
SEQUENCE_TARGETS = (Target("issue 2", 3.0, 60.0), ISSUE_8)
AND_JOIN_TARGETS = (Target("issue 2", 3.0, 1000.0), ISSUE_8)
OTHER_TARGETS = (Target("issue 8", None, 90.0),)


def _completed(counts: Any) -> int:
    return sum(counts[0].values())


def shape_result(name: str, net: shapes.Net, timing: Timing, peer_timing: Timing,
                 targets: tuple[Target, ...]) -> Result:
    """Per-task time of one shape on both engines, timed in alternating rounds, after checking
    they complete the same tasks. The ratio is the median of the rounds' ratios."""
    executor = get_executor(knhk_models.spec_dict(net))
    spiff_spec = spiff_models.build_spec(net)
    ours, theirs = knhk_models.run_case(executor, net)[0], spiff_models.run_case(spiff_spec, net)[0]
    if ours != theirs:
        raise RuntimeError(f"the engines completed different tasks: KNHK {dict(ours)}, SpiffWorkflow {dict(theirs)}")
    pair = measure_pair(lambda: knhk_models.complete_all(executor, net),
                        lambda: _completed(spiff_models.run_case(spiff_spec, net)), timing, peer_timing)
    value, peer_value, ratio = pair.ours.wall_ns / 1000, pair.theirs.wall_ns / 1000, pair.ratio
    verdicts = [f"{target.issue} {'met' if target.met(value, ratio) else 'not met'}" for target in targets]
    return Result(name, round(value, 3), "us/task", PEER, round(peer_value, 3), round(ratio, 1),
                  "; ".join(target.text() for target in targets), all(t.met(value, ratio) for t in targets),
                  note=f"{', '.join(verdicts)}; {sum(ours.values())} work items per case; ratio: median of "
                       f"{max(timing.repeat, peer_timing.repeat)} alternating rounds; "
                       + _cpu_note(pair.ours, pair.theirs, "task"))


def _cpu_note(ours: Measurement, theirs: Measurement | None, unit: str) -> str:
    """The same runs in CPU time (what the process itself spent, without waiting for a core)."""
    text = f"CPU time {ours.cpu_ns / 1000:.2f} us/{unit}"
    if theirs is not None:
        text += f" vs {theirs.cpu_ns / 1000:.2f} ({theirs.cpu_ns / ours.cpu_ns:.1f}x)"
    return text


def orjoin_result(name: str, net: shapes.Net, join: str, stop_after: tuple[str, int], timing: Timing) -> Result:
    """One OR-join enabling decision with a branch still running (so the answer is 'wait'), on
    both engines: KNHK's `orjoin_enabled`, SpiffWorkflow's structured Join threshold check."""
    executor = get_executor(knhk_models.spec_dict(net))
    ours = knhk_models.orjoin_decision(executor, net, join, stop_after)
    ours_warm = knhk_models.orjoin_decision(executor, net, join, stop_after, cold=False)
    theirs = spiff_models.orjoin_decision(spiff_models.build_spec(net), net, join, stop_after)
    if ours() or theirs():
        raise RuntimeError(f"{join} must wait after {stop_after}: KNHK says {ours()}, SpiffWorkflow {theirs()}")
    batch = 100

    def decisions(decide: Callable[[], bool]) -> Callable[[], int]:
        def call() -> int:
            for _ in range(batch):
                decide()
            return batch
        return call

    ours_t, theirs_t = measure(decisions(ours), timing), measure(decisions(theirs), timing)
    warm_t = measure(decisions(ours_warm), timing)
    value, peer_value = ours_t.wall_ns / 1000, theirs_t.wall_ns / 1000
    return Result(name, round(value, 3), "us/decision", PEER, round(peer_value, 3), round(peer_value / value, 1),
                  note=f"{len(net.tasks)}-task net, decision taken after {stop_after[0]} #{stop_after[1]}, "
                       "the engine's per-state answer cache emptied before each; with that cache warm (the same "
                       f"state seen before, in any case of the net) {warm_t.wall_ns / 1000:.2f} us; "
                       f"{_cpu_note(ours_t, theirs_t, 'decision')}; no target in the issue")


def order_fulfillment_result(name: str, timing: Timing) -> Result:
    """Per-task time of a whole orderfulfillment.yawl case (KNHK only: SpiffWorkflow cannot run
    YAWL; the synthetic orderfulfillment-sized row is the like-for-like comparison)."""
    if not knhk_models.ORDER_FULFILLMENT_FILE.is_file():
        return Result(name, None, "us/task", note="skipped: ../shared/yawl/orderfulfillment.yawl is absent")
    from knhk.engine.importers import load_spec_file

    spec = load_spec_file(knhk_models.ORDER_FULFILLMENT_FILE)
    executor = get_executor(spec)
    outputs = knhk_models.declared_outputs(spec)
    counts = knhk_models.run_order_fulfillment(executor, outputs)[0]
    timed = measure(lambda: _completed(knhk_models.run_order_fulfillment(executor, outputs)), timing)
    return Result(name, round(timed.wall_ns / 1000, 3), "us/task",
                  note=f"{sum(counts.values())} work items per case (composite and MI parents not counted); "
                       "input queries, output mappings and predicates are XPath over the case data; "
                       + _cpu_note(timed, None, "task"))


class _StubItem:
    __slots__ = ("id", "task", "state")

    def __init__(self, item_id: str, task: str) -> None:
        self.id, self.task, self.state = item_id, task, "enabled"


class _StubCase:
    """The least any engine can do for a sequence (one dict entry per live item, no events), so
    the client loop's own cost per task can be measured."""

    def __init__(self, length: int) -> None:
        self.length, self.done, self.status = length, 0, "running"
        self.items = {"1": _StubItem("1", "t1")}

    def drain_events(self) -> list:
        return []

    def start(self, item_id: str) -> None:
        self.items[item_id].state = "started"

    def complete(self, item_id: str, data: Any = None) -> None:
        del self.items[item_id]
        self.done += 1
        if self.done == self.length:
            self.status = "completed"
        else:
            next_id = str(self.done + 1)
            self.items[next_id] = _StubItem(next_id, f"t{next_id}")


class _StubExecutor:
    def __init__(self, length: int) -> None:
        self.length = length

    def start_case(self, case_id: str, data: Any) -> _StubCase:
        return _StubCase(self.length)


def client_floor_result(name: str, timing: Timing) -> Result:
    """The benchmark client's loop on a stub engine: the part of every per-task figure that is not
    the engine's."""
    net = shapes.sequence(100)
    stub = _StubExecutor(len(net.tasks))
    timed = measure(lambda: knhk_models.complete_all(stub, net), timing)
    return Result(name, round(timed.wall_ns / 1000, 3), "us/task",
                  note="the same client loop (list enabled items, start, complete, drain events) on a stub "
                       "engine that only keeps a dict of live items: included in every per-task figure above; "
                       + _cpu_note(timed, None, "task"))


def run(timing: Timing, peer_timing: Timing) -> list[Result]:
    """Every engine benchmark; a failing one becomes a row with its error (the others still run)."""
    sequence, and_join, or_loop, sized = (shapes.sequence(100), shapes.and_split_join(50), shapes.or_loop(20),
                                          shapes.order_fulfillment_sized())
    benchmarks: list[tuple[str, Callable[[str], Result]]] = [
        ("engine: 100-task sequence",
         lambda name: shape_result(name, sequence, timing, peer_timing, SEQUENCE_TARGETS)),
        ("engine: 50-branch AND-split/AND-join",
         lambda name: shape_result(name, and_join, timing, peer_timing, AND_JOIN_TARGETS)),
        ("engine: OR-split/OR-join in a loop (20 iterations)",
         lambda name: shape_result(name, or_loop, timing, peer_timing, OTHER_TARGETS)),
        (f"engine: orderfulfillment-sized net (synthetic, {len(sized.tasks)} tasks)",
         lambda name: shape_result(name, sized, timing, peer_timing, OTHER_TARGETS)),
        ("engine: orderfulfillment.yawl (imported, happy path)",
         lambda name: order_fulfillment_result(name, timing)),
        ("engine: OR-join decision, 7-task net with a loop",
         lambda name: orjoin_result(name, or_loop, "merge", ("A", 3), timing)),
        (f"engine: OR-join decision, {len(sized.tasks)}-task net with a loop",
         lambda name: orjoin_result(name, sized, "settled", ("bill4", 1), timing)),
        ("engine: client loop floor (stub engine, 100-task sequence)",
         lambda name: client_floor_result(name, timing)),
    ]
    results = []
    for name, benchmark in benchmarks:
        try:
            result = benchmark(name)
        except Exception as exc:  # a broken benchmark is a row, not a crashed run
            result = Result(name, None, "", met=False, note=f"failed: {type(exc).__name__}: {exc}")
        print(f"  {result.name}: {result.value} {result.unit}"
              + (f" ({result.peer}: {result.peer_value}, {result.ratio}x)" if result.peer else ""), flush=True)
        results.append(result)
    return results
