"""A spec dict (docs/spec-format.md) as a YAWL 4.0 specification file.

Elements follow the YAWL 4.0 schema's order. What the YAWL importer kept under `extensions.yawl`
(decomposition ids, resourcing, layout, the data schema, the two-step MI queries) is written back,
so import -> export -> import changes nothing the engine uses.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from knhk.engine.importers import SpecFileError
from knhk.engine.importers.yawl import (
    ENGINE_FIELDS,
    ENGINE_FIELDS_MARK,
    JSON_TYPE_PREFIX,
    JSON_TYPES,
    MERGE_OUTPUTS,
    XSD_NS,
    YAWL_NS,
    compose_splitting_query,
    parse_xml,
)

__all__ = ["export_yawl"]

XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = "xsi:type"
SCHEMA_LOCATION = f"{YAWL_NS} {YAWL_NS}/YAWL_Schema4.0.xsd"
MAX_INT = 2147483647
_JSON_TYPES = {"string": "string", "integer": "long", "number": "double", "boolean": "boolean"}
_TRIGGERS = {"enabled": "OnEnabled", "started": "OnExecuting"}


def _tag(name: str) -> str:
    """YAWL elements are written unqualified under a default namespace declared on the root
    (ElementTree cannot write unprefixed attributes with its default_namespace option)."""
    return name


def _add(parent: Element, name: str, text: Any = None, **attributes: str) -> Element:
    child = SubElement(parent, _tag(name), attributes)
    if text is not None:
        child.text = text if isinstance(text, str) else str(text)
    return child


def _into_yawl_namespace(element: Element) -> Element:
    """Extension XML (stored with plain names) as elements of the YAWL default namespace."""
    element.tag = element.tag.rsplit("}", 1)[-1]
    for child in element:
        _into_yawl_namespace(child)
    return element


def _stored_xml(text: Any, what: str) -> Element | None:
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return parse_xml(text, source=f"extension {what}")
    except SpecFileError:
        return None  # damaged extension content is dropped, never fatal


def _yawl(node: dict[str, Any]) -> dict[str, Any]:
    extensions = node.get("extensions")
    yawl = extensions.get("yawl") if isinstance(extensions, dict) else None
    return yawl if isinstance(yawl, dict) else {}


def _fill(element: Element, value: Any) -> None:
    """Write a JSON value into `element` as net data is rendered (objects nest, lists repeat)."""
    if isinstance(value, dict):
        for key, item in value.items():
            for one in item if isinstance(item, list) else [item]:
                _fill(SubElement(element, key), one)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def _value_xml(value: Any) -> str:
    """A JSON value as the XML content YAWL keeps in an initial value."""
    holder = Element("value")
    _fill(holder, {"item": value} if isinstance(value, list) else value)
    return (holder.text or "") + "".join(tostring(child, encoding="unicode") for child in holder)


def _type_parts(variable: dict[str, Any]) -> tuple[str, str]:
    """(type, namespace) as YAWL 4.0 writes a variable's type; a spec-format type name becomes a
    `knhk_<type>` type of the specification's schema (see `_json_type_declaration`)."""
    original = _yawl(variable).get("type")
    if isinstance(original, str) and original:
        return _ncname(original.rpartition(":")[2]), XSD_NS  # the schema wants an unprefixed NCName
    spec_type = str(variable.get("type") or "any")
    if spec_type.startswith(("xs:", "xsd:")):
        return spec_type.split(":", 1)[1], XSD_NS
    if spec_type in JSON_TYPES:
        return JSON_TYPE_PREFIX + spec_type, XSD_NS
    return "anyType", XSD_NS


def _json_type_declaration(name: str) -> Element:
    """The XML Schema declaration of `knhk_<type>` (a spec-format type written to YAWL)."""
    spec_type = name[len(JSON_TYPE_PREFIX) :]
    if spec_type in _JSON_TYPES:
        declaration = Element(f"{{{XSD_NS}}}simpleType", {"name": name})
        SubElement(declaration, f"{{{XSD_NS}}}restriction", {"base": f"xs:{_JSON_TYPES[spec_type]}"})
        return declaration
    declaration = Element(f"{{{XSD_NS}}}complexType", {"name": name})
    sequence = SubElement(declaration, f"{{{XSD_NS}}}sequence")
    SubElement(
        sequence, f"{{{XSD_NS}}}any", {"minOccurs": "0", "maxOccurs": "unbounded", "processContents": "lax"}
    )
    return declaration


class _Exporter:
    def __init__(self, spec: dict[str, Any]) -> None:
        if not isinstance(spec, dict) or not isinstance(spec.get("id"), str):
            raise SpecFileError("export: a specification must be an object with an id")
        self.spec = spec
        self.yawl = _yawl(spec)
        self.root_id = str(spec.get("root_net") or spec["id"])
        root_net = {key: spec.get(key, []) for key in ("variables", "conditions", "tasks")}
        root_net["id"] = self.root_id
        root_yawl = self.yawl.get("root_net")
        if isinstance(root_yawl, dict):
            root_net["extensions"] = {"yawl": root_yawl}
        self.nets = [root_net, *[net for net in spec.get("nets", []) or [] if isinstance(net, dict)]]
        self.atomic: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # decomposition id -> (task, net)

    def document(self) -> str:
        root = Element(
            _tag("specificationSet"), {"version": "4.0", f"{{{XSI_NS}}}schemaLocation": SCHEMA_LOCATION}
        )
        specification = _add(root, "specification", uri=str(self.yawl.get("uri") or self.spec["id"]))
        if self.spec.get("name"):
            _add(specification, "name", self.spec["name"])
        if self.spec.get("description"):
            _add(specification, "documentation", self.spec["description"])
        specification.append(self.metadata())
        schema = self.schema()
        specification.append(schema)
        for net in self.nets:
            specification.append(self.net(net))
        for decomposition_id, (task, _net) in self.atomic.items():
            specification.append(self.atomic_decomposition(decomposition_id, task))
        unused = self.yawl.get("unused_decompositions")
        if isinstance(unused, dict):
            for decomposition_id, extras in unused.items():
                if decomposition_id not in self.atomic:
                    task = {
                        "id": decomposition_id,
                        "extensions": {"yawl": extras if isinstance(extras, dict) else {}},
                    }
                    specification.append(self.atomic_decomposition(decomposition_id, task))
        declared = {declaration.get("name") for declaration in schema}
        used = {type_name.text for type_name in root.iter("type")}
        for name in sorted(used - declared):
            if name and name.startswith(JSON_TYPE_PREFIX):
                schema.append(_json_type_declaration(name))
        layout = _stored_xml(self.yawl.get("layout"), "layout")
        if layout is not None:
            root.append(_into_yawl_namespace(layout))
        indent(root, space="  ")
        body = tostring(root, encoding="unicode")
        # ElementTree drops a literal xmlns attribute; declare the default namespace in the text
        body = body.replace("<specificationSet ", f'<specificationSet xmlns="{YAWL_NS}" ', 1)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"

    def metadata(self) -> Element:
        stored = (
            _stored_xml(self.yawl.get("metaData"), "metaData") if self.yawl.get("dialect") != "beta" else None
        )
        if stored is not None:
            return _into_yawl_namespace(stored)
        metadata = Element(_tag("metaData"))
        _add(metadata, "version", "0.1")
        _add(metadata, "persistent", "false")
        _add(metadata, "identifier", f"UID_{uuid.uuid5(uuid.NAMESPACE_URL, 'knhk:' + self.spec['id'])}")
        return metadata

    def schema(self) -> Element:
        stored = _stored_xml(self.yawl.get("schema"), "schema")
        if stored is not None and stored.tag == f"{{{XSD_NS}}}schema":
            return stored
        return Element(f"{{{XSD_NS}}}schema")

    # -- nets ------------------------------------------------------------------------------------

    def net(self, net: dict[str, Any]) -> Element:
        attributes = {"id": str(net.get("id"))}
        if net.get("id") == self.root_id:
            attributes["isRootNet"] = "true"
        attributes[XSI_TYPE] = "NetFactsType"
        element = Element(_tag("decomposition"), attributes)
        yawl = _yawl(net)
        if net.get("name"):
            _add(element, "name", net["name"])
        if yawl.get("documentation"):
            _add(element, "documentation", yawl["documentation"])
        variables = [v for v in net.get("variables", []) or [] if isinstance(v, dict)]
        index = 0
        for tag, usages in (("inputParam", ("input", "both")), ("outputParam", ("output", "both"))):
            for variable in variables:
                if variable.get("usage", "local") in usages:
                    self.variable(element, tag, variable, index)
                    index += 1
        log_predicate = _stored_xml(yawl.get("logPredicate"), "logPredicate")
        if log_predicate is not None:
            element.append(_into_yawl_namespace(log_predicate))
        for variable in variables:
            # an output parameter's initial value lives in a local variable of the same name (an input
            # parameter holds its own; the schema forbids a local variable named as an input parameter)
            usage = variable.get("usage", "local")
            if usage == "local" or (usage == "output" and variable.get("initial") is not None):
                self.variable(element, "localVariable", variable, index)
                index += 1
        controls = _add(element, "processControlElements")
        conditions = [c for c in net.get("conditions", []) or [] if isinstance(c, dict)]
        tasks = [t for t in net.get("tasks", []) or [] if isinstance(t, dict)]
        implicit = {f"{t.get('id')}__{_target(f)}" for t in tasks for f in t.get("flows", []) or []}
        for condition in conditions:
            if condition.get("type") == "input":
                controls.append(self.condition(condition, "inputCondition"))
        for task in tasks:
            controls.append(self.task(task, net, implicit))
        for condition in conditions:
            if condition.get("type", "condition") == "condition":
                controls.append(self.condition(condition, "condition"))
        for condition in conditions:
            if condition.get("type") == "output":
                controls.append(self.condition(condition, "outputCondition"))
        gateway = _stored_xml(yawl.get("externalDataGateway"), "externalDataGateway")
        if gateway is not None:
            element.append(_into_yawl_namespace(gateway))
        return element

    @staticmethod
    def variable(parent: Element, tag: str, variable: dict[str, Any], index: int) -> None:
        element = _add(parent, tag)
        type_name, namespace = _type_parts(variable)
        _add(element, "index", index)
        _add(element, "name", variable.get("name"))
        _add(element, "type", type_name)
        _add(element, "namespace", namespace)
        if tag in ("localVariable", "inputParam") and variable.get("initial") is not None:
            _add(element, "initialValue", _value_xml(variable["initial"]))

    def condition(self, condition: dict[str, Any], tag: str) -> Element:
        element = Element(_tag(tag), {"id": str(condition.get("id"))})
        if condition.get("name"):
            _add(element, "name", condition["name"])
        if tag != "outputCondition":
            for flow in condition.get("flows", []) or []:
                self.flow(element, flow)
        return element

    @staticmethod
    def flow(parent: Element, flow: Any, split: str = "and") -> None:
        element = _add(parent, "flowsInto")
        _add(element, "nextElementRef", id=str(_target(flow)))
        if not isinstance(flow, dict):
            return
        if flow.get("predicate") is not None or flow.get("ordering") is not None:
            # an OR-split's default flow without predicate is taken only when no other is: false() in YAWL
            absent = "false()" if split == "or" and flow.get("default") else "true()"
            predicate = _add(element, "predicate", flow.get("predicate") or absent)
            if flow.get("ordering") is not None:
                predicate.set("ordering", str(flow["ordering"]))
        if flow.get("default"):
            _add(element, "isDefaultFlow")
        documentation = _yawl(flow).get("documentation")
        if documentation:
            _add(element, "documentation", documentation)

    # -- tasks -----------------------------------------------------------------------------------

    def task(self, task: dict[str, Any], net: dict[str, Any], implicit: set[str]) -> Element:
        yawl = _yawl(task)
        mi = task.get("multi_instance") if isinstance(task.get("multi_instance"), dict) else None
        attributes = {"id": str(task.get("id"))}
        if mi is not None:
            attributes[XSI_TYPE] = "MultipleInstanceExternalTaskFactsType"
        element = Element(_tag("task"), attributes)
        if task.get("name"):
            _add(element, "name", task["name"])
        documentation = [yawl["documentation"]] if yawl.get("documentation") else []
        engine_fields = {key: task[key] for key in ENGINE_FIELDS if task.get(key)}
        if task.get("output_mappings") is None and task.get("kind") != "routing":
            # outputs merge by name (the JSON default); imported YAWL without mappings means nothing
            engine_fields[MERGE_OUTPUTS] = True
        if engine_fields:
            documentation.append(ENGINE_FIELDS_MARK + json.dumps(engine_fields, sort_keys=True))
        if documentation:
            _add(element, "documentation", "\n".join(documentation))
        for flow in task.get("flows", []) or []:
            self.flow(element, flow, str(task.get("split", "and")))
        _add(element, "join", code=str(task.get("join", "xor")))
        _add(element, "split", code=str(task.get("split", "and")))
        for tag in ("defaultConfiguration", "configuration"):
            stored = _stored_xml(yawl.get(tag), tag)
            if stored is not None:
                element.append(_into_yawl_namespace(stored))
        cancels = [str(c) for c in task.get("cancels", []) or []]
        for cancelled in cancels:
            if cancelled not in implicit:
                _add(element, "removesTokens", id=cancelled)
        for cancelled in cancels:
            if cancelled in implicit:
                source, target = cancelled.split("__", 1)
                removal = _add(element, "removesTokensFromFlow")
                _add(removal, "flowSource", id=source)
                _add(removal, "flowDestination", id=target)
        self.mappings(element, task, str(net.get("id")))
        self.timer(element, task, yawl)
        resourcing = _stored_xml(yawl.get("resourcing"), "resourcing")
        if resourcing is not None:
            element.append(_into_yawl_namespace(resourcing))
        if yawl.get("customForm"):
            _add(element, "customForm", yawl["customForm"])
        decomposition_id = self.decomposition_of(task, net)
        if decomposition_id:
            _add(element, "decomposesTo", id=decomposition_id)
        if mi is not None:
            self.multi_instance(element, mi, yawl, net, decomposition_id or str(task.get("id")))
        return element

    def decomposition_of(self, task: dict[str, Any], net: dict[str, Any]) -> str | None:
        if task.get("subnet"):
            return str(task["subnet"])
        if task.get("kind") == "routing":
            return None
        decomposition_id = _ncname(str(_yawl(task).get("decomposition") or task.get("id")))
        if decomposition_id in {str(n.get("id")) for n in self.nets}:
            decomposition_id += "_decomposition"  # one id space for nets and task decompositions
        self.atomic.setdefault(decomposition_id, (task, net))
        return decomposition_id

    @staticmethod
    def mappings(element: Element, task: dict[str, Any], net_id: str) -> None:
        inputs = [i for i in task.get("inputs", []) or [] if isinstance(i, dict)]
        if inputs:
            starting = _add(element, "startingMappings")
            for entry in inputs:
                mapping = _add(starting, "mapping")
                _add(mapping, "expression", query=str(entry.get("query") or f"/{net_id}/{entry.get('name')}"))
                _add(mapping, "mapsTo", entry.get("name"))
        outputs = [m for m in task.get("output_mappings", []) or [] if isinstance(m, dict)]
        if outputs:
            completed = _add(element, "completedMappings")
            for entry in outputs:
                mapping = _add(completed, "mapping")
                _add(mapping, "expression", query=str(entry.get("query")))
                _add(mapping, "mapsTo", entry.get("to"))

    @staticmethod
    def timer(element: Element, task: dict[str, Any], yawl: dict[str, Any]) -> None:
        timer = task.get("timer")
        netparam = yawl.get("timer_netparam") or (timer.get("variable") if isinstance(timer, dict) else None)
        if netparam:
            _add(_add(element, "timer"), "netparam", netparam)
        elif isinstance(timer, dict):
            timer_element = _add(element, "timer")
            _add(timer_element, "trigger", _TRIGGERS.get(str(timer.get("trigger")), "OnEnabled"))
            if timer.get("duration"):
                _add(timer_element, "duration", timer["duration"])
            elif timer.get("expiry"):
                _add(timer_element, "expiry", _epoch_ms(str(timer["expiry"])))

    def multi_instance(
        self,
        element: Element,
        mi: dict[str, Any],
        yawl: dict[str, Any],
        net: dict[str, Any],
        output_root: str,
    ) -> None:
        maximum = mi.get("max", MAX_INT)
        _add(element, "minimum", mi.get("min", 1))
        _add(element, "maximum", maximum)
        _add(element, "threshold", yawl.get("mi_threshold") or mi.get("threshold", maximum))
        _add(element, "creationMode", code=str(mi.get("creation", "static")))
        data_input = _add(element, "miDataInput")
        expression, splitting = yawl.get("mi_expression"), yawl.get("mi_splitting_expression")
        query = mi.get("query")
        if query is None:
            expression = splitting = None
        elif compose_splitting_query(expression, splitting) != query:
            expression, splitting = f"/{net.get('id')}", query  # the whole net document, then the query
        _add(data_input, "expression", query=str(expression or "null"))
        _add(data_input, "splittingExpression", query=str(splitting or "null"))
        _add(data_input, "formalInputParam", str(mi.get("variable") or "null"))
        if mi.get("aggregate") or mi.get("to"):
            data_output = _add(element, "miDataOutput")
            aggregate = mi.get("aggregate") or f"/{output_root}"  # each instance's whole output
            _add(data_output, "formalOutputExpression", query=str(aggregate))
            joining = yawl.get("mi_joining_expression") or f"/{output_root}/*"
            _add(data_output, "outputJoiningExpression", query=str(joining))
            _add(data_output, "resultAppliedToLocalVariable", str(mi.get("to") or ""))

    # -- atomic decompositions -------------------------------------------------------------------

    def atomic_decomposition(self, decomposition_id: str, task: dict[str, Any]) -> Element:
        yawl = _yawl(task)
        element = Element(
            _tag("decomposition"), {"id": decomposition_id, XSI_TYPE: "WebServiceGatewayFactsType"}
        )
        for tag in ("name", "documentation"):
            if yawl.get(f"decomposition_{tag}"):
                _add(element, tag, yawl[f"decomposition_{tag}"])
        index = 0
        inputs = [dict(i) for i in task.get("inputs", []) or [] if isinstance(i, dict)]
        mi = task.get("multi_instance")
        if (
            isinstance(mi, dict)
            and mi.get("variable")
            and mi["variable"] not in {i.get("name") for i in inputs}
        ):
            inputs.append({"name": mi["variable"], "type": "any"})
        for entry in inputs:
            self.variable(element, "inputParam", entry, index)
            index += 1
        for entry in task.get("outputs", []) or []:
            if isinstance(entry, dict):
                self.variable(element, "outputParam", entry, index)
                if entry.get("required"):
                    _add(element[-1], "mandatory")
                index += 1
        for tag in ("logPredicate", "enablementParam", "yawlService"):
            stored = _stored_xml(yawl.get(f"decomposition_{tag}"), tag)
            if stored is not None:
                element.append(_into_yawl_namespace(stored))
        if yawl.get("decomposition_codelet"):
            _add(element, "codelet", yawl["decomposition_codelet"])
        kind = task.get("kind")
        interaction = yawl.get("decomposition_externalInteraction", "manual") if kind is None else kind
        _add(element, "externalInteraction", "automated" if interaction == "automated" else "manual")
        return element


def _ncname(text: str) -> str:
    """`text` as an XML NCName (what YAWL 4.0 requires of decomposition ids and type names)."""
    name = re.sub(r"[^\w.\-]", "_", text)
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"


def _target(flow: Any) -> Any:
    return flow.get("to") if isinstance(flow, dict) else flow


def _epoch_ms(expiry: str) -> str:
    try:
        moment = datetime.fromisoformat(expiry.replace("Z", "+00:00"))
    except ValueError:
        return expiry
    return str(int(moment.timestamp() * 1000))


def export_yawl(spec: dict[str, Any]) -> str:
    """A spec dict as YAWL 4.0 XML text."""
    try:
        return _Exporter(json.loads(json.dumps(spec))).document()
    except (TypeError, ValueError) as exc:
        raise SpecFileError(f"export: the specification cannot be written as YAWL: {exc}") from exc
