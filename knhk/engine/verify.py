"""Structural verification of a specification: every rule a runnable spec must satisfy.

`verify(spec)` returns a list of `Problem`s; a spec is valid when none has severity "error".
Each message starts with the net and names the element, e.g.
"net Main: task 'B' is not on a path from input condition 'start' to output condition 'end'".
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from knhk.engine.expressions import ExpressionError, compile_expression
from knhk.engine.spec import Net, Specification, Task, implicit_condition_id
from knhk.engine.types import simple_kind, type_problem, value_problem

__all__ = ["Problem", "verify", "errors_only", "MAX_NET_NODES", "MAX_SPEC_NODES", "is_ncname"]

MAX_NET_NODES = 10_000  # tasks and conditions per net: compiled presets and postsets grow with the square
MAX_SPEC_NODES = 20_000  # the same over all nets of a specification (memory per compiled executor)
_NAME_START = (
    "A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_NCNAME = re.compile(f"[{_NAME_START}][{_NAME_START}\\-.0-9\u00b7\u0300-\u036f\u203f-\u2040]*").fullmatch
_NCNAME_HINT = "an XML name (NCName: a letter or _, then letters, digits, _, - or .); no XPath reaches it"


def is_ncname(name: str) -> bool:
    """Whether `name` is an XML NCName (what a variable must be for XPath to reach its element)."""
    return _NCNAME(name) is not None


def _compiled_size(net: Net) -> int:
    """Tasks and conditions the compiler numbers: the explicit ones and one per task-to-task flow."""
    task_ids = {task.id for task in net.tasks}
    implicit = sum(1 for task in net.tasks for flow in task.flows if flow.to in task_ids)
    return len(net.tasks) + len(net.conditions) + implicit


@dataclass(frozen=True, slots=True)


class Problem:
    """One verification finding; `element` is "<net>" or "<net>/<node id>"."""

    element: str
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


def errors_only(problems: list[Problem]) -> list[Problem]:
    """The problems that make a specification invalid."""
    return [problem for problem in problems if problem.severity == "error"]


def verify(spec: Specification | dict[str, Any], *, yawl: bool = False) -> list[Problem]:
    """Check every structural and data-wiring rule; a dict is parsed first (SpecError on a malformed
    document). `yawl=True` adds the YAWL verifier's stricter data rules: every output mapping and
    multiple-instance target, and every input of a composite task, must be a declared variable of its
    net (otherwise only nets that declare variables are held to it)."""
    if not isinstance(spec, Specification):
        spec = Specification.from_dict(spec)
    checker = _Checker(spec, yawl)
    checker.run()
    return checker.problems


def _describe(kind: str, node_id: str) -> str:
    return f"{kind} {node_id!r}"


class _Checker:
    def __init__(self, spec: Specification, yawl: bool = False) -> None:
        self.spec = spec
        self.yawl = yawl
        self.problems: list[Problem] = []
        self.net_ids = {net.id for net in spec.nets}
        self.condition_types: dict[str, str] = {}  # of the net being checked
        self.variable_names: set[str] = set()  # of the net being checked
        self.node_nets: dict[str, list[str]] | None = None  # node id -> the nets holding it, on first use

    def add(self, net: Net, node: str | None, message: str, severity: str = "error") -> None:
        element = net.id if node is None else f"{net.id}/{node}"
        self.problems.append(Problem(element, f"net {net.id}: {message}", severity))

    def run(self) -> None:
        for net_id, count in Counter(net.id for net in self.spec.nets).items():
            if count > 1:
                self.add(self.spec.nets[0], None, f"net id {net_id!r} is used by {count} nets")
        referenced = {task.subnet for net in self.spec.nets for task in net.tasks if task.subnet}
        sizes = {id(net): _compiled_size(net) for net in self.spec.nets}
        total = sum(sizes.values())
        if total > MAX_SPEC_NODES:
            self.add(self.spec.root, None, f"the specification has {total} tasks and conditions (a flow from "
                                           f"task to task counts as one); the limit is {MAX_SPEC_NODES}")
        for net in self.spec.nets:
            size = sizes[id(net)]
            if size > MAX_NET_NODES:  # before anything that grows faster than the net
                self.add(net, None, f"has {size} tasks and conditions (a flow from task to task counts as "
                                    f"one); the limit is {MAX_NET_NODES}")
            elif total > MAX_SPEC_NODES:
                continue
            else:
                self.check_net(net)
            if net is not self.spec.root and net.id not in referenced:
                self.add(net, None, "is not the subnet of any composite task", "warning")

    # ------------------------------------------------------------------ per net
    def check_net(self, net: Net) -> None:
        kinds: dict[str, str] = {}
        self.condition_types = {}
        self.variable_names = {variable.name for variable in net.variables}
        for condition in net.conditions:
            self.condition_types.setdefault(condition.id, condition.type)
        for condition in net.conditions:
            self.claim_id(net, kinds, condition.id, "condition")
        for task in net.tasks:
            self.claim_id(net, kinds, task.id, "task")
        for name, count in Counter(v.name for v in net.variables).items():
            if count > 1:
                self.add(net, None, f"variable {name!r} is declared {count} times")
        for variable in net.variables:
            self.check_data_name(net, None, f"variable {variable.name!r}", variable.name, variable.type)
            if variable.initial is not None:
                problem = value_problem(f"the initial value of variable {variable.name!r}", variable.type,
                                        variable.initial)  # fmt: skip
                if problem is not None:
                    self.add(net, None, problem)

        inputs = [c for c in net.conditions if c.type == "input"]
        outputs = [c for c in net.conditions if c.type == "output"]
        if len(inputs) != 1:
            self.add(net, None, f"must have exactly one input condition, found {len(inputs)}")
        if len(outputs) != 1:
            self.add(net, None, f"must have exactly one output condition, found {len(outputs)}")

        edges: dict[str, list[str]] = {node_id: [] for node_id in kinds}
        implicit: set[str] = set()
        for condition in net.conditions:
            kind_label = "condition" if condition.type == "condition" else f"{condition.type} condition"
            label = _describe(kind_label, condition.id)
            if condition.type == "output" and condition.flows:
                self.add(net, condition.id, f"{label} must have no outgoing flows")
            for flow in condition.flows:
                if flow.predicate is not None or flow.default or flow.ordering is not None:
                    self.add(
                        net,
                        condition.id,
                        f"{label}: flow to {flow.to!r} has a predicate, ordering or "
                        "default flag, which only task splits use",
                        "warning",
                    )
            self.check_targets(
                net, kinds, condition.id, label, [f.to for f in condition.flows], edges, from_condition=True
            )
        for task in net.tasks:
            label = _describe("task", task.id)
            self.check_targets(
                net, kinds, task.id, label, [f.to for f in task.flows], edges, from_condition=False
            )
            for flow in task.flows:
                if kinds.get(flow.to) == "task":
                    implicit.add(implicit_condition_id(task.id, flow.to))
            self.check_task(net, task, kinds)
        for implicit_id in sorted(implicit):
            if implicit_id in kinds:
                self.add(
                    net,
                    implicit_id,
                    f"id {implicit_id!r} clashes with the implicit condition of a task-to-task flow",
                )
        for task in net.tasks:
            self.check_cancels(net, task, kinds, implicit)
        if len(inputs) == 1 and len(outputs) == 1:
            self.check_paths(net, kinds, edges, inputs[0].id, outputs[0].id)

    def claim_id(self, net: Net, kinds: dict[str, str], node_id: str, kind: str) -> None:
        if node_id in kinds:
            self.add(
                net, node_id, f"id {node_id!r} is used by more than one element ({kinds[node_id]} and {kind})"
            )
        else:
            kinds[node_id] = kind

    def check_targets(
        self,
        net: Net,
        kinds: dict[str, str],
        source: str,
        label: str,
        targets: list[str],
        edges: dict[str, list[str]],
        from_condition: bool,
    ) -> None:
        for target, count in Counter(targets).items():
            if count > 1:
                self.add(net, source, f"{label} has {count} flows to {target!r}")
        for target in targets:
            target_kind = kinds.get(target)
            if target_kind is None:
                where = self.node_elsewhere(net, target)
                self.add(
                    net,
                    source,
                    f"{label} flows to {target!r}, which is not a node of this net"
                    + (f" (it is in net {where})" if where else ""),
                )
                continue
            if from_condition and target_kind == "condition":
                self.add(
                    net,
                    source,
                    f"{label} flows to condition {target!r}; a condition may only flow into tasks",
                )
            if target_kind == "condition" and self.condition_type(net, target) == "input":
                self.add(net, source, f"{label} flows into the input condition {target!r}")
            edges.setdefault(source, []).append(target)

    def node_elsewhere(self, net: Net, node_id: str) -> str | None:
        if self.node_nets is None:
            self.node_nets = {}
            for other in self.spec.nets:
                for node in (*other.tasks, *other.conditions):
                    self.node_nets.setdefault(node.id, []).append(other.id)
        return next((net_id for net_id in self.node_nets.get(node_id, ()) if net_id != net.id), None)

    def condition_type(self, net: Net, condition_id: str) -> str | None:
        return self.condition_types.get(condition_id)

    def check_paths(
        self, net: Net, kinds: dict[str, str], edges: dict[str, list[str]], start: str, end: str
    ) -> None:
        forward = _reachable(start, edges)
        backward_edges: dict[str, list[str]] = {}
        for source, targets in edges.items():
            for target in targets:
                backward_edges.setdefault(target, []).append(source)
        backward = _reachable(end, backward_edges)
        source = f"input condition {start!r}"
        sink = f"output condition {end!r}"
        for node_id, kind in kinds.items():
            reached, leads_out = node_id in forward, node_id in backward
            if reached and leads_out:
                continue
            if not reached and not leads_out:
                why = f"is not on a path from {source} to {sink}"
            elif not reached:
                why = f"cannot be reached from {source}"
            else:
                why = f"has no path to {sink}"
            kind_label = "task" if kind == "task" else f"{self.condition_type(net, node_id)} condition"
            kind_label = kind_label.replace("condition condition", "condition")
            self.add(net, node_id, f"{kind_label} {node_id!r} {why}")

    # ------------------------------------------------------------------ per task
    def check_task(self, net: Net, task: Task, kinds: dict[str, str]) -> None:
        label = _describe("task", task.id)
        if task.split in ("xor", "or") and task.flows:
            defaults = [flow for flow in task.flows if flow.default]
            if len(task.flows) > 1 and len(defaults) != 1:
                self.add(
                    net,
                    task.id,
                    f"{label} has an {task.split.upper()}-split and must have exactly one "
                    f"default flow, found {len(defaults)}",
                )
            for flow in defaults:
                if task.split == "xor" and flow.predicate is not None and flow.predicate.strip() != "true()":
                    self.add(
                        net,
                        task.id,
                        f"{label}: the predicate of default flow to {flow.to!r} is "
                        "ignored (an XOR-split takes the default when no other flow is)",
                        "warning",
                    )
            orderings = Counter(flow.ordering for flow in task.flows if flow.ordering is not None)
            for ordering, count in orderings.items():
                if count > 1:
                    self.add(net, task.id, f"{label} has {count} flows with ordering {ordering}")
        elif task.split == "and":
            for flow in task.flows:
                if flow.predicate is not None and flow.predicate.strip() != "true()":
                    self.add(
                        net,
                        task.id,
                        f"{label} has an AND-split; the predicate on its flow to {flow.to!r} is ignored",
                        "warning",
                    )
        for flow in task.flows:
            if flow.predicate is not None:
                self.check_expression(
                    net, task.id, f"{label}: predicate of flow to {flow.to!r}", flow.predicate
                )
        for direction, params in (("input", task.inputs), ("output", task.outputs)):
            for param in params or ():
                self.check_data_name(net, task.id, f"{label}: {direction} {param.name!r}", param.name,
                                     param.type)  # fmt: skip
        if task.kind == "automated" and task.connector is None:
            self.add(net, task.id, f"{label} is automated but has no connector (a worker runs the noop connector)",
                     "warning")  # fmt: skip
        for param in task.inputs or ():
            if param.query is not None:
                self.check_expression(net, task.id, f"{label}: query of input {param.name!r}", param.query)
        for index, mapping in enumerate(task.output_mappings or ()):
            self.check_expression(net, task.id, f"{label}: output mapping {index} query", mapping.query)
            self.check_variable(net, task.id, f"{label}: output mapping {index}", mapping.to)
        self.check_wiring(net, task)
        for name, count in Counter(p.name for p in task.inputs or ()).items():
            if count > 1:
                self.add(net, task.id, f"{label} declares input {name!r} {count} times")
        for name, count in Counter(p.name for p in task.outputs or ()).items():
            if count > 1:
                self.add(net, task.id, f"{label} declares output {name!r} {count} times")
        if task.output_mappings is None and not task.multi_instance and not task.subnet:
            self.check_merged_outputs(net, task, label)
        if task.subnet is not None and task.subnet not in self.net_ids:
            self.add(
                net, task.id, f"{label} runs subnet {task.subnet!r}, which is not a net of this specification"
            )
        if task.kind == "routing" and (task.roles or task.timer or task.connector):
            self.add(
                net,
                task.id,
                f"{label} is a routing task; its roles, timer and connector are ignored",
                "warning",
            )
        if task.connector is not None and task.kind != "automated":
            self.add(net, task.id, f"{label} has a connector but is not automated", "warning")
        if task.connector is not None:
            self.check_connector(net, task)
        for role in task.roles:
            if not isinstance(role, str):
                self.add(net, task.id, f"{label}: roles must be strings")
        self.check_multi_instance(net, task)

    def check_merged_outputs(self, net: Net, task: Task, label: str) -> None:
        """Declared outputs merge into the net variables of the same name: a number or boolean
        variable takes only an output of its kind (an integer output into a number variable too)."""
        variable_types = {v.name: v.type for v in net.variables}
        for param in task.outputs or ():
            if param.name not in variable_types or param.type in (None, "any"):
                continue
            wanted, given = simple_kind(variable_types[param.name]), simple_kind(param.type)
            if wanted is not None and given != wanted and (wanted, given) != ("number", "int"):
                self.add(net, task.id, f"{label}: output {param.name!r} is {param.type} but merges into "
                                       f"variable {param.name!r} of type {variable_types[param.name]}")

    def check_connector(self, net: Net, task: Task) -> None:
        """A connector has a name (the platform checks it against its registry) and an object config."""
        connector = task.connector
        assert connector is not None
        if not isinstance(connector.name, str) or not connector.name.strip():
            self.add(net, task.id, f"task {task.id!r}: connector needs a name (a non-empty string)")
        if not isinstance(connector.config, dict):
            self.add(net, task.id, f"task {task.id!r}: connector {connector.name!r}: config must be an object")

    def check_wiring(self, net: Net, task: Task) -> None:
        """Data wiring (YAWL verifier rules): no variable fed twice, no parameter given twice, and
        a composite task's inputs name variables of its subnet."""
        label = _describe("task", task.id)
        input_names = {param.name for param in task.inputs or ()}
        mi = task.multi_instance
        if mi is not None and mi.to is not None and mi.to in {m.to for m in task.output_mappings or ()}:
            self.add(
                net, task.id,
                f"{label}: variable {mi.to!r} receives both the multiple-instance output and an output mapping",
            )  # fmt: skip
        if mi is not None and mi.variable is not None and mi.variable in input_names:
            self.add(
                net, task.id,
                f"{label}: input {mi.variable!r} receives both the multiple-instance item and an input mapping",
            )  # fmt: skip
        subnet = self.spec.net(task.subnet) if task.subnet is not None else None
        if subnet is not None and (subnet.variables or self.yawl):
            declared = {variable.name for variable in subnet.variables}
            for param in task.inputs or ():
                if param.name not in declared:
                    self.add(
                        net, task.id,
                        f"{label}: input {param.name!r} goes to subnet {subnet.id!r}, which does not declare it",
                    )  # fmt: skip

    def check_multi_instance(self, net: Net, task: Task) -> None:
        mi = task.multi_instance
        if mi is None:
            return
        label = f"task {task.id!r}: multiple instances"
        if task.kind == "routing":
            self.add(net, task.id, f"{label}: a routing task cannot have multiple instances")
        if mi.max is not None and mi.min > mi.max:
            self.add(net, task.id, f"{label}: min {mi.min} is greater than max {mi.max}")
        if mi.threshold is not None and mi.max is not None and mi.threshold > mi.max:
            self.add(net, task.id, f"{label}: threshold {mi.threshold} is greater than max {mi.max}")
        if mi.creation == "dynamic" and mi.max is not None and mi.max <= mi.min:
            self.add(
                net,
                task.id,
                f"{label}: dynamic creation needs max greater than min (min {mi.min}, max {mi.max})",
            )
        if mi.query is not None:
            self.check_expression(net, task.id, f"{label}: splitting query", mi.query)
            if mi.variable is None:
                self.add(
                    net,
                    task.id,
                    f"{label}: a splitting query needs the input variable that receives each item",
                    "warning",
                )
        if mi.variable is not None:
            self.check_data_name(net, task.id, f"{label}: instance variable {mi.variable!r}", mi.variable)
        if mi.aggregate is not None:
            self.check_expression(net, task.id, f"{label}: aggregate query", mi.aggregate)
        if mi.to is not None:
            self.check_variable(net, task.id, f"{label}: aggregate target", mi.to)

    def check_cancels(self, net: Net, task: Task, kinds: dict[str, str], implicit: set[str]) -> None:
        for member, count in Counter(task.cancels).items():
            if count > 1:
                self.add(
                    net,
                    task.id,
                    f"task {task.id!r} names {member!r} {count} times in its cancellation set",
                    "warning",
                )
            condition_type = self.condition_types.get(member) if kinds.get(member) == "condition" else None
            if condition_type in ("input", "output"):
                self.add(
                    net, task.id,
                    f"task {task.id!r} cancels the {condition_type} condition {member!r}; "
                    "a cancellation set may not hold the net's input or output condition",
                )  # fmt: skip
            if member in kinds or member in implicit:
                continue
            where = self.node_elsewhere(net, member)
            self.add(
                net,
                task.id,
                f"task {task.id!r} cancels {member!r}, which is not a task or condition "
                "of this net" + (f" (it is in net {where})" if where else ""),
            )

    def check_expression(self, net: Net, node: str, what: str, text: str) -> None:
        try:
            compile_expression(text)
        except ExpressionError as exc:
            self.add(net, node, f"{what}: {exc}")

    def check_variable(self, net: Net, node: str, what: str, name: str) -> None:
        """A mapping target must be a declared variable (when the net declares any, or for YAWL) and
        an XML name."""
        if (net.variables or self.yawl) and name not in self.variable_names:
            self.add(net, node, f"{what} targets {name!r}, which is not a variable of this net")
        elif name not in self.variable_names and not is_ncname(name):  # a declared one is checked already
            self.add(net, node, f"{what} targets {name!r}, which is not {_NCNAME_HINT}")

    def check_data_name(self, net: Net, node: str | None, what: str, name: str, kind: str = "any") -> None:
        """A variable or parameter is named by an XML name and has a known type."""
        if not is_ncname(name):
            self.add(net, node, f"{what} is not {_NCNAME_HINT}")
        problem = type_problem(what, kind)
        if problem is not None:
            self.add(net, node, problem)


def _reachable(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for target in edges.get(stack.pop(), ()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen
