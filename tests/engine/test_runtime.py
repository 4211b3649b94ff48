"""Runtime semantics: splits, joins, deferred choice, cancellation, MI, subnets, deadlock, misuse."""

from __future__ import annotations

import time
from typing import Any

import pytest

from knhk.engine import Case, EngineError, compile_spec
from knhk.engine.cli import run_case


def spec(tasks: list[dict], first: str = "A", variables: list[dict] | None = None, **extra: Any) -> dict:
    """A root net: start -> `first`, tasks as given, output condition `end`."""
    return {
        "id": "t",
        "variables": variables or [],
        "conditions": [{"id": "start", "type": "input", "flows": [first]}, {"id": "end", "type": "output"}],
        "tasks": tasks,
        **extra,
    }


def start(document: dict, data: dict | None = None) -> Case:
    return compile_spec(document).start_case("c", data or {})


def enabled(case: Case) -> list[str]:
    return sorted(item.task for item in case.enabled_items())


def item_of(case: Case, task: str) -> str:
    matches = [item.id for item in case.items.values() if item.task == task and item.parent is None]
    assert len(matches) == 1, f"expected one live item of {task}, found {matches}"
    return matches[0]


def do(case: Case, task: str, output: dict | None = None) -> None:
    """Start and complete the (only) work item of `task`."""
    item_id = item_of(case, task)
    case.start(item_id)
    case.complete(item_id, output or {})


def kinds(case: Case, kind: str) -> list[str]:
    return [event.task_id for event in case.drain_events() if event.kind == kind]


# ---------------------------------------------------------------------------- splits

XOR_SPLIT = spec(
    [
        {"id": "A", "split": "xor", "flows": [
            {"to": "B", "predicate": "x > 5", "ordering": 2},
            {"to": "C", "predicate": "x > 1", "ordering": 1},
            {"to": "D", "default": True, "ordering": 0},
        ]},  # fmt: skip
        {"id": "B", "flows": ["end"]},
        {"id": "C", "flows": ["end"]},
        {"id": "D", "flows": ["end"]},
    ],
    variables=[{"name": "x", "type": "integer", "initial": 0, "usage": "input"}],
)


@pytest.mark.parametrize(("x", "chosen"), [(10, "C"), (3, "C"), (0, "D")])
def test_xor_split_takes_first_true_by_ordering_else_default(x: int, chosen: str) -> None:
    case = start(XOR_SPLIT, {"x": x})
    do(case, "A")
    # C (ordering 1) is evaluated before B (ordering 2); the default D comes last despite ordering 0
    assert enabled(case) == [chosen]


OR_SPLIT = spec(
    [
        {"id": "A", "split": "or", "flows": [
            {"to": "B", "predicate": "x > 5"},
            {"to": "C", "predicate": "x > 1"},
            {"to": "D", "default": True},
        ]},  # fmt: skip
        {"id": "B", "flows": ["J"]},
        {"id": "C", "flows": ["J"]},
        {"id": "D", "flows": ["J"]},
        {"id": "J", "join": "or", "flows": ["end"]},
    ],
    variables=[{"name": "x", "type": "integer", "initial": 0, "usage": "input"}],
)


@pytest.mark.parametrize(("x", "chosen"), [(10, ["B", "C"]), (3, ["C"]), (0, ["D"])])
def test_or_split_takes_every_true_flow_and_default_only_when_none(x: int, chosen: list[str]) -> None:
    case = start(OR_SPLIT, {"x": x})
    do(case, "A")
    assert enabled(case) == chosen
    for task in chosen[:-1]:
        do(case, task)
        assert enabled(case) == chosen[chosen.index(task) + 1 :], "OR-join must wait for the other branch"
    do(case, chosen[-1])
    assert enabled(case) == ["J"]
    do(case, "J")
    assert case.status == "completed"


def test_and_split_and_join_synchronise() -> None:
    case = start(spec([
        {"id": "A", "flows": ["B", "C"]},
        {"id": "B", "flows": ["J"]},
        {"id": "C", "flows": ["J"]},
        {"id": "J", "join": "and", "flows": ["end"]},
    ]))  # fmt: skip
    do(case, "A")
    assert enabled(case) == ["B", "C"]
    do(case, "C")
    assert enabled(case) == ["B"]
    do(case, "B")
    assert enabled(case) == ["J"]
    do(case, "J")
    assert case.status == "completed"
    assert case.marking() == {}


def test_xor_join_fires_once_per_token_multi_merge() -> None:
    case = start(spec([
        {"id": "A", "flows": ["B", "C"]},
        {"id": "B", "flows": ["M"]},
        {"id": "C", "flows": ["M"]},
        {"id": "M", "flows": ["D"]},
        {"id": "D", "flows": ["end"]},
    ]))  # fmt: skip
    for task in ("A", "B", "C"):
        do(case, task)
    assert case.marking() == {"t:B__M": 1, "t:C__M": 1}
    do(case, "M")
    assert enabled(case) == ["D", "M"], "M is enabled again by its second token"
    do(case, "M")
    assert case.marking() == {"t:M__D": 2}


# ---------------------------------------------------------------------------- deferred choice, routing


def test_deferred_choice_starting_one_withdraws_the_other() -> None:
    case = start({
        "id": "dc",
        "conditions": [
            {"id": "start", "type": "input", "flows": ["A"]},
            {"id": "choice", "flows": ["B", "C"]},
            {"id": "end", "type": "output"},
        ],
        "tasks": [
            {"id": "A", "flows": ["choice"]},
            {"id": "B", "flows": ["end"]},
            {"id": "C", "flows": ["end"]},
        ],
    })  # fmt: skip
    do(case, "A")
    assert enabled(case) == ["B", "C"]
    case.drain_events()
    case.start(item_of(case, "C"))
    assert kinds(case, "item_withdrawn") == ["B"]
    assert [item.task for item in case.items.values()] == ["C"]


def test_routing_tasks_fire_by_themselves_and_appear_in_events() -> None:
    case = start(spec([
        {"id": "A", "flows": ["R"]},
        {"id": "R", "kind": "routing", "flows": ["B"]},
        {"id": "B", "flows": ["end"]},
    ]))  # fmt: skip
    do(case, "A")
    assert enabled(case) == ["B"]
    assert kinds(case, "item_completed") == ["A", "R"]


# ---------------------------------------------------------------------------- cancellation, termination


def test_cancellation_set_withdraws_items_and_empties_conditions_before_split() -> None:
    case = start({
        "id": "cancel",
        "conditions": [
            {"id": "start", "type": "input", "flows": ["A"]},
            {"id": "waiting", "flows": ["W"]},
            {"id": "end", "type": "output"},
        ],
        "tasks": [
            {"id": "A", "flows": ["B", "C", "waiting"]},
            {"id": "B", "flows": ["J"]},
            {"id": "C", "flows": ["J"], "cancels": ["B", "waiting"]},
            {"id": "W", "flows": ["J"]},
            {"id": "J", "join": "xor", "flows": ["end"]},
        ],
    })  # fmt: skip
    do(case, "A")
    assert enabled(case) == ["B", "C", "W"]
    case.drain_events()
    do(case, "C")
    assert sorted(kinds(case, "item_withdrawn")) == ["B", "W"]
    assert enabled(case) == ["J"]
    assert "cancel:waiting" not in case.marking()
    assert "cancel:A__B" not in case.marking(), "the token on the flow into a cancelled task is removed"


def test_cancelling_a_started_composite_task_withdraws_its_subnet() -> None:
    case = start({
        "id": "cc",
        "conditions": [{"id": "start", "type": "input", "flows": ["A"]}, {"id": "end", "type": "output"}],
        "tasks": [
            {"id": "A", "flows": ["S", "K"]},
            {"id": "S", "subnet": "Sub", "flows": ["J"]},
            {"id": "K", "flows": ["J"], "cancels": ["S"]},
            {"id": "J", "join": "xor", "flows": ["end"]},
        ],
        "nets": [{"id": "Sub", "conditions": [
            {"id": "si", "type": "input", "flows": ["X"]}, {"id": "so", "type": "output"}],
            "tasks": [{"id": "X", "flows": ["so"]}]}],
    })  # fmt: skip
    do(case, "A")
    case.start(item_of(case, "S"))
    assert enabled(case) == ["K", "X"]
    case.drain_events()
    do(case, "K")
    assert sorted(kinds(case, "item_withdrawn")) == ["S", "X"]
    assert enabled(case) == ["J"]
    assert not any(key.startswith("Sub:") for key in case.marking())


def test_token_in_output_condition_completes_net_and_withdraws_the_rest() -> None:
    case = start(spec([
        {"id": "A", "flows": ["B", "C"]},
        {"id": "B", "flows": ["end"]},
        {"id": "C", "flows": ["end"]},
    ]))  # fmt: skip
    do(case, "A")
    case.drain_events()
    do(case, "B")
    events = case.drain_events()
    assert [e.task_id for e in events if e.kind == "item_withdrawn"] == ["C"]
    assert [e.kind for e in events][-2:] == ["net_completed", "case_completed"]
    assert case.status == "completed" and case.items == {} and case.marking() == {}


# ---------------------------------------------------------------------------- deadlock


def test_deadlock_is_reported_with_the_stuck_nodes() -> None:
    case = start({
        "id": "dl",
        "conditions": [
            {"id": "start", "type": "input", "flows": ["A"]},
            {"id": "c1", "flows": ["J"]},
            {"id": "end", "type": "output"},
        ],
        "tasks": [
            {"id": "A", "split": "xor", "flows": [{"to": "c1", "default": True}, {"to": "B", "predicate": "false()"}]},
            {"id": "B", "flows": ["J"]},
            {"id": "J", "join": "and", "flows": ["end"]},
        ],
    })  # fmt: skip
    do(case, "A")
    assert case.status == "deadlocked"
    stuck = [e.payload for e in case.drain_events() if e.kind == "case_deadlocked"]
    assert stuck == [{"stuck": ["c1", "J"]}]
    with pytest.raises(EngineError) as error:
        case.start("1")
    assert error.value.code == "conflict"


def test_deadlock_inside_a_running_subnet_is_reported() -> None:
    case = start({
        "id": "sdl",
        "conditions": [{"id": "start", "type": "input", "flows": ["S"]}, {"id": "end", "type": "output"}],
        "tasks": [{"id": "S", "subnet": "Sub", "flows": ["end"]}],
        "nets": [{"id": "Sub", "conditions": [
            {"id": "i", "type": "input", "flows": ["X"]}, {"id": "c1", "flows": ["J"]}, {"id": "o", "type": "output"}],
            "tasks": [
                {"id": "X", "split": "xor", "flows": [{"to": "c1", "default": True}, {"to": "Y", "predicate": "false()"}]},
                {"id": "Y", "flows": ["J"]},
                {"id": "J", "join": "and", "flows": ["o"]},
            ]}],
    })  # fmt: skip
    case.start(item_of(case, "S"))
    do(case, "X")
    assert case.status == "deadlocked"
    stuck = [e.payload for e in case.drain_events() if e.kind == "case_deadlocked"]
    assert stuck == [{"stuck": ["Sub:c1", "Sub:J"]}]


def test_deadlock_of_a_subnet_is_reported_when_the_last_other_item_completes() -> None:
    case = start({
        "id": "sdl2",
        "conditions": [{"id": "start", "type": "input", "flows": ["A"]}, {"id": "end", "type": "output"}],
        "tasks": [
            {"id": "A", "flows": ["S", "P"]},
            {"id": "S", "subnet": "Sub", "flows": ["J"]},
            {"id": "P", "flows": ["J"]},
            {"id": "J", "join": "and", "flows": ["end"]},
        ],
        "nets": [{"id": "Sub", "conditions": [
            {"id": "i", "type": "input", "flows": ["X"]}, {"id": "c1", "flows": ["Y"]}, {"id": "o", "type": "output"}],
            "tasks": [{"id": "X", "flows": ["c1", "Z"]}, {"id": "Z", "flows": ["Y"]},
                      {"id": "Y", "join": "and", "flows": ["o"]}]}],
    })  # fmt: skip
    do(case, "A")
    case.start(item_of(case, "S"))
    do(case, "X")
    case.fail(item_of(case, "Z"), "broken")  # the subnet can no longer reach its output
    assert case.status == "running", "P can still be done"
    do(case, "P")
    assert case.status == "deadlocked"
    stuck = [e.payload for e in case.drain_events() if e.kind == "case_deadlocked"]
    assert stuck == [{"stuck": ["P__J", "J", "Sub:c1", "Sub:Y"]}]


# ---------------------------------------------------------------------------- data


def test_inputs_outputs_and_mappings() -> None:
    case = start(spec(
        [
            {"id": "A", "flows": ["B"],
             "inputs": [{"name": "amount"}, {"name": "double", "type": "number", "query": "amount * 2"}],
             "outputs": [{"name": "ok", "type": "boolean", "required": True}, {"name": "note"}]},
            {"id": "B", "flows": ["end"], "output_mappings": [{"query": "score + 1", "to": "score"}]},
        ],
        variables=[
            {"name": "amount", "type": "number", "initial": 0, "usage": "input"},
            {"name": "ok", "type": "boolean"},
            {"name": "score", "type": "integer", "initial": 0},
        ],
    ), {"amount": 21})  # fmt: skip
    item = case.items[item_of(case, "A")]
    assert item.data == {"amount": 21, "double": 42}
    case.start(item.id)
    with pytest.raises(EngineError) as error:
        case.complete(item.id, {"note": "x"})
    assert error.value.code == "invalid" and "ok" in error.value.message
    case.complete(item.id, {"ok": True})
    assert case.data == {"amount": 21, "ok": True, "score": 0}
    do(case, "B", {"score": 41})
    assert case.data["score"] == 42 and case.status == "completed"


def test_completion_data_merged_by_name_must_fit_the_variable_types() -> None:
    """A task without outputs merges its completion data into the net: a wrongly typed value for a
    declared variable is refused (the item stays started), not stored to break a predicate later."""
    case = start(spec(
        [
            {"id": "A", "split": "xor", "flows": [
                {"to": "B", "predicate": "amount > 10", "ordering": 0}, {"to": "C", "default": True, "ordering": 1}]},
            {"id": "B", "flows": ["end"]},
            {"id": "C", "flows": ["end"]},
        ],
        variables=[{"name": "amount", "type": "number", "initial": 0, "usage": "input"}],
    ), {"amount": 5})  # fmt: skip
    item_id = item_of(case, "A")
    case.start(item_id)
    for bad in ({"amount": "lots"}, {"amount": None}):
        with pytest.raises(EngineError) as error:
            case.complete(item_id, bad)
        assert error.value.code == "invalid" and "amount" in error.value.message
    assert case.items[item_id].state == "started" and case.status == "running" and case.data == {"amount": 5}
    case.complete(item_id, {"amount": 50, "note": "undeclared names are still merged"})
    assert enabled(case) == ["B"] and case.data["amount"] == 50


def test_start_data_must_name_input_variables() -> None:
    document = spec([{"id": "A", "flows": ["end"]}], variables=[{"name": "x", "usage": "local"}])
    for data in ({"x": 1}, {"nope": 1}):
        with pytest.raises(EngineError) as error:
            start(document, data)
        assert error.value.code == "invalid"


# ---------------------------------------------------------------------------- subnets


SUBNET = {
    "id": "sub",
    "variables": [{"name": "n", "type": "integer", "initial": 1, "usage": "input"}],
    "conditions": [{"id": "start", "type": "input", "flows": ["S"]}, {"id": "end", "type": "output"}],
    "tasks": [{"id": "S", "subnet": "Inner", "flows": ["end"], "inputs": [{"name": "n"}], "outputs": [{"name": "n"}]}],
    "nets": [{
        "id": "Inner",
        "variables": [{"name": "n", "type": "integer"}],
        "conditions": [{"id": "i", "type": "input", "flows": ["X"]}, {"id": "o", "type": "output"}],
        "tasks": [{"id": "X", "flows": ["o"], "output_mappings": [{"query": "n * 10", "to": "n"}],
                   "inputs": [{"name": "n"}]}],
    }],
}  # fmt: skip


def test_composite_task_runs_its_subnet_with_data_in_and_out() -> None:
    case = start(SUBNET, {"n": 4})
    s = item_of(case, "S")
    case.start(s)
    assert case.items[s].kind == "composite" and case.items[s].state == "started"
    x = item_of(case, "X")
    assert case.items[x].data == {"n": 4} and case.items[x].net == "Inner"
    with pytest.raises(EngineError):
        case.complete(s, {})
    case.start(x)
    case.complete(x, {"n": 4})
    assert case.status == "completed"
    assert case.data == {"n": 40}


def test_recursion_composite_task_running_its_own_net() -> None:
    document = {
        "id": "rec",
        "root_net": "R",
        "variables": [{"name": "depth", "type": "integer", "initial": 0, "usage": "input"}],
        "conditions": [{"id": "start", "type": "input", "flows": ["Step"]}, {"id": "end", "type": "output"}],
        "tasks": [
            {"id": "Step", "split": "xor", "flows": [{"to": "Again", "predicate": "depth < 3"}, {"to": "end", "default": True}],
             "outputs": [{"name": "depth", "type": "integer", "required": True}],
             "output_mappings": [{"query": "depth + 1", "to": "depth"}]},
            {"id": "Again", "subnet": "R", "flows": ["end"]},
        ],
    }  # fmt: skip
    result = run_case(compile_spec(document), {"depth": 0})
    assert result.status == "completed"
    assert result.trace == ["Step", "Step", "Step", "Again", "Again"]
    assert result.data["depth"] == 3  # each level maps its subnet's data back


# ---------------------------------------------------------------------------- multiple instances


def mi_spec(mi: dict, variables: list[dict] | None = None) -> dict:
    return spec(
        [{"id": "A", "flows": ["M"]}, {"id": "M", "flows": ["B"], "multi_instance": mi}, {"id": "B", "flows": ["end"]}],
        variables=variables,
    )


def mi_parent(case: Case) -> str:
    return item_of(case, "M")


def test_mi_instances_from_data_with_threshold_withdraws_the_rest() -> None:
    case = start(mi_spec(
        {"min": 1, "max": 5, "threshold": 2, "query": "people", "variable": "who", "to": "results"},
        [{"name": "people", "type": "array", "usage": "input"}, {"name": "results", "type": "array"}],
    ), {"people": ["ann", "bob", "cy"]})  # fmt: skip
    do(case, "A")
    parent = mi_parent(case)
    assert case.items[parent].kind == "mi"
    case.start(parent)
    children = [item for item in case.items.values() if item.parent == parent]
    assert [child.data["who"] for child in children] == ["ann", "bob", "cy"]
    case.drain_events()
    for child, vote in zip(children[:2], ("yes", "no"), strict=True):
        case.start(child.id)
        case.complete(child.id, {"vote": vote})
    events = case.drain_events()
    assert [e.item_id for e in events if e.kind == "item_withdrawn"] == [children[2].id]
    assert case.data["results"] == [{"vote": "yes"}, {"vote": "no"}]
    assert enabled(case) == ["B"]


def test_mi_splitting_query_constructing_an_element_per_item() -> None:
    """YAWL's usual splitting query: a `for` whose body constructs each instance's element."""
    query = "for $i in /Net/people/* return <who>{$i/text()}</who>"
    case = start(mi_spec({"min": 1, "max": 5, "query": query, "variable": "who"},
                         [{"name": "people", "type": "object", "usage": "input"}]),
                 {"people": {"person": ["ann", "bob", "cy"]}})  # fmt: skip
    do(case, "A")
    parent = mi_parent(case)
    case.start(parent)
    children = [item for item in case.items.values() if item.parent == parent]
    assert [child.data["who"] for child in children] == ["ann", "bob", "cy"]


def test_mi_splitting_query_with_nested_constructors_gives_each_instance_an_object() -> None:
    query = "for $l in /Net/order/* return <line><n>{$l/name/text()}</n><q>{$l/qty/text()}</q></line>"
    order = {"line": [{"name": "bolt", "qty": 3}, {"name": "nut", "qty": 5}]}
    case = start(mi_spec({"min": 1, "query": query, "variable": "line"},
                         [{"name": "order", "type": "object", "usage": "input"}]), {"order": order})  # fmt: skip
    do(case, "A")
    parent = mi_parent(case)
    case.start(parent)
    children = [item for item in case.items.values() if item.parent == parent]
    assert [child.data["line"] for child in children] == [{"n": "bolt", "q": "3"}, {"n": "nut", "q": "5"}]


def test_mi_without_query_creates_min_instances_and_all_must_complete() -> None:
    case = start(mi_spec({"min": 3, "max": 3}))
    do(case, "A")
    case.start(mi_parent(case))
    children = [item.id for item in case.items.values() if item.parent]
    assert len(children) == 3
    for child in children[:2]:
        case.start(child)
        case.complete(child, {})
    assert enabled(case) == ["M"]
    case.start(children[2])
    case.complete(children[2], {})
    assert enabled(case) == ["B"]


def test_mi_more_instances_than_max_fails_the_item() -> None:
    case = start(mi_spec(
        {"min": 1, "max": 2, "query": "people", "variable": "who"},
        [{"name": "people", "type": "array", "usage": "input"}],
    ), {"people": ["a", "b", "c"]})  # fmt: skip
    do(case, "A")
    case.drain_events()
    case.start(mi_parent(case))
    failed = [e for e in case.drain_events() if e.kind == "item_failed"]
    assert len(failed) == 1 and "more than the maximum 2" in failed[0].payload["reason"]
    assert case.status == "deadlocked"


def test_mi_instances_beyond_the_engine_limit_fail_the_item(monkeypatch: pytest.MonkeyPatch) -> None:
    from knhk.engine import runtime

    monkeypatch.setattr(runtime, "MAX_MI_INSTANCES", 3)
    case = start(mi_spec(
        {"min": 1, "query": "people", "variable": "who"},  # no maximum: only the engine's limit holds
        [{"name": "people", "type": "array", "usage": "input"}],
    ), {"people": ["a", "b", "c", "d"]})  # fmt: skip
    do(case, "A")
    case.drain_events()
    case.start(mi_parent(case))
    failed = [e for e in case.drain_events() if e.kind == "item_failed"]
    assert len(failed) == 1 and "engine's limit of 3" in failed[0].payload["reason"]
    assert not [item for item in case.items.values() if item.parent]  # nothing was created


def test_dynamic_mi_stops_at_the_engine_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from knhk.engine import runtime

    monkeypatch.setattr(runtime, "MAX_MI_INSTANCES", 2)
    case = start(mi_spec({"min": 1, "creation": "dynamic", "variable": "n", "to": "out"},
                         [{"name": "out", "type": "array"}]))  # fmt: skip
    do(case, "A")
    parent = mi_parent(case)
    case.start(parent)
    case.add_instance(parent, 2)
    with pytest.raises(EngineError) as error:
        case.add_instance(parent, 3)
    assert error.value.code == "conflict" and "engine's limit of 2" in error.value.message


def test_mi_dynamic_creation_adds_instances_until_max() -> None:
    case = start(mi_spec({"min": 1, "max": 3, "creation": "dynamic", "variable": "n", "to": "out"},
                         [{"name": "out", "type": "array"}]))  # fmt: skip
    do(case, "A")
    parent = mi_parent(case)
    with pytest.raises(EngineError) as error:
        case.add_instance(parent, 1)
    assert error.value.code == "conflict"  # not started yet
    case.start(parent)
    added = [case.add_instance(parent, n) for n in (2, 3)]
    assert [item.data["n"] for item in added] == [2, 3]
    with pytest.raises(EngineError) as error:
        case.add_instance(parent, 4)
    assert error.value.code == "conflict" and "maximum" in error.value.message
    for child in [item.id for item in case.items.values() if item.parent == parent]:
        case.start(child)
        case.complete(child, {"n": case.items[child].data["n"]})
    assert case.data["out"] == [{"n": None}, {"n": 2}, {"n": 3}]
    assert enabled(case) == ["B"]


def test_static_mi_refuses_dynamic_instances() -> None:
    case = start(mi_spec({"min": 1, "max": 3}))
    do(case, "A")
    case.start(mi_parent(case))
    with pytest.raises(EngineError) as error:
        case.add_instance(mi_parent(case), {})
    assert "statically" in error.value.message


# ---------------------------------------------------------------------------- misuse, lifecycle, timers


def test_misuse_gets_clear_error_codes() -> None:
    case = start(spec([{"id": "A", "flows": ["end"]}]))
    with pytest.raises(EngineError) as error:
        case.start("999")
    assert error.value.code == "not_found"
    item = item_of(case, "A")
    with pytest.raises(EngineError) as error:
        case.complete(item, {})
    assert error.value.code == "conflict"
    case.start(item)
    with pytest.raises(EngineError) as error:
        case.start(item)
    assert error.value.code == "conflict"
    with pytest.raises(EngineError) as error:
        case.complete(item, ["not", "an", "object"])  # type: ignore[arg-type]
    assert error.value.code == "invalid"


def test_suspend_blocks_progress_until_resume() -> None:
    case = start(spec([{"id": "A", "flows": ["end"]}]))
    case.suspend()
    with pytest.raises(EngineError) as error:
        case.start(item_of(case, "A"))
    assert error.value.code == "conflict"
    case.resume()
    do(case, "A")
    assert case.status == "completed"


def test_cancel_case_withdraws_everything() -> None:
    case = start(spec([{"id": "A", "flows": ["B", "C"]}, {"id": "B", "flows": ["end"]}, {"id": "C", "flows": ["end"]}]))
    do(case, "A")
    case.drain_events()
    case.cancel()
    events = case.drain_events()
    assert sorted(e.task_id for e in events if e.kind == "item_withdrawn") == ["B", "C"]
    assert events[-1].kind == "case_cancelled" and case.status == "cancelled" and case.items == {}


def test_fail_removes_item_and_case_deadlocks_when_nothing_else_moves() -> None:
    case = start(spec([{"id": "A", "flows": ["B", "C"]}, {"id": "B", "flows": ["J"]}, {"id": "C", "flows": ["J"]},
                       {"id": "J", "join": "and", "flows": ["end"]}]))  # fmt: skip
    do(case, "A")
    case.fail(item_of(case, "B"), "boom")
    assert case.status == "running"
    assert [e.payload for e in case.drain_events() if e.kind == "item_failed"] == [{"reason": "boom"}]
    do(case, "C")
    assert case.status == "deadlocked"


def test_timer_set_and_expiry_completes_the_item() -> None:
    case = start(spec([{"id": "A", "flows": ["B"], "timer": {"trigger": "enabled", "duration": "PT5M"}},
                       {"id": "B", "flows": ["end"], "timer": {"trigger": "started", "expiry": "2030-01-01T00:00:00Z"}}]))  # fmt: skip
    timers = [e for e in case.drain_events() if e.kind == "timer_set"]
    assert [(e.task_id, e.payload) for e in timers] == [("A", {"trigger": "enabled", "duration": "PT5M"})]
    case.suspend()
    with pytest.raises(EngineError) as error:
        case.timer_expired(item_of(case, "A"))
    assert error.value.code == "conflict"
    case.resume()
    case.timer_expired(item_of(case, "A"))
    assert kinds(case, "item_completed") == ["A"]
    b = item_of(case, "B")
    case.start(b)
    assert case.items[b].timer == {"trigger": "started", "expiry": "2030-01-01T00:00:00Z"}
    case.timer_expired(b)
    assert case.status == "completed"
    case.timer_expired(b)  # the item is gone: ignored


def test_routing_loop_without_end_is_an_error_not_a_hang() -> None:
    document = spec([
        {"id": "A", "flows": ["R1"]},
        {"id": "R1", "kind": "routing", "flows": ["R2"]},
        {"id": "R2", "kind": "routing", "split": "xor",
         "flows": [{"to": "R1", "predicate": "true()"}, {"to": "end", "default": True}]},
    ])  # fmt: skip
    case = start(document)
    item = item_of(case, "A")
    case.start(item)
    with pytest.raises(EngineError) as error:
        case.complete(item, {})
    assert "loop" in error.value.message and case.status == "failed"


def test_mi_composite_instances_each_run_a_subnet_and_threshold_withdraws_the_rest() -> None:
    document = {
        "id": "mic",
        "variables": [{"name": "orders", "type": "array", "usage": "input"}, {"name": "done", "type": "array"}],
        "conditions": [{"id": "start", "type": "input", "flows": ["M"]}, {"id": "end", "type": "output"}],
        "tasks": [{"id": "M", "subnet": "Handle", "flows": ["end"], "multi_instance": {
            "min": 1, "max": 5, "threshold": 2, "query": "orders", "variable": "order", "to": "done"}}],
        "nets": [{"id": "Handle", "variables": [{"name": "order"}],
                  "conditions": [{"id": "i", "type": "input", "flows": ["X"]}, {"id": "o", "type": "output"}],
                  "tasks": [{"id": "X", "flows": ["o"]}]}],
    }  # fmt: skip
    case = start(document, {"orders": ["o1", "o2", "o3"]})
    case.start(item_of(case, "M"))
    children = [item for item in case.items.values() if item.parent is not None]
    assert [child.kind for child in children] == ["composite"] * 3
    for child in children:
        case.start(child.id)
    xs = [item for item in case.items.values() if item.task == "X"]
    assert sorted(x.data["order"] for x in xs) == ["o1", "o2", "o3"]
    case.drain_events()
    for x in xs[:2]:
        case.start(x.id)
        case.complete(x.id, {})
    withdrawn = sorted(e.task_id for e in case.drain_events() if e.kind == "item_withdrawn")
    assert withdrawn == ["M", "X"], "the third instance and its subnet's work item are withdrawn"
    assert case.status == "completed"
    assert [entry["order"] for entry in case.data["done"]] == ["o1", "o2"]


def test_cancellation_set_withdraws_an_mi_task_with_its_instances() -> None:
    case = start(spec([
        {"id": "A", "flows": ["M", "K"]},
        {"id": "M", "flows": ["J"], "multi_instance": {"min": 2, "max": 2}},
        {"id": "K", "flows": ["J"], "cancels": ["M"]},
        {"id": "J", "join": "xor", "flows": ["end"]},
    ]))  # fmt: skip
    do(case, "A")
    case.start(item_of(case, "M"))
    assert len([item for item in case.items.values() if item.parent]) == 2
    case.drain_events()
    do(case, "K")
    assert kinds(case, "item_withdrawn") == ["M", "M", "M"]
    assert enabled(case) == ["J"]


def test_executor_cache_is_keyed_by_id_version_and_content() -> None:
    from knhk.engine import SpecError, Specification, SpecInvalid, clear_executor_cache, get_executor

    clear_executor_cache()
    document = spec([{"id": "A", "flows": ["end"]}])
    first = get_executor(document, version=1)
    assert get_executor(dict(document), version=1) is first, "an equal document hits the cache"
    assert get_executor(document, version=2) is not first
    assert get_executor({**document, "name": "changed"}, version=1) is not first
    assert get_executor(Specification.from_dict(document), version=1, content_hash=first.content_hash) is not None
    assert get_executor(document, version=1, content_hash=first.content_hash) is get_executor(
        document, version=1, content_hash=first.content_hash
    )
    with pytest.raises(SpecInvalid):
        get_executor(spec([{"id": "A"}]), version=1)
    with pytest.raises(SpecError):
        get_executor({"id": "x", "tasks": "nope"}, version=1)


# ---------------------------------------------------------------------------- expression budget

SLOW = "count(for $i in 1 to 1000 return for $j in 1 to 1000 return for $k in 1 to 1000 return $k)"  # minutes


@pytest.fixture
def low_budget():
    """A 30 ms expression budget for one test."""
    from knhk.engine import expressions

    previous = expressions.time_budget_ms()
    expressions.configure(xpath_timeout_ms=30)
    yield
    expressions.configure(xpath_timeout_ms=previous)


def failures(case: Case) -> list[tuple[str, str]]:
    return [(e.task_id, e.payload["reason"]) for e in case.drain_events() if e.kind == "item_failed"]


def test_split_predicate_over_the_budget_fails_the_item(low_budget) -> None:
    case = start(spec([
        {"id": "A", "split": "xor", "flows": [{"to": "B", "predicate": f"{SLOW} > 0"}, {"to": "end", "default": True}]},
        {"id": "B", "flows": ["end"]},
    ]))  # fmt: skip
    started = time.monotonic()
    do(case, "A")
    assert failures(case) == [("A", f"task 'A': split predicate: expression '{SLOW} > 0' exceeded its 30 ms budget")]
    assert time.monotonic() - started < 2 and case.status == "deadlocked"  # the case ran on: nothing left


@pytest.mark.parametrize("query", [
    "for $i in 1 to 1000 return for $j in 1 to 1000 return $j",  # the range items would last seconds
    "for $i in 1 to 1000000 return <n>{$i}</n>",  # a constructor per item: seconds
], ids=["nested-ranges", "constructor-per-item"])  # fmt: skip
def test_mi_splitting_query_over_the_budget_fails_the_item(low_budget, query: str) -> None:
    case = start(mi_spec({"min": 1, "query": query, "variable": "n"}))
    do(case, "A")
    case.drain_events()
    case.start(mi_parent(case))
    assert failures(case) == [("M", f"task 'M': splitting query: expression '{query}' exceeded its 30 ms budget")]
    assert not [item for item in case.items.values() if item.parent]


def test_mi_splitting_query_with_a_huge_range_fails_the_item_at_once() -> None:
    query = "for $i in 1 to 1000000000 return $i"
    case = start(mi_spec({"min": 1, "query": query, "variable": "n"}))
    do(case, "A")
    case.drain_events()
    started = time.monotonic()
    case.start(mi_parent(case))
    assert failures(case) == [("M", f"task 'M': splitting query: expression '{query}' exceeded its budget of "
                                    "1,000,000 range items (the range 1 to 1000000000)")]  # fmt: skip
    assert time.monotonic() - started < 1


def test_output_mapping_over_the_budget_fails_the_item_and_keeps_the_data(low_budget) -> None:
    case = start(spec([{"id": "A", "flows": ["B"], "output_mappings": [{"query": SLOW, "to": "x"}]},
                       {"id": "B", "flows": ["end"]}],
                      variables=[{"name": "x", "type": "integer", "initial": 7}]))  # fmt: skip
    do(case, "A")
    assert failures(case) == [("A", f"task 'A': output mapping to 'x': expression '{SLOW}' exceeded its 30 ms budget")]
    assert case.data == {"x": 7} and case.status == "deadlocked"


def test_input_query_over_the_budget_fails_the_item_when_enabled(low_budget) -> None:
    case = start(spec([{"id": "A", "flows": ["end"], "inputs": [{"name": "n", "query": SLOW}]}]))
    assert failures(case) == [("A", f"task 'A': input 'n': expression '{SLOW}' exceeded its 30 ms budget")]
    assert case.status == "deadlocked"


def _variable_timer_case(deadline: object) -> Case:
    spec = {
        "id": "vt",
        "variables": [{"name": "deadline", "type": "any", "initial": deadline}],
        "conditions": [{"id": "i", "type": "input", "flows": ["open"]}, {"id": "o", "type": "output"},
                       {"id": "w", "flows": ["confirm", "timeout"]}],
        "tasks": [{"id": "open", "flows": ["w"]}, {"id": "confirm", "flows": ["o"]},
                  {"id": "timeout", "kind": "automated", "timer": {"variable": "deadline"}, "flows": ["o"]}],
    }  # fmt: skip
    case = compile_spec(spec).start_case("c", {})
    (item,) = case.enabled_items()
    case.start(item.id)
    case.complete(item.id, {})
    return case


def test_a_timer_read_from_a_net_variable_yawl_netparam() -> None:
    case = _variable_timer_case({"trigger": "OnEnabled", "expiry": "P3D"})
    timer_set = [e for e in case.drain_events() if e.kind == "timer_set"]
    assert [e.task_id for e in timer_set] == ["timeout"]
    assert timer_set[0].payload == {"trigger": "enabled", "duration": "P3D", "variable": "deadline"}
    timeout = next(i for i in case.items.values() if i.task == "timeout")
    case.timer_expired(timeout.id)
    assert case.status == "completed"

    case = _variable_timer_case({"trigger": "OnEnabled", "expiry": "2027-01-01T00:00:00Z"})
    assert [e.payload["expiry"] for e in case.drain_events() if e.kind == "timer_set"] == ["2027-01-01T00:00:00Z"]

    case = _variable_timer_case({"trigger": "OnExecuting", "expiry": "PT1H"})  # set when it starts
    assert not [e for e in case.drain_events() if e.kind == "timer_set"]
    timeout = next(i for i in case.items.values() if i.task == "timeout")
    case.start(timeout.id)
    assert [e.payload["trigger"] for e in case.drain_events() if e.kind == "timer_set"] == ["started"]


@pytest.mark.parametrize("deadline", [{"trigger": "OnEnabled", "expiry": "PD"}, None, "soon"])
def test_a_variable_timer_without_a_usable_value_is_set_but_never_fires(deadline: object) -> None:
    case = _variable_timer_case(deadline)
    (timer_set,) = [e for e in case.drain_events() if e.kind == "timer_set"]
    assert "invalid" in timer_set.payload and timer_set.payload["variable"] == "deadline"
    assert sorted(i.task for i in case.enabled_items()) == ["confirm", "timeout"]  # the choice stays open
