"""restore() checks a state's shape: a malformed one is EngineError(invalid) naming the field, never
a Python error now or a misbehaving case later."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from test_state import MIXED

from knhk.engine import Case, EngineError, Executor, compile_spec

State = dict[str, Any]


def mid_run() -> tuple[Executor, Case, State]:
    """MIXED with an MI task (3 instances, one started), a running subnet and two enabled items:
    items are [M (MI parent "2"), P (composite "3"), D1, D2, M#1 (started), M#2, M#3, X (in the subnet)]."""
    executor = compile_spec(MIXED)
    case = executor.start_case("c", {})
    first = next(iter(case.items.values()))
    case.start(first.id)
    case.complete(first.id, {})
    for task in ("M", "P"):
        case.start(next(item.id for item in case.enabled_items() if item.task == task))
    case.start(next(item.id for item in case.items.values() if item.parent is not None))
    case.drain_events()
    return executor, case, json.loads(json.dumps(case.to_state()))


def test_a_valid_state_still_restores_exactly() -> None:
    executor, case, state = mid_run()
    restored = executor.restore(copy.deepcopy(state))
    assert restored.to_state() == state
    child = next(item.id for item in case.items.values() if item.parent is not None and item.state == "started")
    for each in (case, restored):
        each.complete(child, {})
    assert restored.to_state() == case.to_state()
    assert restored.drain_events() == case.drain_events()


def test_restore_copies_the_data_it_keeps() -> None:
    executor, _, state = mid_run()
    restored = executor.restore(state)
    state["nets"][0]["data"]["items"].append("z")
    state["items"][2]["data"]["out"] = 1
    assert restored.data["items"] == ["a", "b", "c"] and restored.items["4"].data["out"] is None


def test_a_zero_count_in_the_marking_is_no_token() -> None:
    executor, _, state = mid_run()
    state["nets"][0]["marking"]["start"] = 0
    restored = executor.restore(state)
    assert restored.root is not None and restored.root.mask == 1 << restored.root.net.condition_index["pick"]
    assert "start" not in restored.to_state()["nets"][0]["marking"]


def _set(path: str, value: Any) -> Callable[[State], None]:
    """A mutation that sets (or with value DELETE removes) the field at a dotted path like nets.0.data."""

    def mutate(state: State) -> None:
        *parents, last = path.split(".")
        target: Any = state
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        key = int(last) if isinstance(target, list) else last
        if value is DELETE:
            del target[key]
        else:
            target[key] = value

    return mutate


DELETE = object()


def _append(key: str, index: int, change: dict[str, Any]) -> Callable[[State], None]:
    """A mutation that appends a copy of state[key][index] with `change` applied."""

    def mutate(state: State) -> None:
        state[key].append({**copy.deepcopy(state[key][index]), **change})

    return mutate


MALFORMED: list[tuple[str, Callable[[State], None], str]] = [
    ("version-missing", _set("v", DELETE), "v:"),
    ("version-unknown", _set("v", 2), "v:"),
    ("version-bool", _set("v", True), "v:"),
    ("spec-other", _set("spec", "other"), "spec:"),
    ("hash-mismatch", _set("hash", "0" * 64), "hash:"),
    ("hash-missing", _set("hash", DELETE), "hash:"),
    ("case-missing", _set("case", DELETE), "case:"),
    ("case-not-str", _set("case", 7), "case:"),
    ("status-weird", _set("status", "weird"), "status:"),
    ("status-list", _set("status", ["running"]), "status:"),
    ("counter-negative", _set("counter", -1), "counter:"),
    ("counter-str", _set("counter", "9"), "counter:"),
    ("counter-below-ids", _set("counter", 5), "counter:"),
    ("net-counter-float", _set("net_counter", 2.0), "net_counter:"),
    ("net-counter-below-ids", _set("net_counter", 1), "net_counter:"),
    ("nets-empty", _set("nets", []), "nets:"),
    ("nets-not-list", _set("nets", {"1": {}}), "nets:"),
    ("items-missing", _set("items", DELETE), "items:"),
    ("net-not-object", _set("nets.1", "x"), "nets[1]:"),
    ("net-id-int", _set("nets.0.id", 1), "nets[0].id:"),
    ("net-id-duplicate", _set("nets.1.id", "1"), "nets[1].id:"),
    ("net-unknown", _set("nets.1.net", "Nope"), "nets[1].net:"),
    ("net-unhashable", _set("nets.1.net", ["Sub"]), "nets[1].net:"),
    ("root-not-root-net", _set("nets.0.net", "Sub"), "nets[0].net:"),
    ("root-with-parent", _set("nets.0.parent", "3"), "nets[0].parent:"),
    ("data-str", _set("nets.0.data", "x"), "nets[0].data:"),
    ("data-missing", _set("nets.1.data", DELETE), "nets[1].data:"),
    ("marking-list", _set("nets.0.marking", [1]), "nets[0].marking:"),
    ("marking-unknown-condition", _set("nets.1.marking.pick", 1), "nets[1].marking:"),
    ("marking-negative", _set("nets.1.marking.i", -5), "nets[1].marking.i:"),
    ("marking-float", _set("nets.1.marking.i", 1.5), "nets[1].marking.i:"),
    ("marking-bool", _set("nets.1.marking.i", True), "nets[1].marking.i:"),
    ("net-dv-negative", _set("nets.0.dv", -1), "nets[0].dv:"),
    ("net-live-str", _set("nets.0.live", "no"), "nets[0].live:"),
    ("subnet-parent-missing", _set("nets.1.parent", DELETE), "nets[1].parent:"),
    ("subnet-parent-unknown", _set("nets.1.parent", "99"), "nets[1].parent:"),
    ("subnet-parent-not-composite", _set("nets.1.parent", "4"), "nets[1].parent:"),
    ("subnet-twice", _append("nets", 1, {"id": "0"}), "nets[2].parent:"),
    ("item-not-object", _set("items.2", None), "items[2]:"),
    ("item-id-int", _set("items.2.id", 4), "items[2].id:"),
    ("item-id-duplicate", _set("items.3.id", "4"), "items[3].id:"),
    ("item-in-unknown", _set("items.2.in", "9"), "items[2].in:"),
    ("item-task-unknown", _set("items.2.task", "Z"), "items[2].task:"),
    ("item-task-of-other-net", _set("items.7.task", "D1"), "items[7].task:"),
    ("item-state-zzz", _set("items.2.state", "zzz"), "items[2].state:"),
    ("item-state-completed", _set("items.2.state", "completed"), "items[2].state:"),
    ("item-data-str", _set("items.2.data", "x"), "items[2].data:"),
    ("item-kind-wrong", _set("items.2.kind", "composite"), "items[2].kind:"),
    ("item-dv-str", _set("items.2.dv", "0"), "items[2].dv:"),
    ("item-timer-str", _set("items.2.timer", "soon"), "items[2].timer:"),
    ("item-second-of-task", _append("items", 2, {"id": "0"}), "items[8]:"),
    ("mi-parent-unknown", _set("items.4.parent", "99"), "items[4].parent:"),
    ("mi-parent-not-mi", _set("items.4.parent", "4"), "items[4].parent:"),
    ("mi-missing", _set("items.0.mi", DELETE), "items[0].mi:"),
    ("mi-on-plain-item", _set("items.2.mi", {"created": 0, "completed": 0, "outputs": []}), "items[2].mi:"),
    ("mi-created-negative", _set("items.0.mi.created", -1), "items[0].mi.created:"),
    ("mi-completed-above-created", _set("items.0.mi.completed", 4), "items[0].mi.completed:"),
    ("mi-outputs-str", _set("items.0.mi.outputs", "x"), "items[0].mi.outputs:"),
    ("item-in-ended-net", _set("nets.0.live", False), "items[0].in:"),
    ("subnet-ended", _set("nets.1.live", False), "nets[1].live:"),
    ("enabled-without-a-token", _set("nets.0.marking", {}), "items[2].state:"),
    ("composite-without-subnet", lambda state: (state["nets"].pop(), state["items"].pop()), "composite"),
]


@pytest.mark.parametrize(("mutate", "field"), [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED])
def test_a_malformed_state_is_invalid_naming_the_field(mutate: Callable[[State], None], field: str) -> None:
    executor, _, state = mid_run()
    mutate(state)
    with pytest.raises(EngineError) as error:
        executor.restore(state)
    assert error.value.code == "invalid"
    assert field in error.value.message, error.value.message
    assert error.value.message.startswith("case state does not fit specification 'mixed': ")
    assert "Error(" not in error.value.message  # no Python exception reprs


@pytest.mark.parametrize("state", [None, "x", [], 1], ids=["none", "str", "list", "int"])
def test_a_state_that_is_no_object_is_invalid(state: Any) -> None:
    with pytest.raises(EngineError) as error:
        compile_spec(MIXED).restore(state)
    assert error.value.code == "invalid" and "JSON object" in error.value.message


def test_root_data_that_is_no_object_is_invalid() -> None:
    executor, case, _ = mid_run()
    lean = json.loads(json.dumps(case.to_state(root_data=False)))
    with pytest.raises(EngineError, match=r"nets\[0\]\.data"):
        executor.restore(lean, root_data="x")  # type: ignore[arg-type]
    assert executor.restore(lean, root_data=case.data).to_state() == case.to_state()


def test_a_live_item_of_a_routing_task_is_invalid() -> None:
    executor = compile_spec({
        "id": "r",
        "conditions": [{"id": "i", "type": "input", "flows": ["a"]}, {"id": "o", "type": "output"}],
        "tasks": [{"id": "a", "flows": ["r"]}, {"id": "r", "kind": "routing", "flows": ["b"]}, {"id": "b", "flows": ["o"]}],
    })  # fmt: skip
    state = executor.start_case("c", {}).to_state()
    state["items"].append({"id": "0", "task": "r", "in": "1", "state": "enabled", "kind": "routing", "data": {}})
    with pytest.raises(EngineError, match=r"items\[1\]\.task: 'r' is a routing task"):
        executor.restore(state)


JUNK: list[Any] = [DELETE, None, "x", -1, 1.5, True, [], {}, [1], {"x": 1}]


def _paths(value: Any, prefix: str = "") -> Iterator[str]:
    """Every field's dotted path in a state (the containers' too)."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        path = f"{prefix}{key}"
        yield path
        yield from _paths(child, path + ".")


def test_any_field_replaced_by_junk_restores_or_is_invalid() -> None:
    """Each field of a state set to each junk value (or removed): restore gives a case that
    serialises again, or EngineError(invalid), never another exception."""
    executor, _, state = mid_run()
    tried = 0
    for path in _paths(state):
        for junk in JUNK:
            variant = copy.deepcopy(state)
            _set(path, junk)(variant)
            try:
                json.dumps(executor.restore(variant).to_state())
            except EngineError as error:
                assert error.code == "invalid" and "Error(" not in error.message, (path, junk, error.message)
            tried += 1
    assert tried > 500
