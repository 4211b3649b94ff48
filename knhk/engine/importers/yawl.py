"""YAWL specification files (Beta and 2.x-4.0 dialects) as spec dicts of docs/spec-format.md.

Parsing is hardened (defusedxml: no DTDs, so no external entities and no entity expansion; a size
limit). What does not affect execution (layout, resourcing, forms, configuration, services) is kept
under `extensions.yawl` so the exporter can write it back.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError, tostring

import defusedxml.ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from knhk.engine.expressions import (
    coerce_text,
    element_to_json,
    rename_root,
    root_names,
)
from knhk.engine.importers import SpecFileError
from knhk.engine.spec import YAWL_TIMER_TRIGGERS, SpecError, Specification
from knhk.engine.types import XSD_RULES
from knhk.engine.verify import errors_only, verify

__all__ = [
    "MAX_YAWL_BYTES",
    "BETA_NS",
    "YAWL_NS",
    "XSD_NS",
    "import_yawl_file",
    "import_yawl_bytes",
    "parse_xml",
    "xml_value",
    "xsd_type_name",
    "verify_yawl_wiring",
]

MAX_YAWL_BYTES = 10 * 1024 * 1024  # larger files are refused before parsing
BETA_NS = "http://www.citi.qut.edu.au/yawl"
YAWL_NS = "http://www.yawlfoundation.org/yawlschema"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

# XML Schema built-in simple types YAWL variables use (the names after the "xs:" prefix)
XSD_BUILTINS = frozenset(XSD_RULES)
_SINGLE_STEP = re.compile(r"^\s*/\s*[A-Za-z_][\w.\-]*\s*$")
# the spec format's own type names; the exporter declares them in the XML Schema as knhk_<type>
JSON_TYPES = ("string", "integer", "number", "boolean", "object", "array")
JSON_TYPE_PREFIX = "knhk_"
_XML_NAME = re.compile(r"^[A-Za-z_][\w.\-]*$")
_SAFE_ID = re.compile(r"[^A-Za-z0-9_.:-]")
_TRIGGERS = YAWL_TIMER_TRIGGERS
_INTERVALS = {"YEAR": "Y", "MONTH": "M", "WEEK": "W", "DAY": "D", "HOUR": "H", "MIN": "M", "SEC": "S"}


# ---------------------------------------------------------------------------------------------
# Safe parsing
# ---------------------------------------------------------------------------------------------


def parse_xml(data: bytes | str, source: str = "<upload>", limit: int = MAX_YAWL_BYTES) -> Element:
    """Parse untrusted XML: no DTD (hence no entities, no external references), at most `limit` bytes.
    Raises SpecFileError with line and column for a broken document."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > limit:
        raise SpecFileError(f"{source}: file is {len(data)} bytes; the limit is {limit} bytes")
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        reason = str(exc).split(":", 1)[0]
        raise SpecFileError(f"{source}: line {line} column {column + 1}: {reason}") from exc
    except DefusedXmlException as exc:
        raise SpecFileError(
            f"{source}: document type declarations (DTDs, entities, external references) are not "
            f"allowed ({type(exc).__name__})"
        ) from exc


def import_yawl_file(path: str | Path) -> dict[str, Any]:
    """Read a YAWL `.yawl`/`.xml` file as a spec dict; SpecFileError says where and why it failed."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_YAWL_BYTES:
            raise SpecFileError(f"{path}: file is {size} bytes; the limit is {MAX_YAWL_BYTES} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise SpecFileError(f"{path}: cannot read: {exc.strerror}") from exc
    return import_yawl_bytes(data, source=str(path))


def import_yawl_bytes(data: bytes, source: str = "<upload>") -> dict[str, Any]:
    """Convert the bytes of a YAWL specification (either dialect) into a spec dict."""
    root = parse_xml(data, source)
    try:
        return _Importer(root, source).spec()
    except RecursionError:
        raise SpecFileError(f"{source}: a value is nested too deeply") from None


# ---------------------------------------------------------------------------------------------
# Element helpers (tags compared by local name; both dialects use one default namespace)
# ---------------------------------------------------------------------------------------------


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _child(element: Element, name: str) -> Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _text(element: Element, name: str) -> str | None:
    child = _child(element, name)
    if child is None:
        return None
    return (child.text or "").strip()


def _strip_namespaces(element: Element) -> Element:
    """A copy of `element` with plain tag names (for storing as extension XML text)."""
    copy = Element(_local(element.tag), {_local(k): v for k, v in element.attrib.items()})
    copy.text, copy.tail = element.text, None
    for child in element:
        if isinstance(child.tag, str):
            stripped = _strip_namespaces(child)
            stripped.tail = child.tail
            copy.append(stripped)
    return copy


def _xml_text(element: Element) -> str:
    return tostring(_strip_namespaces(element), encoding="unicode")


def _int(text: str | None, where: str) -> int | None:
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise SpecFileError(f"{where}: {text!r} is not an integer") from None


ENGINE_FIELDS_MARK = "knhk:"  # a documentation line carrying the task fields YAWL has no place for
ENGINE_FIELDS = ("roles", "connector")
MERGE_OUTPUTS = "merge_outputs"  # marks a task whose outputs merge by name (no output_mappings)


def _take_engine_fields(documentation: str, task: dict[str, Any]) -> str:
    """Move a `knhk:{...}` line (written by our exporter) from a task's documentation into the task."""
    kept = []
    for line in documentation.splitlines():
        if line.startswith(ENGINE_FIELDS_MARK):
            try:
                fields = json.loads(line[len(ENGINE_FIELDS_MARK) :])
            except ValueError:
                fields = None
            if isinstance(fields, dict) and set(fields) <= {*ENGINE_FIELDS, MERGE_OUTPUTS}:
                if fields.pop(MERGE_OUTPUTS, False) and not task.get("output_mappings"):
                    task.pop("output_mappings", None)
                task.update(fields)
                continue
        kept.append(line)
    return "\n".join(kept).strip()


def _is_default(flow: Any) -> bool:
    return isinstance(flow, dict) and bool(flow.get("default"))


def _without_true(flow: str | dict[str, Any], or_default: bool) -> str | dict[str, Any]:
    """A flow without a `true()` predicate (the same as none). An OR-split evaluates the predicate of
    its default flow, where no predicate means "only when no other flow was taken": there `true()`
    stays and `false()` (the same as none) goes."""
    if not isinstance(flow, dict) or flow.get("predicate", "").strip() != (
        "false()" if or_default else "true()"
    ):
        return flow
    flow = {key: value for key, value in flow.items() if key != "predicate"}
    return flow["to"] if len(flow) == 1 else flow


def _present(query: str | None) -> str | None:
    """A query, or None when YAWL wrote an absent one as empty or the word `null`."""
    if query is None:
        return None
    query = query.strip()
    return None if not query or query == "null" else query


# ---------------------------------------------------------------------------------------------
# Data types and values
# ---------------------------------------------------------------------------------------------


def xsd_type_name(
    type_text: str | None, namespace: str | None, schema_types: dict[str, str]
) -> tuple[str, str | None]:
    """(spec type, original YAWL type when it had to be mapped) for a declared YAWL type.
    Built-in XSD types keep their `xs:` name; user complex types become "object"; user simple types
    their base type; anything unknown "any"."""
    if not type_text:
        return "any", None
    prefix, _, local = type_text.rpartition(":")
    if local == "anyType":
        return "any", None
    if local in XSD_BUILTINS and (prefix in ("xs", "xsd") or (not prefix and namespace in (None, XSD_NS))):
        return f"xs:{local}", None
    if not prefix and local in schema_types:
        return schema_types[local], None if local.startswith(JSON_TYPE_PREFIX) else type_text
    return ("object" if local == "YTimerType" else "any"), type_text


def _schema_types(schema: Element | None) -> dict[str, str]:
    """Named types declared in the specification's XML Schema -> their spec type."""
    types: dict[str, str] = {}
    if schema is None:
        return types
    for declaration in schema:
        name = declaration.get("name")
        if not name:
            continue
        if name.startswith(JSON_TYPE_PREFIX) and name[len(JSON_TYPE_PREFIX) :] in JSON_TYPES:
            types[name] = name[len(JSON_TYPE_PREFIX) :]  # written by our exporter for a JSON type
        elif _local(declaration.tag) == "complexType":
            types[name] = "object"
        elif _local(declaration.tag) == "simpleType":
            restriction = _child(declaration, "restriction")
            base = (restriction.get("base") if restriction is not None else "") or ""
            base_local = base.rpartition(":")[2]
            types[name] = f"xs:{base_local}" if base_local in XSD_BUILTINS else "xs:string"
    return types


def xml_value(text: str | None, spec_type: str) -> Any:
    """An XML value (YAWL initial value, element content) as JSON, typed by its declared type;
    an empty value is "" for a string, [] for an array, else None."""
    if text is None:
        return None
    if "<" in text:
        try:
            wrapper = SafeET.fromstring(f"<value>{text}</value>", forbid_dtd=True)
        except (ParseError, DefusedXmlException):
            return text
        if spec_type == "array":
            return [element_to_json(child) for child in wrapper]
        if len(wrapper):
            return element_to_json(wrapper)
        text = wrapper.text or ""
    if not text.strip():
        if spec_type in ("string", "xs:string"):
            return text
        return [] if spec_type == "array" else None
    return coerce_text(text, spec_type)


def _safe_id(text: str) -> str:
    return _SAFE_ID.sub("_", text)[:100] or "yawl-specification"


# ---------------------------------------------------------------------------------------------
# The conversion
# ---------------------------------------------------------------------------------------------


class _Importer:
    def __init__(self, root: Element, source: str) -> None:
        self.source = source
        namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
        if namespace not in (BETA_NS, YAWL_NS) or _local(root.tag) not in (
            "specificationSet",
            "specification",
        ):
            raise SpecFileError(
                f"{source}: not a YAWL specification (root element {_local(root.tag)!r} in namespace "
                f"{namespace or 'none'!r}; expected specificationSet in {YAWL_NS} or {BETA_NS})"
            )
        self.beta = namespace == BETA_NS
        self.root = root
        specification = root if _local(root.tag) == "specification" else _child(root, "specification")
        if specification is None:
            raise SpecFileError(f"{source}: the specificationSet holds no specification")
        self.specification = specification
        schema = _child(specification, "schema")
        self.schema = schema
        self.schema_types = _schema_types(schema)
        self.decompositions: dict[str, Element] = {}
        self.net_ids: list[str] = []
        self.root_net: str | None = None
        for element in specification:
            tag = _local(element.tag)
            if tag not in ("rootNet", "decomposition"):
                continue
            decomposition_id = element.get("id")
            if not decomposition_id:
                raise SpecFileError(f"{source}: a <{tag}> has no id")
            if decomposition_id in self.decompositions:
                raise SpecFileError(f"{source}: decomposition {decomposition_id!r} is declared twice")
            self.decompositions[decomposition_id] = element
            if tag == "rootNet" or self._is_net(element):
                self.net_ids.append(decomposition_id)
                if tag == "rootNet" or element.get("isRootNet") == "true":
                    if self.root_net is not None:
                        raise SpecFileError(
                            f"{source}: more than one root net ({self.root_net!r}, {decomposition_id!r})"
                        )
                    self.root_net = decomposition_id
        if self.root_net is None:
            raise SpecFileError(f"{source}: the specification has no root net")
        self.used: set[str] = set()

    def where(self, *parts: str) -> str:
        return f"{self.source}: " + " ".join(parts)

    @staticmethod
    def _is_net(element: Element) -> bool:
        return _local(element.tag) == "rootNet" or (element.get(XSI_TYPE) or "").endswith("NetFactsType")

    def spec(self) -> dict[str, Any]:
        uri = self.specification.get("uri") or self.root_net or "yawl-specification"
        meta = _child(self.specification, "metaData")
        spec: dict[str, Any] = {"id": _safe_id(uri), "root_net": self.root_net}
        name = _text(self.specification, "name") or (meta is not None and _text(meta, "title")) or None
        if name:
            spec["name"] = name
        description = (
            _text(self.specification, "documentation")
            or (meta is not None and _text(meta, "description"))
            or None
        )
        if description:
            spec["description"] = description
        assert self.root_net is not None
        root = self.net(self.root_net)
        root.pop("id")
        root.pop("name", None)
        net_extensions = root.pop("extensions", None)
        spec.update(root)
        spec["nets"] = [self.net(net_id) for net_id in self.net_ids if net_id != self.root_net]
        if not spec["nets"]:
            del spec["nets"]
        yawl: dict[str, Any] = {"dialect": "beta" if self.beta else "4.0", "uri": uri}
        if net_extensions:
            yawl["root_net"] = net_extensions.get("yawl", {})
        if meta is not None and len(meta):
            yawl["metaData"] = _xml_text(meta)
        if self.schema is not None:
            yawl["schema"] = tostring(self.schema, encoding="unicode")
        layout = _child(self.root, "layout")
        if layout is not None:
            yawl["layout"] = _xml_text(layout)
        unused = [d for d in self.decompositions if d not in self.used and d not in self.net_ids]
        if unused:
            yawl["unused_decompositions"] = {
                d: self.decomposition_extensions(self.decompositions[d]) for d in unused
            }
        spec["extensions"] = {"yawl": yawl}
        return spec

    # -- nets ------------------------------------------------------------------------------------

    def net(self, net_id: str) -> dict[str, Any]:
        element = self.decompositions[net_id]
        net: dict[str, Any] = {"id": net_id}
        name = _text(element, "name")
        if name:
            net["name"] = name
        net["variables"] = self.variables(element)
        net["conditions"], net["tasks"] = [], []
        controls = _child(element, "processControlElements")
        if controls is None:
            raise SpecFileError(self.where(f"net {net_id!r} has no processControlElements"))
        for node in controls:
            tag = _local(node.tag)
            if tag in ("inputCondition", "outputCondition", "condition"):
                net["conditions"].append(self.condition(node, tag, net_id))
            elif tag == "task":
                net["tasks"].append(self.task(node, net_id))
        extensions: dict[str, Any] = {}
        documentation = _text(element, "documentation")
        if documentation:
            extensions["documentation"] = documentation
        for extra in ("externalDataGateway", "logPredicate"):
            child = _child(element, extra)
            if child is not None:
                extensions[extra] = _xml_text(child)
        if extensions:
            net["extensions"] = {"yawl": extensions}
        return net

    def variables(self, element: Element) -> list[dict[str, Any]]:
        by_name: dict[str, dict[str, Any]] = {}
        for child in element:
            tag = _local(child.tag)
            usage = {"inputParam": "input", "outputParam": "output", "localVariable": "local"}.get(tag)
            if usage is None:
                continue
            variable = self.variable(child, usage)
            known = by_name.get(variable["name"])
            if known is None:
                by_name[variable["name"]] = variable
                continue
            # one data element declared as parameter and variable (YAWL allows it): combine the uses
            usages = {known["usage"], usage} - {"local"}
            known["usage"] = (
                "both" if len(usages) > 1 or "both" in usages else (usages.pop() if usages else "local")
            )
            for key in ("initial", "extensions"):
                if key not in known and key in variable:
                    known[key] = variable[key]
        return list(by_name.values())

    def parameter_name(self, element: Element) -> str:
        name = element.get("name") or _text(element, "name")
        if not name:
            raise SpecFileError(self.where(f"a <{_local(element.tag)}> has no name"))
        return name

    def parameter_type(self, element: Element) -> tuple[str, str | None]:
        type_text = _text(element, "type")
        if type_text is None and _child(element, "element") is not None:
            return "any", _text(element, "element")
        return xsd_type_name(type_text, _text(element, "namespace"), self.schema_types)

    def typed(self, entry: dict[str, Any], param: Element) -> None:
        """Set a task parameter's type (keeping a mapped YAWL type name for export)."""
        entry["type"], original = self.parameter_type(param)
        if original:
            entry["extensions"] = {"yawl": {"type": original}}

    def variable(self, element: Element, usage: str) -> dict[str, Any]:
        spec_type, original = self.parameter_type(element)
        variable: dict[str, Any] = {"name": self.parameter_name(element), "type": spec_type, "usage": usage}
        initial_text = _child(element, "initialValue")
        if initial_text is None:
            initial_text = _child(element, "defaultValue")
        if initial_text is not None:
            value = xml_value(initial_text.text or "", spec_type)
            if value is not None:
                variable["initial"] = value
        if original:
            variable["extensions"] = {"yawl": {"type": original}}
        return variable

    # -- conditions and flows --------------------------------------------------------------------

    def condition(self, element: Element, tag: str, net_id: str) -> dict[str, Any]:
        condition: dict[str, Any] = {"id": self.node_id(element, net_id)}
        name = _text(element, "name")
        if name:
            condition["name"] = name
        if tag != "condition":
            condition["type"] = "input" if tag == "inputCondition" else "output"
        flows = [
            _without_true(self.flow(flow, net_id), or_default=False)
            for flow in _children(element, "flowsInto")
        ]
        if flows:
            condition["flows"] = flows
        return condition

    def node_id(self, element: Element, net_id: str) -> str:
        node_id = element.get("id")
        if not node_id:
            raise SpecFileError(self.where(f"net {net_id!r}: a <{_local(element.tag)}> has no id"))
        return node_id

    def beta_query(self, query: str, root: str) -> str:
        """Beta's `/data/...` becomes `/<root>/...` as YAWL 2+ writes it (when `root` is an XML name;
        otherwise it stays, and evaluation treats the document's root as `data`)."""
        return rename_root(query, "data", root) if self.beta and _XML_NAME.match(root) else query

    def net_query(self, query: str, net_id: str) -> str:
        """A query over net data."""
        return self.beta_query(query, net_id)

    def flow(self, element: Element, net_id: str) -> str | dict[str, Any]:
        reference = _child(element, "nextElementRef")
        target = reference.get("id") if reference is not None else None
        if not target:
            raise SpecFileError(self.where(f"net {net_id!r}: a flowsInto has no nextElementRef id"))
        flow: dict[str, Any] = {"to": target}
        predicate = _child(element, "predicate")
        if predicate is not None:
            text = (predicate.text or "").strip()
            if text:  # `true()` is dropped by the task unless an OR-split's default flow needs it
                flow["predicate"] = self.net_query(text, net_id)
            ordering = _int(
                predicate.get("ordering"), self.where(f"net {net_id!r}: flow to {target!r} ordering")
            )
            if ordering is not None:
                flow["ordering"] = ordering
        if _child(element, "isDefaultFlow") is not None:
            flow["default"] = True
        documentation = _text(element, "documentation")
        if documentation:
            flow["extensions"] = {"yawl": {"documentation": documentation}}
        return target if len(flow) == 1 else flow

    # -- tasks -----------------------------------------------------------------------------------

    def task(self, element: Element, net_id: str) -> dict[str, Any]:
        task_id = self.node_id(element, net_id)
        where = f"net {net_id!r} task {task_id!r}"
        task: dict[str, Any] = {"id": task_id}
        name = _text(element, "name")
        if name:
            task["name"] = name
        for attribute in ("join", "split"):
            code_element = _child(element, attribute)
            code = (code_element.get("code") if code_element is not None else None) or ""
            if code.lower() not in ("and", "xor", "or"):
                raise SpecFileError(self.where(f"{where}: {attribute} code {code!r} is not and, xor or or"))
            task[attribute] = code.lower()
        task["flows"] = [self.flow(flow, net_id) for flow in _children(element, "flowsInto")]
        if task["split"] != "and" and task["flows"] and not any(_is_default(f) for f in task["flows"]):
            # YAWL's editor makes the last flow of an XOR/OR-split the default; old files may omit it
            last = task["flows"][-1]
            task["flows"][-1] = (
                {**last, "default": True} if isinstance(last, dict) else {"to": last, "default": True}
            )
        task["flows"] = [
            _without_true(flow, or_default=task["split"] == "or" and _is_default(flow))
            for flow in task["flows"]
        ]
        cancels = [ref.get("id") for ref in _children(element, "removesTokens") if ref.get("id")]
        for removal in _children(element, "removesTokensFromFlow"):
            source, target = _child(removal, "flowSource"), _child(removal, "flowDestination")
            if source is None or target is None or not source.get("id") or not target.get("id"):
                raise SpecFileError(
                    self.where(f"{where}: removesTokensFromFlow needs flowSource and flowDestination")
                )
            cancels.append(f"{source.get('id')}__{target.get('id')}")
        if cancels:
            task["cancels"] = cancels
        yawl: dict[str, Any] = {}
        reference = _child(element, "decomposesTo")
        decomposition_id = reference.get("id") if reference is not None else None
        decomposition = None
        if decomposition_id:
            decomposition = self.decompositions.get(decomposition_id)
            if decomposition is None:
                raise SpecFileError(
                    self.where(f"{where} decomposes to {decomposition_id!r}, which is not declared")
                )
            self.used.add(decomposition_id)
            yawl["decomposition"] = decomposition_id
        if decomposition is None:
            task["kind"] = "routing"
        elif self._is_net(decomposition):
            task["subnet"] = decomposition_id
        else:
            task["kind"] = self.atomic_kind(decomposition)
            yawl.update(self.decomposition_extensions(decomposition))
        self.mappings(task, element, decomposition, net_id)
        multi_instance = self.multi_instance(element, task, net_id, decomposition_id or task_id, yawl)
        if multi_instance:
            task["multi_instance"] = multi_instance
        self.timer(element, task, yawl, where)
        for extra in ("resourcing", "configuration", "defaultConfiguration", "customForm", "documentation"):
            child = _child(element, extra)
            if child is not None:
                yawl[extra] = (
                    (child.text or "").strip()
                    if extra in ("customForm", "documentation")
                    else _xml_text(child)
                )
        if "documentation" in yawl:
            yawl["documentation"] = _take_engine_fields(yawl["documentation"], task)
            if not yawl["documentation"]:
                del yawl["documentation"]
        if yawl:
            task["extensions"] = {"yawl": yawl}
        return task

    @staticmethod
    def atomic_kind(decomposition: Element) -> str:
        interaction = _text(decomposition, "externalInteraction")
        if interaction == "automated" or _text(decomposition, "codelet"):
            return "automated"
        return "manual"

    def decomposition_extensions(self, decomposition: Element) -> dict[str, Any]:
        """What an atomic decomposition carries beyond parameters (written back on export)."""
        extras: dict[str, Any] = {}
        for tag in ("name", "documentation", "codelet", "externalInteraction"):
            value = _text(decomposition, tag)
            if value:
                extras[f"decomposition_{tag}"] = value
        for tag in ("yawlService", "enablementParam", "logPredicate"):
            child = _child(decomposition, tag)
            if child is not None:
                extras[f"decomposition_{tag}"] = _xml_text(child)
        return extras

    def parameters(self, decomposition: Element | None, tag: str) -> dict[str, Element]:
        if decomposition is None:
            return {}
        return {self.parameter_name(param): param for param in _children(decomposition, tag)}

    def mappings(
        self, task: dict[str, Any], element: Element, decomposition: Element | None, net_id: str
    ) -> None:
        input_params = self.parameters(decomposition, "inputParam")
        output_params = self.parameters(decomposition, "outputParam")
        output_root = decomposition.get("id") if decomposition is not None else task["id"]
        inputs = []
        for name, query in self.mapping_list(element, "startingMappings"):
            entry: dict[str, Any] = {"name": name}
            if name in input_params:
                self.typed(entry, input_params[name])
            query = self.net_query(query, net_id)
            if (
                query.replace(" ", "") != f"/{net_id}/{name}"
            ):  # copying the same-named variable is the default
                entry["query"] = query
            inputs.append(entry)
        if inputs:
            task["inputs"] = inputs
        if decomposition is not None and not self._is_net(decomposition) and output_params:
            outputs = []
            for name, param in output_params.items():
                output: dict[str, Any] = {"name": name}
                self.typed(output, param)
                if _child(param, "mandatory") is not None:
                    output["required"] = True
                outputs.append(output)
            task["outputs"] = outputs
        output_mappings = [
            {"query": self.beta_query(query, output_root), "to": name}
            for name, query in self.mapping_list(element, "completedMappings")
        ]
        if output_mappings or decomposition is not None:
            task["output_mappings"] = output_mappings  # YAWL: without completed mappings nothing flows back

    def mapping_list(self, element: Element, tag: str) -> list[tuple[str, str]]:
        container = _child(element, tag)
        if container is None:
            return []
        result = []
        for mapping in _children(container, "mapping"):
            expression = _child(mapping, "expression")
            query = _present(expression.get("query") if expression is not None else None)
            target = _text(mapping, "mapsTo")
            if query is None or not target:
                raise SpecFileError(
                    self.where(
                        f"task {element.get('id')!r}: a {tag} mapping needs an expression query and mapsTo"
                    )
                )
            result.append((target, query))
        return result

    def multi_instance(
        self, element: Element, task: dict[str, Any], net_id: str, output_root: str, yawl: dict[str, Any]
    ) -> dict[str, Any] | None:
        is_mi = (element.get(XSI_TYPE) or "").endswith("MultipleInstanceExternalTaskFactsType")
        if not is_mi and _child(element, "minimum") is None:
            return None
        where = self.where(f"task {task['id']!r}")
        mi: dict[str, Any] = {}
        for tag, key in (("minimum", "min"), ("maximum", "max"), ("threshold", "threshold")):
            value = _int(_text(element, tag), f"{where} {tag}")
            if value is not None:
                mi[key] = value
        creation = _child(element, "creationMode")
        code = (creation.get("code") if creation is not None else None) or "static"
        if code not in ("static", "dynamic"):
            raise SpecFileError(f"{where}: creationMode {code!r} is not static or dynamic")
        if "max" in mi and mi.get("threshold", 0) > mi["max"]:
            # a threshold above the maximum means "all instances" (YAWL accepts it; the spec format does not)
            yawl["mi_threshold"] = mi["threshold"]
            mi["threshold"] = mi["max"]
        if "max" in mi and mi.get("threshold") == mi["max"]:
            del mi["threshold"]  # the same as no threshold: every instance must complete
        mi["creation"] = code
        data_input = _child(element, "miDataInput")
        if data_input is not None:
            expression = _child(data_input, "expression")
            splitting = _child(data_input, "splittingExpression")
            expression_query = _present(expression.get("query") if expression is not None else None)
            splitting_query = _present(splitting.get("query") if splitting is not None else None)
            if expression_query:
                expression_query = self.net_query(expression_query, net_id)
                yawl["mi_expression"] = expression_query
            if splitting_query:
                yawl["mi_splitting_expression"] = splitting_query
            query = compose_splitting_query(expression_query, splitting_query)
            if query:
                mi["query"] = query
            variable = _present(_text(data_input, "formalInputParam"))
            if variable:
                mi["variable"] = variable
        data_output = _child(element, "miDataOutput")
        if data_output is not None:
            formal = _child(data_output, "formalOutputExpression")
            aggregate = _present(formal.get("query") if formal is not None else None)
            if aggregate and not _SINGLE_STEP.match(aggregate):  # `/Task` is each whole output
                mi["aggregate"] = self.beta_query(aggregate, output_root)
            joining = _child(data_output, "outputJoiningExpression")
            joining_query = _present(joining.get("query") if joining is not None else None)
            if joining_query:
                yawl["mi_joining_expression"] = joining_query
            target = _present(_text(data_output, "resultAppliedToLocalVariable"))
            if target:
                mi["to"] = target
        return mi

    def timer(self, element: Element, task: dict[str, Any], yawl: dict[str, Any], where: str) -> None:
        timer_element = _child(element, "timer")
        if timer_element is None:
            return
        netparam = _text(timer_element, "netparam")
        if netparam:
            yawl["timer_netparam"] = netparam
            task["timer"] = {"variable": netparam}  # trigger and expiry read from the variable at run time
            return
        trigger = _text(timer_element, "trigger") or "OnEnabled"
        if trigger not in _TRIGGERS:
            raise SpecFileError(
                self.where(f"{where}: timer trigger {trigger!r} is not OnEnabled or OnExecuting")
            )
        timer: dict[str, Any] = {"trigger": _TRIGGERS[trigger]}
        duration = _text(timer_element, "duration")
        expiry = _text(timer_element, "expiry")
        params = _child(timer_element, "durationparams")
        if duration:
            timer["duration"] = duration
        elif expiry:
            timer["expiry"] = _expiry(expiry, self.where(f"{where}: timer expiry"))
        elif params is not None:
            timer["duration"] = _duration_from_params(params, self.where(f"{where}: timer durationparams"))
        else:
            raise SpecFileError(self.where(f"{where}: the timer has no duration, expiry or netparam"))
        task["timer"] = timer


def compose_splitting_query(expression: str | None, splitting: str | None) -> str | None:
    """YAWL's two-step MI split (a query over net data, then a splitting query over its result
    as a document) as one query over net data."""
    if not splitting:
        return None  # without a splitting query YAWL has nothing to split
    if not expression or _SINGLE_STEP.match(expression):
        return splitting  # the first step selects the whole net document
    roots = root_names(splitting)
    if len(roots) == 1:
        return _replace_root_step(splitting, next(iter(roots)), f"({expression})")
    return f"({expression})/({splitting})"


def _replace_root_step(text: str, name: str, replacement: str) -> str:
    marker = "\x00knhk\x00"
    renamed = rename_root(text, name, marker)
    return re.sub(r"/\s*" + re.escape(marker), lambda _: replacement, renamed)


def _expiry(text: str, where: str) -> str:
    if text.isdigit():  # YAWL writes an expiry as milliseconds since the epoch
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC).isoformat().replace("+00:00", "Z")
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SpecFileError(f"{where}: {text!r} is neither epoch milliseconds nor an ISO 8601 time") from None
    return text


def _duration_from_params(params: Element, where: str) -> str:
    ticks = _int(_text(params, "ticks"), where) or 0
    interval = (_text(params, "interval") or "").upper()
    if interval == "MSEC":
        return f"PT{ticks / 1000:g}S"
    if interval not in _INTERVALS:
        raise SpecFileError(f"{where}: unknown interval {interval!r}")
    unit = _INTERVALS[interval]
    return f"PT{ticks}{unit}" if interval in ("HOUR", "MIN", "SEC") else f"P{ticks}{unit}"


# ---------------------------------------------------------------------------------------------
# Verification rules of the YAWL verifier not covered by the JSON verifier
# ---------------------------------------------------------------------------------------------


def verify_yawl_wiring(spec: dict[str, Any]) -> list[str]:
    """The errors the YAWL verifier reports for a spec dict: `verify(spec, yawl=True)`, i.e. every
    structural rule, the data-wiring rules (a variable fed by both an MI output and a completed
    mapping, an MI parameter also given by a starting mapping, a mapping into an undeclared net or
    subnet variable) and queries that do not compile. Each message names the net and element; a
    malformed document gets its shape messages."""
    try:
        model = Specification.from_dict(spec)
    except SpecError as exc:
        return list(exc.messages)
    return [problem.message for problem in errors_only(verify(model, yawl=True))]
