"""Command line: exit codes, messages and the JSON output of check, simulate and patterns."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from knhk.engine.cli import main
from knhk.engine.expressions import configure

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, document: Any, name: str = "spec.json") -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def net(tasks: list[dict], conditions: list[dict] | None = None, **extra: Any) -> dict:
    return {
        "id": "cli",
        "conditions": [{"id": "start", "type": "input", "flows": ["A"]}, {"id": "end", "type": "output"},
                       *(conditions or [])],
        "tasks": tasks,
        **extra,
    }  # fmt: skip


SEQUENCE = net([{"id": "A", "flows": ["B"]}, {"id": "B", "flows": ["end"]}])
DEADLOCK = net([
    {"id": "A", "split": "xor", "flows": [{"to": "B", "default": True}, {"to": "C", "predicate": "false()"}]},
    {"id": "B", "flows": ["J"]},
    {"id": "C", "flows": ["J"]},
    {"id": "J", "join": "and", "flows": ["end"]},
])  # fmt: skip
LOOP = net([
    {"id": "A", "flows": ["B"]},
    {"id": "B", "split": "xor", "flows": [{"to": "A", "predicate": "true()"}, {"to": "end", "default": True}]},
])  # fmt: skip


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_check_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, SEQUENCE)
    assert run(capsys, "check", path) == (0, f"{path}: valid\n")


def test_check_invalid_prints_one_message_a_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = net([{"id": "A", "flows": ["B"]}, {"id": "B", "flows": ["nowhere"]}, {"id": "D", "flows": ["end"]}])
    code, out = run(capsys, "check", write(tmp_path, document))
    assert code == 2
    assert out.splitlines() == [
        "error: net cli: task 'B' flows to 'nowhere', which is not a node of this net",
        "error: net cli: input condition 'start' has no path to output condition 'end'",
        "error: net cli: output condition 'end' cannot be reached from input condition 'start'",
        "error: net cli: task 'A' has no path to output condition 'end'",
        "error: net cli: task 'B' has no path to output condition 'end'",
        "error: net cli: task 'D' cannot be reached from input condition 'start'",
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "line 1 column 2"),
        ({"id": "x", "tasks": [{"id": "A", "join": "nand"}]}, "error: tasks[0].join: must be one of and, xor, or"),
        ([1, 2], "a specification must be a JSON object"),
    ],
)
def test_check_unreadable_or_malformed(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: Any,
                                       expected: str) -> None:  # fmt: skip
    code, out = run(capsys, "check", write(tmp_path, content))
    assert code == 2 and expected in out


def test_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "check", str(tmp_path / "absent.json"))
    assert code == 2 and "cannot read" in out


def test_simulate_completed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "simulate", write(tmp_path, SEQUENCE)) == (0, "A\nB\noutcome: completed\n")


def test_simulate_deadlock_names_stuck_nodes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "simulate", write(tmp_path, DEADLOCK))
    assert code == 3
    assert out.splitlines()[-1] == "outcome: deadlocked (stuck: B__J, J)"


def test_simulate_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "simulate", write(tmp_path, DEADLOCK), "--json")
    result = json.loads(out)
    assert code == 3
    assert result["status"] == "deadlocked" and result["trace"] == ["A", "B"]
    assert result["enabled"] == [] and result["marking"] == {"cli:B__J": 1} and result["errors"] == []
    assert result["stuck"] == ["B__J", "J"]


def test_simulate_step_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "simulate", write(tmp_path, LOOP), "--max-steps", "5", "--json")
    result = json.loads(out)
    assert code == 3 and result["status"] == "step_limit"
    assert result["trace"] == ["A", "B", "A", "B", "A"] and result["enabled"] == ["B"]


def test_simulate_data_and_mi_instances_each_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = net(
        [{"id": "A", "flows": ["end"], "multi_instance": {"min": 1, "max": 9, "query": "people", "variable": "who"}}],
        variables=[{"name": "people", "type": "array", "usage": "input"}, {"name": "flag", "type": "boolean", "usage": "input"}],
    )  # fmt: skip
    code, out = run(capsys, "simulate", write(tmp_path, document), "--data", '{"people": ["a", "b", "c"]}', "--json")
    result = json.loads(out)
    assert code == 0 and result["trace"] == ["A", "A", "A"]
    assert result["data"] == {"people": ["a", "b", "c"], "flag": False}, "missing inputs get type defaults"


def test_simulate_random_choice_is_seeded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = net([{"id": "A", "flows": [f"B{i}" for i in range(6)]}, *[{"id": f"B{i}", "flows": ["J"]} for i in range(6)],
                    {"id": "J", "join": "and", "flows": ["end"]}])  # fmt: skip
    path = write(tmp_path, document)
    first = run(capsys, "simulate", path, "--choice", "random", "--seed", "3")
    assert run(capsys, "simulate", path, "--choice", "random", "--seed", "3") == first
    orders = {run(capsys, "simulate", path, "--choice", "random", "--seed", str(seed))[1] for seed in range(8)}
    assert len(orders) > 1


def test_simulate_invalid_spec_and_bad_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    invalid = write(tmp_path, net([{"id": "A"}]))
    code, out = run(capsys, "simulate", invalid, "--json")
    assert code == 2 and json.loads(out)["status"] == "invalid"
    assert "error: net cli: task 'A' has no path to output condition 'end'" in json.loads(out)["errors"]
    code, out = run(capsys, "simulate", write(tmp_path, SEQUENCE), "--data", "[1]")
    assert code == 2 and "--data: must be a JSON object" in out


def nested_list(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("command", ["check", "simulate"])
def test_hostile_files_get_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch, command: str) -> None:  # fmt: skip
    import knhk.engine.importers as importers

    binary = tmp_path / "binary.json"
    binary.write_bytes(bytes([0xF7, 0x00, 0xFF]) * 100)
    deep = write(tmp_path, '{"id": "d", "extensions": ' + nested_list(100_000) + "}", "deep.json")
    shallow_but_deep = write(tmp_path, '{"id": "d", "extensions": ' + nested_list(900) + "}", "deep900.json")
    for path, expected in [
        (str(binary), f"error: {binary}: not UTF-8 text"),
        (deep, f"error: {deep}: nested deeper than 64 levels"),
        (shallow_but_deep, f"error: {shallow_but_deep}: nested deeper than 64 levels"),
    ]:
        code, out = run(capsys, command, path)
        assert code == 2 and len(out.splitlines()) == 1 and out.startswith(expected), out
    monkeypatch.setattr(importers, "MAX_SPEC_BYTES", 1000)
    big = write(tmp_path, {**SEQUENCE, "description": "x" * 2000}, "big.json")
    code, out = run(capsys, command, big)
    assert code == 2 and out.startswith(f"error: {big}: file is ") and out.endswith("the limit is 1000 bytes\n")


def test_simulate_refuses_deep_data_and_negative_step_limits(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    path = write(tmp_path, SEQUENCE)
    for data in ('{"a": ' + nested_list(100_000) + "}", '{"a": ' + nested_list(40) + "}"):
        code, out = run(capsys, "simulate", path, "--data", data)
        assert (code, out) == (2, "error: --data: nested deeper than 32 levels\n")
    with pytest.raises(SystemExit) as exited:
        main(["simulate", path, "--max-steps", "-1"])
    assert exited.value.code == 2 and "--max-steps: must be 0 or more" in capsys.readouterr().err


def test_too_deeply_nested_predicate_is_invalid_not_a_crash(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    predicate = "(" * 3000 + "1" + ")" * 3000 + " = 1"
    document = net([
        {"id": "A", "split": "xor", "flows": [{"to": "B", "predicate": predicate}, {"to": "end", "default": True}]},
        {"id": "B", "flows": ["end"]},
    ])  # fmt: skip
    code, out = run(capsys, "check", write(tmp_path, document))
    assert code == 2 and "predicate of flow to 'B'" in out and "nested too deeply" in out


def test_integer_variable_set_by_arithmetic_stays_an_integer(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    document = net(
        [{"id": "A", "output_mappings": [{"query": "n + 1", "to": "n"}], "flows": ["end"]}],
        variables=[{"name": "n", "type": "integer", "initial": 1}],
    )  # fmt: skip
    code, out = run(capsys, "simulate", write(tmp_path, document), "--json")
    assert code == 0 and json.loads(out)["data"] == {"n": 2}
    assert '"n": 2}' in out  # not 2.0


def test_patterns_command(capsys: pytest.CaptureFixture[str]) -> None:
    if importlib.util.find_spec("knhk.engine.patterns") is None:
        assert run(capsys, "patterns")[0] == 1
        return
    code, out = run(capsys, "patterns", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 43
    assert {"id", "name", "expressed_as", "test"} <= set(rows[0])


def test_module_entry_point(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    completed = subprocess.run(
        [sys.executable, "-m", "knhk.engine", "simulate", write(tmp_path, SEQUENCE), "--json"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["trace"] == ["A", "B"]


def test_simulate_routing_loop_at_case_start_is_a_failed_run_not_an_invalid_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = net([
        {"id": "A", "kind": "routing", "flows": ["R"]},
        {"id": "R", "kind": "routing", "split": "xor",
         "flows": [{"to": "A", "predicate": "true()"}, {"to": "end", "default": True}]},
    ])  # fmt: skip
    path = write(tmp_path, document)
    code, out = run(capsys, "simulate", path)
    assert code == 3 and "outcome: failed" in out and "routing tasks loop without end" in out
    code, out = run(capsys, "simulate", path, "--json")
    assert code == 3 and json.loads(out)["status"] == "failed"


def test_simulate_ends_a_runaway_query_with_the_item_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = "for $i in 1 to 1000 return for $j in 1 to 1000 return for $k in 1 to 1000 return $k"
    document = net([{"id": "A", "flows": ["end"], "multi_instance": {"min": 1, "query": query, "variable": "n"}}])
    path = write(tmp_path, document)
    try:
        code, out = run(capsys, "simulate", path, "--xpath-timeout-ms", "30")
    finally:
        configure(xpath_timeout_ms=1000)
    assert code == 3 and "outcome: failed (stuck: A)" in out
    assert f"work item of task 'A' failed: task 'A': splitting query: expression '{query}' exceeded its 30 ms budget" in out
    with pytest.raises(SystemExit) as exited:
        main(["simulate", path, "--xpath-timeout-ms", "0"])
    assert exited.value.code == 2 and "--xpath-timeout-ms: must be 1 or more" in capsys.readouterr().err


def test_simulate_a_failed_work_item_is_failed_not_an_empty_deadlock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failing = net([
        {"id": "A", "split": "xor", "flows": [{"to": "B", "predicate": 'number(/cli/x) = xs:integer("abc")',
                                               "ordering": 0},
                                              {"to": "end", "default": True}]},
        {"id": "B", "flows": ["end"]},
    ])  # fmt: skip
    code, out = run(capsys, "simulate", write(tmp_path, failing), "--json")
    result = json.loads(out)
    assert code == 3
    assert result["status"] == "failed" and result["stuck"] == ["A"] and result["trace"] == []
    assert result["errors"][0].startswith("work item of task 'A' failed: ") and "abc" in result["errors"][0]
