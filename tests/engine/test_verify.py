"""Verification: one case per rule, each message naming the net and the element."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from knhk.engine import SpecError, SpecInvalid, compile_spec, verify
from knhk.engine.verify import errors_only

VALID: dict[str, Any] = {
    "id": "v",
    "root_net": "Main",
    "variables": [{"name": "x", "type": "integer", "initial": 0}],
    "conditions": [
        {"id": "start", "type": "input", "flows": ["A"]},
        {"id": "c1", "flows": ["B"]},
        {"id": "end", "type": "output"},
    ],
    "tasks": [
        {"id": "A", "split": "xor", "flows": [{"to": "c1", "predicate": "x > 1", "ordering": 0}, {"to": "C", "default": True}]},
        {"id": "B", "flows": ["end"]},
        {"id": "C", "flows": ["end"], "subnet": "Sub"},
    ],
    "nets": [{"id": "Sub", "conditions": [{"id": "i", "type": "input", "flows": ["X"]}, {"id": "o", "type": "output"}],
              "tasks": [{"id": "X", "flows": ["o"]}]}],
}  # fmt: skip


def messages(change: Any, severity: str = "error") -> list[str]:
    document = copy.deepcopy(VALID)
    change(document)
    return [p.message for p in verify(document) if p.severity == severity]


def task(document: dict, task_id: str) -> dict:
    return next(t for t in document["tasks"] if t["id"] == task_id)


def test_valid_spec_has_no_problems() -> None:
    assert verify(VALID) == []


CASES = [
    ("initial value of the wrong type", lambda d: d["variables"].append({"name": "n", "type": "integer", "initial": "abc"}),
     "net Main: the initial value of variable 'n' must be integer (a whole number), got \"abc\""),
    ("xs:boolean initial that is no boolean text", lambda d: d["variables"].append({"name": "b", "type": "xs:boolean", "initial": "yes"}),
     "net Main: the initial value of variable 'b' must be xs:boolean"),
    ("xs:date initial of the wrong form", lambda d: d["variables"].append({"name": "d", "type": "xs:date", "initial": "2026-13-01"}),
     "net Main: the initial value of variable 'd' must be xs:date (a date YYYY-MM-DD)"),
    ("mapping to unknown variable", lambda d: task(d, "B").update(output_mappings=[{"query": "y", "to": "y"}]),
     "net Main: task 'B': output mapping 0 targets 'y', which is not a variable of this net"),
    ("two input conditions", lambda d: d["conditions"].append({"id": "s2", "type": "input", "flows": ["B"]}),
     "net Main: must have exactly one input condition, found 2"),
    ("no output condition", lambda d: d["conditions"][2].update(type="condition"),
     "net Main: must have exactly one output condition, found 0"),
    ("flow into input", lambda d: task(d, "B")["flows"].append("start"),
     "net Main: task 'B' flows into the input condition 'start'"),
    ("flow out of output", lambda d: d["conditions"][2].update(flows=["B"]),
     "net Main: output condition 'end' must have no outgoing flows"),
    ("unreachable task", lambda d: d["tasks"].append({"id": "D", "flows": ["end"]}),
     "net Main: task 'D' cannot be reached from input condition 'start'"),
    ("dead end", lambda d: task(d, "A")["flows"].append({"to": "D", "ordering": 1}) or d["tasks"].append({"id": "D"}),
     "net Main: task 'D' has no path to output condition 'end'"),
    ("unknown target", lambda d: task(d, "B")["flows"].append("nowhere"),
     "net Main: task 'B' flows to 'nowhere', which is not a node of this net"),
    ("target in another net", lambda d: task(d, "B")["flows"].append("X"),
     "net Main: task 'B' flows to 'X', which is not a node of this net (it is in net Sub)"),
    ("condition to condition", lambda d: d["conditions"][1]["flows"].append("end"),
     "net Main: condition 'c1' flows to condition 'end'; a condition may only flow into tasks"),
    ("xor without default", lambda d: task(d, "A")["flows"][1].update(default=False),
     "net Main: task 'A' has an XOR-split and must have exactly one default flow, found 0"),
    ("or with two defaults", lambda d: task(d, "A").update(split="or") or task(d, "A")["flows"][0].update(default=True),
     "net Main: task 'A' has an OR-split and must have exactly one default flow, found 2"),
    ("same ordering", lambda d: task(d, "A")["flows"][1].update(ordering=0),
     "net Main: task 'A' has 2 flows with ordering 0"),
    ("bad predicate", lambda d: task(d, "A")["flows"][0].update(predicate="x >"),
     "net Main: task 'A': predicate of flow to 'c1': invalid expression"),
    ("mi min > max", lambda d: task(d, "B").update(multi_instance={"min": 3, "max": 2}),
     "net Main: task 'B': multiple instances: min 3 is greater than max 2"),
    ("mi threshold > max", lambda d: task(d, "B").update(multi_instance={"max": 2, "threshold": 3}),
     "net Main: task 'B': multiple instances: threshold 3 is greater than max 2"),
    ("mi dynamic without room", lambda d: task(d, "B").update(multi_instance={"min": 2, "max": 2, "creation": "dynamic"}),
     "net Main: task 'B': multiple instances: dynamic creation needs max greater than min (min 2, max 2)"),
    ("routing mi", lambda d: task(d, "B").update(kind="routing", multi_instance={"min": 1}),
     "net Main: task 'B': multiple instances: a routing task cannot have multiple instances"),
    ("missing subnet", lambda d: task(d, "C").update(subnet="Nope"),
     "net Main: task 'C' runs subnet 'Nope', which is not a net of this specification"),
    ("cancel unknown", lambda d: task(d, "B").update(cancels=["ghost"]),
     "net Main: task 'B' cancels 'ghost', which is not a task or condition of this net"),
    ("cancel other net", lambda d: task(d, "B").update(cancels=["X"]),
     "net Main: task 'B' cancels 'X', which is not a task or condition of this net (it is in net Sub)"),
    ("duplicate id", lambda d: d["conditions"].append({"id": "A", "flows": ["B"]}),
     "net Main: id 'A' is used by more than one element (condition and task)"),
    ("duplicate flow", lambda d: task(d, "B")["flows"].append("end"),
     "net Main: task 'B' has 2 flows to 'end'"),
    ("implicit id clash", lambda d: d["tasks"].extend([{"id": "B__D", "flows": ["end"]}]) or task(d, "B").update(flows=["D"])
     or d["tasks"].append({"id": "D", "flows": ["end"]}) or d["conditions"][1]["flows"].append("B__D"),
     "net Main: id 'B__D' clashes with the implicit condition of a task-to-task flow"),
    ("subnet problems are found too", lambda d: d["nets"][0]["tasks"].append({"id": "Y"}),
     "net Sub: task 'Y' is not on a path from input condition 'i' to output condition 'o'"),
    ("duplicate variable", lambda d: d["variables"].append({"name": "x"}),
     "net Main: variable 'x' is declared 2 times"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_rule(change: Any, expected: str) -> None:
    found = messages(change)
    assert any(message.startswith(expected) for message in found), found


def test_problem_names_its_element() -> None:
    document = copy.deepcopy(VALID)
    document["tasks"].append({"id": "D", "flows": ["end"]})
    (problem,) = errors_only(verify(document))
    assert problem.element == "Main/D" and problem.severity == "error"
    assert str(problem) == "error: net Main: task 'D' cannot be reached from input condition 'start'"


WARNINGS = [
    ("predicate on and-split", lambda d: task(d, "B").update(flows=[{"to": "end", "predicate": "x > 1"}]),
     "net Main: task 'B' has an AND-split; the predicate on its flow to 'end' is ignored"),
    ("unused subnet", lambda d: task(d, "C").pop("subnet"),
     "net Sub: is not the subnet of any composite task"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "expected"), [case[1:] for case in WARNINGS], ids=[case[0] for case in WARNINGS])
def test_warning(change: Any, expected: str) -> None:
    assert expected in messages(change, "warning")
    assert messages(change) == []


def test_recursion_into_the_root_net_is_allowed() -> None:
    document = copy.deepcopy(VALID)
    task(document, "C")["subnet"] = "Main"
    assert errors_only(verify(document)) == []


def test_compile_refuses_an_invalid_spec_with_the_problems() -> None:
    document = copy.deepcopy(VALID)
    task(document, "C")["subnet"] = "Nope"
    with pytest.raises(SpecInvalid) as error:
        compile_spec(document)
    assert [p.element for p in errors_only(error.value.problems)] == ["Main/C"]
    assert "Nope" in str(error.value)


def test_initial_values_of_the_right_type_pass() -> None:
    document = copy.deepcopy(VALID)
    document["variables"] += [
        {"name": "b", "type": "xs:boolean", "initial": "true"},  # YAWL data is text
        {"name": "i", "type": "xs:int", "initial": "42"},
        {"name": "d", "type": "xs:date", "initial": "2026-01-31"},
        {"name": "t", "type": "xs:dateTime", "initial": "2026-01-31T08:00:00Z"},
        {"name": "o", "type": "object", "initial": {"a": 1}},
    ]
    assert errors_only(verify(document)) == []


def test_connector_needs_a_name_and_an_object_config() -> None:
    from knhk.engine.spec import Connector, Specification

    spec = Specification.from_dict(VALID)
    root = spec.root
    tasks = list(root.tasks)
    tasks[1] = type(tasks[1])(id="B", flows=tasks[1].flows, kind="automated",
                              connector=Connector(name="", config=[]))  # type: ignore[arg-type]  # fmt: skip
    broken = type(spec)(id=spec.id, nets=(type(root)(id=root.id, variables=root.variables,
                                                     conditions=root.conditions, tasks=tuple(tasks)), *spec.nets[1:]))  # fmt: skip
    found = [p.message for p in errors_only(verify(broken))]
    assert "net Main: task 'B': connector needs a name (a non-empty string)" in found
    assert "net Main: task 'B': connector '': config must be an object" in found
    # from a document, the parser says the same with the JSON path
    document = copy.deepcopy(VALID)
    task(document, "B").update(kind="automated", connector={"name": 3, "config": "x"})
    with pytest.raises(SpecError) as error:
        verify(document)
    assert "tasks[1].connector.config: must be an object" in error.value.messages
    assert "tasks[1].connector.name: must be a non-empty string" in error.value.messages
