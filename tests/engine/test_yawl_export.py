"""YAWL 4.0 export: schema element order, and round trips that change nothing the engine uses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import pytest

from knhk.engine import Specification, verify
from knhk.engine.exporters import export_yawl
from knhk.engine.importers import SpecFileError, load_spec_file
from knhk.engine.importers.yawl import YAWL_NS, import_yawl_bytes, parse_xml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "yawl"
SHARED_YAWL = ROOT / ".." / "shared" / "yawl"
OWN_FILES = ["constructs-4.0.yawl", "constructs-beta.xml", "bad-wiring.yawl"]
JSON_SPECS = sorted(
    [*(ROOT / "examples").rglob("*.json"), *(ROOT / "knhk" / "engine" / "pattern_specs").glob("*.json")]
)

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
# the element order of YAWL_Schema4.0.xsd (yawlfoundation/yawl) for what the exporter writes
ORDER = {
    "specificationSet": ["specification", "layout"],
    "specification": ["name", "documentation", "metaData", "schema", "decomposition"],
    "NetFactsType": ["name", "documentation", "inputParam", "outputParam", "logPredicate", "localVariable",
                     "processControlElements", "externalDataGateway"],
    "WebServiceGatewayFactsType": ["name", "documentation", "inputParam", "outputParam", "logPredicate",
                                   "enablementParam", "yawlService", "codelet", "externalInteraction"],
    "processControlElements": ["inputCondition", "task|condition", "outputCondition"],
    "task": ["name", "documentation", "flowsInto", "join", "split", "defaultConfiguration", "configuration",
             "removesTokens", "removesTokensFromFlow", "startingMappings", "completedMappings", "timer",
             "resourcing", "customForm", "decomposesTo", "minimum", "maximum", "threshold", "creationMode",
             "miDataInput", "miDataOutput"],
    "condition": ["name", "documentation", "flowsInto"],
    "flowsInto": ["nextElementRef", "predicate", "isDefaultFlow", "documentation"],
    "variable": ["index", "documentation", "name", "type", "namespace", "initialValue|defaultValue",
                 "mandatory"],
    "miDataInput": ["expression", "splittingExpression", "formalInputParam"],
    "miDataOutput": ["formalOutputExpression", "outputJoiningExpression", "resultAppliedToLocalVariable"],
}  # fmt: skip
REQUIRED = {
    "specification": {"metaData", "schema"},
    "NetFactsType": {"processControlElements"},
    "WebServiceGatewayFactsType": {"externalInteraction"},
    "processControlElements": {"inputCondition", "outputCondition"},
    "task": {"flowsInto", "join", "split"},
    "flowsInto": {"nextElementRef"},
    "variable": {"index", "name", "type", "namespace"},
}


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def kind_of(element: Element) -> str | None:
    name = local(element.tag)
    if name == "decomposition":
        return (element.get(XSI_TYPE) or "").rsplit(":", 1)[-1]
    if name in ("inputParam", "outputParam", "localVariable"):
        return "variable"
    if name in ("inputCondition", "outputCondition"):
        return "condition"
    return name if name in ORDER else None


def schema_order_problems(element: Element, where: str = "") -> list[str]:
    """Children out of the 4.0 order, unknown or missing, for every element the exporter structures."""
    problems = []
    kind = kind_of(element)
    here = f"{where}/{local(element.tag)}[{element.get('id', '')}]"
    if kind is not None:
        slots = [slot.split("|") for slot in ORDER[kind]]
        position = 0
        for child in element:
            name = local(child.tag)
            index = next((i for i, slot in enumerate(slots) if name in slot), None)
            if index is None:
                problems.append(f"{here}: unexpected <{name}>")
            elif index < position:
                problems.append(f"{here}: <{name}> out of order")
            else:
                position = index
        present = {local(child.tag) for child in element}
        problems += [f"{here}: missing <{name}>" for name in sorted(REQUIRED.get(kind, set()) - present)]
    if kind == "layout" or local(element.tag) in ("layout", "resourcing", "schema", "metaData"):
        return problems  # free content below these
    for child in element:
        problems += schema_order_problems(child, here)
    return problems


NCNAME = re.compile(r"^[A-Za-z_][\w.\-]*$")


def schema_constraint_problems(root: Element, kept_ids: frozenset[str] = frozenset()) -> list[str]:
    """YAWL 4.0 identity constraints: NCName decomposition ids, variable names and types; input
    parameter and local variable names unique per decomposition; decomposesTo names a decomposition.
    `kept_ids`: net ids of the source file that are not NCNames (kept, as the engine refers to them)."""
    problems = []
    decompositions = {d.get("id") for d in root.iter(f"{{{YAWL_NS}}}decomposition")}
    for decomposition in root.iter(f"{{{YAWL_NS}}}decomposition"):
        if not NCNAME.match(decomposition.get("id", "")) and decomposition.get("id") not in kept_ids:
            problems.append(f"decomposition id {decomposition.get('id')!r} is not an NCName")
        seen: set[str] = set()
        for variable in decomposition:
            if local(variable.tag) not in ("inputParam", "outputParam", "localVariable"):
                continue
            name = variable.findtext(f"{{{YAWL_NS}}}name") or ""
            type_name = variable.findtext(f"{{{YAWL_NS}}}type") or ""
            if not NCNAME.match(name) or not NCNAME.match(type_name):
                problems.append(f"{decomposition.get('id')}: variable {name!r} of type {type_name!r}")
            if local(variable.tag) != "outputParam":
                if name in seen:
                    problems.append(f"{decomposition.get('id')}: {name!r} is both input parameter and local")
                seen.add(name)
    for reference in root.iter(f"{{{YAWL_NS}}}decomposesTo"):
        if reference.get("id") not in decompositions:
            problems.append(f"decomposesTo {reference.get('id')!r} names no decomposition")
    return problems


def engine_view(spec: dict[str, Any]) -> dict[str, Any]:
    """What the engine uses: the spec model's canonical dict without extensions, conditions by id."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            cleaned = {k: clean(v) for k, v in value.items() if k != "extensions"}
            if "conditions" in cleaned:
                cleaned["conditions"] = sorted(cleaned["conditions"], key=lambda c: c["id"])
            return cleaned
        if isinstance(value, list):
            return [clean(item) for item in value]
        return value

    return clean(Specification.from_dict(spec).to_dict())


def shared_files() -> list[Path]:
    if not SHARED_YAWL.is_dir():
        return []
    return sorted(p for p in SHARED_YAWL.iterdir() if p.suffix in (".xml", ".yawl"))


needs_shared = pytest.mark.skipif(
    not SHARED_YAWL.is_dir(), reason="../shared/yawl is absent (not in this checkout)"
)


# ---------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", OWN_FILES)
def test_own_files_round_trip(name: str) -> None:
    first = load_spec_file(DATA / name)
    exported = export_yawl(first)
    second = import_yawl_bytes(exported.encode())
    assert engine_view(second) == engine_view(first)
    assert export_yawl(second) == exported  # and the export is stable


@needs_shared
@pytest.mark.shared
@pytest.mark.parametrize("path", shared_files(), ids=lambda p: p.name)
def test_shared_files_round_trip(path: Path) -> None:
    first = load_spec_file(path)
    exported = export_yawl(first)
    assert schema_order_problems(parse_xml(exported)) == []
    kept = frozenset(net["id"] for net in first.get("nets", []) if not NCNAME.match(net["id"]))
    root_id = first["root_net"]
    kept |= {root_id} if not NCNAME.match(root_id) else set()
    assert schema_constraint_problems(parse_xml(exported), kept) == []
    second = import_yawl_bytes(exported.encode())
    assert engine_view(second) == engine_view(first)


@pytest.mark.parametrize("path", JSON_SPECS, ids=lambda p: p.name)
def test_json_specs_round_trip_through_yawl(path: Path) -> None:
    document = json.loads(path.read_text())
    document = document.get("spec", document)
    exported = export_yawl(document)
    assert schema_order_problems(parse_xml(exported)) == []
    assert schema_constraint_problems(parse_xml(exported)) == []
    back = import_yawl_bytes(exported.encode())
    assert engine_view(back) == engine_view(document)  # roles, connectors, types, initial values included
    assert [p for p in verify(Specification.from_dict(back)) if p.severity == "error"] == []


# ---------------------------------------------------------------------------- the written document


@pytest.fixture(scope="module")
def constructs_xml() -> Element:
    return parse_xml(export_yawl(load_spec_file(DATA / "constructs-4.0.yawl")))


def test_export_is_yawl_4_in_schema_order(constructs_xml) -> None:
    assert constructs_xml.tag == f"{{{YAWL_NS}}}specificationSet"
    assert constructs_xml.get("version") == "4.0"
    assert schema_order_problems(constructs_xml) == []
    assert schema_constraint_problems(constructs_xml) == []


def test_export_writes_back_what_yawl_needs(constructs_xml) -> None:
    def find(path: str) -> Element:
        found = constructs_xml.find(path.replace("y:", f"{{{YAWL_NS}}}"))
        assert found is not None, path
        return found

    notify = find(".//y:task[@id='notify']")
    assert notify.get(XSI_TYPE) == "MultipleInstanceExternalTaskFactsType"
    assert find(".//y:task[@id='notify']/y:miDataInput/y:expression").get("query") == "/Main/order/lines"
    assert find(".//y:task[@id='register']/y:decomposesTo").get("id") == "Register"
    assert find(".//y:task[@id='register']/y:resourcing//y:role").text == "RO-clerk"
    assert find(".//y:task[@id='file']/y:removesTokensFromFlow/y:flowSource").get("id") == "route"
    assert find(".//y:task[@id='file']/y:timer/y:expiry").text == "1798761600000"
    assert find(".//y:task[@id='auto_approve']/y:timer/y:netparam").text == "deadline"
    assert find(".//y:decomposition[@id='AutoApprove']/y:externalInteraction").text == "automated"
    assert find(".//y:decomposition[@id='Unused']").get(XSI_TYPE) == "WebServiceGatewayFactsType"
    assert find("y:layout/y:locale").get("language") == "en"
    assert find(".//y:decomposition[@id='Main']").get("isRootNet") == "true"


def test_spec_format_types_are_declared_in_the_schema() -> None:
    spec = {
        "id": "typed",
        "variables": [
            {"name": "items", "type": "array", "initial": ["a", "b"]},
            {"name": "n", "type": "integer"},
        ],
        "conditions": [{"id": "i", "type": "input", "flows": ["t"]}, {"id": "o", "type": "output"}],
        "tasks": [{"id": "t", "flows": ["o"], "roles": ["clerk"]}],
    }
    exported = export_yawl(spec)
    assert 'name="knhk_array"' in exported and 'name="knhk_integer"' in exported
    back = import_yawl_bytes(exported.encode())
    assert back["variables"][0] == {"name": "items", "type": "array", "usage": "local", "initial": ["a", "b"]}
    assert back["tasks"][0]["roles"] == ["clerk"]


def test_damaged_extension_content_is_dropped_not_fatal() -> None:
    spec = {
        "id": "x",
        "conditions": [{"id": "i", "type": "input", "flows": ["o"]}, {"id": "o", "type": "output"}],
        "tasks": [],
        "extensions": {"yawl": {"layout": "<!DOCTYPE x [<!ENTITY a 'b'>]><layout>&a;</layout>", "schema": 5}},
    }
    exported = export_yawl(spec)
    assert "ENTITY" not in exported and "<layout" not in exported


def test_export_of_a_non_specification_is_a_clear_error() -> None:
    with pytest.raises(SpecFileError, match="must be an object with an id"):
        export_yawl({"tasks": []})
