"""The SpiffWorkflow 3.x peer: the neutral nets of bench.shapes as `WorkflowSpec`s, and a driver
that completes every ready task with the same data the KNHK driver submits."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable

from SpiffWorkflow.operators import Attrib, Equal, LessThan
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.specs.ExclusiveChoice import ExclusiveChoice
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.specs.MultiChoice import MultiChoice
from SpiffWorkflow.specs.Simple import Simple
from SpiffWorkflow.specs.WorkflowSpec import WorkflowSpec
from SpiffWorkflow.util.task import TaskState
from SpiffWorkflow.workflow import Workflow

from bench.shapes import END, Net, Predicate

OPERATORS = {"eq": Equal, "lt": LessThan}
READY = TaskState.READY


def _operator(predicate: Predicate) -> Equal | LessThan:
    variable, op, value = predicate
    return OPERATORS[op](Attrib(variable), value)


def build_spec(net: Net) -> WorkflowSpec:
    """The SpiffWorkflow spec of `net`: Simple / Join for the joins, ExclusiveChoice / MultiChoice for
    the XOR / OR splits. A YAWL OR-split's default flow becomes a condition the data makes true
    exactly when no other flow's is (MultiChoice has no 'taken when none is' flow)."""
    spec = WorkflowSpec(net.name, addstart=True)
    specs: dict[str, TaskSpec] = {}
    for task in net.tasks:
        if task.join in ("and", "or"):
            if task.split != "and":
                raise ValueError(f"{task.id}: a Join has no conditional split in SpiffWorkflow")
            # An AND-join waits for all its inputs; an OR-join (a structured synchronising merge)
            # for the branches its split activated.
            specs[task.id] = Join(spec, task.id, split_task=task.split_of if task.join == "or" else None)
        elif task.split == "xor":
            specs[task.id] = ExclusiveChoice(spec, task.id)
        elif task.split == "or":
            specs[task.id] = MultiChoice(spec, task.id)
        else:
            specs[task.id] = Simple(spec, task.id)
    spec.start.connect(specs[net.first])
    for task in net.tasks:
        source = specs[task.id]
        for flow in task.flows:
            if flow.to == END:
                continue
            target = specs[flow.to]
            if task.split == "xor" and flow.default:
                source.connect(target)
            elif task.split in ("xor", "or"):
                source.connect_if(_operator(flow.predicate), target)
            else:
                source.connect(target)
    return spec


def run_case(spec: WorkflowSpec, net: Net, stop_after: tuple[str, int] | None = None) -> tuple[Counter[str], Workflow]:
    """Run one workflow of `spec` to the end, completing each ready task (with the net's data) as a
    client would; returns how often each of the net's tasks completed, and the workflow. With
    `stop_after=(task, n)` the run stops right after the n-th completion of that task.

    After each task the driver queues only that task's ready children (the cheapest correct way to
    follow SpiffWorkflow's task tree; first in, first out like the KNHK driver's rounds), and scans
    the tree only when that queue runs dry.
    """
    workflow = Workflow(spec)
    data_for = net.data_for
    visits: Counter[str] = Counter()
    frontier = deque(workflow.get_tasks(state=READY))
    while True:
        while frontier:
            task = frontier.popleft()
            if task.state != READY:
                continue
            name = task.task_spec.name
            visit = visits[name] = visits[name] + 1
            data = None if data_for is None else data_for(name, visit)
            if data:
                task.set_data(**data)
            task.run()
            if stop_after is not None and stop_after == (name, visit):
                visits.pop("Start", None)
                return visits, workflow
            frontier.extend(child for child in task.children if child.state == READY)
        frontier = deque(workflow.get_tasks(state=READY))
        if not frontier:
            break
    if not workflow.is_completed():
        raise RuntimeError(f"SpiffWorkflow {net.name}: stuck with unfinished tasks")
    visits.pop("Start", None)  # SpiffWorkflow's own start task is not one of the net's
    return visits, workflow


def orjoin_decision(spec: WorkflowSpec, net: Net, join_task: str, stop_after: tuple[str, int]) -> Callable[[], bool]:
    """One synchronising-merge decision of SpiffWorkflow's Join `join_task` (structured: it looks at
    the branches its split activated), in the state right after `stop_after`; the returned function
    answers whether the join may fire."""
    _, workflow = run_case(spec, net, stop_after)
    waiting = [task for task in workflow.get_tasks(state=TaskState.WAITING) if task.task_spec.name == join_task]
    if not waiting:
        raise RuntimeError(f"SpiffWorkflow {net.name}: {join_task} is not waiting after {stop_after}")
    task = waiting[0]
    check = task.task_spec._check_threshold_structured
    return lambda: check(task)[0]
