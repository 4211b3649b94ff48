"""Property-based tests of the engine's token game (hypothesis).

Nets come from a grammar of structured blocks (sequence, AND/XOR/OR split-join blocks, loops,
deferred choice, cancellation regions, multiple-instance tasks, subnets), so each is sound by
construction, plus unstructured ones (random task graphs with cycles and unsynchronised merges).
A case is driven by a random order of start, complete, cancel_item, fail, add_instance, timer
expiry and misuse; after every step the invariants below are checked, and afterwards the run is
replayed from the serialised state of every step.

Invariants:
- tokens never appear from nowhere: a condition's count grows only by what this step's completions
  (their splits) and net starts can put there;
- a work item's life is enabled -> (started) -> exactly one end (completed, withdrawn, cancelled or
  failed); nothing happens to it afterwards; the live items are exactly the ones not ended;
- a case whose root output condition gets a token is completed (and has no live work item left);
- a refused call (EngineError) changes nothing;
- restoring the state of any step and replaying the rest gives the same events and end state;
- a sound net driven without cancel/fail never deadlocks.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knhk.engine import Case, EngineError, Executor, compile_spec

PREDICATES = ["n > 2", "n mod 2 = 0", "n = 1", "n < 2", "false()", "true()"]
END_EVENTS = {"item_completed", "item_withdrawn", "item_cancelled", "item_failed"}
MAX_STEPS = 40
PROPERTY_SETTINGS = settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---------------------------------------------------------------------------- net grammar

leaf_blocks = st.one_of(
    st.tuples(st.just("task"), st.sampled_from(["manual", "manual", "routing", "automated"]), st.booleans()),
    st.tuples(
        st.just("mi"),
        st.integers(1, 3),  # min
        st.integers(0, 2),  # max - min
        st.integers(0, 3),  # threshold (0 = all)
        st.booleans(),  # dynamic
    ),
)


def _compound(children: st.SearchStrategy) -> st.SearchStrategy:
    branches = st.lists(children, min_size=2, max_size=3)
    predicates = st.lists(st.sampled_from(PREDICATES), min_size=3, max_size=3)
    return st.one_of(
        st.tuples(st.just("seq"), branches),
        st.tuples(st.just("and"), branches),
        st.tuples(st.just("xor"), branches, predicates),
        st.tuples(st.just("or"), branches, predicates),
        st.tuples(st.just("loop"), children, st.sampled_from(PREDICATES[:4])),
        st.tuples(st.just("defer"), branches),
        st.tuples(st.just("cancel"), children),
        st.tuples(st.just("sub"), children),
    )


blocks = st.recursive(leaf_blocks, _compound, max_leaves=8)


class NetBuilder:
    """Builds one net of the spec from blocks; every block runs from condition `src` to `dst`."""

    def __init__(self, spec: SpecBuilder, net_id: str) -> None:
        self.spec = spec
        self.id = net_id
        self.conditions: dict[str, dict] = {
            "i": {"id": "i", "type": "input", "flows": []},
            "o": {"id": "o", "type": "output"},
        }
        self.tasks: dict[str, dict] = {}
        self.order: list[str] = []  # creation order of nodes (for cancellation regions)

    def condition(self) -> str:
        node_id = f"c{self.spec.next()}"
        self.conditions[node_id] = {"id": node_id, "flows": []}
        self.order.append(node_id)
        return node_id

    def task(self, src: str, flows: list, prefix: str = "T", **attrs: Any) -> str:
        node_id = f"{prefix}{self.spec.next()}"
        self.conditions[src]["flows"].append(node_id)
        self.tasks[node_id] = {"id": node_id, "flows": flows, **attrs}
        self.order.append(node_id)
        return node_id

    def build(self, block: tuple, src: str, dst: str) -> None:
        kind = block[0]
        if kind == "task":
            _, task_kind, timed = block
            attrs: dict[str, Any] = {"kind": task_kind}
            if timed and task_kind == "manual":
                attrs["timer"] = {"trigger": "enabled", "duration": "PT1M"}
            self.task(src, [dst], **attrs)
        elif kind == "mi":
            _, low, extra, threshold, dynamic = block
            high = low + extra + (1 if dynamic else 0)
            mi: dict[str, Any] = {"min": low, "max": high, "creation": "dynamic" if dynamic else "static"}
            if threshold:
                mi["threshold"] = min(threshold, high)
            self.task(src, [dst], prefix="M", multi_instance=mi)
        elif kind == "seq":
            current = src
            for child in block[1][:-1]:
                middle = self.condition()
                self.build(child, current, middle)
                current = middle
            self.build(block[1][-1], current, dst)
        elif kind in ("and", "xor", "or"):
            self.split_join(kind, block[1], block[2] if kind != "and" else [], src, dst)
        elif kind == "loop":
            _, body, predicate = block
            middle = self.condition()
            self.build(body, src, middle)
            self.task(middle, [{"to": src, "predicate": predicate, "ordering": 0},
                               {"to": dst, "default": True, "ordering": 1}], prefix="D", split="xor")  # fmt: skip
        elif kind == "defer":
            for child in block[1]:
                self.build(child, src, dst)
        elif kind == "cancel":
            self.cancel_region(block[1], src, dst)
        elif kind == "sub":
            net = self.spec.net()
            entry = net.condition()
            net.task("i", [entry], prefix="R", kind="routing")
            net.build(block[1], entry, "o")
            self.task(src, [dst], prefix="S", subnet=net.id)
        else:  # pragma: no cover - the grammar has no other kind
            raise AssertionError(kind)

    def split_join(self, kind: str, children: list, predicates: list[str], src: str, dst: str) -> None:
        ends = [(self.condition(), self.condition()) for _ in children]
        if kind == "and":
            flows: list = [start for start, _ in ends]
        else:
            flows = [{"to": start, "predicate": predicates[index], "ordering": index}
                     for index, (start, _) in enumerate(ends[:-1])]  # fmt: skip
            flows.append({"to": ends[-1][0], "default": True, "ordering": len(ends)})
        self.task(src, flows, prefix="P", split=kind, kind="routing")
        join = f"J{self.spec.next()}"
        for child, (start, end) in zip(children, ends, strict=True):
            self.build(child, start, end)
            self.conditions[end]["flows"].append(join)
        self.tasks[join] = {"id": join, "join": kind, "kind": "routing", "flows": [dst]}
        self.order.append(join)

    def cancel_region(self, body: tuple, src: str, dst: str) -> None:
        """Body and a canceller race: whichever ends first removes the other (one token reaches dst)."""
        body_in, killer_in = self.condition(), self.condition()
        self.task(src, [body_in, killer_in], prefix="P", kind="routing")
        first = len(self.order)
        body_out = self.condition()
        self.build(body, body_in, body_out)
        region = [body_in, *self.order[first:]]
        body_end = self.task(body_out, [dst], prefix="E", kind="routing")
        killer = self.task(killer_in, [dst], prefix="K", cancels=[*region, body_end])
        self.tasks[body_end]["cancels"] = [killer_in, killer]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "variables": [{"name": "n", "type": "integer", "initial": 0, "usage": "both"}],
            "conditions": list(self.conditions.values()),
            "tasks": list(self.tasks.values()),
        }


class SpecBuilder:
    def __init__(self) -> None:
        self.counter = 0
        self.nets: list[NetBuilder] = []

    def next(self) -> int:
        self.counter += 1
        return self.counter

    def net(self) -> NetBuilder:
        net = NetBuilder(self, "root" if not self.nets else f"N{self.next()}")
        self.nets.append(net)
        return net


def structured_spec(block: tuple) -> dict[str, Any]:
    """A spec whose root net is i -> routing -> block -> o (subnets in `nets`)."""
    spec = SpecBuilder()
    root = spec.net()
    entry = root.condition()
    root.task("i", [entry], prefix="R", kind="routing")
    root.build(block, entry, "o")
    document = root.as_dict()
    document["id"] = "prop"
    document["root_net"] = "root"
    document["nets"] = [net.as_dict() for net in spec.nets[1:]]
    return document


@st.composite
def unstructured_specs(draw: st.DrawFn) -> dict[str, Any]:
    """Manual tasks T0..Tk on a chain from i to o plus random extra flows (cycles, merges, AND-splits)."""
    size = draw(st.integers(2, 6))
    names = [f"T{index}" for index in range(size)]
    tasks = []
    for index, name in enumerate(names):
        targets = [names[index + 1] if index + 1 < size else "o"]
        for extra in draw(st.lists(st.sampled_from([*names, "o"]), max_size=2)):
            if extra not in targets and extra != name:
                targets.append(extra)
        split = draw(st.sampled_from(["and", "xor", "or"])) if len(targets) > 1 else "and"
        if split == "and":
            flows: list = targets
        else:
            flows = [{"to": target, "predicate": draw(st.sampled_from(PREDICATES)), "ordering": position}
                     for position, target in enumerate(targets[:-1])]  # fmt: skip
            flows.append({"to": targets[-1], "default": True, "ordering": len(targets)})
        tasks.append({"id": name, "split": split, "join": "xor", "flows": flows})
    for task in tasks[1:]:
        incoming = sum(1 for other in tasks for flow in other["flows"]
                       if (flow if isinstance(flow, str) else flow["to"]) == task["id"])  # fmt: skip
        if incoming > 1 and draw(st.integers(0, 4)) == 0:
            task["join"] = "and"
    return {
        "id": "unstructured",
        "variables": [{"name": "n", "type": "integer", "initial": 0, "usage": "both"}],
        "conditions": [{"id": "i", "type": "input", "flows": ["T0"]}, {"id": "o", "type": "output"}],
        "tasks": tasks,
    }


# ---------------------------------------------------------------------------- driving a case


@dataclass
class Step:
    """One call on the case: what it was and what came of it (events, or the error code)."""

    action: tuple
    events: list = field(default_factory=list)
    error: str | None = None


def _snapshot(case: Case) -> dict[str, Any]:
    return json.loads(json.dumps(case.to_state()))


def apply(case: Case, action: tuple) -> tuple[list, str | None]:
    """Run one action; returns (events, error code)."""
    name, item_id, argument = action
    try:
        if name == "start":
            case.start(item_id)
        elif name == "complete":
            case.complete(item_id, argument)
        elif name == "cancel_item":
            case.cancel_item(item_id)
        elif name == "fail":
            case.fail(item_id, "broken")
        elif name == "add_instance":
            case.add_instance(item_id, argument)
        elif name == "timer":
            case.timer_expired(item_id)
        elif name == "suspend_resume":
            case.suspend()
            case.resume()
        else:  # pragma: no cover
            raise AssertionError(name)
    except EngineError as error:
        return case.drain_events(), error.code
    return case.drain_events(), None


def choose_action(draw: st.DrawFn, case: Case, disruptive: bool) -> tuple:
    items = list(case.items.values())
    progress: list[tuple] = []
    for item in items:
        if item.state == "enabled":
            progress.append(("start", item.id, None))
        elif item.kind not in ("composite", "mi") or item.parent is not None:
            progress.append(("complete", item.id, {"n": draw(st.integers(0, 4))}))
        if item.timer is not None:
            progress.append(("timer", item.id, None))
        mi = item.ctask.mi
        can_grow = mi is not None and mi.dynamic and (mi.max is None or item.created < mi.max)
        if item.kind == "mi" and item.parent is None and item.state == "started" and can_grow:
            progress.append(("add_instance", item.id, None))
    roll = draw(st.integers(0, 19))
    if disruptive and roll == 19:
        return ("cancel_item" if draw(st.booleans()) else "fail", draw(st.sampled_from(items)).id, None)
    if roll == 18:  # misuse: a call the engine must refuse without changing anything
        item = draw(st.sampled_from(items))
        return ("complete" if item.state == "enabled" else "start", item.id, {})
    if roll == 17:
        return ("complete", "no-such-item", {})
    if roll == 16:
        return ("suspend_resume", None, None)
    return draw(st.sampled_from(progress)) if progress else ("start", items[0].id, None)


class Checker:
    """Checks the invariants over the steps of one run."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.root_output = f"{executor.root.id}:{executor.root.condition_ids[executor.root.output]}"
        self.postsets: dict[tuple[str, str], list[str]] = {}
        self.inputs: dict[str, str] = {}
        for net in executor.nets.values():
            self.inputs[net.id] = f"{net.id}:{net.condition_ids[net.input]}"
            for ctask in net.tasks:
                self.postsets[(net.id, ctask.id)] = [
                    f"{net.id}:{net.condition_ids[condition]}" for condition, _, _ in ctask.postset
                ]
        self.history: dict[str, list[str]] = defaultdict(list)

    def events(self, events: list) -> None:
        for event in events:
            if event.item_id is None or not event.kind.startswith("item_"):
                continue
            history = self.history[event.item_id]
            assert not (END_EVENTS & set(history)), f"item {event.item_id}: {event.kind} after {history}"
            history.append(event.kind)

    def step(self, case: Case, before: dict[str, int], events: list) -> None:
        self.events(events)
        after = case.marking()
        allowance: Counter[str] = Counter()
        for event in events:
            if event.kind == "item_completed" and "parent" not in (event.payload or {}):
                allowance.update(self.postsets[(event.net_id, event.task_id)])
            elif event.kind == "net_started":
                allowance[self.inputs[event.net_id]] += 1
        for key, count in after.items():
            assert count > 0, f"{key} has {count} tokens"
            grown = count - before.get(key, 0)
            assert grown <= allowance[key], (
                f"{key} went from {before.get(key, 0)} to {count} tokens, but this step's completions "
                f"and net starts explain only {allowance[key]}: {events}"
            )
        live = {item_id for item_id, kinds in self.history.items()
                if "item_enabled" in kinds and not END_EVENTS & set(kinds)}  # fmt: skip
        assert live == set(case.items), f"live items {sorted(case.items)}, events say {sorted(live)}"
        kinds = [event.kind for event in events]
        if case.status == "completed":
            assert not case.items, f"completed case still has live items {sorted(case.items)}"
        else:
            assert self.root_output not in after, f"root output marked but the case is {case.status}"
            assert "case_completed" not in kinds
        if "case_completed" in kinds:
            assert case.status == "completed"


def drive(
    draw: st.DrawFn, document: dict[str, Any], disruptive: bool, sound: bool = True
) -> tuple[Executor, list, list[Step]]:
    """Run a case with drawn actions, checking invariants; returns (executor, states, steps)."""
    executor = compile_spec(document)
    case = executor.start_case("prop", {"n": draw(st.integers(0, 4))})
    checker = Checker(executor)
    checker.step(case, {}, case.drain_events())
    states = [_snapshot(case)]
    steps: list[Step] = []
    while case.status == "running" and case.items and len(steps) < MAX_STEPS:
        action = choose_action(draw, case, disruptive)
        before = case.marking()
        events, error = apply(case, action)
        if error is not None:
            assert not events, f"refused {action} ({error}) still produced {events}"
            assert _snapshot(case) == states[-1], f"refused {action} ({error}) changed the case"
        checker.step(case, before, events)
        steps.append(Step(action, events, error))
        states.append(_snapshot(case))
    if case.status == "running":
        assert case.items, "a running case with no live work item"
    dropped = any(step.action[0] in ("cancel_item", "fail") and step.error is None for step in steps)
    if sound and not dropped:
        assert case.status != "deadlocked", f"sound net deadlocked after {[s.action for s in steps]}"
    return executor, states, steps


def check_replays(executor: Executor, states: list, steps: list[Step]) -> None:
    """Restoring the state of any step and replaying the rest changes nothing that follows."""
    for start, state in enumerate(states):
        case = executor.restore(json.loads(json.dumps(state)))
        assert _snapshot(case) == state, f"state of step {start} does not round-trip"
        for index, step in enumerate(steps[start:], start):
            events, error = apply(case, step.action)
            assert (events, error) == (step.events, step.error), (
                f"restored at step {start}, step {index} {step.action} differs:\n"
                f"  original {step.error} {step.events}\n  restored {error} {events}"
            )
            assert _snapshot(case) == states[index + 1], f"restored at {start}: state after {index} differs"


@PROPERTY_SETTINGS
@given(parts=st.lists(blocks, min_size=2, max_size=3), disruptive=st.booleans(), data=st.data())
def test_structured_nets_keep_the_invariants(parts: list, disruptive: bool, data: st.DataObject) -> None:
    document = structured_spec(("seq", parts))
    executor, states, steps = drive(data.draw, document, disruptive)
    check_replays(executor, states, steps)


@PROPERTY_SETTINGS
@given(document=unstructured_specs(), data=st.data())
def test_unstructured_nets_keep_the_invariants(document: dict, data: st.DataObject) -> None:
    executor, states, steps = drive(data.draw, document, disruptive=True, sound=False)
    check_replays(executor, states, steps)


def test_grammar_covers_every_construct() -> None:
    """A fixed net with every block kind compiles and runs to completion along one path."""
    block = ("seq", [
        ("and", [("task", "manual", True), ("mi", 2, 1, 1, True)]),
        ("xor", [("task", "manual", False), ("task", "routing", False)], ["n > 2", "true()", "n = 1"]),
        ("or", [("task", "manual", False), ("task", "automated", False)], ["true()", "true()", "true()"]),
        ("loop", ("task", "manual", False), "n = 1"),
        ("defer", [("task", "manual", False), ("task", "manual", False)]),
        ("cancel", ("sub", ("task", "manual", False))),
    ])  # fmt: skip
    executor = compile_spec(structured_spec(block))
    case = executor.start_case("fixed", {"n": 0})
    for _ in range(60):
        if case.status != "running":
            break
        item = next(item for item in case.items.values()
                    if item.state == "enabled" or item.kind not in ("composite", "mi") or item.parent)  # fmt: skip
        if item.state == "enabled":
            case.start(item.id)
        else:
            case.complete(item.id, {"n": 0})
    assert case.status == "completed"
