"""YAWL fidelity of the runtime: output mappings over the item's whole data, OR-split default flows
with and without a predicate, run-time query failures that fail the work item (atomically), and
explicit empty output mappings."""

from __future__ import annotations

from typing import Any

import pytest
from test_runtime import do, enabled, item_of, spec, start

from knhk.engine import Case, Specification, verify

FAILS = "xs:integer(x) > 1"  # compiles; fails at run time when x is not a number


def failures(case: Case) -> list[tuple[str | None, str]]:
    return [(e.task_id, e.payload["reason"]) for e in case.drain_events() if e.kind == "item_failed"]


# ---------------------------------------------------------------------------- 1. output mappings


def counter(mapping_query: str = "n + 1") -> dict:
    return spec(
        [{"id": "A", "inputs": [{"name": "n"}], "flows": ["end"],
          "output_mappings": [{"query": mapping_query, "to": "n"}]}],
        variables=[{"name": "n", "type": "integer", "initial": 1}],
    )  # fmt: skip


def test_output_mapping_sees_the_items_input_data() -> None:
    case = start(counter())
    do(case, "A", {})  # the completer returns nothing: the mapping reads n from the input data
    assert case.data == {"n": 2}


def test_output_mapping_prefers_the_returned_output() -> None:
    case = start(counter())
    do(case, "A", {"n": 10})
    assert case.data == {"n": 11}


# ---------------------------------------------------------------------------- 2. OR-split default


def or_split(default_predicate: str | None) -> dict:
    default: dict[str, Any] = {"to": "C", "default": True}
    if default_predicate is not None:
        default["predicate"] = default_predicate
    return spec(
        [{"id": "A", "split": "or", "flows": [{"to": "B", "predicate": "x > 1"}, default]},
         {"id": "B", "flows": ["D"]}, {"id": "C", "flows": ["D"]},
         {"id": "D", "join": "or", "flows": ["end"]}],
        variables=[{"name": "x", "type": "integer", "initial": 0}],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("default_predicate", "x", "taken"),
    [
        (None, 3, ["B"]),  # JSON: no predicate on the default = only when no other flow was taken
        (None, 0, ["C"]),
        ("true()", 3, ["B", "C"]),  # YAWL: the default's own predicate is evaluated too
        ("true()", 0, ["C"]),
        ("x > 5", 3, ["B"]),
        ("x > 2", 3, ["B", "C"]),
        ("x > 5", 0, ["C"]),  # false, but nothing else was taken
        ("false()", 3, ["B"]),
    ],
)
def test_or_split_default_flow(default_predicate: str | None, x: int, taken: list[str]) -> None:
    case = start(or_split(default_predicate))
    do(case, "A", {"x": x})
    assert enabled(case) == taken


def test_default_predicate_warning_only_where_it_is_ignored() -> None:
    warnings = [p.message for p in verify(Specification.from_dict(or_split("x > 5")))]
    assert not any("ignored" in message for message in warnings)
    xor = or_split("x > 5")
    xor["tasks"][0]["split"] = "xor"
    xor["tasks"][3]["join"] = "xor"
    assert any("ignored" in p.message for p in verify(Specification.from_dict(xor)))


# ---------------------------------------------------------------------------- 3. failing queries


def xor_split(**extra: Any) -> dict:
    return spec(
        [{"id": "A", "split": "xor", "flows": [{"to": "B", "predicate": FAILS}, {"to": "C", "default": True}],
          **extra},
         {"id": "B", "flows": ["end"]}, {"id": "C", "flows": ["end"]}],
        variables=[{"name": "x", "type": "string", "initial": "1"}],
    )  # fmt: skip


@pytest.mark.parametrize("extra", [{}, {"cancels": ["B"]}], ids=["fast path", "general path"])
def test_failing_split_predicate_fails_the_item_and_changes_nothing(extra: dict) -> None:
    case = start(xor_split(**extra))
    item_id = item_of(case, "A")
    case.start(item_id)
    case.drain_events()
    marking = case.marking()
    case.complete(item_id, {"x": "abc"})
    assert failures(case) == [
        ("A", f"task 'A': split predicate: expression {FAILS!r} failed: " + _cause(case))
    ]
    assert case.data == {"x": "1"}  # the output was not merged
    assert case.marking() == marking  # no token emitted
    assert item_id not in case.items
    assert case.status == "deadlocked"  # the case did not crash; nothing else can run


def _cause(case: Case) -> str:
    """The elementpath message after 'failed: ' (whatever its wording), read back from a fresh run."""
    probe = start(xor_split())
    item_id = item_of(probe, "A")
    probe.start(item_id)
    probe.complete(item_id, {"x": "abc"})
    reason = [e.payload["reason"] for e in probe.drain_events() if e.kind == "item_failed"][0]
    return reason.split(" failed: ", 1)[1]


def test_failing_output_mapping_fails_the_item_and_leaves_data_alone() -> None:
    case = start(counter("xs:integer(y)"))
    do(case, "A", {"y": "abc"})
    [(task, reason)] = failures(case)
    assert task == "A" and reason.startswith(
        "task 'A': output mapping to 'n': expression 'xs:integer(y)' failed"
    )
    assert case.data == {"n": 1}
    assert case.marking() == {}
    assert case.status == "deadlocked"


def test_failing_input_query_fails_the_item_when_it_is_enabled() -> None:
    document = spec(
        [{"id": "A", "inputs": [{"name": "v", "query": "xs:integer(x)"}], "flows": ["end"]}],
        variables=[{"name": "x", "type": "string", "initial": "abc"}],
    )
    case = start(document)
    events = [(e.kind, e.task_id) for e in case.drain_events() if e.kind.startswith("item_")]
    assert events == [("item_enabled", "A"), ("item_failed", "A")]
    assert case.items == {} and case.status == "deadlocked"


def test_failing_input_query_when_the_item_starts() -> None:
    document = spec(
        [{"id": "S", "flows": ["A", "C"]},
         {"id": "A", "inputs": [{"name": "v", "query": "xs:integer(x)"}], "flows": ["J"]},
         {"id": "C", "flows": ["J"]}, {"id": "J", "join": "and", "flows": ["end"]}],
        first="S", variables=[{"name": "x", "type": "string", "initial": "1"}],
    )  # fmt: skip
    case = start(document)
    do(case, "S")
    assert case.items[item_of(case, "A")].data == {"v": 1}
    do(case, "C", {"x": "abc"})  # the net data changes: A's input is recomputed when it starts
    a = item_of(case, "A")
    case.drain_events()
    case.start(a)
    [(task, reason)] = failures(case)
    assert task == "A" and "input 'v'" in reason and "xs:integer(x)" in reason
    assert a not in case.items
    assert case.status == "deadlocked"


def test_failing_routing_predicate_says_which_task_failed() -> None:
    document = xor_split()
    document["tasks"][0]["kind"] = "routing"
    document["variables"][0]["initial"] = "abc"
    case = start(document)
    [(task, reason)] = failures(case)
    assert task == "A" and FAILS in reason
    assert case.status == "deadlocked"


def mi(**attributes: Any) -> dict:
    return spec(
        [{"id": "A", "flows": ["end"], "multi_instance": {"min": 1, **attributes}}],
        variables=[{"name": "x", "type": "string", "initial": "abc"}, {"name": "out", "type": "array"}],
    )


def test_failing_splitting_query_fails_the_mi_item() -> None:
    case = start(mi(query="xs:integer(x)", variable="v"))
    case.start(item_of(case, "A"))
    [(task, reason)] = failures(case)
    assert task == "A" and reason.startswith("task 'A': splitting query: expression 'xs:integer(x)' failed")
    assert case.status == "deadlocked"


def test_failing_aggregate_query_fails_the_mi_item() -> None:
    case = start(mi(min=2, aggregate="xs:integer(r)", to="out"))
    parent = item_of(case, "A")
    case.start(parent)
    for child in [i.id for i in case.enabled_items()]:
        case.start(child)
        case.complete(child, {"r": "abc"})
    reasons = failures(case)
    assert [task for task, _ in reasons] == ["A"]
    assert reasons[0][1].startswith("task 'A': aggregate query: expression 'xs:integer(r)' failed")
    assert parent not in case.items and case.data["out"] is None
    assert case.status == "deadlocked"


def test_aggregate_query_sees_each_instances_whole_data() -> None:
    case = start(mi(query="('p', 'q')", variable="v", aggregate="concat(v, r)", to="out"))
    case.start(item_of(case, "A"))
    for child in [i.id for i in case.enabled_items()]:
        case.start(child)
        case.complete(child, {"r": "!"})
    assert case.data["out"] == ["p!", "q!"]
    assert case.status == "completed"


# ---------------------------------------------------------------------------- 4. explicit empty mappings


@pytest.mark.parametrize(("mappings", "expected"), [(None, 5), ([], 0)], ids=["absent", "empty"])
def test_explicit_empty_output_mappings_bring_nothing_back(mappings: list | None, expected: int) -> None:
    task: dict[str, Any] = {"id": "A", "flows": ["end"]}
    if mappings is not None:
        task["output_mappings"] = mappings
    document = spec([task], variables=[{"name": "x", "type": "integer", "initial": 0}])
    assert ("output_mappings" in Specification.from_dict(document).to_dict()["tasks"][0]) == (mappings == [])
    case = start(document)
    do(case, "A", {"x": 5})
    assert case.data == {"x": expected}


def test_composite_task_with_empty_mappings_brings_nothing_back() -> None:
    document = spec(
        [{"id": "A", "subnet": "Sub", "flows": ["end"], "output_mappings": []}],
        variables=[{"name": "x", "type": "integer", "initial": 0}],
        nets=[{"id": "Sub", "variables": [{"name": "x", "type": "integer", "initial": 7}],
               "conditions": [{"id": "i", "type": "input", "flows": ["S"]}, {"id": "o", "type": "output"}],
               "tasks": [{"id": "S", "flows": ["o"]}]}],
    )  # fmt: skip
    case = start(document)
    case.start(item_of(case, "A"))
    do(case, "S", {"x": 9})
    assert case.status == "completed" and case.data == {"x": 0}


# ---------------------------------------------------------------------------- 5. wiring rules in verify()


def test_verify_checks_the_wiring_rules() -> None:
    document = spec(
        [{"id": "A", "flows": ["B"], "inputs": [{"name": "item"}],
          "output_mappings": [{"query": "r", "to": "all"}],
          "multi_instance": {"query": "xs", "variable": "item", "to": "all"}},
         {"id": "B", "subnet": "Sub", "flows": ["end"], "inputs": [{"name": "nowhere"}]}],
        variables=[{"name": "xs", "type": "array"}, {"name": "all", "type": "array"}],
        nets=[{"id": "Sub", "variables": [{"name": "y"}],
               "conditions": [{"id": "i", "type": "input", "flows": ["S"]}, {"id": "o", "type": "output"}],
               "tasks": [{"id": "S", "flows": ["o"]}]}],
    )  # fmt: skip
    errors = [p.message for p in verify(Specification.from_dict(document)) if p.severity == "error"]
    assert errors == [
        "net t: task 'A': variable 'all' receives both the multiple-instance output and an output mapping",
        "net t: task 'A': input 'item' receives both the multiple-instance item and an input mapping",
        "net t: task 'B': input 'nowhere' goes to subnet 'Sub', which does not declare it",
    ]
