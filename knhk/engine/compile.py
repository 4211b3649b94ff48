"""Compiling a verified specification into an `Executor`, and the in-memory executor cache.

Per net, conditions (explicit ones, then the implicit `<from>__<to>` conditions of task-to-task
flows) are numbered 0..C-1 and tasks 0..T-1. Presets, postsets and cancellation sets become Python
int bitmasks, predicates and queries are compiled once, so the runtime never looks at the
specification model again.
"""

from __future__ import annotations

import copy
import hashlib
import json
import operator
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from elementpath.datatypes import UntypedAtomic

from knhk.engine.expressions import compile_expression
from knhk.engine.spec import Net, Specification, Task, implicit_condition_id
from knhk.engine.verify import Problem, errors_only, verify

if TYPE_CHECKING:
    from knhk.engine.runtime import Case

__all__ = [
    "SpecInvalid",
    "Executor",
    "Predicate",
    "CompiledNet",
    "CompiledTask",
    "CompiledMI",
    "compile_spec",
    "get_executor",
    "clear_executor_cache",
    "AND",
    "XOR",
    "OR",
]

AND, XOR, OR = 0, 1, 2
_CODES = {"and": AND, "xor": XOR, "or": OR}
CACHE_SIZE = 256


class SpecInvalid(ValueError):
    """The specification failed verification; `problems` holds the errors (and warnings)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = errors_only(problems)
        super().__init__("invalid specification: " + "; ".join(p.message for p in errors))


# ---------------------------------------------------------------------------- predicates

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip
_COMPARISON = re.compile(
    r"""^\s*(?:/(?P<root>[A-Za-z_][\w.-]*)/)?(?P<name>[A-Za-z_][\w.-]*)(?P<text>/text\(\))?"""
    r"""\s*(?P<op>!=|<=|>=|=|<|>)\s*"""
    r"""(?P<literal>-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|-?\.\d+(?:[eE][+-]?\d+)?|'(?:[^']|'')*'|"(?:[^"]|"")*"|true\(\)|false\(\))"""
    r"""\s*$"""
)
_MISSING = object()
# texts whose cast to the literal's type cannot fail (others, e.g. "nan" or "1_0", go to XPath)
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?").fullmatch
_BOOLEAN_TEXT = frozenset(("true", "false", "1", "0")).__contains__


def _castable(literal: Any) -> Callable[[str], Any] | None:
    """How to tell that a value's text casts to the literal's type without error (None: a string)."""
    if isinstance(literal, bool):
        return _BOOLEAN_TEXT
    return None if isinstance(literal, str) else _PLAIN_NUMBER


def _literal(text: str) -> Any:
    if text in ("true()", "false()"):
        return text == "true()"
    if text[0] in "'\"":
        return text[1:-1].replace(text[0] * 2, text[0])
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return float(text)


def _simple_checks(text: str) -> tuple[tuple[str, bool, Callable[[Any, Any], bool], Any, Any], ...] | None:
    """`name op literal` comparisons joined by `and` (names optionally `/Root/name[/text()]`), or None."""
    checks = []
    roots = set()
    for part in re.split(r"\s+and\s+", text.strip()):
        match = _COMPARISON.match(part)
        if match is None:
            return None
        if match["root"]:
            roots.add(match["root"])
        literal = _literal(match["literal"])
        checks.append(
            (match["name"], bool(match["text"]), _OPERATORS[match["op"]], literal, _castable(literal))
        )
    return tuple(checks) if len(roots) <= 1 else None


class Predicate:
    """A compiled flow predicate.

    Simple comparisons of a net variable with a literal (`amount > 1000`, `/Net/ok/text() = 'true'`,
    joined by `and`) are decided on the net data directly: the variable is rendered as the XML text
    `net_document` would give it and compared as an xs:untypedAtomic with elementpath's own type, which
    is what the XPath general comparison does. Anything else (and any list or object value) is
    evaluated as XPath, and so is a comparison that raises (e.g. 'abc' = 1), so that XPath decides
    whether it is an error (ExpressionError, which fails the work item) or merely false.
    """

    __slots__ = ("expression", "checks")

    def __init__(self, text: str) -> None:
        self.expression = compile_expression(text)
        self.checks = _simple_checks(text) if self.expression.constant is None else None

    def holds(self, data: dict[str, Any], document: Callable[[], Any]) -> bool:
        """The predicate's truth over net data (`document()` gives the XML document when needed);
        ExpressionError if it fails to evaluate."""
        checks = self.checks
        if checks is not None:
            verdict = True
            for name, text_only, compare, literal, castable in checks:
                value = data.get(name, _MISSING)
                if value is _MISSING:
                    verdict = False
                    continue
                if isinstance(value, dict | list):
                    break  # nested or repeated elements: XPath decides
                if isinstance(value, bool):
                    text = "true" if value else "false"
                else:
                    text = "" if value is None else str(value)
                if not text and text_only:
                    verdict = False  # no text node: an empty sequence compares false
                    continue
                if castable is not None and not castable(text):
                    break  # XPath says whether this is an error or false
                try:
                    if not compare(UntypedAtomic(text), literal):
                        verdict = False
                except (ValueError, TypeError, ArithmeticError):
                    break  # XPath says whether this is an error or false
            else:
                return verdict
        expression = self.expression
        if expression.constant is not None:
            return expression.constant
        return expression.test(document())


class CompiledMI:
    """Multiple-instance attributes with compiled queries."""

    __slots__ = ("min", "max", "threshold", "dynamic", "query", "variable", "aggregate", "to")

    def __init__(self, task: Task) -> None:
        mi = task.multi_instance
        assert mi is not None
        self.min = mi.min
        self.max = mi.max
        self.threshold = mi.threshold
        self.dynamic = mi.creation == "dynamic"
        self.query = compile_expression(mi.query) if mi.query else None
        self.variable = mi.variable
        self.aggregate = compile_expression(mi.aggregate) if mi.aggregate else None
        self.to = mi.to


class CompiledTask:
    """A task with integer presets/postsets; `postset` is (condition index, predicate, is_default)."""

    __slots__ = (
        "index", "id", "spec", "join", "split", "preset", "preset_mask", "postset", "postset_mask",
        "cancel_mask", "cancel_tasks", "has_cancel", "mi", "subnet", "kind", "item_kind", "routing",
        "roles", "timer", "inputs", "outputs", "output_types", "required_outputs", "mappings", "rivals", "plain",
        "postset_conditions", "consumes_preset", "exit_targets", "single_preset", "single_postset",
    )  # fmt: skip

    def __init__(self, index: int, task: Task) -> None:
        self.index = index
        self.id = task.id
        self.spec = task
        self.join = _CODES[task.join]
        self.split = _CODES[task.split]
        self.preset: tuple[int, ...] = ()
        self.preset_mask = 0
        self.postset: tuple[tuple[int, Predicate | None, bool], ...] = ()
        self.postset_mask = 0
        self.postset_conditions: tuple[int, ...] = ()
        self.cancel_mask = 0
        self.cancel_tasks: tuple[int, ...] = ()
        self.has_cancel = False
        self.mi = CompiledMI(task) if task.multi_instance else None
        self.subnet = task.subnet
        self.kind = task.kind
        self.routing = task.kind == "routing"
        self.item_kind = "mi" if self.mi else task.kind
        self.roles = task.roles
        self.timer = None
        if task.timer is not None:
            self.timer = {"trigger": task.timer.trigger}
            if task.timer.duration is not None:
                self.timer["duration"] = task.timer.duration
            if task.timer.expiry is not None:
                self.timer["expiry"] = task.timer.expiry
            if task.timer.variable is not None:  # trigger and expiry read from the variable at run time
                self.timer = {"variable": task.timer.variable}
        # (name, compiled query or None, type) | None = the whole net data
        self.inputs = (
            None
            if task.inputs is None
            else tuple(
                (p.name, compile_expression(p.query) if p.query else None, p.type) for p in task.inputs
            )
        )
        self.outputs = None if task.outputs is None else tuple(p.name for p in task.outputs)
        # completion data is checked against these (None: no outputs declared, anything goes)
        self.output_types = None if task.outputs is None else {p.name: p.type for p in task.outputs}
        self.required_outputs = tuple(p.name for p in task.outputs or () if p.required)
        # None: outputs merged by name; (): nothing flows back into the net
        self.mappings = (
            None
            if task.output_mappings is None
            else tuple((compile_expression(m.query), m.to) for m in task.output_mappings)
        )
        self.rivals: tuple[int, ...] = ()  # other tasks sharing a preset condition (deferred choice)
        self.consumes_preset = False  # firing takes a token from every preset condition (AND, or one)
        self.single_preset: int | None = None  # the preset condition, when there is exactly one
        self.single_postset: int | None = None  # the postset condition, when there is exactly one
        self.plain = False  # eligible for the runtime's fast path (set by CompiledNet)
        # the fast path's plan when the split always marks the same conditions (AND, or one flow
        # without predicate): the `Target`s of those conditions, in order (None: the split chooses)
        self.exit_targets: tuple[Target, ...] | None = None


# What a token put into a condition can enable, decided at compile time for the runtime's fast path:
# (index, task, and_join, direct) per task the condition feeds. `and_join`: an AND-join this one token
# may not satisfy (check its preset); `direct`: a plain task seeing the whole net data, which the
# runtime enables inline.
Target = tuple[int, CompiledTask, bool, bool]


class CompiledNet:
    """A net with integer-indexed conditions and tasks."""

    __slots__ = (
        "id", "spec", "condition_ids", "condition_index", "tasks", "task_index", "input", "output",
        "feeds", "orjoins", "variables", "variable_types", "declares_variables", "input_variables",
        "reach_cache", "bits", "targets",
    )  # fmt: skip

    def __init__(self, net: Net) -> None:
        self.id = net.id
        self.spec = net
        self.condition_ids: list[str] = [c.id for c in net.conditions]
        task_ids = {t.id for t in net.tasks}
        for task in net.tasks:
            for flow in task.flows:
                if flow.to in task_ids:
                    self.condition_ids.append(implicit_condition_id(task.id, flow.to))
        self.condition_index = {cid: i for i, cid in enumerate(self.condition_ids)}
        self.bits = tuple(1 << i for i in range(len(self.condition_ids)))  # condition index -> its bit
        self.tasks = [CompiledTask(i, t) for i, t in enumerate(net.tasks)]
        self.task_index = {t.id: t.index for t in self.tasks}
        self.input = next(self.condition_index[c.id] for c in net.conditions if c.type == "input")
        self.output = next(self.condition_index[c.id] for c in net.conditions if c.type == "output")
        self.variables = {v.name: v.initial for v in net.variables}
        self.variable_types = {v.name: v.type for v in net.variables}
        self.declares_variables = bool(net.variables)
        self.input_variables = frozenset(v.name for v in net.variables if v.usage in ("input", "both"))
        self.reach_cache: dict[tuple, bool] = {}  # orjoin.can_reach answers by (task, marking, busy)
        self._link(net)

    def _link(self, net: Net) -> None:
        presets: list[list[int]] = [[] for _ in self.tasks]
        for condition in net.conditions:
            source = self.condition_index[condition.id]
            for flow in condition.flows:
                presets[self.task_index[flow.to]].append(source)
        for ctask in self.tasks:
            postset = []
            flows = sorted(
                enumerate(ctask.spec.flows),
                key=lambda pair: (pair[1].default, pair[1].ordering is None, pair[1].ordering or 0, pair[0]),
            )
            for _, flow in flows:
                if flow.to in self.task_index:
                    target = self.condition_index[implicit_condition_id(ctask.id, flow.to)]
                    presets[self.task_index[flow.to]].append(target)
                else:
                    target = self.condition_index[flow.to]
                is_default = flow.default or (ctask.split != AND and len(ctask.spec.flows) == 1)
                predicate = None
                # an OR-split evaluates an explicit predicate on its default flow (true(): always taken);
                # no predicate there means "only when no other flow was taken"; XOR ignores it
                evaluated = ctask.split == OR or (ctask.split == XOR and not is_default)
                if flow.predicate is not None and evaluated:
                    predicate = Predicate(flow.predicate)
                    if predicate.expression.constant is True and not is_default:
                        predicate = None
                postset.append((target, predicate, is_default))
            ctask.postset = tuple(postset)
            ctask.postset_conditions = tuple(target for target, _, _ in postset)
            ctask.postset_mask = _mask(ctask.postset_conditions)
        self.feeds: list[list[int]] = [[] for _ in self.condition_ids]
        for ctask, preset in zip(self.tasks, presets, strict=True):
            ctask.preset = tuple(sorted(preset))
            ctask.preset_mask = _mask(preset)
            ctask.consumes_preset = ctask.join == AND or len(ctask.preset) == 1
            for condition in ctask.preset:
                self.feeds[condition].append(ctask.index)
        for ctask in self.tasks:
            cancel_tasks = []
            cancel_mask = 0
            for member in ctask.spec.cancels:
                if member in self.task_index:
                    member_task = self.tasks[self.task_index[member]]
                    cancel_tasks.append(member_task.index)
                    # tokens on a flow into a cancelled task exist only to enable it: remove them too
                    for condition in member_task.preset:
                        if condition >= len(net.conditions):
                            cancel_mask |= 1 << condition
                else:
                    cancel_mask |= 1 << self.condition_index[member]
            ctask.cancel_tasks = tuple(cancel_tasks)
            ctask.cancel_mask = cancel_mask
            ctask.has_cancel = bool(cancel_tasks or cancel_mask)
        self.orjoins = tuple(t.index for t in self.tasks if t.join == OR)
        for ctask in self.tasks:
            rivals = {other for condition in ctask.preset for other in self.feeds[condition]}
            rivals.discard(ctask.index)
            ctask.rivals = tuple(sorted(rivals))
            # a task whose start and completion need nothing but tokens, flat data and the split
            ctask.plain = not (
                self.orjoins or ctask.mi or ctask.subnet or ctask.timer or ctask.routing or ctask.has_cancel
                or ctask.mappings is not None or ctask.required_outputs
            )  # fmt: skip
            ctask.single_preset = ctask.preset[0] if len(ctask.preset) == 1 else None
            ctask.single_postset = ctask.postset_conditions[0] if len(ctask.postset_conditions) == 1 else None
        self.targets = tuple(self._targets(condition) for condition in range(len(self.condition_ids)))
        for ctask in self.tasks:
            if ctask.split == AND or (len(ctask.postset) == 1 and ctask.postset[0][1] is None):
                ctask.exit_targets = tuple(t for c in ctask.postset_conditions for t in self.targets[c])

    def _targets(self, condition: int) -> tuple[Target, ...]:
        targets = []
        for index in self.feeds[condition]:
            other = self.tasks[index]
            and_join = other.join == AND and other.preset_mask != 1 << condition
            targets.append((index, other, and_join, other.plain and other.inputs is None))
        return tuple(targets)

    def initial_data(self) -> dict[str, Any]:
        """A fresh copy of the variables' initial values."""
        return {name: copy.deepcopy(value) for name, value in self.variables.items()}


def _mask(indices: Any) -> int:
    mask = 0
    for index in indices:
        mask |= 1 << index
    return mask


class Executor:
    """A compiled specification: starts and restores cases."""

    __slots__ = ("spec", "version", "content_hash", "nets", "root", "problems")

    def __init__(
        self, spec: Specification, version: Any = None, problems: list[Problem] | None = None
    ) -> None:
        self.spec = spec
        self.version = version
        self.content_hash = spec.content_hash()
        self.problems = problems or []  # the warnings verification found
        self.nets = {net.id: CompiledNet(net) for net in spec.nets}
        self.root = self.nets[spec.root.id]

    def start_case(self, case_id: str, data: dict[str, Any] | None = None) -> Case:
        """A new case with its root net started and its first work items enabled."""
        from knhk.engine.runtime import Case

        return Case.start_new(self, case_id, data)

    def restore(self, state: dict[str, Any], root_data: dict[str, Any] | None = None) -> Case:
        """The case a `Case.to_state()` dict describes (exact round trip); `root_data` puts back the
        root net's data of a state saved with `to_state(root_data=False)`."""
        from knhk.engine.state import restore

        return restore(self, state, root_data)


def compile_spec(spec: Specification | dict[str, Any], version: Any = None) -> Executor:
    """Parse (if needed), verify and compile; raises SpecError or SpecInvalid."""
    if not isinstance(spec, Specification):
        spec = Specification.from_dict(spec)
    problems = verify(spec)
    if errors_only(problems):
        raise SpecInvalid(problems)
    return Executor(spec, version, problems)


_cache: OrderedDict[tuple[str, Any, str], Executor] = OrderedDict()
_cache_lock = threading.Lock()


def _cache_key(spec: Specification | dict[str, Any], version: Any, content_hash: str | None) -> tuple:
    if isinstance(spec, Specification):
        return (spec.id, version, content_hash or spec.content_hash())
    if content_hash is None:
        # hash of the raw document: cheap, and equal documents always share it
        raw = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        content_hash = "raw:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()
    return (spec.get("id") if isinstance(spec, dict) else None, version, content_hash)


def get_executor(
    spec: Specification | dict[str, Any], version: Any = None, content_hash: str | None = None
) -> Executor:
    """The cached executor for (spec id, version, content hash); compiles on a miss.

    Pass `content_hash` (the `Executor.content_hash` stored with the workflow) to skip hashing.
    """
    try:
        key = _cache_key(spec, version, content_hash)
    except (ValueError, TypeError):  # not JSON text (a lone surrogate, a huge int): parsing says why
        return compile_spec(spec, version)
    with _cache_lock:
        executor = _cache.get(key)
        if executor is not None:
            _cache.move_to_end(key)
            return executor
    executor = compile_spec(spec, version)
    with _cache_lock:
        _cache[key] = executor
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return executor


def clear_executor_cache() -> None:
    """Forget every cached executor (tests)."""
    with _cache_lock:
        _cache.clear()
