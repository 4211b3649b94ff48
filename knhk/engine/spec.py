"""The specification model: frozen dataclasses parsed from (and rendered back to) the JSON format.

`Specification.from_dict` checks the *shape* of a document (types, required and unknown fields,
enumerations) and reports every problem at once with its JSON path. Structural rules (paths from
input to output, defaults on splits, ...) are `verify.verify`'s job.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from knhk.engine.types import VARIABLE_TYPES

__all__ = [
    "SpecError",
    "Specification",
    "Net",
    "Condition",
    "Task",
    "Flow",
    "Variable",
    "Param",
    "Mapping",
    "MultiInstance",
    "Timer",
    "Connector",
    "JOIN_CODES",
    "SPLIT_CODES",
    "TASK_KINDS",
    "VARIABLE_TYPES",
    "implicit_condition_id",
]

JOIN_CODES = ("and", "xor", "or")
SPLIT_CODES = ("and", "xor", "or")
TASK_KINDS = ("manual", "automated", "routing", "composite")
CONDITION_TYPES = ("input", "output", "condition")
VARIABLE_USAGES = ("local", "input", "output", "both")
TIMER_TRIGGERS = ("enabled", "started")
YAWL_TIMER_TRIGGERS = {"OnEnabled": "enabled", "OnExecuting": "started"}  # YAWL timer trigger -> ours
MI_CREATION = ("static", "dynamic")

SPEC_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
QUALIFIED_TYPE_PATTERN = re.compile(r"^[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*$")
DURATION_PATTERN = re.compile(
    r"^-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)
DATETIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")
# a surrogate in a str is always a lone one (JSON's escaped pairs decode to one character)
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_TEXT = "contains a lone surrogate (\\ud800-\\udfff), which is not Unicode text"
_MAX_SURROGATE_MESSAGES = 10


class SpecError(ValueError):
    """A malformed specification document; `messages` lists every problem with its JSON path."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = list(messages)
        super().__init__("invalid specification: " + "; ".join(self.messages))


def implicit_condition_id(source: str, target: str) -> str:
    """The id of the implicit condition on a task-to-task flow."""
    return f"{source}__{target}"


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class Flow:
    """A flow out of a node (written on its source, as YAWL's flowsInto)."""

    to: str
    predicate: str | None = None
    ordering: int | None = None
    default: bool = False
    extensions: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """A place of the net; `type` is input, output or condition."""

    id: str
    type: str = "condition"
    name: str | None = None
    flows: tuple[Flow, ...] = ()
    extensions: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Variable:
    """A net variable with its initial value."""

    name: str
    type: str = "any"
    initial: Any = None
    usage: str = "local"
    extensions: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Param:
    """A task input (`query` over net data) or output (`required`) parameter."""

    name: str
    type: str = "any"
    query: str | None = None
    required: bool = False
    extensions: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Mapping:
    """An output mapping: `query` over the work item's output data, stored in net variable `to`."""

    query: str
    to: str
    extensions: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class MultiInstance:
    """Multiple-instance attributes; `max` None means unbounded, `threshold` None means all."""

    min: int = 1
    max: int | None = None
    threshold: int | None = None
    creation: str = "static"
    query: str | None = None
    variable: str | None = None
    aggregate: str | None = None
    to: str | None = None
    extensions: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Timer:
    """A timer set when the task's work item is enabled or started."""

    trigger: str
    duration: str | None = None
    expiry: str | None = None
    extensions: dict[str, Any] | None = None
    variable: str | None = None  # YAWL netparam: trigger and expiry come from this net variable at run time


@dataclass(frozen=True, slots=True)
class Connector:
    """How a worker executes an automated task (issue 6)."""

    name: str
    config: dict[str, Any] = field(default_factory=dict)
    max_retries: int = 0
    retry_delay: float = 0.0
    extensions: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Task:
    """A task (transition) with its join, split, flows and decomposition."""

    id: str
    name: str | None = None
    join: str = "xor"
    split: str = "and"
    flows: tuple[Flow, ...] = ()
    kind: str = "manual"  # resolved: "composite" when `subnet` is set
    subnet: str | None = None
    roles: tuple[str, ...] = ()
    cancels: tuple[str, ...] = ()
    inputs: tuple[Param, ...] | None = None
    outputs: tuple[Param, ...] | None = None
    output_mappings: tuple[Mapping, ...] | None = None  # None: merge outputs by name; (): nothing back
    multi_instance: MultiInstance | None = None
    timer: Timer | None = None
    connector: Connector | None = None
    extensions: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Net:
    """A net: its variables, conditions and tasks."""

    id: str
    name: str | None = None
    description: str | None = None
    variables: tuple[Variable, ...] = ()
    conditions: tuple[Condition, ...] = ()
    tasks: tuple[Task, ...] = ()
    extensions: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Specification:
    """A workflow specification: the root net first, then the subnets."""

    id: str
    nets: tuple[Net, ...]
    name: str | None = None
    description: str | None = None
    extensions: dict[str, Any] | None = None

    @property
    def root(self) -> Net:
        """The root net."""
        return self.nets[0]

    def net(self, net_id: str) -> Net | None:
        """The net with this id, or None."""
        for net in self.nets:
            if net.id == net_id:
                return net
        return None

    @classmethod
    def from_dict(cls, document: Any) -> Specification:
        """Parse a JSON document; raises SpecError listing every shape problem with its path (only
        the strings holding a lone UTF-16 surrogate when there are any: they are not Unicode text)."""
        surrogates = _surrogate_paths(document)
        if surrogates:
            raise SpecError(surrogates)
        parser = _Parser()
        spec = parser.specification(document)
        if parser.errors:
            raise SpecError(parser.errors)
        assert spec is not None
        return spec

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON document (defaults omitted, flows without attributes as strings)."""
        return _render_specification(self)

    def canonical_json(self) -> str:
        """Canonical JSON text (sorted keys, no whitespace)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def content_hash(self) -> str:
        """sha256 (hex) of the canonical JSON."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- parsing

_NET_FIELDS = ("variables", "conditions", "tasks")
_SPEC_FIELDS = {"id", "name", "description", "root_net", "nets", "extensions", *_NET_FIELDS}
_SUBNET_FIELDS = {"id", "name", "description", "extensions", *_NET_FIELDS}
_CONDITION_FIELDS = {"id", "name", "type", "flows", "extensions"}
_FLOW_FIELDS = {"to", "predicate", "ordering", "default", "extensions"}
_TASK_FIELDS = {
    "id", "name", "join", "split", "flows", "kind", "subnet", "roles", "cancels", "inputs",
    "outputs", "output_mappings", "multi_instance", "timer", "connector", "extensions",
}  # fmt: skip
_VARIABLE_FIELDS = {"name", "type", "initial", "usage", "extensions"}
_INPUT_FIELDS = {"name", "type", "query", "extensions"}
_OUTPUT_FIELDS = {"name", "type", "required", "extensions"}
_MAPPING_FIELDS = {"query", "to", "extensions"}
_MI_FIELDS = {"min", "max", "threshold", "creation", "query", "variable", "aggregate", "to", "extensions"}
_TIMER_FIELDS = {"trigger", "duration", "expiry", "variable", "extensions"}
_CONNECTOR_FIELDS = {"name", "config", "max_retries", "retry_delay", "extensions"}

_MISSING = object()


def join_path(path: str, key: str | int) -> str:
    """A JSON path one step further: `tasks[2]`, `tasks[2].id`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _printable(path: str) -> str:
    return path.encode("utf-8", "backslashreplace").decode("utf-8")


def _surrogate_paths(document: Any) -> list[str]:
    """Messages "<path>: contains a lone surrogate ..." for the first strings (values or keys) of a JSON
    value holding one; a quick scan of the whole text first (a walk only when it finds one)."""
    try:
        if not _SURROGATE.search(json.dumps(document, ensure_ascii=False, default=repr)):
            return []
    except (ValueError, TypeError, RecursionError):
        pass  # not JSON throughout (a circular or very deep value): walk it
    found: list[str] = []
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack and len(found) <= _MAX_SURROGATE_MESSAGES:
        value, path = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                found.append(f"{_printable(path) or '(document)'}: {_SURROGATE_TEXT}")
        elif isinstance(value, dict | list | tuple) and id(value) not in seen:
            seen.add(id(value))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, member in reversed(list(items)):
                if isinstance(key, str) and _SURROGATE.search(key):
                    found.append(f"{_printable(join_path(path, key))}: the field name {_SURROGATE_TEXT}")
                stack.append((member, join_path(path, key)))
    if len(found) > _MAX_SURROGATE_MESSAGES:
        found[_MAX_SURROGATE_MESSAGES:] = ["(more strings with lone surrogates are not listed)"]
    return found


class _Parser:
    """Collects every shape error while building the model."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path or '(document)'}: {message}")

    # -- primitives
    def obj(self, value: Any, path: str, allowed: set[str], required: tuple[str, ...] = ()) -> bool:
        if not isinstance(value, dict):
            self.error(path, "must be an object")
            return False
        for key in value:
            if key not in allowed:
                self.error(join_path(path, str(key)), "unknown field")
        for key in required:
            if key not in value:
                self.error(join_path(path, key), "is required")
        return True

    def string(self, d: dict, key: str, path: str, default: Any = None, nonempty: bool = True) -> Any:
        value = d.get(key, _MISSING)
        if value is _MISSING or (value is None and default is None):
            return default
        if not isinstance(value, str) or (nonempty and not value.strip()):
            self.error(join_path(path, key), "must be a non-empty string" if nonempty else "must be a string")
            return default
        return value

    def enum(self, d: dict, key: str, path: str, choices: tuple[str, ...], default: str) -> str:
        value = d.get(key, _MISSING)
        if value is _MISSING:
            return default
        if value not in choices:
            self.error(join_path(path, key), "must be one of " + ", ".join(choices))
            return default
        return value

    def integer(self, d: dict, key: str, path: str, minimum: int | None = None) -> int | None:
        value = d.get(key, _MISSING)
        if value is _MISSING or value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(join_path(path, key), "must be an integer")
            return None
        if minimum is not None and value < minimum:
            self.error(join_path(path, key), f"must be at least {minimum}")
            return None
        return value

    def boolean(self, d: dict, key: str, path: str, default: bool = False) -> bool:
        value = d.get(key, _MISSING)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.error(join_path(path, key), "must be true or false")
            return default
        return value

    def extensions(self, d: dict, path: str) -> dict[str, Any] | None:
        value = d.get("extensions", _MISSING)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, dict):
            self.error(join_path(path, "extensions"), "must be an object")
            return None
        return value

    def array(self, d: dict, key: str, path: str) -> list[Any]:
        value = d.get(key, _MISSING)
        if value is _MISSING or value is None:
            return []
        if not isinstance(value, list):
            self.error(join_path(path, key), "must be a list")
            return []
        return value

    def strings(self, d: dict, key: str, path: str) -> tuple[str, ...]:
        result = []
        for index, item in enumerate(self.array(d, key, path)):
            if isinstance(item, str) and item.strip():
                result.append(item)
            else:
                self.error(join_path(join_path(path, key), index), "must be a non-empty string")
        return tuple(result)

    def type_name(self, d: dict, key: str, path: str) -> str:
        value = d.get(key, _MISSING)
        if value is _MISSING:
            return "any"
        if isinstance(value, str) and (value in VARIABLE_TYPES or QUALIFIED_TYPE_PATTERN.match(value)):
            return value
        self.error(
            join_path(path, key),
            "must be one of " + ", ".join(VARIABLE_TYPES) + " or an XML Schema type name such as xs:string",
        )
        return "any"

    # -- model
    def specification(self, d: Any) -> Specification | None:
        if not self.obj(d, "", _SPEC_FIELDS, ("id",)):
            return None
        spec_id = self.string(d, "id", "")
        if spec_id is not None and not SPEC_ID_PATTERN.match(spec_id):
            self.error("id", "must match [A-Za-z0-9_.:-]{1,100}")
        root_id = self.string(d, "root_net", "") or spec_id or "root"
        root = self.net(d, "", root_id, top_level=True)
        nets = [root]
        for index, item in enumerate(self.array(d, "nets", "")):
            path = join_path("nets", index)
            if self.obj(item, path, _SUBNET_FIELDS, ("id",)):
                nets.append(self.net(item, path, self.string(item, "id", path) or f"net{index}"))
        return Specification(
            id=spec_id or "",
            nets=tuple(nets),
            name=self.string(d, "name", ""),
            description=self.string(d, "description", "", nonempty=False),
            extensions=self.extensions(d, ""),
        )

    def net(self, d: dict, path: str, net_id: str, top_level: bool = False) -> Net:
        return Net(
            id=net_id,
            name=None if top_level else self.string(d, "name", path),
            description=None if top_level else self.string(d, "description", path, nonempty=False),
            variables=tuple(
                self.variable(item, join_path(join_path(path, "variables"), i))
                for i, item in enumerate(self.array(d, "variables", path))
            ),
            conditions=tuple(
                self.condition(item, join_path(join_path(path, "conditions"), i))
                for i, item in enumerate(self.array(d, "conditions", path))
            ),
            tasks=tuple(
                self.task(item, join_path(join_path(path, "tasks"), i))
                for i, item in enumerate(self.array(d, "tasks", path))
            ),
            extensions=None if top_level else self.extensions(d, path),
        )

    def variable(self, d: Any, path: str) -> Variable:
        if not self.obj(d, path, _VARIABLE_FIELDS, ("name",)):
            return Variable(name="")
        return Variable(
            name=self.string(d, "name", path, ""),
            type=self.type_name(d, "type", path),
            initial=d.get("initial"),
            usage=self.enum(d, "usage", path, VARIABLE_USAGES, "local"),
            extensions=self.extensions(d, path),
        )

    def flows(self, d: dict, path: str) -> tuple[Flow, ...]:
        result = []
        for index, item in enumerate(self.array(d, "flows", path)):
            flow_path = join_path(join_path(path, "flows"), index)
            if isinstance(item, str) and item.strip():
                result.append(Flow(to=item))
                continue
            if not isinstance(item, dict):
                self.error(flow_path, "must be a non-empty string (the target id) or an object")
                continue
            if not self.obj(item, flow_path, _FLOW_FIELDS, ("to",)):
                continue
            result.append(
                Flow(
                    to=self.string(item, "to", flow_path, ""),
                    predicate=self.string(item, "predicate", flow_path),
                    ordering=self.integer(item, "ordering", flow_path),
                    default=self.boolean(item, "default", flow_path),
                    extensions=self.extensions(item, flow_path),
                )
            )
        return tuple(result)

    def condition(self, d: Any, path: str) -> Condition:
        if not self.obj(d, path, _CONDITION_FIELDS, ("id",)):
            return Condition(id="")
        return Condition(
            id=self.string(d, "id", path, ""),
            type=self.enum(d, "type", path, CONDITION_TYPES, "condition"),
            name=self.string(d, "name", path, nonempty=False),
            flows=self.flows(d, path),
            extensions=self.extensions(d, path),
        )

    def task(self, d: Any, path: str) -> Task:
        if not self.obj(d, path, _TASK_FIELDS, ("id",)):
            return Task(id="")
        subnet = self.string(d, "subnet", path)
        kind = self.enum(d, "kind", path, TASK_KINDS, "composite" if subnet else "manual")
        if subnet and kind != "composite":
            self.error(join_path(path, "kind"), "a task with a subnet is composite (omit kind or use composite)")
        if kind == "composite" and not subnet:
            self.error(join_path(path, "subnet"), "is required for a composite task")
        inputs = outputs = mappings = None
        if d.get("output_mappings") is not None:
            mappings = tuple(
                self.mapping(item, join_path(join_path(path, "output_mappings"), i))
                for i, item in enumerate(self.array(d, "output_mappings", path))
            )
        if "inputs" in d:
            inputs = tuple(
                self.param(item, join_path(join_path(path, "inputs"), i), _INPUT_FIELDS)
                for i, item in enumerate(self.array(d, "inputs", path))
            )
        if "outputs" in d:
            outputs = tuple(
                self.param(item, join_path(join_path(path, "outputs"), i), _OUTPUT_FIELDS)
                for i, item in enumerate(self.array(d, "outputs", path))
            )
        return Task(
            id=self.string(d, "id", path, ""),
            name=self.string(d, "name", path, nonempty=False),
            join=self.enum(d, "join", path, JOIN_CODES, "xor"),
            split=self.enum(d, "split", path, SPLIT_CODES, "and"),
            flows=self.flows(d, path),
            kind=kind,
            subnet=subnet,
            roles=self.strings(d, "roles", path),
            cancels=self.strings(d, "cancels", path),
            inputs=inputs,
            outputs=outputs,
            output_mappings=mappings,
            multi_instance=self.multi_instance(d.get("multi_instance"), join_path(path, "multi_instance")),
            timer=self.timer(d.get("timer"), join_path(path, "timer")),
            connector=self.connector(d.get("connector"), join_path(path, "connector")),
            extensions=self.extensions(d, path),
        )

    def param(self, d: Any, path: str, allowed: set[str]) -> Param:
        if not self.obj(d, path, allowed, ("name",)):
            return Param(name="")
        return Param(
            name=self.string(d, "name", path, ""),
            type=self.type_name(d, "type", path),
            query=self.string(d, "query", path),
            required=self.boolean(d, "required", path),
            extensions=self.extensions(d, path),
        )

    def mapping(self, d: Any, path: str) -> Mapping:
        if not self.obj(d, path, _MAPPING_FIELDS, ("query", "to")):
            return Mapping(query="", to="")
        return Mapping(
            query=self.string(d, "query", path, ""),
            to=self.string(d, "to", path, ""),
            extensions=self.extensions(d, path),
        )

    def multi_instance(self, d: Any, path: str) -> MultiInstance | None:
        if d is None or not self.obj(d, path, _MI_FIELDS):
            return None
        minimum = self.integer(d, "min", path, minimum=1)
        return MultiInstance(
            min=1 if minimum is None else minimum,
            max=self.integer(d, "max", path, minimum=1),
            threshold=self.integer(d, "threshold", path, minimum=1),
            creation=self.enum(d, "creation", path, MI_CREATION, "static"),
            query=self.string(d, "query", path),
            variable=self.string(d, "variable", path),
            aggregate=self.string(d, "aggregate", path),
            to=self.string(d, "to", path),
            extensions=self.extensions(d, path),
        )

    def timer(self, d: Any, path: str) -> Timer | None:
        if d is None or not self.obj(d, path, _TIMER_FIELDS, ()):
            return None
        duration = self.string(d, "duration", path)
        expiry = self.string(d, "expiry", path)
        variable = self.string(d, "variable", path)
        if sum(value is not None for value in (duration, expiry, variable)) != 1:
            self.error(path, "needs exactly one of duration, expiry or variable")
        if duration is not None and not DURATION_PATTERN.match(duration):
            self.error(join_path(path, "duration"), "must be an ISO 8601 duration such as PT30M")
        if expiry is not None and not DATETIME_PATTERN.match(expiry):
            self.error(join_path(path, "expiry"), "must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z")
        return Timer(
            trigger=self.enum(d, "trigger", path, TIMER_TRIGGERS, "enabled"),
            duration=duration,
            expiry=expiry,
            extensions=self.extensions(d, path),
            variable=variable,
        )

    def connector(self, d: Any, path: str) -> Connector | None:
        if d is None or not self.obj(d, path, _CONNECTOR_FIELDS, ("name",)):
            return None
        config = d.get("config", {})
        if not isinstance(config, dict):
            self.error(join_path(path, "config"), "must be an object")
            config = {}
        delay = d.get("retry_delay", 0.0)
        if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
            self.error(join_path(path, "retry_delay"), "must be a number of seconds, at least 0")
            delay = 0.0
        retries = self.integer(d, "max_retries", path, minimum=0)
        return Connector(
            name=self.string(d, "name", path, ""),
            config=config,
            max_retries=retries or 0,
            retry_delay=float(delay),
            extensions=self.extensions(d, path),
        )


# --------------------------------------------------------------------------- rendering


def _put(out: dict[str, Any], key: str, value: Any, default: Any = None) -> None:
    if value != default:
        out[key] = value


def _render_extensions(out: dict[str, Any], extensions: dict[str, Any] | None) -> dict[str, Any]:
    if extensions is not None:
        out["extensions"] = extensions
    return out


def _render_flow(flow: Flow) -> Any:
    if flow.predicate is None and flow.ordering is None and not flow.default and flow.extensions is None:
        return flow.to
    out: dict[str, Any] = {"to": flow.to}
    _put(out, "predicate", flow.predicate)
    _put(out, "ordering", flow.ordering)
    _put(out, "default", flow.default, False)
    return _render_extensions(out, flow.extensions)


def _render_condition(condition: Condition) -> dict[str, Any]:
    out: dict[str, Any] = {"id": condition.id}
    _put(out, "name", condition.name)
    _put(out, "type", condition.type, "condition")
    if condition.flows:
        out["flows"] = [_render_flow(flow) for flow in condition.flows]
    return _render_extensions(out, condition.extensions)


def _render_variable(variable: Variable) -> dict[str, Any]:
    out: dict[str, Any] = {"name": variable.name}
    _put(out, "type", variable.type, "any")
    _put(out, "initial", variable.initial)
    _put(out, "usage", variable.usage, "local")
    return _render_extensions(out, variable.extensions)


def _render_param(param: Param) -> dict[str, Any]:
    out: dict[str, Any] = {"name": param.name}
    _put(out, "type", param.type, "any")
    _put(out, "query", param.query)
    _put(out, "required", param.required, False)
    return _render_extensions(out, param.extensions)


def _render_simple(value: Any, defaults: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in value.__slots__:
        if name == "extensions":
            continue
        _put(out, name, getattr(value, name), defaults.get(name))
    return _render_extensions(out, value.extensions)


def _render_task(task: Task) -> dict[str, Any]:
    out: dict[str, Any] = {"id": task.id}
    _put(out, "name", task.name)
    _put(out, "join", task.join, "xor")
    _put(out, "split", task.split, "and")
    if task.flows:
        out["flows"] = [_render_flow(flow) for flow in task.flows]
    _put(out, "kind", task.kind, "composite" if task.subnet else "manual")
    _put(out, "subnet", task.subnet)
    if task.roles:
        out["roles"] = list(task.roles)
    if task.cancels:
        out["cancels"] = list(task.cancels)
    if task.inputs is not None:
        out["inputs"] = [_render_param(param) for param in task.inputs]
    if task.outputs is not None:
        out["outputs"] = [_render_param(param) for param in task.outputs]
    if task.output_mappings is not None:
        out["output_mappings"] = [_render_simple(m, {}) for m in task.output_mappings]
    if task.multi_instance is not None:
        out["multi_instance"] = _render_simple(task.multi_instance, {"creation": "static"})
    if task.timer is not None:
        out["timer"] = _render_simple(task.timer, {})
    if task.connector is not None:
        out["connector"] = _render_simple(
            task.connector, {"config": {}, "max_retries": 0, "retry_delay": 0.0}
        )
    return _render_extensions(out, task.extensions)


def _render_net_fields(out: dict[str, Any], net: Net) -> dict[str, Any]:
    out["variables"] = [_render_variable(v) for v in net.variables]
    out["conditions"] = [_render_condition(c) for c in net.conditions]
    out["tasks"] = [_render_task(t) for t in net.tasks]
    return out


def _render_specification(spec: Specification) -> dict[str, Any]:
    out: dict[str, Any] = {"id": spec.id}
    _put(out, "name", spec.name)
    _put(out, "description", spec.description)
    _put(out, "root_net", spec.root.id, spec.id)
    _render_net_fields(out, spec.root)
    if len(spec.nets) > 1:
        out["nets"] = []
        for net in spec.nets[1:]:
            rendered: dict[str, Any] = {"id": net.id}
            _put(rendered, "name", net.name)
            _put(rendered, "description", net.description)
            out["nets"].append(_render_extensions(_render_net_fields(rendered, net), net.extensions))
    return _render_extensions(out, spec.extensions)
