"""The KNHK side of the engine benchmarks: the neutral nets of bench.shapes as JSON specs
(docs/spec-format.md) and a client-like driver that starts and completes every work item."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.shapes import END, Net, Predicate

XPATH_OPERATORS = {"eq": "=", "lt": "<"}


def _xpath(predicate: Predicate) -> str:
    variable, op, value = predicate
    return f"{variable} {XPATH_OPERATORS[op]} {value}"


def spec_dict(net: Net) -> dict[str, Any]:
    """The KNHK specification of `net`: every task a manual task, flows on their sources."""
    tasks = []
    for task in net.tasks:
        flows: list[Any] = []
        for flow in task.flows:
            target = "end" if flow.to == END else flow.to
            if flow.default:
                flows.append({"to": target, "default": True})
            elif task.split != "and" and flow.predicate is not None:
                flows.append({"to": target, "predicate": _xpath(flow.predicate)})
            else:
                flows.append(target)
        tasks.append({"id": task.id, "join": task.join, "split": task.split, "flows": flows})
    return {
        "id": f"bench-{net.name}",
        "variables": [{"name": name, "type": "integer", "initial": value} for name, value in net.variables.items()],
        "conditions": [{"id": "start", "type": "input", "flows": [net.first]}, {"id": "end", "type": "output"}],
        "tasks": tasks,
    }


def run_case(executor: Any, net: Net, stop_after: tuple[str, int] | None = None) -> tuple[Counter[str], Any]:
    """Start a case and complete every enabled work item (start, then complete with the net's data)
    until none is left, draining events after each round as the platform does after each call.

    Returns how often each task completed, and the case. With `stop_after=(task, n)` the run stops
    right after the n-th completion of that task; otherwise it raises unless the case completed.
    """
    data_for = net.data_for
    visits: Counter[str] = Counter()
    case = executor.start_case("bench", None)
    drain = getattr(case, "drain_event_tuples", case.drain_events)  # raw tuples, as in complete_all
    drain()
    while True:
        items = case.items
        enabled = [(item_id, item.task) for item_id, item in items.items() if item.state == "enabled"]
        if not enabled:
            break
        for item_id, task_id in enabled:
            if item_id not in items:  # withdrawn by an earlier completion of this round
                continue
            case.start(item_id)
            visit = visits[task_id] = visits[task_id] + 1
            case.complete(item_id, None if data_for is None else data_for(task_id, visit))
            if stop_after is not None and stop_after == (task_id, visit):
                return visits, case
        drain()
    if case.status != "completed":
        raise RuntimeError(f"KNHK {net.name}: case ended {case.status} with {len(case.items)} live items")
    return visits, case


def complete_all(executor: Any, net: Net) -> int:
    """The timed driver: run one case to its end as the leanest client would (list the enabled
    items, start and complete each, drain the events after each round) and return how many work
    items it completed. Nets whose data depends on the visit go through `run_case`; which tasks
    ran, and how often, is checked against the peer with `run_case` outside the timed region."""
    if net.data_for is not None:
        return sum(run_case(executor, net)[0].values())
    case = executor.start_case("bench", None)
    case.drain_events()
    items = case.items
    # the engine's raw drain (plain tuples); drain_events() wraps each in an Event namedtuple
    start, complete = case.start, case.complete
    drain = getattr(case, "drain_event_tuples", case.drain_events)
    completed = 0
    while True:
        enabled = [item_id for item_id, item in items.items() if item.state == "enabled"]
        if not enabled:
            break
        for item_id in enabled:
            if item_id in items:  # not withdrawn by an earlier completion of this round
                start(item_id)
                complete(item_id)
                completed += 1
        drain()
    if case.status != "completed":
        raise RuntimeError(f"KNHK {net.name}: case ended {case.status} with {len(items)} live items")
    return completed


def orjoin_decision(executor: Any, net: Net, join_task: str, stop_after: tuple[str, int],
                    cold: bool = True) -> Callable[[], bool]:
    """One OR-join enabling decision of `join_task` in the root net, in the state right after
    `stop_after` (the engine's `orjoin_enabled`, which the runtime calls whenever the join's preset
    changes); the returned function answers whether the join is enabled. The engine remembers the
    answers of its exact reachability search per net state: `cold` forgets them before each
    decision (the analysis itself), else a repeated state is answered from that cache."""
    from knhk.engine.orjoin import orjoin_enabled

    _, case = run_case(executor, net, stop_after)
    instance = case.root
    index = next(task.index for task in executor.root.tasks if task.id == join_task)
    cache = getattr(instance.net, "reach_cache", None)
    if cold and cache is not None:
        def decide() -> bool:
            cache.clear()
            return orjoin_enabled(instance, index)

        return decide
    return lambda: orjoin_enabled(instance, index)


# ------------------------------------------------------------------ orderfulfillment.yawl

ORDER_FULFILLMENT_FILE = Path(__file__).resolve().parents[1] / ".." / "shared" / "yawl" / "orderfulfillment.yawl"

# The happy path a client takes through orderfulfillment.yawl: the items it never picks (timeouts,
# modifications, the loss-or-damage branch: the other sides of deferred choices), the loop items it
# does once, and what it submits beyond echoing the item's input data. The transport quote (two
# packages, 5,000 volume) takes the branch through the OR-join Create_Bill_of_Lading.
ORDER_FULFILLMENT_AVOID = frozenset({
    "Order_Timeout_1791", "Modify_Purchase_Order_2768", "Carrier_Timeout_388", "Claims_Timeout_254",
    "Initiate_Shipment_Status_Inquiry_929", "Lodge_Loss_or_Damage_Claim_Report_255",
    "Modify_Pickup_Appointment_397", "Modify_Delivery_Appointment_398", "Modify_Pickup_Appointment_400",
    "Modify_Delivery_Appointment_399",
})
ORDER_FULFILLMENT_ONCE = frozenset({"Issue_Trackpoint_Notice_813"})
ORDER_FULFILLMENT_OUTPUTS: dict[str, dict[str, Any]] = {
    "Approve_Purchase_Order_1901": {"POApproval": True},
    "Prepare_Transportation_Quote_390": {"TransportationQuote": {
        "OrderNumber": "PO-1", "NumberOfPackages": 2, "TotalVolume": 5000, "ShipmentNumber": "S-1",
        "ShipmentCost": "100.00",
    }},
    "Approve_Shipment_Payment_Order_593": {"ShipmentPaymentOrderApproval": {"Approved": "true"}},
    "Process_Shipment_Payment_603": {"ShipmentPayment": {"Balance": 0}},
    "Authorize_Return_Merchandise_256": {"ReturnMerchandiseApproval": {"Approved": "true"}},
    "Log_Trackpoint_Order_Entry_4514": {"Report": "ok"},
}


def declared_outputs(spec: dict[str, Any]) -> dict[str, list[str]]:
    """Task id -> the names of its output parameters, over every net of a spec dict."""
    return {
        task["id"]: [param["name"] for param in task.get("outputs") or ()]
        for net in [spec, *spec.get("nets", ())]
        for task in net.get("tasks", ())
    }


def order_fulfillment_output(task: str, item_data: dict[str, Any], outputs: dict[str, list[str]]) -> dict[str, Any]:
    """What the happy-path client submits for an item: its declared outputs echoed from its input
    data where it has a value, plus the scripted answers."""
    data = {name: item_data[name] for name in outputs.get(task, ()) if item_data.get(name) is not None}
    data.update(ORDER_FULFILLMENT_OUTPUTS.get(task, {}))
    return data


def run_order_fulfillment(executor: Any, outputs: dict[str, list[str]]) -> tuple[Counter[str], Any]:
    """One case of orderfulfillment.yawl along the happy path: each picked item is started and
    completed with its declared outputs (the item's input data echoed, plus the scripted answers);
    composite and multiple-instance parents complete by themselves. Raises unless it completes."""
    visits: Counter[str] = Counter()
    case = executor.start_case("bench", None)
    case.drain_events()
    while case.status == "running":
        items = case.items
        picked = [
            (item_id, item) for item_id, item in items.items()
            if item.state == "enabled" and item.task not in ORDER_FULFILLMENT_AVOID
            and not (item.task in ORDER_FULFILLMENT_ONCE and visits[item.task])
        ]
        if not picked:
            break
        for item_id, item in picked:
            live = items.get(item_id)
            if live is None or live.state != "enabled":  # withdrawn by a deferred choice
                continue
            case.start(item_id)
            if item.kind in ("composite", "mi"):
                continue
            visits[item.task] += 1
            case.complete(item_id, order_fulfillment_output(item.task, item.data, outputs))
        case.drain_events()
    if case.status != "completed":
        raise RuntimeError(f"orderfulfillment: case ended {case.status}, live items {sorted(i.task for i in case.items.values())}")
    return visits, case
