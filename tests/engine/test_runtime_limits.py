"""What a case does at the engine's limits and with values its variables refuse: the work item
fails with a message saying why, the case never crashes (no MemoryError, RecursionError or a value
of the wrong type in the net data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from knhk.engine import Case, compile_spec
from knhk.engine.cli import main
from knhk.engine.runtime import MAX_NET_DEPTH


def net(tasks: list[dict], first: str = "A", variables: list[dict] | None = None, nets: list | None = None) -> dict:
    return {
        "id": "limits",
        "variables": variables or [],
        "conditions": [{"id": "start", "type": "input", "flows": [first]}, {"id": "end", "type": "output"}],
        "tasks": tasks,
        **({"nets": nets} if nets else {}),
    }


def drive(case: Case, steps: int = 1000) -> list[str]:
    """Start and complete enabled items (oldest first) until none is left; the failure reasons."""
    failures = []
    for _ in range(steps):
        enabled = case.enabled_items()
        if case.status != "running" or not enabled:
            break
        item = enabled[0]
        case.start(item.id)
        if item.id in case.items and item.kind == "manual":
            case.complete(item.id, {})
        failures += [e.payload["reason"] for e in case.drain_events() if e.kind == "item_failed"]
    return failures


def test_a_multiple_instance_minimum_beyond_the_engine_limit_fails_at_once() -> None:
    document = net([{"id": "A", "multi_instance": {"min": 10**18, "max": 10**19}, "flows": ["end"]}])
    case = compile_spec(document).start_case("c", {})
    assert drive(case) == ["task 'A': 1000000000000000000 instances, more than the engine's limit of 10000 per task"]
    assert case.status == "deadlocked"


def nested(depth: int) -> dict:
    """A root net and `depth` subnets, each holding one composite task running the next one."""
    nets = [{"id": f"n{level}", "conditions": [{"id": f"i{level}", "type": "input", "flows": ["C"]},
                                              {"id": f"o{level}", "type": "output"}],
             "tasks": [{"id": "C", "subnet": f"n{level + 1}", "flows": [f"o{level}"]} if level < depth
                       else {"id": "C", "flows": [f"o{level}"]}]}
            for level in range(1, depth + 1)]  # fmt: skip
    return net([{"id": "C", "subnet": "n1", "flows": ["end"]}], first="C", nets=nets)


def test_subnets_nested_to_the_limit_complete() -> None:
    case = compile_spec(nested(MAX_NET_DEPTH - 1)).start_case("c", {})
    assert drive(case) == []
    assert case.status == "completed"


def test_subnets_nested_deeper_than_the_limit_fail_the_item_instead_of_overflowing_the_stack() -> None:
    case = compile_spec(nested(MAX_NET_DEPTH + 50)).start_case("c", {})
    failures = drive(case)
    assert failures == [f"task 'C': its subnet would run {MAX_NET_DEPTH + 1} nets deep, more than the engine's "
                        f"limit of {MAX_NET_DEPTH} (a recursion without end?)"]
    assert case.status == "deadlocked"
    case.cancel()  # and the whole nest can still be withdrawn
    assert case.items == {}


@pytest.mark.parametrize(
    ("query", "type_", "initial", "shown"),
    [("'abc'", "integer", 7, '"abc"'), ("0e0 div 0", "number", 1.5, '"nan"'), ("1e0 div 0", "number", 1.5, '"inf"'),
     ("'maybe'", "boolean", True, '"maybe"')],
)  # fmt: skip
def test_an_output_mapping_a_number_or_boolean_variable_refuses_fails_the_item(query: str, type_: str, initial: Any,
                                                                               shown: str) -> None:  # fmt: skip
    document = net([{"id": "A", "output_mappings": [{"query": query, "to": "v"}], "flows": ["end"]}],
                   variables=[{"name": "v", "type": type_, "initial": initial}])  # fmt: skip
    case = compile_spec(document).start_case("c", {})
    [reason] = drive(case)
    assert reason.startswith(f"task 'A': output mapping to 'v': variable 'v' must be {type_} (")
    assert reason.endswith(f"got {shown}")
    assert case.data == {"v": initial}  # the net data kept its value


def test_a_routing_task_maps_its_output_over_the_net_data() -> None:
    document = net(
        [{"id": "A", "kind": "routing", "output_mappings": [{"query": "n + 1", "to": "n"}], "split": "xor",
          "flows": [{"to": "A", "predicate": "n < 5", "ordering": 0}, {"to": "B", "default": True}]},
         {"id": "B", "flows": ["end"]}],
        variables=[{"name": "n", "type": "integer", "initial": 0}],
    )  # fmt: skip
    case = compile_spec(document).start_case("c", {})
    assert drive(case) == []
    assert case.status == "completed" and case.data == {"n": 5}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_check_refuses_what_is_not_a_regular_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", "/dev/zero") == (2, "error: /dev/zero: not a regular file\n")
    assert run(capsys, "check", "") == (2, "error: '': cannot read: No such file or directory\n")


def test_simulate_start_data_the_net_refuses_is_invalid_input(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    path = tmp_path / "spec.json"
    variables: list[dict[str, Any]] = [{"name": "x", "type": "integer", "usage": "input"}]
    path.write_text(json.dumps(net([{"id": "A", "flows": ["end"]}], variables=variables)))
    assert run(capsys, "simulate", str(path), "--data", '{"x": "abc"}') == (
        2, "error: --data: net limits: case data: variable 'x' must be integer (a whole number), got \"abc\"\n")
    assert run(capsys, "simulate", str(path), "--data", '{"zz": 1}')[0] == 2
    assert run(capsys, "simulate", str(path), "--data", '{"x": 3}')[0] == 0


def test_a_state_nested_deeper_than_the_limit_is_refused_on_restore() -> None:
    executor = compile_spec(nested(MAX_NET_DEPTH + 5))
    case = executor.start_case("c", {})
    drive(case)  # up to the limit: the composite at depth MAX_NET_DEPTH + 1 failed
    state = case.to_state()
    assert executor.restore(state).to_state() == state
    # one level more than the runtime allows, written by hand: the last subnet becomes a composite's
    deepest = state["nets"][-1]
    deeper = json.loads(json.dumps(state))
    item = {"id": str(deeper["counter"] + 1), "task": "C", "in": deepest["id"], "state": "started",
            "kind": "composite", "data": {}, "dv": 0}  # fmt: skip
    net_entry = {**deepest, "id": str(deeper["net_counter"] + 1), "net": f"n{len(state['nets'])}",
                 "parent": item["id"], "marking": {}}  # fmt: skip
    deeper["items"].append(item)
    deeper["nets"].append(net_entry)
    deeper["counter"] += 1
    deeper["net_counter"] += 1
    from knhk.engine import EngineError

    with pytest.raises(EngineError, match=f"nets deep; the limit is {MAX_NET_DEPTH}"):
        executor.restore(deeper)
