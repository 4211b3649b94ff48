"""The token game: a case's net instances, markings and work items (YAWL semantics).

A task is enabled when its join is satisfied (AND: every preset condition marked; XOR: one; OR: one
and no token can still reach an empty preset condition, see `orjoin`). A task has at most one live
work item per net instance. Starting a work item fires the task (tokens are consumed); completing
it merges its output into the net data, applies the cancellation set and then lets the split emit.
Routing tasks fire by themselves. A token in a net's output condition completes the net.
"""

from __future__ import annotations

import copy
from collections import deque
from typing import TYPE_CHECKING, Any, NamedTuple
from xml.etree.ElementTree import Element

from knhk.engine.compile import AND, XOR, CompiledNet, CompiledTask
from knhk.engine.expressions import ExpressionError, net_document
from knhk.engine.orjoin import orjoin_enabled
from knhk.engine.spec import DATETIME_PATTERN, DURATION_PATTERN, TIMER_TRIGGERS, YAWL_TIMER_TRIGGERS
from knhk.engine.types import fields_problem, simple_kind, value_problem

if TYPE_CHECKING:
    from knhk.engine.compile import Executor

__all__ = ["Case", "WorkItem", "Event", "EngineError", "NetInstance"]

ENABLED = "enabled"  # start() and complete() spell these three as literals: a constant is cheaper
STARTED = "started"  # to load than a global on the hot path
RUNNING = "running"
CASE_STATUSES = (RUNNING, "suspended", "completed", "cancelled", "deadlocked", "failed")
ROUTING_LOOP_LIMIT = 100_000  # routing firings per call: more means a loop of routing tasks only
MAX_MI_INSTANCES = 10_000  # instances of one multiple-instance task: a bound on memory and time per case
MAX_NET_DEPTH = 100  # subnets inside subnets (WCP-22 recursion): completing them recurses in Python
_END_STATES = {"item_failed": "failed", "item_cancelled": "cancelled"}  # else "withdrawn"


class EngineError(Exception):
    """Misuse of a case: `code` is conflict, not_found or invalid; `message` says what and why."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


class Event(NamedTuple):
    """Something that happened in a case (see docs/architecture.md for the kinds)."""

    kind: str
    item_id: str | None
    task_id: str | None
    net_id: str | None
    payload: dict[str, Any] | None = None


_as_event = Event._make
_new_object = object.__new__
_IDS: list[str] = []


_IDS_CACHED = 1_000_000


def _item_id(number: int) -> str:
    """str(number), from a cache of the first million (work item ids are made on the hot path)."""
    try:
        return _IDS[number]
    except IndexError:
        if number >= _IDS_CACHED:
            return str(number)
        _IDS.extend(str(n) for n in range(len(_IDS), min(number + 4096, _IDS_CACHED)))
        return _IDS[number]


# Helpers of the fast paths: a comprehension inside start() or complete() would turn the variables
# it reads into cells, which every call then pays for.
def _first_marked(instance: NetInstance, preset: tuple[int, ...]) -> tuple[int]:
    """The first marked condition of a XOR-join's preset, as a 1-tuple."""
    mask = instance.mask
    return next((c,) for c in preset if mask >> c & 1)


def _declared(data: dict[str, Any], outputs: tuple[str, ...]) -> dict[str, Any]:
    """The declared outputs present in the completion data."""
    return {name: data[name] for name in outputs if name in data}


def _targets_of(net: CompiledNet, produced: Any) -> list[Any]:
    """The targets of the conditions a choosing split marked, in order."""
    net_targets = net.targets
    return [target for condition in produced for target in net_targets[condition]]


def _check_output(item: WorkItem, data: dict[str, Any]) -> None:
    """Completion data must name only declared outputs, each of its declared type. A task without
    declared outputs or mappings merges its whole completion data into the net by name: a field
    naming a declared net variable must then be of that variable's type (as case start data must)."""
    ctask = item.ctask
    if ctask.output_types is not None:
        problem = fields_problem(data, ctask.output_types, "output")
    elif ctask.mappings is not None or (item.parent is not None and ctask.mi is not None and ctask.mi.to is not None):
        return  # mappings (typed by the query) or an MI instance's output collected in a list
    else:
        types = item.instance.net.variable_types
        problem = None
        for name, value in data.items():
            if name in types:
                problem = value_problem(f"variable {name!r}", types[name], value)
                if problem is not None:
                    break
    if problem is not None:
        raise EngineError("invalid", f"work item {item.id} (task {item.task!r}): {problem}")


def _check_instance_data(item: WorkItem, data: Any) -> None:
    """An added MI instance's data: the item of the instance variable (of that input's type), or
    with no variable an object of the task's declared inputs (when it declares inputs)."""
    mi = item.ctask.mi
    assert mi is not None
    input_types = None if item.ctask.inputs is None else {name: type_ for name, _, type_ in item.ctask.inputs}
    if mi.variable is not None:
        problem = None if data is None else value_problem(f"instance variable {mi.variable!r}", (input_types or {}).get(mi.variable), data)
    elif data is not None and not isinstance(data, dict):
        problem = "instance data must be a JSON object (the task names no instance variable)"
    else:
        problem = None if data is None or input_types is None else fields_problem(data, input_types, "input")
    if problem is not None:
        raise EngineError("invalid", f"work item {item.id} (task {item.task!r}): {problem}")


_VARIABLE_TRIGGERS = {**YAWL_TIMER_TRIGGERS, **{trigger: trigger for trigger in TIMER_TRIGGERS}}


def _resolved_timer(item: WorkItem) -> dict[str, Any]:
    """The item's timer: the task's, or for a `variable` timer (YAWL netparam) the trigger and expiry
    the net variable holds now ({"trigger": "OnEnabled", "expiry": "P3D" or a date-time}). A value
    that is not a timer gives {"trigger": ..., "variable": ..., "invalid": why}: set, never firing."""
    timer = item.ctask.timer or {}
    variable = timer.get("variable")
    if variable is None:
        return dict(timer)
    value = item.instance.data.get(variable)
    if not isinstance(value, dict):
        return {"trigger": "enabled", "variable": variable, "invalid": f"variable {variable!r} holds no timer"}
    trigger = _VARIABLE_TRIGGERS.get(str(value.get("trigger") or "OnEnabled"), "enabled")
    expiry = str(value.get("expiry") or value.get("duration") or "")
    if DURATION_PATTERN.match(expiry):
        return {"trigger": trigger, "duration": expiry, "variable": variable}
    if DATETIME_PATTERN.match(expiry):
        return {"trigger": trigger, "expiry": expiry, "variable": variable}
    return {"trigger": trigger, "variable": variable, "invalid": f"variable {variable!r}: {expiry!r} is no duration or date-time"}


class WorkItem:
    """A live work item. Public: id, task, net, state, kind, roles, data, parent, timer.

    No __slots__: the fields only MI parents, instances and composite items use are class-level
    defaults, and task, net and roles are read from the compiled task and net instance, so creating
    the common item sets seven attributes, not seventeen (the hot path).
    """

    parent: str | None = None  # MI instance: the MI parent's id
    timer: dict[str, Any] | None = None
    children: dict[str, WorkItem] | None = None  # MI parent: live instances
    outputs: list[Any] | None = None  # MI parent: outputs of completed instances
    created = 0  # MI parent: instances created
    completed = 0  # MI parent: instances completed
    subnet: NetInstance | None = None  # composite: the running subnet
    failure: str | None = None  # its input query failed when it was enabled: it fails in _settle

    def __init__(
        self, item_id: str, instance: NetInstance, ctask: CompiledTask, data: dict, kind: str | None = None
    ) -> None:
        self.id = item_id
        self.state = ENABLED
        self.kind = ctask.item_kind if kind is None else kind
        self.data = data
        self.instance = instance
        self.ctask = ctask
        self.data_version = instance.data_version

    @property
    def task(self) -> str:
        """The task's id."""
        return self.ctask.id

    @property
    def net(self) -> str:
        """The id of the net the task is in."""
        return self.instance.net.id

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles that may work on it (the task's)."""
        return self.ctask.roles

    def as_dict(self) -> dict[str, Any]:
        """The public fields as a JSON-friendly dict."""
        return {
            "id": self.id, "task": self.task, "net": self.net, "state": self.state, "kind": self.kind,
            "roles": list(self.roles), "data": self.data, "parent": self.parent, "timer": self.timer,
        }  # fmt: skip

    def __repr__(self) -> str:
        return f"WorkItem({self.id!r}, task={self.task!r}, state={self.state!r}, kind={self.kind!r})"


class NetInstance:
    """One running instance of a net: marking (counts + bitmask of marked conditions), items, data."""

    __slots__ = ("id", "net", "marking", "mask", "items", "data", "data_version", "parent", "live", "_doc")

    def __init__(self, instance_id: str, net: CompiledNet, data: dict, parent: WorkItem | None) -> None:
        self.id = instance_id
        self.net = net
        self.marking = [0] * len(net.condition_ids)
        self.mask = 0
        self.items: list[WorkItem | None] = [None] * len(net.tasks)  # per task: its live item
        self.data = data
        self.data_version = 0
        self.parent = parent  # the composite work item running this instance (None: root net)
        self.live = True
        self._doc: Element | None = None

    def document(self) -> Element:
        """The net data as the XML document expressions see (cached until the data changes)."""
        if self._doc is None:
            self._doc = net_document(self.net.id, self.data)
        return self._doc

    def data_changed(self) -> None:
        self.data_version += 1
        self._doc = None

    def produce(self, condition: int) -> None:
        self.marking[condition] += 1
        self.mask |= 1 << condition

    def consume(self, condition: int) -> None:
        count = self.marking[condition] - 1
        self.marking[condition] = count
        if not count:
            self.mask &= ~(1 << condition)

    def join_satisfied(self, ctask: CompiledTask) -> bool:
        preset = ctask.preset_mask
        marked = self.mask & preset
        if ctask.join == AND:
            return marked == preset
        if not marked:
            return False
        return ctask.join == XOR or orjoin_enabled(self, ctask.index)


def start_data(net: CompiledNet, data: dict[str, Any] | None) -> dict[str, Any]:
    """The root net's data for a new case: the variables' initial values, overridden by `data`;
    EngineError(invalid) if `data` is no object, names a variable that is not an input variable
    (when the net declares variables) or gives one a value of the wrong type."""
    initial = net.initial_data()
    if data is not None and not isinstance(data, dict):
        raise EngineError("invalid", "case data must be a JSON object")
    for name, value in (data or {}).items():
        if net.declares_variables and name not in net.variables:
            raise EngineError("invalid", f"net {net.id}: case data names {name!r}, which is not a variable")
        if net.declares_variables and name not in net.input_variables:
            raise EngineError(
                "invalid", f"net {net.id}: variable {name!r} is not an input variable (usage input or both)"
            )
        if net.declares_variables:
            problem = value_problem(f"variable {name!r}", net.variable_types[name], value)
            if problem is not None:
                raise EngineError("invalid", f"net {net.id}: case data: {problem}")
        initial[name] = value
    return initial


class Case:
    """A running case of an executor (public API in docs/architecture.md)."""

    __slots__ = ("executor", "id", "status", "items", "root", "events", "counter", "net_counter", "agenda")

    def __init__(self, executor: Executor, case_id: str) -> None:
        self.executor = executor
        self.id = case_id
        self.status = RUNNING
        self.items: dict[str, WorkItem] = {}
        self.root: NetInstance | None = None
        self.events: list[tuple] = []  # (kind, item_id, task_id, net_id, payload): plain tuples, cheap
        self.counter = 0  # work item ids
        self.net_counter = 0  # net instance ids
        self.agenda: deque[WorkItem] = deque()  # enabled routing items waiting to fire

    # ------------------------------------------------------------------ public API
    @classmethod
    def start_new(cls, executor: Executor, case_id: str, data: dict[str, Any] | None = None) -> Case:
        """A case with its root net started (see `Executor.start_case`)."""
        initial = start_data(executor.root, data)
        case = cls(executor, case_id)
        case.root = case._start_net(executor.root, initial, None)
        case._settle()
        return case

    @property
    def data(self) -> dict[str, Any]:
        """The root net's data."""
        assert self.root is not None
        return self.root.data

    def marking(self) -> dict[str, int]:
        """Tokens per condition, {"net:condition": count}, over all live net instances."""
        result: dict[str, int] = {}
        for instance in self._instances():
            ids = instance.net.condition_ids
            for index, count in enumerate(instance.marking):
                if count:
                    key = f"{instance.net.id}:{ids[index]}"
                    result[key] = result.get(key, 0) + count
        return result

    def drain_events(self) -> list[Event]:
        """The events since the last drain (and forget them), as `Event`s."""
        return list(map(_as_event, self.drain_event_tuples()))

    def drain_event_tuples(self) -> list[tuple]:
        """The events since the last drain (and forget them), as the plain tuples the engine keeps,
        `(kind, item_id, task_id, net_id, payload)`: for callers that do not need named fields."""
        events = self.events
        self.events = []
        return events

    def enabled_items(self) -> list[WorkItem]:
        """Live items in state enabled, in creation order."""
        return [item for item in self.items.values() if item.state == ENABLED]

    def start(self, item_id: str) -> WorkItem:
        """Start an enabled work item (fires its task); returns it."""
        item = self.items.get(item_id)
        if item is None or item.state != "enabled" or self.status != "running" or not (ctask := item.ctask).plain:
            return self._start_general(item_id)
        # fast path (see CompiledTask.plain): the general path's steps, inlined
        instance = item.instance
        if instance.data_version != item.data_version and not self._refresh_input(item):
            self._settle()
            return item
        item.state = "started"
        marking = instance.marking
        condition = ctask.single_preset
        if condition is not None:
            count = marking[condition] = marking[condition] - 1
            if not count:
                instance.mask ^= ctask.preset_mask  # (that condition's bit, which is set): clear it
        else:
            consumed = ctask.preset if ctask.consumes_preset else _first_marked(instance, ctask.preset)
            bits = instance.net.bits
            for condition in consumed:
                count = marking[condition] = marking[condition] - 1
                if not count:
                    instance.mask ^= bits[condition]  # the bit is set: clear it
        if ctask.rivals:
            self._update(instance, ctask.rivals)
        self.events.append(("item_started", item_id, ctask.id, instance.net.id, None))
        return item

    def _start_general(self, item_id: str) -> WorkItem:
        self._require_running()
        item = self._item(item_id)
        if item.state != ENABLED:
            raise EngineError("conflict", f"work item {item_id} is already started")
        self._start_item(item)
        self._settle()
        return item

    def complete(self, item_id: str, data: dict[str, Any] | None = None) -> None:
        """Complete a started work item with its output data; the case advances."""
        item = self.items.get(item_id)
        if (
            item is None
            or item.state != "started"
            or self.status != "running"
            or not (ctask := item.ctask).plain  # (an MI instance's task is never plain)
            or (data is not None and type(data) is not dict)
        ):
            self._complete_general(item_id, data)
            return
        # fast path (see CompiledTask.plain): the general path's steps, inlined
        instance = item.instance
        net = instance.net
        changes = None
        if data:
            _check_output(item, data)
            outputs = ctask.outputs
            changes = data if outputs is None else _declared(data, outputs)
        targets = ctask.exit_targets
        marking = instance.marking
        if targets is None:  # the split chooses
            try:
                produced = self._choose(instance, ctask, changes)
            except ExpressionError as exc:
                self._fail(item, str(exc))
                self._settle()
                return
            targets = _targets_of(net, produced)
            bits = net.bits
            mask = instance.mask
            for condition in produced:
                marking[condition] += 1
                mask |= bits[condition]
        else:
            condition = ctask.single_postset
            if condition is not None:
                marking[condition] += 1
            else:
                for condition in ctask.postset_conditions:
                    marking[condition] += 1
            mask = instance.mask | ctask.postset_mask
        instance.mask = mask
        if changes:
            instance.data.update(changes)
            instance.data_changed()
        items = instance.items
        items[ctask.index] = None
        del self.items[item_id]
        item.state = "completed"
        events = self.events
        events.append(("item_completed", item_id, ctask.id, net.id, None))
        if marking[net.output]:
            self._net_completed(instance)
            self._settle()
            return
        enabled_before = self.counter
        inline = True  # only inline enabling: no routing task waits on the agenda
        # first the task itself, as the general path does: is its preset still marked (a token came
        # while it ran, or a loop brought one back)?
        again = ctask.single_preset
        if marking[again] if again is not None else mask & ctask.preset_mask:
            self._recheck(instance, ctask, None)
            inline = False
        for index, other, and_join, direct in targets:
            if items[index] is not None or (and_join and mask & other.preset_mask != other.preset_mask):
                continue
            if not direct:
                self._enable(instance, other)
                inline = False
                continue
            # _enable's steps for a plain task that sees the whole net data, inlined
            counter = self.counter + 1
            self.counter = counter
            try:
                new_id = _IDS[counter]
            except IndexError:
                new_id = _item_id(counter)
            # WorkItem.__init__'s stores without its call (~80 ns of a ~1.6 us task);
            # test_runtime_properties.py::test_fast_path_and_general_path_run_alike* compare them
            new = _new_object(WorkItem)
            new.id = new_id
            new.state = "enabled"
            new.kind = other.item_kind
            new.data = instance.data.copy()
            new.instance = instance
            new.ctask = other
            new.data_version = instance.data_version
            items[index] = self.items[new_id] = new
            events.append(("item_enabled", new_id, other.id, net.id, None))
        if inline and self.counter != enabled_before:
            return
        if self.agenda:  # routing tasks to fire
            self._settle()
        elif self.counter == enabled_before:  # nothing new: is anything left that can move?
            for other in self.items.values():
                if other.state == ENABLED or (other.subnet is None and other.children is None):
                    break
            else:
                self._settle()

    def _complete_general(self, item_id: str, data: dict[str, Any] | None) -> None:
        self._require_running()
        item = self._item(item_id)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise EngineError("invalid", f"work item {item_id}: output data must be a JSON object")
        if item.state != STARTED:
            raise EngineError("conflict", f"work item {item_id} is not started")
        if item.kind == "composite" or item.children is not None:
            raise EngineError(
                "conflict",
                f"work item {item_id} ({item.kind}) completes by itself when its "
                + ("subnet completes" if item.kind == "composite" else "instances complete"),
            )
        missing = [name for name in item.ctask.required_outputs if name not in data]
        if missing:
            raise EngineError(
                "invalid", f"work item {item_id}: required output missing: {', '.join(missing)}"
            )
        if data:
            _check_output(item, data)
        self._complete_item(item, data)
        self._settle()

    def cancel_item(self, item_id: str) -> None:
        """Cancel a live work item explicitly (its task does not emit tokens)."""
        self._require_running()
        self._drop(self._item(item_id), "item_cancelled", None)
        self._settle()

    def fail(self, item_id: str, reason: str = "") -> None:
        """A work item failed: it is removed; the case runs on (deadlocked if nothing else can move)."""
        self._require_running()
        self._drop(self._item(item_id), "item_failed", {"reason": str(reason)})
        self._settle()

    def add_instance(self, item_id: str, data: Any = None) -> WorkItem:
        """Dynamic MI: add one instance to a started MI work item; returns the new instance."""
        self._require_running()
        item = self._item(item_id)
        mi = item.ctask.mi
        if item.kind != "mi" or mi is None or item.parent is not None:
            raise EngineError("conflict", f"work item {item_id} is not a multiple-instance task")
        if item.state != STARTED or item.children is None:
            raise EngineError("conflict", f"work item {item_id} is not started")
        if not mi.dynamic:
            raise EngineError("conflict", f"task {item.task!r} creates its instances statically")
        if mi.max is not None and item.created >= mi.max:
            raise EngineError("conflict", f"task {item.task!r} already has its maximum of {mi.max} instances")
        if item.created >= MAX_MI_INSTANCES:
            raise EngineError("conflict", f"task {item.task!r} already has the engine's limit of "
                                          f"{MAX_MI_INSTANCES} instances")
        _check_instance_data(item, data)
        child = self._add_child(item, data)
        self._settle()
        return child

    def timer_expired(self, item_id: str) -> None:
        """A work item's timer fired: the item completes with its current data.

        Ignored if the item is gone or the case has ended; EngineError(conflict) while suspended.
        """
        if self.status == "suspended":
            raise EngineError("conflict", f"case {self.id} is suspended: fire the timer after resume()")
        item = self.items.get(item_id)
        if item is None or self.status != RUNNING:
            return
        if item.state == ENABLED:
            self._start_item(item)
            if item.id not in self.items:
                self._settle()
                return
        self._force_complete(item)
        self._settle()

    def cancel(self) -> None:
        """Cancel the whole case: every live work item is withdrawn."""
        if self.status in ("completed", "cancelled"):
            raise EngineError("conflict", f"case {self.id} is already {self.status}")
        assert self.root is not None
        self._end_net(self.root)
        self.status = "cancelled"
        self.events.append(("case_cancelled", None, None, self.root.net.id, None))

    def suspend(self) -> None:
        """Suspend: work items can be neither started nor completed until resume()."""
        if self.status != RUNNING:
            raise EngineError("conflict", f"case {self.id} is {self.status}, not running")
        self.status = "suspended"
        self.events.append(("case_suspended", None, None, None, None))

    def resume(self) -> None:
        """Resume a suspended case."""
        if self.status != "suspended":
            raise EngineError("conflict", f"case {self.id} is {self.status}, not suspended")
        self.status = RUNNING
        self.events.append(("case_resumed", None, None, None, None))

    def to_state(self, root_data: bool = True) -> dict[str, Any]:
        """Compact JSON-ready state (see `state.to_state`; `root_data=False` leaves `data` out)."""
        from knhk.engine.state import to_state

        return to_state(self, root_data)

    # ------------------------------------------------------------------ checks
    def _require_running(self) -> None:
        if self.status != RUNNING:
            raise EngineError("conflict", f"case {self.id} is {self.status}")

    def _item(self, item_id: str) -> WorkItem:
        item = self.items.get(item_id)
        if item is None:
            raise EngineError("not_found", f"no live work item {item_id!r} in case {self.id}")
        return item

    def _instances(self) -> list[NetInstance]:
        if self.root is None or not self.root.live:
            return []
        found = [self.root]
        for item in self.items.values():
            if item.subnet is not None and item.subnet.live:
                found.append(item.subnet)
        return found

    # ------------------------------------------------------------------ nets
    def _start_net(self, net: CompiledNet, data: dict, parent: WorkItem | None) -> NetInstance:
        self.net_counter += 1
        instance = NetInstance(str(self.net_counter), net, data, parent)
        self.events.append(
            ("net_started", parent.id if parent else None, parent.task if parent else None, net.id,
             {"instance": instance.id})
        )  # fmt: skip
        instance.produce(net.input)
        self._update(instance, net.feeds[net.input])
        return instance

    def _end_net(self, instance: NetInstance) -> None:
        """Withdraw what is live in a net instance and remove its tokens."""
        for item in filter(None, instance.items):  # the live ones (a WorkItem is always true)
            self._withdraw(item, "item_withdrawn")
        instance.marking = [0] * len(instance.marking)
        instance.mask = 0
        instance.live = False

    def _net_completed(self, instance: NetInstance) -> None:
        self._end_net(instance)
        net_id = instance.net.id
        parent = instance.parent
        self.events.append(
            ("net_completed", parent.id if parent else None, parent.task if parent else None, net_id,
             {"instance": instance.id})
        )  # fmt: skip
        if parent is None:
            self.status = "completed"
            self.events.append(("case_completed", None, None, net_id, None))
            return
        parent.subnet = None
        output = instance.data
        if parent.ctask.outputs is not None and parent.ctask.mappings is None:
            output = {name: output[name] for name in parent.ctask.outputs if name in output}
        if parent.parent is not None:
            self._child_completed(parent, output)
        else:
            self._complete_item(parent, output)

    # ------------------------------------------------------------------ enabling
    def _update(self, instance: NetInstance, tasks: Any) -> None:
        """Re-check enabling of these tasks (and of every OR-join of the net)."""
        if not instance.live:
            return
        ctasks = instance.net.tasks
        items = instance.items
        for index in tasks:
            self._recheck(instance, ctasks[index], items[index])
        for index in instance.net.orjoins:
            self._recheck(instance, ctasks[index], items[index])

    def _recheck(self, instance: NetInstance, ctask: CompiledTask, item: WorkItem | None) -> None:
        if item is None:
            if instance.mask & ctask.preset_mask and instance.join_satisfied(ctask):
                self._enable(instance, ctask)
        elif item.state == ENABLED and not instance.join_satisfied(ctask):
            self._withdraw(item, "item_withdrawn")

    def _enable(self, instance: NetInstance, ctask: CompiledTask) -> None:
        self.counter += 1
        item_id = _item_id(self.counter)
        if ctask.routing:
            item = WorkItem(item_id, instance, ctask, {})
            instance.items[ctask.index] = item
            self.agenda.append(item)
            return
        failure = None
        if ctask.inputs is None:
            data = instance.data.copy()
        else:
            try:
                data = self._input_data(instance, ctask)
            except ExpressionError as exc:
                data, failure = {}, str(exc)
        item = WorkItem(item_id, instance, ctask, data)
        instance.items[ctask.index] = item
        self.items[item_id] = item
        self.events.append(("item_enabled", item_id, ctask.id, instance.net.id, None))
        if ctask.timer is not None and (timer := _resolved_timer(item))["trigger"] == "enabled":
            self._set_timer(item, timer)
        if failure is not None:  # it fails once the current change is done (in _settle)
            item.failure = failure
            self.agenda.append(item)

    def _set_timer(self, item: WorkItem, timer: dict[str, Any]) -> None:
        item.timer = timer
        self.events.append(("timer_set", item.id, item.task, item.net, dict(timer)))

    def _input_data(self, instance: NetInstance, ctask: CompiledTask) -> dict[str, Any]:
        """A work item's input data; ExpressionError (naming task and query) if a query fails."""
        if ctask.inputs is None:
            return instance.data.copy()
        data = {}
        for name, query, type_name in ctask.inputs:
            if query is not None:
                try:
                    data[name] = query.value(instance.document(), None if type_name == "any" else type_name)
                except ExpressionError as exc:
                    raise ExpressionError(f"task {ctask.id!r}: input {name!r}: {exc}") from exc
            elif name in instance.data:
                data[name] = instance.data[name]
        return data

    def _refresh_input(self, item: WorkItem) -> bool:
        """Recompute an enabled item's input data if the net data changed since it was enabled;
        False if a query failed (the item has then failed)."""
        instance = item.instance
        if instance.data_version == item.data_version:
            return True
        try:
            item.data = self._input_data(instance, item.ctask)
        except ExpressionError as exc:
            self._fail(item, str(exc))
            return False
        item.data_version = instance.data_version
        return True

    # ------------------------------------------------------------------ firing
    def _fire(self, item: WorkItem) -> None:
        """Consume the join's tokens for a (non-instance) work item and re-check its neighbours."""
        instance = item.instance
        ctask = item.ctask
        marked = instance.mask
        if ctask.join == AND:
            consumed: tuple[int, ...] | list[int] = ctask.preset
        elif ctask.join == XOR:
            consumed = [next(c for c in ctask.preset if marked >> c & 1)]
        else:
            consumed = [c for c in ctask.preset if marked >> c & 1]
        for condition in consumed:
            instance.consume(condition)
        feeds = instance.net.feeds
        if len(consumed) == 1:
            self._update(instance, feeds[consumed[0]])
        else:
            self._update(instance, {t for c in consumed for t in feeds[c]})

    def _start_item(self, item: WorkItem) -> None:
        if item.parent is None:
            if not self._refresh_input(item):
                return
            item.state = STARTED
            self._fire(item)
        item.state = STARTED
        self.events.append(("item_started", item.id, item.task, item.net, None))
        ctask = item.ctask
        if ctask.timer is not None and (timer := _resolved_timer(item))["trigger"] == "started":
            self._set_timer(item, timer)
        if item.kind == "mi":
            self._start_instances(item)
        elif ctask.subnet is not None:
            self._start_subnet(item)

    def _start_subnet(self, item: WorkItem) -> None:
        depth, parent = 2, item.instance.parent  # the subnet's, the root net's instance counting 1
        while parent is not None:
            depth, parent = depth + 1, parent.instance.parent
        if depth > MAX_NET_DEPTH:
            self._fail(item, f"task {item.task!r}: its subnet would run {depth} nets deep, more than the "
                             f"engine's limit of {MAX_NET_DEPTH} (a recursion without end?)")
            return
        subnet = self.executor.nets[item.ctask.subnet or ""]
        data = subnet.initial_data()
        for name, value in item.data.items():
            if not subnet.declares_variables or name in subnet.variables:
                data[name] = copy.deepcopy(value)
        item.subnet = self._start_net(subnet, data, item)

    def _start_instances(self, item: WorkItem) -> None:
        mi = item.ctask.mi
        assert mi is not None
        if mi.min > MAX_MI_INSTANCES:  # before anything is built for them
            self._fail(item, f"task {item.task!r}: {mi.min} instances, more than the engine's "
                             f"limit of {MAX_MI_INSTANCES} per task")
            return
        if mi.query is not None:
            try:
                values = mi.query.value(item.instance.document())
            except ExpressionError as exc:
                self._fail(item, f"task {item.task!r}: splitting query: {exc}")
                return
            values = values if isinstance(values, list) else [] if values is None else [values]
        else:
            values = [None] * mi.min
        if mi.max is not None and len(values) > mi.max:
            self._fail(item, f"task {item.task!r}: {len(values)} instances, more than the maximum {mi.max}")
            return
        if len(values) > MAX_MI_INSTANCES:
            self._fail(item, f"task {item.task!r}: {len(values)} instances, more than the engine's "
                             f"limit of {MAX_MI_INSTANCES} per task")
            return
        values.extend([None] * (mi.min - len(values)))
        item.children = {}
        item.outputs = []
        for value in values:
            self._add_child(item, value)

    def _add_child(self, parent: WorkItem, value: Any) -> WorkItem:
        ctask = parent.ctask
        mi = ctask.mi
        assert mi is not None and parent.children is not None
        data = dict(parent.data)
        if mi.variable is not None:
            data[mi.variable] = value
        elif isinstance(value, dict):
            data.update(value)
        self.counter += 1
        child = WorkItem(_item_id(self.counter), parent.instance, ctask, data, ctask.kind)
        child.parent = parent.id
        parent.children[child.id] = child
        parent.created += 1
        self.items[child.id] = child
        self.events.append(("item_enabled", child.id, child.task, child.net, {"parent": parent.id}))
        return child

    # ------------------------------------------------------------------ completion
    def _complete_item(self, item: WorkItem, output: dict[str, Any]) -> None:
        """A (non-instance) item completes: output into net data, then the task exits.

        What can fail (output mappings, split predicates) is evaluated first: if it fails, the item
        fails and the marking and data stay as they were."""
        if item.parent is not None:
            self._child_completed(item, output)
            return
        instance = item.instance
        ctask = item.ctask
        try:
            changes = self._output_changes(item, output)
            produced = self._choose(instance, ctask, changes)
        except ExpressionError as exc:
            self._fail(item, str(exc))
            return
        if changes:
            instance.data.update(changes)
            instance.data_changed()
        instance.items[ctask.index] = None
        self.items.pop(item.id, None)
        item.state = "completed"
        self.events.append(("item_completed", item.id, ctask.id, instance.net.id, None))
        self._exit_task(instance, ctask, produced)

    def _child_completed(self, child: WorkItem, output: dict[str, Any]) -> None:
        parent = self.items[child.parent or ""]
        assert parent.children is not None and parent.outputs is not None
        mi = parent.ctask.mi
        assert mi is not None
        changes = None
        if mi.to is None:
            try:
                changes = self._output_changes(child, output)
            except ExpressionError as exc:
                self._fail(child, str(exc))
                return
        elif mi.aggregate is not None:
            output = {**child.data, **output}  # the aggregate query sees the instance's whole data
        del parent.children[child.id]
        del self.items[child.id]
        child.state = "completed"
        parent.completed += 1
        if changes:
            parent.instance.data.update(changes)
            parent.instance.data_changed()
        if mi.to is not None:
            parent.outputs.append(output)
        self.events.append(("item_completed", child.id, child.task, child.net, {"parent": parent.id}))
        threshold = mi.threshold if mi.threshold is not None else parent.created
        if parent.completed >= threshold or not parent.children:
            self._mi_completed(parent)

    def _mi_completed(self, parent: WorkItem) -> None:
        """The MI task completes: the remaining instances are withdrawn, outputs aggregated, task exits."""
        instance = parent.instance
        ctask = parent.ctask
        mi = ctask.mi
        assert mi is not None
        changes = None
        try:
            if mi.to is not None:
                outputs = parent.outputs or []
                if mi.aggregate is not None:
                    try:
                        outputs = [mi.aggregate.value(net_document(ctask.id, out)) for out in outputs]
                    except ExpressionError as exc:
                        raise ExpressionError(f"task {ctask.id!r}: aggregate query: {exc}") from exc
                changes = {mi.to: outputs}
            produced = self._choose(instance, ctask, changes)
        except ExpressionError as exc:
            self._fail(parent, str(exc))
            return
        for child in list((parent.children or {}).values()):
            self._withdraw(child, "item_withdrawn")
        if changes:
            instance.data.update(changes)
            instance.data_changed()
        instance.items[ctask.index] = None
        self.items.pop(parent.id, None)
        parent.state = "completed"
        self.events.append(
            ("item_completed", parent.id, ctask.id, instance.net.id,
             {"kind": "mi", "instances": parent.created, "completed": parent.completed})
        )  # fmt: skip
        self._exit_task(instance, ctask, produced)

    def _output_changes(self, item: WorkItem, output: dict[str, Any]) -> dict[str, Any] | None:
        """What completing `item` with `output` writes into its net's data: each output mapping's
        query over the item's whole data (input data, then the output over it, as YAWL does), or
        with no mappings the declared outputs by name (no outputs declared: all of it); explicit
        empty mappings: nothing. ExpressionError (naming task and mapping) if a mapping fails."""
        ctask = item.ctask
        mappings = ctask.mappings
        if mappings is None:
            if ctask.outputs is None:
                return output
            return {name: output[name] for name in ctask.outputs if name in output}
        if not mappings:
            return None
        document = net_document(ctask.id, {**item.data, **output})
        types = item.instance.net.variable_types
        changes = {}
        for query, target in mappings:
            type_name = types.get(target, "any")
            try:
                value = query.value(document, None if type_name == "any" else type_name)
            except ExpressionError as exc:
                raise ExpressionError(f"task {ctask.id!r}: output mapping to {target!r}: {exc}") from exc
            # as YAWL validates mapped output: a value a number or boolean variable refuses (text
            # that is no number, NaN, infinity) fails the item; structured values are not checked
            problem = None
            if value is not None and simple_kind(type_name) is not None:
                problem = value_problem(f"variable {target!r}", type_name, value)
            if problem is not None:
                raise ExpressionError(f"task {ctask.id!r}: output mapping to {target!r}: {problem}")
            changes[target] = value
        return changes

    def _choose(self, instance: NetInstance, ctask: CompiledTask, changes: dict[str, Any] | None) -> Any:
        """The conditions the split marks, decided on the net data as it will be after `changes`
        (nothing is changed here): AND all; XOR the first true flow, else the default; OR every true
        flow, and a default flow without predicate only if none was. ExpressionError if a predicate
        fails."""
        if ctask.split == AND:
            return ctask.postset_conditions
        if changes:
            data = {**instance.data, **changes}
            rendered: list[Element] = []

            def document() -> Element:
                if not rendered:
                    rendered.append(net_document(instance.net.id, data))
                return rendered[0]
        else:
            data, document = instance.data, instance.document
        produced: list[int] = []
        try:
            if ctask.split == XOR:
                for condition, predicate, is_default in ctask.postset:
                    if is_default or predicate is None or predicate.holds(data, document):
                        return (condition,)
                return produced
            for condition, predicate, is_default in ctask.postset:
                if predicate is None:
                    if not (is_default and produced):
                        produced.append(condition)
                elif (is_default and not produced) or predicate.holds(data, document):
                    produced.append(condition)
        except ExpressionError as exc:
            raise ExpressionError(f"task {ctask.id!r}: split predicate: {exc}") from exc
        return produced

    def _exit_task(self, instance: NetInstance, ctask: CompiledTask, produced: Any) -> None:
        """Cancellation set, then the split's tokens; then re-check what the changes may enable or disable."""
        recheck = [ctask.index]
        if ctask.has_cancel:
            recheck.extend(self._cancel_region(instance, ctask))
        for condition in produced:
            instance.produce(condition)
        if instance.mask >> instance.net.output & 1:
            self._net_completed(instance)
            return
        feeds = instance.net.feeds
        for condition in produced:
            recheck.extend(feeds[condition])
        self._update(instance, recheck)

    def _cancel_region(self, instance: NetInstance, ctask: CompiledTask) -> list[int]:
        """Empty the cancelled conditions and withdraw the cancelled tasks' items; returns tasks to re-check."""
        affected = list(ctask.cancel_tasks)
        mask = ctask.cancel_mask & instance.mask
        if mask:
            feeds = instance.net.feeds
            for condition in range(mask.bit_length()):
                if mask >> condition & 1:
                    instance.marking[condition] = 0
                    affected.extend(feeds[condition])
            instance.mask &= ~mask
        for index in ctask.cancel_tasks:
            item = instance.items[index]
            if item is not None:
                self._withdraw(item, "item_withdrawn")
        return affected

    # ------------------------------------------------------------------ removal
    def _withdraw(self, item: WorkItem, event_kind: str, payload: dict[str, Any] | None = None) -> None:
        """Remove a live item (with its instances and subnet) and say so."""
        if item.children:
            for child in list(item.children.values()):
                self._withdraw(child, "item_withdrawn")
        if item.subnet is not None:
            self._end_net(item.subnet)
            item.subnet = None
        if item.parent is None:
            if item.instance.items[item.ctask.index] is item:
                item.instance.items[item.ctask.index] = None
        else:
            parent = self.items.get(item.parent)
            if parent is not None and parent.children is not None:
                parent.children.pop(item.id, None)
        item.state = _END_STATES.get(event_kind, "withdrawn")
        if self.items.pop(item.id, None) is not None:
            self.events.append((event_kind, item.id, item.task, item.net, payload))

    def _drop(self, item: WorkItem, event_kind: str, payload: dict[str, Any] | None) -> None:
        """Cancel or fail an item: an enabled task fires first, so it is not enabled again."""
        if item.state == ENABLED and item.parent is None:
            item.state = STARTED
            self._fire(item)
        self._withdraw(item, event_kind, payload)
        if item.parent is not None:
            parent = self.items.get(item.parent)
            if parent is not None and not parent.children:
                self._mi_completed(parent)
        else:
            self._update(item.instance, (item.ctask.index,))

    def _fail(self, item: WorkItem, reason: str) -> None:
        """A query of this item failed at run time: the item fails (event item_failed with the reason)."""
        if item.ctask.routing:  # a routing item is not in self.items: _withdraw would not say so
            self.events.append(("item_failed", item.id, item.task, item.net, {"reason": reason}))
        self._drop(item, "item_failed", {"reason": reason})

    def _force_complete(self, item: WorkItem) -> None:
        """Complete a started item now (timer expiry), whatever kind it is."""
        if item.subnet is not None:
            subnet = item.subnet
            self._end_net(subnet)
            item.subnet = None
            self._complete_item(item, subnet.data)
        elif item.children is not None:
            self._mi_completed(item)
        else:
            self._complete_item(item, dict(item.data))

    # ------------------------------------------------------------------ after each call
    def _settle(self) -> None:
        """Fire pending routing tasks, then detect a deadlock."""
        agenda = self.agenda
        fired = 0
        while agenda:
            item = agenda.popleft()
            instance = item.instance
            if not instance.live or instance.items[item.ctask.index] is not item:
                continue
            if item.failure is not None:
                if item.state == ENABLED:
                    self._fail(item, item.failure)
                continue
            fired += 1
            if fired > ROUTING_LOOP_LIMIT:
                agenda.clear()
                self.status = "failed"
                raise EngineError(
                    "invalid", f"case {self.id}: routing tasks loop without end (at {item.task!r})"
                )
            if item.ctask.mappings:  # its output mappings see its input data, as a manual task's do
                try:
                    item.data = self._input_data(instance, item.ctask)
                except ExpressionError as exc:
                    self._fail(item, str(exc))
                    continue
            item.state = STARTED
            self._fire(item)
            self._complete_item(item, {})
        if self.status == RUNNING and self._nothing_can_move():
            self._deadlocked()

    def _nothing_can_move(self) -> bool:
        """No enabled item and no started item someone can complete (composite and MI parents wait)."""
        for item in self.items.values():
            if item.state == ENABLED or (item.subnet is None and item.children is None):
                return False
        return True

    def _deadlocked(self) -> None:
        root = self.root
        assert root is not None
        if not root.live or root.mask >> root.net.output & 1:
            return
        self.status = "deadlocked"
        stuck: list[str] = []
        for instance in self._instances():
            net = instance.net
            prefix = "" if instance is root else f"{net.id}:"
            marked = [prefix + net.condition_ids[c] for c, count in enumerate(instance.marking) if count]
            waiting = [
                prefix + t.id
                for t in net.tasks
                if instance.mask & t.preset_mask and instance.items[t.index] is None
            ]
            stuck.extend(name for name in marked + waiting if name not in stuck)
        self.events.append(("case_deadlocked", None, None, root.net.id, {"stuck": stuck}))
