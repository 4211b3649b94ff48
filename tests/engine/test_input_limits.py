"""Input limits from a new-user trial: each hostile input is a clear error naming the element, never a
traceback (long integer text, lone surrogates, huge nets, names XPath cannot reach, unknown types)."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from knhk.engine import SpecError, Specification, compile_spec, verify
from knhk.engine.cli import main
from knhk.engine.runtime import EngineError
from knhk.engine.spec import Condition, Flow, Net, Task
from knhk.engine.types import value_problem
from knhk.engine.verify import MAX_NET_NODES, errors_only

ROOT = Path(__file__).resolve().parents[2]
LONG = "9" * 5000  # beyond Python's 4,300-digit int-conversion limit

BASE: dict[str, Any] = {
    "id": "limits",
    "root_net": "Main",
    "variables": [{"name": "x", "type": "integer", "initial": 0}],
    "conditions": [{"id": "start", "type": "input", "flows": ["A"]}, {"id": "c1", "flows": ["B"]},
                   {"id": "end", "type": "output"}],
    "tasks": [{"id": "A", "flows": ["c1"]}, {"id": "B", "flows": ["end"]}],
}  # fmt: skip


def changed(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    change(document)
    return document


def messages(change: Any, severity: str = "error") -> list[str]:
    return [p.message for p in verify(changed(change)) if p.severity == severity]


def task(document: dict, task_id: str) -> dict:
    return next(t for t in document["tasks"] if t["id"] == task_id)


def write(tmp_path: Path, document: Any, name: str = "spec.json") -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


# --------------------------------------------------------------------------- long integer text


@pytest.mark.parametrize(
    ("type_name", "value", "expected"),
    [
        ("xs:long", LONG, "n is not a valid xs:long (too many digits: 5000, at most 19)"),
        ("xs:int", "-" + LONG, "n is not a valid xs:int (too many digits: 5000, at most 10)"),
        ("xs:integer", LONG, "n is not a valid xs:integer (too many digits: 5000, at most 4300)"),
        ("xs:nonNegativeInteger", f" +{LONG} ", "n is not a valid xs:nonNegativeInteger (too many digits: 5000, at most 4300)"),
        ("xs:long", "9" * 25, "n is not a valid xs:long (too many digits: 25, at most 19)"),
        ("xs:long", "9223372036854775808", "n must be xs:long (a whole number from -9223372036854775808 to "
                                           "9223372036854775807), got \"9223372036854775808\""),
        ("xs:long", 10**5000, "n must be xs:long (a whole number from -9223372036854775808 to "
                              "9223372036854775807), got a value too large to show"),
    ],
    ids=["long", "int", "integer", "nonNegativeInteger", "long-25-digits", "long-out-of-range", "huge-python-int"],
)  # fmt: skip
def test_integer_text_longer_than_its_type_is_a_problem_not_a_value_error(type_name: str, value: Any,
                                                                          expected: str) -> None:  # fmt: skip
    assert value_problem("n", type_name, value) == expected


@pytest.mark.parametrize(
    ("type_name", "value"),
    [("xs:long", "-9223372036854775808"), ("xs:long", "0" * 5000 + "7"), ("xs:integer", "9" * 4300),
     ("xs:unsignedLong", "18446744073709551615"), ("xs:int", " +42 "), ("integer", 10**5000)],
    ids=["long-min", "leading-zeros", "integer-4300-digits", "unsignedLong-max", "int-signed", "huge-python-int"],
)  # fmt: skip
def test_integer_text_within_its_type_is_accepted(type_name: str, value: Any) -> None:
    assert value_problem("n", type_name, value) is None


def test_check_of_a_long_initial_value_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = changed(lambda d: d["variables"].append({"name": "n", "type": "xs:long", "initial": LONG}))
    assert run(capsys, "check", write(tmp_path, document)) == (
        2, "error: net Main: the initial value of variable 'n' is not a valid xs:long (too many digits: 5000, at most 19)\n"
    )  # fmt: skip


def test_check_of_a_long_json_integer_literal_names_file_and_path(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    text = json.dumps(BASE).replace('"initial": 0', f'"initial": -{LONG}')
    path = write(tmp_path, text)
    assert run(capsys, "check", path) == (
        2, f"error: {path}: variables[0].initial: an integer of 5000 digits; at most 4300 are allowed\n"
    )  # fmt: skip


def test_check_of_a_long_yawl_initial_value_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    yawl = f"""<?xml version="1.0" encoding="UTF-8"?>
<specificationSet xmlns="http://www.yawlfoundation.org/yawlschema"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="4.0">
  <specification uri="Long">
    <decomposition id="Main" isRootNet="true" xsi:type="NetFactsType">
      <localVariable><index>0</index><name>n</name><type>long</type>
        <namespace>http://www.w3.org/2001/XMLSchema</namespace><initialValue>{LONG}</initialValue></localVariable>
      <processControlElements>
        <inputCondition id="in"><flowsInto><nextElementRef id="A" /></flowsInto></inputCondition>
        <task id="A"><flowsInto><nextElementRef id="out" /></flowsInto><join code="xor" /><split code="and" /></task>
        <outputCondition id="out" />
      </processControlElements>
    </decomposition>
  </specification>
</specificationSet>"""
    assert run(capsys, "check", write(tmp_path, yawl, "long.yawl")) == (
        2, "error: net Main: the initial value of variable 'n' is not a valid xs:long (too many digits: 5000, at most 19)\n"
    )  # fmt: skip


def test_long_start_data_and_completion_outputs_are_engine_errors() -> None:
    document = changed(lambda d: d["variables"].append({"name": "n", "type": "xs:long", "usage": "input"})
                       or task(d, "A").update(outputs=[{"name": "m", "type": "xs:int", "required": True}]))  # fmt: skip
    executor = compile_spec(document)
    with pytest.raises(EngineError, match=r"variable 'n' is not a valid xs:long \(too many digits: 5000, at most 19\)"):
        executor.start_case("long", {"n": LONG})
    case = executor.start_case("ok", {"n": "5"})
    item = case.enabled_items()[0]
    case.start(item.id)
    with pytest.raises(EngineError, match=r"output 'm' is not a valid xs:int \(too many digits: 5000, at most 10\)"):
        case.complete(item.id, {"m": LONG})


def test_api_answers_400_for_long_integer_text(api_client) -> None:
    document = changed(lambda d: d["variables"].append({"name": "n", "type": "xs:long", "usage": "input"}))
    assert api_client.post("/api/v1/workflows", {"spec": document}, format="json").status_code == 201
    response = api_client.post("/api/v1/cases", {"spec_id": "limits", "data": {"n": LONG}}, format="json")
    assert response.status_code == 400
    assert "variable 'n' is not a valid xs:long (too many digits: 5000, at most 19)" in response.json()["error"]["message"]
    bad = changed(lambda d: d["variables"].append({"name": "n", "type": "xs:long", "initial": LONG}))
    response = api_client.post("/api/v1/workflows", {"spec": bad}, format="json")
    assert response.status_code == 400
    assert "is not a valid xs:long (too many digits" in response.json()["error"]["message"]


# --------------------------------------------------------------------------- lone surrogates


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(name="\ud800"), "name: contains a lone surrogate"),
        (lambda d: d.update(description="ok \udfff"), "description: contains a lone surrogate"),
        (lambda d: task(d, "B").update(id="B\udc00"), "tasks[1].id: contains a lone surrogate"),
        (lambda d: task(d, "A").update(extensions={"k": ["x", {"y": "\ud83d"}]}), "tasks[0].extensions.k[1].y: contains a lone surrogate"),
        (lambda d: d["variables"][0].update(initial={"\ud800key": 1}), "variables[0].initial.\\ud800key: the field name contains a lone surrogate"),
    ],
)  # fmt: skip
def test_a_lone_surrogate_is_a_spec_error_naming_its_path(change: Any, expected: str) -> None:
    with pytest.raises(SpecError) as error:
        Specification.from_dict(changed(change))
    assert error.value.messages == [f"{expected} (\\ud800-\\udfff), which is not Unicode text"]
    assert all(message.isprintable() and message.encode("utf-8") for message in error.value.messages)


def test_a_surrogate_pair_is_text_and_hashes() -> None:
    spec = Specification.from_dict(changed(lambda d: d.update(name=json.loads('"\\ud83d\\ude00"'))))
    assert spec.name == "\U0001f600" and len(spec.content_hash()) == 64


def test_simulate_of_a_lone_surrogate_exits_2_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, changed(lambda d: d.update(name="\ud800")))
    for command in ("check", "simulate"):
        result = subprocess.run([sys.executable, "-m", "knhk.engine", command, path], capture_output=True,
                                text=True, cwd=ROOT, timeout=60)  # fmt: skip
        assert result.returncode == 2 and result.stderr == ""
        assert result.stdout == "error: name: contains a lone surrogate (\\ud800-\\udfff), which is not Unicode text\n"


# --------------------------------------------------------------------------- net size


def sequence(size: int) -> Specification:
    """start -> t0 -> ... -> end, built without parsing: `size` nodes as the compiler counts them (an
    odd size: tasks, the two conditions and a condition per task-to-task flow), `size - 1` if even."""
    count = (size - 1) // 2
    tasks = tuple(Task(id=f"t{i}", flows=(Flow(to=f"t{i + 1}" if i + 1 < count else "end"),)) for i in range(count))
    conditions = (Condition(id="start", type="input", flows=(Flow(to="t0"),)), Condition(id="end", type="output"))
    return Specification(id="big", nets=(Net(id="big", conditions=conditions, tasks=tasks),))


def test_a_net_at_the_node_limit_verifies() -> None:
    assert verify(sequence(MAX_NET_NODES)) == []


def test_a_net_over_the_node_limit_is_one_error_found_at_once() -> None:
    spec = sequence(150_000)
    started = time.perf_counter()
    problems = verify(spec)
    assert time.perf_counter() - started < 1.0  # the count is taken before any other check of the net
    assert [str(p) for p in problems] == [
        "error: net big: the specification has 149999 tasks and conditions (a flow from task to task counts as "
        "one); the limit is 20000",
        "error: net big: has 149999 tasks and conditions (a flow from task to task counts as one); the limit is 10000",
    ]
    assert problems[0].element == "big"


def test_nets_within_the_limit_may_not_exceed_the_specification_limit_together() -> None:
    net = sequence(MAX_NET_NODES - 1).nets[0]
    spec = Specification(id="big", nets=(net, dataclasses.replace(net, id="other"), dataclasses.replace(net, id="third")))
    assert [p.message for p in verify(spec) if p.severity == "error"] == [
        "net big: the specification has 29997 tasks and conditions (a flow from task to task counts as one); "
        "the limit is 20000"
    ]


def test_check_of_a_net_over_the_node_limit_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, sequence(MAX_NET_NODES + 1).to_dict())
    assert run(capsys, "check", path) == (
        2, "error: net big: has 10001 tasks and conditions (a flow from task to task counts as one); the limit is 10000\n")


# --------------------------------------------------------------------------- names and types


NOT_NCNAME = "is not an XML name (NCName: a letter or _, then letters, digits, _, - or .); no XPath reaches it"

NAME_CASES = [
    ("net variable with a space", lambda d: d["variables"].append({"name": "a b"}),
     f"net Main: variable 'a b' {NOT_NCNAME}", "Main"),
    ("net variable starting with a digit", lambda d: d["variables"].append({"name": "1bad<name"}),
     f"net Main: variable '1bad<name' {NOT_NCNAME}", "Main"),
    ("net variable with a colon", lambda d: d["variables"].append({"name": "ns:x"}),
     f"net Main: variable 'ns:x' {NOT_NCNAME}", "Main"),
    ("task input", lambda d: task(d, "A").update(inputs=[{"name": "in put", "query": "x"}]),
     f"net Main: task 'A': input 'in put' {NOT_NCNAME}", "Main/A"),
    ("task output", lambda d: task(d, "A").update(outputs=[{"name": "-out"}]),
     f"net Main: task 'A': output '-out' {NOT_NCNAME}", "Main/A"),
    ("MI instance variable", lambda d: task(d, "A").update(multi_instance={"query": "x", "variable": "one item"}),
     f"net Main: task 'A': multiple instances: instance variable 'one item' {NOT_NCNAME}", "Main/A"),
    ("mapping target in a net without variables", lambda d: d.pop("variables") and task(d, "A").update(
        output_mappings=[{"query": "y", "to": "y z"}]),
     f"net Main: task 'A': output mapping 0 targets 'y z', which {NOT_NCNAME}", "Main/A"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "expected", "element"), [c[1:] for c in NAME_CASES], ids=[c[0] for c in NAME_CASES])
def test_names_xpath_cannot_reach_are_errors(change: Any, expected: str, element: str) -> None:
    problems = errors_only(verify(changed(change)))
    assert [(p.element, p.message) for p in problems] == [(element, expected)]


def test_xml_names_with_letters_of_any_script_are_accepted() -> None:
    assert messages(lambda d: d["variables"].extend([{"name": "größe"}, {"name": "_a-1.b"}, {"name": "日付"}])) == []


KNOWN_TYPES = (
    "(known types: string, integer, number, boolean, object, array, any, {p}:string, {p}:normalizedString, "
    "{p}:token, {p}:language, {p}:Name, {p}:NCName, {p}:ID, {p}:IDREF, {p}:ENTITY, {p}:NMTOKEN, {p}:anyURI, "
    "{p}:QName, {p}:gYear, {p}:gYearMonth, {p}:gMonth, {p}:gMonthDay, {p}:gDay, {p}:base64Binary, {p}:hexBinary, "
    "{p}:boolean, {p}:decimal, {p}:double, {p}:float, {p}:integer, {p}:int, {p}:long, {p}:short, {p}:byte, "
    "{p}:nonNegativeInteger, {p}:positiveInteger, {p}:nonPositiveInteger, {p}:negativeInteger, {p}:unsignedLong, "
    "{p}:unsignedInt, {p}:unsignedShort, {p}:unsignedByte, {p}:date, {p}:time, {p}:dateTime, {p}:duration, "
    "{p}:anyType, {p}:anySimpleType)"
)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["variables"].append({"name": "n", "type": "xs:nonsense"}),
         "net Main: variable 'n' has unknown type 'xs:nonsense' " + KNOWN_TYPES.format(p="xs")),
        (lambda d: task(d, "A").update(inputs=[{"name": "i", "type": "xsd:strng", "query": "x"}]),
         "net Main: task 'A': input 'i' has unknown type 'xsd:strng' " + KNOWN_TYPES.format(p="xsd")),
        (lambda d: task(d, "B").update(outputs=[{"name": "o", "type": "xs:nonsense"}]),
         "net Main: task 'B': output 'o' has unknown type 'xs:nonsense' " + KNOWN_TYPES.format(p="xs")),
    ],
    ids=["variable", "input", "output"],
)  # fmt: skip
def test_unknown_xml_schema_types_are_errors_listing_the_known_ones(change: Any, expected: str) -> None:
    assert messages(change) == [expected]


def test_known_and_user_schema_types_are_accepted() -> None:
    names = ["xs:string", "xsd:int", "xs:Integer", "tns:Order", "any", "object"]
    assert messages(lambda d: d["variables"].extend({"name": f"v{i}", "type": t} for i, t in enumerate(names))) == []


def test_check_of_an_unknown_type_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = changed(lambda d: d["variables"].append({"name": "a b", "type": "xs:nonsense"}))
    code, out = run(capsys, "check", write(tmp_path, document))
    assert code == 2
    assert out.splitlines() == [
        f"error: net Main: variable 'a b' {NOT_NCNAME}",
        "error: net Main: variable 'a b' has unknown type 'xs:nonsense' " + KNOWN_TYPES.format(p="xs"),
    ]


# --------------------------------------------------------------------------- tasks


def test_an_automated_task_without_connector_is_a_warning() -> None:
    document = changed(lambda d: task(d, "A").update(kind="automated"))
    problems = verify(document)
    assert [(p.severity, p.element, p.message) for p in problems] == [
        ("warning", "Main/A", "net Main: task 'A' is automated but has no connector (a worker runs the noop connector)")
    ]
    compile_spec(document)  # still runnable
    with_connector = changed(lambda d: task(d, "A").update(kind="automated", connector={"name": "echo"}))
    assert verify(with_connector) == []


@pytest.mark.parametrize(("member", "kind"), [("start", "input"), ("end", "output")])
def test_cancelling_the_input_or_output_condition_is_an_error(member: str, kind: str) -> None:
    assert messages(lambda d: task(d, "B").update(cancels=["c1", member])) == [
        f"net Main: task 'B' cancels the {kind} condition {member!r}; a cancellation set may not hold the "
        "net's input or output condition"
    ]


def test_cancelling_other_conditions_and_tasks_stays_valid() -> None:
    assert messages(lambda d: task(d, "B").update(cancels=["c1", "A"])) == []


# --------------------------------------------------------------------------- shipped specifications


SHIPPED = sorted([*(ROOT / "examples").rglob("*.json"), *(ROOT / "knhk" / "engine" / "pattern_specs").glob("*.json"),
                  *(ROOT / "tests" / "data").rglob("*.json")])  # fmt: skip


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_json_spec_still_verifies(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or "tasks" not in document.get("spec", document):
        pytest.skip("not a specification")
    assert errors_only(verify(document.get("spec", document))) == []


def test_shared_yawl_files_still_check(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(path for path in (shared_dir / "yawl").iterdir() if path.suffix in (".yawl", ".xml"))
    assert files
    codes = {path.name: main(["check", str(path)]) for path in files}
    capsys.readouterr()
    assert {name for name, code in codes.items() if code != 0} == {"BadNetSpecification.xml"}


# --------------------------------------------------------------------------- merged outputs, cache key


def test_a_declared_output_of_another_kind_than_the_variable_it_merges_into_is_an_error() -> None:
    document = {"id": "decl", "variables": [{"name": "x", "type": "integer"}, {"name": "r", "type": "number"}],
                "conditions": [{"id": "start", "type": "input", "flows": ["A"]}, {"id": "end", "type": "output"}],
                "tasks": [{"id": "A", "outputs": [{"name": "x", "type": "string"}, {"name": "r", "type": "integer"}],
                           "flows": ["end"]}]}  # fmt: skip
    assert [p.message for p in verify(Specification.from_dict(document))] == [
        "net decl: task 'A': output 'x' is string but merges into variable 'x' of type integer"
    ]  # an integer output into a number variable is fine


def test_get_executor_of_a_spec_that_is_no_json_text_says_why() -> None:
    from knhk.engine import get_executor
    from knhk.engine.spec import SpecError

    document = {"id": "s", "name": "\ud800", "conditions": [{"id": "i", "type": "input", "flows": ["end"]},
                                                             {"id": "end", "type": "output"}], "tasks": []}
    with pytest.raises(SpecError, match="lone surrogate"):
        get_executor(document)
