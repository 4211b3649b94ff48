"""Specification model: shape errors with JSON paths, canonical round trip, hash, JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from knhk.engine import SpecError, Specification

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "knhk" / "engine" / "schema" / "spec.schema.json").read_text())
EXAMPLES = sorted((ROOT / "examples" / "engine").glob("*.json"))
PATTERN_SPECS = sorted((ROOT / "knhk" / "engine" / "pattern_specs").glob("*.json"))

MINIMAL = {
    "id": "minimal",
    "conditions": [{"id": "start", "type": "input", "flows": ["A"]}, {"id": "end", "type": "output"}],
    "tasks": [{"id": "A", "flows": ["end"]}],
}


def shape_errors(document: object) -> list[str]:
    with pytest.raises(SpecError) as error:
        Specification.from_dict(document)
    return error.value.messages


def test_every_shape_problem_is_listed_with_its_path() -> None:
    document = {
        "id": "bad id!",
        "surprise": 1,
        "conditions": [{"id": "start", "type": "entry", "flows": ["A", 7]}],
        "tasks": [
            {"id": "A"},
            {"id": "B"},
            {"id": "C", "join": "nand", "split": "xor", "flows": [{"to": "end", "ordering": "1"}],
             "multi_instance": {"min": 0, "creation": "sometimes"}, "timer": {"trigger": "enabled", "duration": "30m"},
             "roles": ["", "ok"], "kind": "robot", "inputs": {"a": 1}},
        ],
        "nets": [{"id": "N", "tasks": [{"name": "no id"}]}],
    }  # fmt: skip
    assert shape_errors(document) == [
        "surprise: unknown field",
        "id: must match [A-Za-z0-9_.:-]{1,100}",
        "conditions[0].type: must be one of input, output, condition",
        "conditions[0].flows[1]: must be a non-empty string (the target id) or an object",
        "tasks[2].kind: must be one of manual, automated, routing, composite",
        "tasks[2].inputs: must be a list",
        "tasks[2].join: must be one of and, xor, or",
        "tasks[2].flows[0].ordering: must be an integer",
        "tasks[2].roles[0]: must be a non-empty string",
        "tasks[2].multi_instance.min: must be at least 1",
        "tasks[2].multi_instance.creation: must be one of static, dynamic",
        "tasks[2].timer.duration: must be an ISO 8601 duration such as PT30M",
        "nets[0].tasks[0].id: is required",
    ]


def test_document_must_be_an_object_with_an_id() -> None:
    assert shape_errors([1]) == ["(document): must be an object"]
    assert shape_errors({}) == ["id: is required"]


def test_composite_kind_and_subnet_go_together() -> None:
    document = {**MINIMAL, "tasks": [{"id": "A", "flows": ["end"], "kind": "composite"}]}
    assert shape_errors(document) == ["tasks[0].subnet: is required for a composite task"]
    document = {**MINIMAL, "tasks": [{"id": "A", "flows": ["end"], "kind": "manual", "subnet": "X"}]}
    assert shape_errors(document) == ["tasks[0].kind: a task with a subnet is composite (omit kind or use composite)"]


def test_defaults_shorthand_and_canonical_round_trip() -> None:
    spec = Specification.from_dict(MINIMAL)
    task = spec.root.tasks[0]
    assert (task.join, task.split, task.kind, task.inputs, task.flows[0].to) == ("xor", "and", "manual", None, "end")
    assert spec.root.id == "minimal"
    assert spec.to_dict() == {**MINIMAL, "variables": []}
    assert Specification.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize("path", EXAMPLES + PATTERN_SPECS, ids=lambda path: path.stem)
def test_files_validate_against_the_schema_and_round_trip(path: Path) -> None:
    document = json.loads(path.read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    spec = Specification.from_dict(document)
    again = Specification.from_dict(spec.to_dict())
    assert again == spec and again.content_hash() == spec.content_hash()
    jsonschema.Draft202012Validator(SCHEMA).validate(spec.to_dict())


def test_schema_is_valid_and_rejects_what_the_parser_rejects() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    bad_documents = [
        {**MINIMAL, "surprise": 1},
        {**MINIMAL, "tasks": [{"id": "A", "join": "nand"}]},
        {**MINIMAL, "tasks": [{"id": "A", "flows": [{"predicate": "true()"}]}]},
        {**MINIMAL, "tasks": [{"id": "A", "multi_instance": {"min": 0}}]},
        {**MINIMAL, "tasks": [{"id": "A", "timer": {"trigger": "enabled"}}]},
        {**MINIMAL, "tasks": [{"id": "A", "kind": "composite"}]},
    ]
    for document in bad_documents:
        assert not validator.is_valid(document), document
        with pytest.raises(SpecError):
            Specification.from_dict(document)


def test_content_hash_ignores_key_order_and_shorthand() -> None:
    shorthand = Specification.from_dict(MINIMAL)
    longhand = Specification.from_dict({
        "tasks": [{"flows": [{"to": "end"}], "id": "A", "join": "xor"}],
        "conditions": MINIMAL["conditions"],
        "id": "minimal",
    })  # fmt: skip
    assert shorthand.content_hash() == longhand.content_hash()
    changed = Specification.from_dict({**MINIMAL, "name": "other"})
    assert changed.content_hash() != shorthand.content_hash()


def test_extensions_are_kept_anywhere() -> None:
    document = {**MINIMAL, "extensions": {"layout": 1},
                "tasks": [{"id": "A", "flows": [{"to": "end", "extensions": {"x": 1}}], "extensions": {"y": 2}}]}  # fmt: skip
    assert Specification.from_dict(document).to_dict()["tasks"][0] == document["tasks"][0]
