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

from knhk.engine.runtime import Case, EngineError, NetInstance, WorkItem

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
    """The case a `to_state` dict describes; EngineError(code="invalid") if it does not fit.
    `root_data`: the root net's data, for a state saved with `to_state(case, root_data=False)`."""
    try:
        state = copy.deepcopy(state)
        if root_data is not None and isinstance(state, dict) and state.get("nets") and "data" not in state["nets"][0]:
            state["nets"][0]["data"] = copy.deepcopy(root_data)
        return _restore(executor, state)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise EngineError(
            "invalid", f"case state does not fit specification {executor.spec.id!r}: {exc!r}"
        ) from exc


def _restore(executor: Executor, state: dict[str, Any]) -> Case:
    if not isinstance(state, dict) or state.get("v") != STATE_VERSION:
        raise EngineError(
            "invalid",
            f"unsupported case state version {state.get('v') if isinstance(state, dict) else None!r}",
        )
    if state.get("spec") != executor.spec.id:
        raise EngineError(
            "invalid", f"case state is for specification {state.get('spec')!r}, not {executor.spec.id!r}"
        )
    case = Case(executor, str(state["case"]))
    case.status = state["status"]
    case.counter = int(state["counter"])
    case.net_counter = int(state["net_counter"])
    instances: dict[str, NetInstance] = {}
    parents: dict[str, str] = {}
    for entry in state["nets"]:
        net = executor.nets[entry["net"]]
        instance = NetInstance(str(entry["id"]), net, entry["data"], None)
        for condition_id, count in entry["marking"].items():
            index = net.condition_index[condition_id]
            instance.marking[index] = int(count)
            instance.mask |= 1 << index
        instance.data_version = int(entry.get("dv", 0))
        instance.live = entry.get("live", True)
        instances[instance.id] = instance
        if "parent" in entry:
            parents[instance.id] = str(entry["parent"])
    case.root = instances[str(state["nets"][0]["id"])]
    for entry in state["items"]:
        instance = instances[str(entry["in"])]
        ctask = instance.net.tasks[instance.net.task_index[entry["task"]]]
        item = WorkItem(str(entry["id"]), instance, ctask, entry["data"], entry["kind"])
        item.parent = entry.get("parent")
        item.state = entry["state"]
        item.timer = entry.get("timer")
        item.data_version = int(entry.get("dv", instance.data_version))
        if "mi" in entry:
            item.children = {}
            item.created = int(entry["mi"]["created"])
            item.completed = int(entry["mi"]["completed"])
            item.outputs = list(entry["mi"]["outputs"] or [])
        if item.parent is None:
            instance.items[ctask.index] = item
        else:
            parent = case.items[item.parent]
            assert parent.children is not None
            parent.children[item.id] = item
        case.items[item.id] = item
    for instance_id, item_id in parents.items():
        item = case.items[item_id]
        instances[instance_id].parent = item
        item.subnet = instances[instance_id]
    return case
