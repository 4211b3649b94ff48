"""YAWL import of the repo's own files: each construct of both dialects, wiring checks, hostile XML."""

from __future__ import annotations

import copy
import random
import re
from pathlib import Path
from typing import Any

import pytest

from knhk.engine import Specification, compile_spec, verify
from knhk.engine.cli import run_case
from knhk.engine.importers import SpecFileError, load_spec_file
from knhk.engine.importers.yawl import (
    MAX_YAWL_BYTES,
    import_yawl_bytes,
    import_yawl_file,
    parse_xml,
    verify_yawl_wiring,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "yawl"


def by_id(nodes: list[dict[str, Any]], node_id: str) -> dict[str, Any]:
    return next(node for node in nodes if node.get("id", node.get("name")) == node_id)


@pytest.fixture(scope="module")
def constructs() -> dict[str, Any]:
    return load_spec_file(DATA / "constructs-4.0.yawl")


@pytest.fixture(scope="module")
def beta() -> dict[str, Any]:
    return load_spec_file(DATA / "constructs-beta.xml")


# ---------------------------------------------------------------------------- YAWL 4.0


def test_specification_identity_and_nets(constructs) -> None:
    assert constructs["id"] == "Constructs"
    assert constructs["root_net"] == "Main"
    assert constructs["name"] == "Every construct"
    assert constructs["description"].startswith("Order handling")
    assert [net["id"] for net in constructs["nets"]] == ["Review"]


def test_variables_usage_types_and_initial_values(constructs) -> None:
    variables = {v["name"]: v for v in constructs["variables"]}
    assert variables["customer"] == {"name": "customer", "type": "xs:string", "usage": "input"}
    assert variables["amount"]["usage"] == "both"  # inputParam and outputParam of one name
    assert variables["approved"]["initial"] is False
    assert variables["rate"]["initial"] == 1.5
    assert variables["priority"]["type"] == "xs:int" and variables["priority"]["initial"] == 3
    assert variables["order"]["type"] == "object"
    assert variables["order"]["initial"] == {"id": "7", "lines": {"line": ["apples", "pears"]}}
    assert variables["order"]["extensions"]["yawl"]["type"] == "OrderType"
    assert "initial" not in variables["results"]


def test_conditions_flows_predicates_orderings_defaults(constructs) -> None:
    assert by_id(constructs["conditions"], "start") == {
        "id": "start", "name": "Start", "type": "input", "flows": ["register"],
    }  # fmt: skip
    assert by_id(constructs["conditions"], "end")["type"] == "output"
    assert by_id(constructs["conditions"], "decided")["flows"] == ["notify"]
    register = by_id(constructs["tasks"], "register")
    assert (register["join"], register["split"]) == ("xor", "xor")
    assert register["flows"] == [
        {"to": "review", "predicate": "number(/Main/amount) > 1000", "ordering": 0},
        {"to": "auto_approve", "ordering": 1, "default": True},  # true() is the absent predicate
    ]


def test_task_kinds(constructs) -> None:
    tasks = {task["id"]: task for task in constructs["tasks"]}
    assert tasks["register"]["kind"] == "manual"
    assert tasks["auto_approve"]["kind"] == "automated"  # codelet + externalInteraction automated
    assert tasks["route"]["kind"] == "routing" and tasks["finish"]["kind"] == "routing"  # no decomposesTo
    assert tasks["review"]["subnet"] == "Review" and "kind" not in tasks["review"]


def test_mappings_inputs_outputs(constructs) -> None:
    register = by_id(constructs["tasks"], "register")
    assert register["inputs"] == [
        {"name": "customer", "type": "xs:string", "query": "<customer>{/Main/customer/text()}</customer>"}
    ]
    assert register["outputs"] == [{"name": "amount", "type": "xs:long"}]
    assert register["output_mappings"] == [
        {"query": "<amount>{/Register/amount/text()}</amount>", "to": "amount"}
    ]
    review = by_id(constructs["tasks"], "review")
    assert review["inputs"][0]["query"] == "<order>{/Main/order/*}</order>"
    assert "outputs" not in review  # a composite task's output is its subnet's data


def test_cancellation_set_with_implicit_condition(constructs) -> None:
    assert by_id(constructs["tasks"], "file")["cancels"] == ["escalate", "route__escalate"]


def test_multiple_instance_attributes(constructs) -> None:
    assert by_id(constructs["tasks"], "notify")["multi_instance"] == {
        "min": 1, "max": 10, "creation": "static",  # threshold = max: every instance, as no threshold
        "query": "for $l in (/Main/order/lines)/* return $l",
        "variable": "line",
        "aggregate": "<line>{/Notify/line/text()}</line>",
        "to": "results",
    }  # fmt: skip


def test_timers(constructs) -> None:
    tasks = {task["id"]: task for task in constructs["tasks"]}
    assert tasks["escalate"]["timer"] == {"trigger": "enabled", "duration": "PT1H"}
    assert tasks["file"]["timer"] == {"trigger": "started", "expiry": "2027-01-01T00:00:00Z"}
    # a timer read from a net variable at run time (YAWL netparam): trigger and expiry come from it
    assert tasks["auto_approve"]["timer"] == {"variable": "deadline"}
    assert tasks["auto_approve"]["extensions"]["yawl"]["timer_netparam"] == "deadline"


def test_non_executable_parts_are_kept_in_extensions(constructs) -> None:
    yawl = constructs["extensions"]["yawl"]
    assert "<locale" in yawl["layout"] and "OrderType" in yawl["schema"]
    assert yawl["unused_decompositions"] == {"Unused": {"decomposition_externalInteraction": "manual"}}
    register = by_id(constructs["tasks"], "register")["extensions"]["yawl"]
    assert "RO-clerk" in register["resourcing"] and register["decomposition"] == "Register"
    assert by_id(constructs["tasks"], "file")["extensions"]["yawl"]["customForm"].endswith("file.jsp")


def test_subnet(constructs) -> None:
    review = constructs["nets"][0]
    assert {v["name"]: v["usage"] for v in review["variables"]} == {"order": "input", "approved": "output"}
    check = by_id(review["tasks"], "check")
    assert check["output_mappings"] == [
        {"query": "<approved>{/Check/approved/text()}</approved>", "to": "approved"}
    ]


def test_constructs_verify_and_run(constructs) -> None:
    spec = Specification.from_dict(constructs)
    assert [str(p) for p in verify(spec) if p.severity == "error"] == []
    assert verify_yawl_wiring(constructs) == []
    executor = compile_spec(constructs)
    for seed in range(5):
        result = run_case(executor, {"customer": "Ann", "amount": 2000}, choice="random", seed=seed)
        assert result.status == "completed", result
        assert result.trace.count("notify") == 2  # one instance per order line


def test_splitting_query_constructing_an_element_per_item_runs() -> None:
    """A YAWL splitting query whose `for` body is an element constructor (the usual YAWL form)."""
    xml = (DATA / "constructs-4.0.yawl").read_text()
    splitting = '<splittingExpression query="for $l in /lines/* return $l" />'
    assert splitting in xml
    xml = xml.replace(splitting, '<splittingExpression query="for $l in /lines/* return '
                                 '&lt;line&gt;{upper-case($l/text())}&lt;/line&gt;" />')  # fmt: skip
    imported = import_yawl_bytes(xml.encode())
    notify = by_id(imported["tasks"], "notify")["multi_instance"]
    assert notify["query"] == "for $l in (/Main/order/lines)/* return <line>{upper-case($l/text())}</line>"
    result = run_case(compile_spec(imported), {"customer": "Ann", "amount": 2000})
    assert result.status == "completed" and result.trace.count("notify") == 2
    # each instance got its constructed line (the simulation completes it with its input value)
    assert result.data["results"] == ["APPLES", "PEARS"]


# ---------------------------------------------------------------------------- Beta


def test_beta_root_net_subnet_and_queries_renamed(beta) -> None:
    assert beta["id"] == "beta_constructs.xml"  # made a valid id
    assert beta["root_net"] == "trip"
    register = by_id(beta["tasks"], "register")
    assert register["flows"][0] == {"to": "car", "predicate": "/trip/want_car = 'true'"}
    # /data/customer copies the same-named variable: the spec format's default, so no query
    assert register["inputs"] == [{"name": "customer", "type": "xs:string"}]
    assert by_id(beta["tasks"], "pay")["inputs"][0]["query"] == "<nights>{/trip/nights/text() * 2}</nights>"
    car = by_id(beta["tasks"], "car")
    assert car["output_mappings"] == [{"query": "/car/carDetails", "to": "carDetails"}]
    assert car["outputs"] == [{"name": "carDetails", "type": "xs:string", "required": True}]
    assert by_id(beta["tasks"], "pay")["subnet"] == "payment"
    assert by_id(beta["nets"][0]["tasks"], "charge")["inputs"] == [{"name": "nights", "type": "xs:int"}]


def test_beta_values_and_multiple_instances(beta) -> None:
    variables = {v["name"]: v for v in beta["variables"]}
    assert variables["want_car"]["initial"] is True and variables["nights"]["initial"] == 2
    assert variables["legs"]["type"] == "any" and variables["legs"]["initial"] == {"leg": ["out", "back"]}
    assert by_id(beta["tasks"], "book_legs")["multi_instance"] == {
        "min": 1, "max": 5, "creation": "dynamic",
        "query": "for $d in (/trip/legs)/* return $d", "variable": "leg",
    }  # fmt: skip
    assert by_id(beta["tasks"], "close")["cancels"] == ["car", "book_legs"]
    assert (
        "yawlService" in by_id(beta["tasks"], "book_legs")["extensions"]["yawl"]["decomposition_yawlService"]
    )


def test_beta_verifies_and_runs(beta) -> None:
    assert [str(p) for p in verify(Specification.from_dict(beta)) if p.severity == "error"] == []
    result = run_case(compile_spec(beta), {"customer": "Bo"}, choice="first")
    assert result.status == "completed"
    # register's OR-split: want_car is true, and the default flow's own true() is taken as well
    assert result.trace == ["register", "car", "book_legs", "book_legs", "charge", "pay", "close"]


def test_beta_starting_mappings_carry_data_into_a_subnet(beta) -> None:
    case = compile_spec(beta).start_case("c", {"customer": "Bo"})
    while not any(i.task == "charge" for i in case.enabled_items()):
        item = case.enabled_items()[0]  # register, car, book_legs and its instances, pay
        case.start(item.id)
        if item.kind == "manual":
            case.complete(item.id, {"carDetails": "compact"} if item.task == "car" else {})
    charge = next(i for i in case.enabled_items() if i.task == "charge")
    assert charge.data == {"nights": 4}  # /trip/nights * 2 into the subnet, then /payment/nights
    assert case.data["carDetails"] == "compact"  # completed mapping /car/carDetails


def test_beta_or_split_takes_a_default_flow_whose_predicate_is_true(beta) -> None:
    """YTask.doOrSplit evaluates the default flow's predicate like the others (the default is also
    taken when no other flow was); the importer keeps its true()."""
    register = by_id(beta["tasks"], "register")
    assert register["flows"][1] == {"to": "book_legs", "predicate": "true()", "default": True}
    result = run_case(compile_spec(beta), {"customer": "Bo"}, choice="first")
    assert result.trace.count("book_legs") == 2  # the MI task's two instances


def test_or_split_default_flow_false_predicate_is_the_same_as_none() -> None:
    """YAWL files write false() where the JSON format has no predicate (taken only when no other is)."""
    xml = re.sub(
        r"<predicate>true\(\)</predicate>(\s*<isDefaultFlow)",
        r"<predicate>false()</predicate>\1",
        (DATA / "constructs-beta.xml").read_text(),
    )
    assert "false()" in xml
    register = by_id(import_yawl_bytes(xml.encode())["tasks"], "register")
    assert register["flows"][1] == {"to": "book_legs", "default": True}


# ---------------------------------------------------------------------------- wiring rules


def test_wiring_rules_name_each_problem() -> None:
    problems = verify_yawl_wiring(load_spec_file(DATA / "bad-wiring.yawl"))
    assert problems == [
        "net Wiring: task 'each': output mapping 1 targets 'nowhere', which is not a variable of this net",
        "net Wiring: task 'each': variable 'collected' receives both the multiple-instance output and an output mapping",
        "net Wiring: task 'each': input 'item' receives both the multiple-instance item and an input mapping",
        "net Wiring: task 'sub' flows into the input condition 'in'",
        problems[4],
        "net Wiring: task 'sub': input 'missing' goes to subnet 'Sub', which does not declare it",
        "net Sub: input condition 'sub_in' flows to condition 'sub_out'; a condition may only flow into tasks",
    ]  # fmt: skip
    assert problems[4].startswith("net Wiring: task 'sub': query of input 'limit': invalid expression")


def test_check_command_reports_the_wiring_problems_of_a_yawl_file() -> None:
    import subprocess
    import sys

    check = subprocess.run(
        [sys.executable, "-m", "knhk.engine", "check", str(DATA / "bad-wiring.yawl")],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=60,
    )  # fmt: skip
    assert check.returncode == 2, check.stdout
    for needle in ("receives both the multiple-instance output", "receives both the multiple-instance item",
                   "'missing' goes to subnet 'Sub'", "'nowhere', which is not a variable"):  # fmt: skip
        assert needle in check.stdout
    assert "Traceback" not in check.stderr


# ---------------------------------------------------------------------------- hostile and broken XML


@pytest.mark.parametrize("name", ["xxe.yawl", "billion-laughs.yawl", "external-dtd.yawl"])
def test_dtds_entities_and_external_references_are_refused(name: str) -> None:
    with pytest.raises(SpecFileError, match="document type declarations .* are not allowed"):
        import_yawl_file(DATA / name)


def test_external_entity_is_never_resolved() -> None:
    with pytest.raises(SpecFileError) as failure:
        import_yawl_bytes((DATA / "xxe.yawl").read_bytes())
    assert "root:" not in str(failure.value)


def test_broken_file_reports_line_and_column() -> None:
    with pytest.raises(SpecFileError, match=r"broken\.yawl: line 7 column 9: mismatched tag"):
        load_spec_file(DATA / "broken.yawl")


def test_not_yawl_is_refused_with_the_reason() -> None:
    with pytest.raises(SpecFileError, match="not a YAWL specification .*'definitions'"):
        load_spec_file(DATA / "not-yawl.xml")


def test_deeply_nested_initial_value_is_refused_not_a_crash() -> None:
    value = ("<a>" * 3000 + "1" + "</a>" * 3000).replace("<", "&lt;").replace(">", "&gt;")
    xml = (
        "<specificationSet xmlns='http://www.yawlfoundation.org/yawlschema' "
        "xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' version='4.0'><specification uri='deep'>"
        "<decomposition id='N' isRootNet='true' xsi:type='NetFactsType'><localVariable><index>0</index>"
        f"<name>v</name><type>anyType</type><initialValue>{value}</initialValue></localVariable>"
        "<processControlElements><inputCondition id='i'><flowsInto><nextElementRef id='A'/></flowsInto>"
        "</inputCondition><task id='A'><flowsInto><nextElementRef id='o'/></flowsInto><join code='xor'/>"
        "<split code='and'/></task><outputCondition id='o'/></processControlElements></decomposition>"
        "</specification></specificationSet>"
    )
    with pytest.raises(SpecFileError, match="deep.yawl: a value is nested too deeply"):
        import_yawl_bytes(xml.encode(), source="deep.yawl")


def test_oversized_input_is_refused_before_parsing() -> None:
    data = b"<a>" + b" " * MAX_YAWL_BYTES + b"</a>"
    with pytest.raises(SpecFileError, match="limit"):
        import_yawl_bytes(data)
    with pytest.raises(SpecFileError, match="the limit is 100 bytes"):
        parse_xml(b"<a>" + b"x" * 200 + b"</a>", limit=100)


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"", "line 1 column 1: no element found"),
        (b"<specificationSet xmlns='http://www.yawlfoundation.org/yawlschema'/>", "holds no specification"),
        (
            b"<specificationSet xmlns='http://www.yawlfoundation.org/yawlschema'><specification uri='x'/>"
            b"</specificationSet>",
            "has no root net",
        ),
        (
            b"<specificationSet xmlns='http://www.yawlfoundation.org/yawlschema' "
            b"xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'><specification uri='x'>"
            b"<decomposition id='N' isRootNet='true' xsi:type='NetFactsType'><processControlElements>"
            b"<task id='t'><flowsInto><nextElementRef id='o'/></flowsInto><join code='xor'/>"
            b"<split code='maybe'/></task></processControlElements></decomposition></specification>"
            b"</specificationSet>",
            "split code 'maybe' is not and, xor or or",
        ),
        (
            b"<specificationSet xmlns='http://www.yawlfoundation.org/yawlschema' "
            b"xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'><specification uri='x'>"
            b"<decomposition id='N' isRootNet='true' xsi:type='NetFactsType'><processControlElements>"
            b"<task id='t'><flowsInto><nextElementRef id='o'/></flowsInto><join code='xor'/>"
            b"<split code='and'/><decomposesTo id='Nowhere'/></task></processControlElements>"
            b"</decomposition></specification></specificationSet>",
            "decomposes to 'Nowhere', which is not declared",
        ),
    ],
)
def test_malformed_specifications_get_clear_errors(xml: bytes, message: str) -> None:
    with pytest.raises(SpecFileError, match=message):
        import_yawl_bytes(xml)


# ---------------------------------------------------------------------------- damaged input never crashes


def test_damaged_yawl_gets_a_clear_error_or_imports() -> None:
    """Elements and attributes removed or garbled at random: a dict or a SpecFileError, never a crash."""
    from xml.etree.ElementTree import tostring

    from knhk.engine.exporters import export_yawl

    rng = random.Random(3)
    originals = [
        parse_xml((DATA / name).read_bytes()) for name in ("constructs-4.0.yawl", "constructs-beta.xml")
    ]
    outcomes = {"imported": 0, "refused": 0}
    for _ in range(300):
        root = copy.deepcopy(rng.choice(originals))
        elements = list(root.iter())
        for _ in range(rng.randint(1, 3)):
            victim = rng.choice(elements)
            if victim.attrib and rng.random() < 0.5:
                key = rng.choice(list(victim.attrib))
                victim.attrib[key] = rng.choice(["", "x", "and", "-5"])
            elif rng.random() < 0.5:
                parent = next((p for p in elements if victim in list(p)), None)
                if parent is not None:
                    parent.remove(victim)
            else:
                victim.text = rng.choice(["", "null", "<<", "9" * 30, "{", "and"])
        try:
            export_yawl(import_yawl_bytes(tostring(root)))
            outcomes["imported"] += 1
        except SpecFileError:
            outcomes["refused"] += 1
    assert outcomes["imported"] and outcomes["refused"]
