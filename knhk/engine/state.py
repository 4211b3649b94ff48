"""Compact, versioned JSON serialisation of a case; `restore(to_state(case))` continues identically.

```
{"v": 1, "spec": "loan", "hash": "<content hash>", "case": "c-1", "status": "running",
 "counter": 7, "net_counter": 2,
 "nets": [{"id": "1", "net": "Main", "marking": {"c1": 1}, "data": {...}, "dv": 3}, ...],
 "items": [{"id": "5", "task": "B", "in": "1", "state": "started", "kind": "manual", "data": {...}}, ...]}
```
Only non-zero marking entries and non-default item fields are written. Events are not part of the
state (drain them before serialising).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from knhk.engine.compile import AND
from knhk.engine.runtime import CASE_STATUSES, MAX_NET_DEPTH, Case, EngineError, NetInstance, WorkItem
from knhk.engine.types import MAX_INTEGER_DIGITS

if TYPE_CHECKING:
    from knhk.engine.compile import Executor

__all__ = ["to_state", "restore", "STATE_VERSION"]

STATE_VERSION = 1


def _net_state(instance: NetInstance) -> dict[str, Any]:
    ids = instance.net.condition_ids
    state: dict[str, Any] = {
        "id": instance.id,
        "net": instance.net.id,
        "marking": {ids[i]: count for i, count in enumerate(instance.marking) if count},
        "data": instance.data,
        "dv": instance.data_version,
    }
    if instance.parent is not None:
        state["parent"] = instance.parent.id
    if not instance.live:
        state["live"] = False
    return state


def _item_state(item: WorkItem) -> dict[str, Any]:
    state: dict[str, Any] = {
        "id": item.id,
        "task": item.task,
        "in": item.instance.id,
        "state": item.state,
        "kind": item.kind,
        "data": item.data,
    }
    if item.data_version != item.instance.data_version:
        state["dv"] = item.data_version
    if item.parent is not None:
        state["parent"] = item.parent
    if item.timer is not None:
        state["timer"] = item.timer
    if item.children is not None:
        state["mi"] = {"created": item.created, "completed": item.completed, "outputs": item.outputs}
    return state


def to_state(case: Case, root_data: bool = True) -> dict[str, Any]:
    """The case as a JSON-ready dict (shares data objects with the case: serialise it before reuse).

    `root_data=False` leaves the root net's data out, for a caller that stores `case.data` on its
    own (the platform's `data` column); `restore(..., root_data=that data)` puts it back."""
    if case.root is None:
        raise EngineError("invalid", f"case {case.id} has no root net")
    instances = [case.root] + [item.subnet for item in case.items.values() if item.subnet is not None]
    nets = [_net_state(instance) for instance in instances]
    if not root_data:
        del nets[0]["data"]
    return {
        "v": STATE_VERSION,
        "spec": case.executor.spec.id,
        "hash": case.executor.content_hash,
        "case": case.id,
        "status": case.status,
        "counter": case.counter,
        "net_counter": case.net_counter,
        "nets": nets,
        "items": [_item_state(item) for item in case.items.values()],
    }


def restore(executor: Executor, state: dict[str, Any], root_data: dict[str, Any] | None = None) -> Case:
    """The case a `to_state` dict describes. EngineError(code="invalid") naming the field if the
    state is malformed or not of this executor (spec id and content hash): one cheap pass over nets
    and items, as this is on the platform's hot path. The case gets copies of the state's data and
    of `root_data` (the root net's data, for a state saved with `to_state(case, root_data=False)`)."""
    if not isinstance(state, dict):
        raise _invalid(executor, "the state", _not(state, "a JSON object"))
    version = state.get("v")
    if type(version) is not int or version != STATE_VERSION:
        raise _invalid(executor, "v", _not(version, f"a state version this engine reads ({STATE_VERSION})"))
    if state.get("spec") != executor.spec.id:
        raise _invalid(executor, "spec", _not(state.get("spec"), f"{executor.spec.id!r}"))
    if state.get("hash") != executor.content_hash:
        raise _invalid(
            executor, "hash",
            _not(state.get("hash"), f"this specification's content hash {executor.content_hash!r}")
            + " (a state of another version of the specification?)",
        )  # fmt: skip
    case_id = state.get("case")
    if type(case_id) is not str:
        raise _invalid(executor, "case", _not(case_id, "a case id (a string)"))
    status = state.get("status")
    if type(status) is not str or status not in CASE_STATUSES:
        raise _invalid(executor, "status", _not(status, f"a case status ({', '.join(CASE_STATUSES)})"))
    counter = state.get("counter")
    if type(counter) is not int or counter < 0:
        raise _invalid(executor, "counter", _not(counter, "a non-negative integer"))
    net_counter = state.get("net_counter")
    if type(net_counter) is not int or net_counter < 0:
        raise _invalid(executor, "net_counter", _not(net_counter, "a non-negative integer"))
    net_entries = state.get("nets")
    if type(net_entries) is not list or not net_entries:
        raise _invalid(executor, "nets", _not(net_entries, "a non-empty list of net instances"))
    item_entries = state.get("items")
    if type(item_entries) is not list:
        raise _invalid(executor, "items", _not(item_entries, "a list of work items"))
    case = Case(executor, case_id)
    case.status = status
    case.counter = counter
    case.net_counter = net_counter
    instances = _restore_nets(executor, net_entries, net_counter, root_data)
    case.root = next(iter(instances.values()))
    composites = _restore_items(executor, case, item_entries, instances)
    _link_subnets(executor, case, net_entries, instances, composites)
    return case


_ATOMS = frozenset({str, int, float, bool, type(None)})


def _invalid(executor: Executor, field: str, problem: str) -> EngineError:
    return EngineError("invalid", f"case state does not fit specification {executor.spec.id!r}: {field}: {problem}")


def _not(value: Any, expected: str) -> str:
    """`<value> is not <expected>`, with a short repr of the value."""
    if value is None:
        return f"missing or null, not {expected}"
    text = repr(value)
    return f"{text if len(text) <= 40 else text[:37] + '...'} is not {expected}"


def _above(text: str, counter: int) -> bool:
    """Whether an id is a number above the counter (the next id made from it could collide)."""
    return len(text) <= MAX_INTEGER_DIGITS and text.isdecimal() and int(text) > counter


def _copy(value: Any) -> Any:
    """A copy of a JSON value, its dicts and lists all the way down (4x faster than copy.deepcopy,
    which also keeps aliasing: a JSON state has none); other values are deep-copied."""
    kind = type(value)
    if kind is dict:
        return {key: item if type(item) in _ATOMS else _copy(item) for key, item in value.items()}
    if kind is list:
        return [item if type(item) in _ATOMS else _copy(item) for item in value]
    if kind in _ATOMS:
        return value
    return copy.deepcopy(value)


def _entry_id(executor: Executor, entry: Any, where: str, what: str, seen: dict[str, Any],
              counter: tuple[str, int]) -> str:
    """The id of a `nets` or `items` entry: a string, not seen before, not above its counter."""
    if not isinstance(entry, dict):
        raise _invalid(executor, where, _not(entry, "a JSON object"))
    entry_id = entry.get("id")
    if type(entry_id) is not str:
        raise _invalid(executor, f"{where}.id", _not(entry_id, f"a {what} id (a string)"))
    if entry_id in seen:
        raise _invalid(executor, f"{where}.id", f"{what} {entry_id!r} is listed twice")
    if _above(entry_id, counter[1]):
        raise _invalid(executor, counter[0], f"{counter[1]} is below {what} id {entry_id!r}")
    return entry_id


def _restore_nets(
    executor: Executor, entries: list[Any], net_counter: int, root_data: dict[str, Any] | None
) -> dict[str, NetInstance]:
    """The net instances in state order, the root's first; `_link_subnets` links the others'
    parents. Only non-negative counts of the net's conditions in a marking; a subnet is live."""
    nets = executor.nets
    instances: dict[str, NetInstance] = {}
    for n, entry in enumerate(entries):
        instance_id = _entry_id(executor, entry, f"nets[{n}]", "net instance", instances, ("net_counter", net_counter))
        net_id = entry.get("net")
        net = nets.get(net_id) if type(net_id) is str else None
        if net is None:
            raise _invalid(executor, f"nets[{n}].net", _not(net_id, "a net of the specification"))
        live = entry.get("live", True)
        if type(live) is not bool:
            raise _invalid(executor, f"nets[{n}].live", _not(live, "a boolean"))
        if not n:
            if net is not executor.root:
                raise _invalid(executor, "nets[0].net", _not(net_id, f"the root net {executor.root.id!r}"))
            if "parent" in entry:
                raise _invalid(executor, "nets[0].parent", "the root net instance has no parent work item")
        elif type(entry.get("parent")) is not str:
            raise _invalid(executor, f"nets[{n}].parent", _not(entry.get("parent"), "a composite work item's id"))
        elif not live:
            raise _invalid(executor, f"nets[{n}].live", "false, but a subnet instance in the state is live")
        data = entry.get("data")
        if data is None and not n and root_data is not None:
            data = root_data
        if not isinstance(data, dict):
            raise _invalid(executor, f"nets[{n}].data", _not(data, "a JSON object"))
        marking = entry.get("marking")
        if not isinstance(marking, dict):
            raise _invalid(executor, f"nets[{n}].marking", _not(marking, "a JSON object"))
        instance = NetInstance(instance_id, net, _copy(data), None)
        index_of = net.condition_index
        counts = instance.marking
        mask = 0
        for condition_id, count in marking.items():
            index = index_of.get(condition_id)
            if index is None:
                raise _invalid(executor, f"nets[{n}].marking", _not(condition_id, f"a condition of net {net.id!r}"))
            if type(count) is not int or count < 0:
                raise _invalid(executor, f"nets[{n}].marking.{condition_id}", _not(count, "a non-negative integer"))
            if count:
                counts[index] = count
                mask |= 1 << index
        instance.mask = mask
        data_version = entry.get("dv", 0)
        if type(data_version) is not int or data_version < 0:
            raise _invalid(executor, f"nets[{n}].dv", _not(data_version, "a non-negative integer"))
        instance.data_version = data_version
        instance.live = live
        instances[instance_id] = instance
    return instances


def _restore_items(executor: Executor, case: Case, entries: list[Any], instances: dict[str, NetInstance]) -> int:
    """The live work items in state order (an MI instance after its MI parent, in the parent's
    task and net instance; at most one other live item per task and net instance; an enabled one
    with its join's preset marked). Returns how many are started composite items (with a subnet)."""
    items = case.items
    counter = case.counter
    composites = 0
    for n, entry in enumerate(entries):
        item_id = _entry_id(executor, entry, f"items[{n}]", "work item", items, ("counter", counter))
        instance_id = entry.get("in")
        instance = instances.get(instance_id) if type(instance_id) is str else None
        if instance is None or not instance.live:
            raise _invalid(executor, f"items[{n}].in", _not(instance_id, "a live net instance of the state"))
        net = instance.net
        task_id = entry.get("task")
        index = net.task_index.get(task_id) if type(task_id) is str else None
        if index is None:
            raise _invalid(executor, f"items[{n}].task", _not(task_id, f"a task of net {net.id!r}"))
        ctask = net.tasks[index]
        if ctask.routing:
            raise _invalid(executor, f"items[{n}].task", f"{task_id!r} is a routing task: it has no live work items")
        item_state = entry.get("state")
        if item_state != "enabled" and item_state != "started":
            raise _invalid(executor, f"items[{n}].state", _not(item_state, "a live item's state (enabled, started)"))
        data = entry.get("data")
        if not isinstance(data, dict):
            raise _invalid(executor, f"items[{n}].data", _not(data, "a JSON object"))
        parent_id = entry.get("parent")
        kind = ctask.item_kind if parent_id is None else ctask.kind
        if entry.get("kind") != kind:
            problem = _not(entry.get("kind"), f"the kind of task {task_id!r} ({kind!r})")
            raise _invalid(executor, f"items[{n}].kind", problem)
        data_version = entry.get("dv", instance.data_version)
        if type(data_version) is not int or data_version < 0:
            raise _invalid(executor, f"items[{n}].dv", _not(data_version, "a non-negative integer"))
        timer = entry.get("timer")
        if timer is not None and not isinstance(timer, dict):
            raise _invalid(executor, f"items[{n}].timer", _not(timer, "a JSON object"))
        mi = entry.get("mi")
        item = WorkItem(item_id, instance, ctask, _copy(data), kind)
        item.state = item_state
        item.data_version = data_version
        if timer is not None:
            item.timer = _copy(timer)
        if parent_id is None:
            if instance.items[index] is not None:
                raise _invalid(
                    executor, f"items[{n}]",
                    f"a second live work item of task {task_id!r} in net instance {instance_id!r}",
                )
            if (mi is not None) != (ctask.mi is not None and item_state == "started"):
                raise _invalid(
                    executor, f"items[{n}].mi",
                    "missing: the item is a started multiple-instance item" if mi is None
                    else "only a started multiple-instance item has one",
                )  # fmt: skip
            if mi is not None:
                _restore_mi(executor, item, mi, n)
            elif item_state == "enabled":  # (an OR-join's analysis is not cheap: left out)
                preset = ctask.preset_mask
                marked = instance.mask & preset
                if not marked or (ctask.join == AND and marked != preset):
                    raise _invalid(
                        executor, f"items[{n}].state",
                        f"enabled, but the marking of net instance {instance_id!r} does not satisfy "
                        f"the join of task {task_id!r}",
                    )  # fmt: skip
            instance.items[index] = item
        else:
            parent = items.get(parent_id) if type(parent_id) is str else None
            if parent is None or parent.children is None or parent.ctask is not ctask or parent.instance is not instance:
                raise _invalid(
                    executor, f"items[{n}].parent",
                    _not(parent_id, f"an earlier started multiple-instance item of task {task_id!r} "
                                    f"in net instance {instance_id!r}"),
                )  # fmt: skip
            if mi is not None:
                raise _invalid(executor, f"items[{n}].mi", "an instance of a multiple-instance item has none")
            item.parent = parent_id
            parent.children[item_id] = item
        if ctask.subnet is not None and item_state == "started" and item.children is None:
            composites += 1
        items[item_id] = item
    return composites


def _restore_mi(executor: Executor, item: WorkItem, mi: Any, n: int) -> None:
    if not isinstance(mi, dict):
        raise _invalid(executor, f"items[{n}].mi", _not(mi, "a JSON object"))
    created, completed, outputs = mi.get("created"), mi.get("completed"), mi.get("outputs")
    if type(created) is not int or created < 0:
        raise _invalid(executor, f"items[{n}].mi.created", _not(created, "a non-negative integer"))
    if type(completed) is not int or not 0 <= completed <= created:
        problem = _not(completed, f"an integer from 0 to created ({created})")
        raise _invalid(executor, f"items[{n}].mi.completed", problem)
    if outputs is not None and type(outputs) is not list:
        raise _invalid(executor, f"items[{n}].mi.outputs", _not(outputs, "a list"))
    item.children = {}
    item.created = created
    item.completed = completed
    item.outputs = _copy(outputs) if outputs else []


def _link_subnets(
    executor: Executor, case: Case, entries: list[Any], instances: dict[str, NetInstance], composites: int
) -> None:
    """Each subnet instance to its parent: a started composite item of a task with that subnet, in
    a net instance listed earlier (so no cycles), with no other subnet; each such item has one."""
    items = case.items
    position = {instance_id: n for n, instance_id in enumerate(instances)}
    depth = {next(iter(instances)): 1}  # nets deep, the root net's instance first
    for n, instance in enumerate(instances.values()):
        if not n:
            continue
        parent_id = entries[n]["parent"]
        item = items.get(parent_id)
        if item is None or item.ctask.subnet != instance.net.id or item.children is not None or item.state != "started":
            raise _invalid(
                executor, f"nets[{n}].parent",
                _not(parent_id, f"a started composite work item of net {instance.net.id!r}"),
            )
        if item.subnet is not None:
            problem = f"work item {parent_id!r} has subnet instance {item.subnet.id!r}"
            raise _invalid(executor, f"nets[{n}].parent", problem)
        if position[item.instance.id] >= n:
            raise _invalid(executor, f"nets[{n}].parent", f"work item {parent_id!r} is in a net instance listed later")
        depth[instance.id] = depth[item.instance.id] + 1
        if depth[instance.id] > MAX_NET_DEPTH:  # as the runtime never starts one (completing it would recurse)
            raise _invalid(executor, f"nets[{n}]", f"runs {depth[instance.id]} nets deep; the limit is {MAX_NET_DEPTH}")
        instance.parent = item
        item.subnet = instance
    if len(instances) - 1 < composites:
        item = next(item for item in items.values() if item.subnet is None and item.ctask.subnet is not None
                    and item.state == "started" and item.children is None)  # fmt: skip
        raise _invalid(executor, "nets", f"no subnet instance of started composite work item {item.id!r}")
