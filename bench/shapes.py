"""Engine-neutral benchmark nets, translated to KNHK specs (bench.engine) and SpiffWorkflow specs
(bench.spiff_models), so both engines run exactly the same tasks with the same data.

A `Net` is a list of tasks; every task is a work item a client starts and completes. Flows carry
simple predicates `(variable, op, value)` that both engines can express (XPath on the KNHK side,
SpiffWorkflow operators on the other). The work a client does on completion (the data it submits)
comes from `Net.data_for(task_id, visit)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Predicate = tuple[str, str, int]  # (variable, "eq" | "lt", integer)
DataFunction = Callable[[str, int], dict[str, int] | None]


@dataclass
class Flow:
    to: str  # a task id, or END for the output condition
    predicate: Predicate | None = None
    default: bool = False


@dataclass
class Task:
    id: str
    join: str = "xor"  # and | xor | or
    split: str = "and"  # and | xor | or
    flows: list[Flow] = field(default_factory=list)
    split_of: str | None = None  # the split an OR-join synchronises (SpiffWorkflow's split_task)


END = "__end__"


@dataclass
class Net:
    name: str
    first: str  # the task after the input condition
    tasks: list[Task]
    variables: dict[str, int] = field(default_factory=dict)
    data_for: DataFunction | None = None  # None: every task completes with no data

    def task(self, task_id: str) -> Task:
        return next(task for task in self.tasks if task.id == task_id)


def sequence(length: int = 100) -> Net:
    """t1 -> t2 -> ... -> tN."""
    tasks = [Task(f"t{i}", flows=[Flow(f"t{i + 1}")]) for i in range(1, length)]
    tasks.append(Task(f"t{length}", flows=[Flow(END)]))
    return Net(f"sequence{length}", "t1", tasks)


def and_split_join(branches: int = 50) -> Net:
    """split -AND-> b1..bN -AND-> join."""
    names = [f"b{i}" for i in range(1, branches + 1)]
    tasks = [Task("split", flows=[Flow(name) for name in names])]
    tasks += [Task(name, flows=[Flow("join")]) for name in names]
    tasks.append(Task("join", join="and", flows=[Flow(END)]))
    return Net(f"and{branches}", "split", tasks)


def _or_branches(visit: int) -> dict[str, int]:
    """The data the OR-split's task submits on its `visit`-th completion (1-based)."""
    a = int(visit % 2 == 0)
    b = int(visit % 3 == 0)
    return {"i": visit, "a": a, "b": b, "none": int(not (a or b))}


def or_loop(iterations: int = 20) -> Net:
    """A loop around an OR-split (predicates on data) into an OR-join, then an XOR loop test.

    Iteration k takes branch A when k is even, B when k is a multiple of 3, and the default C
    otherwise, so the OR-join waits for one or two branches.
    """
    tasks = [
        Task("split", split="or", flows=[
            Flow("A", ("a", "eq", 1)), Flow("B", ("b", "eq", 1)), Flow("C", ("none", "eq", 1), default=True),
        ]),
        Task("A", flows=[Flow("merge")]),
        Task("B", flows=[Flow("merge")]),
        Task("C", flows=[Flow("merge")]),
        Task("merge", join="or", split_of="split", flows=[Flow("check")]),
        Task("check", split="xor", flows=[Flow("split", ("i", "lt", iterations)), Flow("done", default=True)]),
        Task("done", flows=[Flow(END)]),
    ]

    def data_for(task_id: str, visit: int) -> dict[str, int] | None:
        return _or_branches(visit) if task_id == "split" else None

    net = Net(f"orloop{iterations}", "split", tasks, data_for=data_for)
    net.variables = {"i": 0, "a": 0, "b": 0, "none": 0}
    return net


def order_fulfillment_sized(loops: int = 2) -> Net:
    """A synthetic net the size of orderfulfillment.yawl's (~66 tasks): sequences, a 4-way AND region,
    a 3-way XOR choice, a 3-way OR region and a loop around the choice (taken `loops` times)."""
    tasks: list[Task] = []

    def chain(prefix: str, length: int, then: str) -> str:
        names = [f"{prefix}{i}" for i in range(1, length + 1)]
        for name, nxt in zip(names, names[1:] + [then], strict=True):
            tasks.append(Task(name, flows=[Flow(nxt)]))
        return names[0]

    # order entry: 8 tasks, then an AND region of 4 branches x 5 tasks.
    chain("order", 8, "prepare")
    tasks.append(Task("prepare", flows=[Flow(chain(f"p{b}_", 5, "prepared")) for b in "abcd"]))
    tasks.append(Task("prepared", join="and", flows=[Flow("route")]))
    # a loop around a 3-way XOR choice of carriers (3 x 5 tasks), merged by an XOR-join.
    tasks.append(Task("route", split="xor", flows=[
        Flow(chain("truck", 5, "routed"), ("carrier", "eq", 1)),
        Flow(chain("rail", 5, "routed"), ("carrier", "eq", 2)),
        Flow(chain("air", 5, "routed"), default=True),
    ]))
    tasks.append(Task("routed", split="xor", flows=[Flow("route", ("round", "lt", loops)), Flow("invoice", default=True)]))
    # a 3-way OR region (3 x 4 tasks) into an OR-join, then a closing sequence.
    tasks.append(Task("invoice", split="or", flows=[
        Flow(chain("bill", 4, "settled"), ("bill", "eq", 1)),
        Flow(chain("notify", 4, "settled"), ("notify", "eq", 1)),
        Flow(chain("archive", 4, "settled"), ("nothing", "eq", 1), default=True),
    ]))
    tasks.append(Task("settled", join="or", split_of="invoice", flows=[Flow(chain("close", 5, END))]))

    def data_for(task_id: str, visit: int) -> dict[str, int] | None:
        if task_id == "route":
            return {"round": visit, "carrier": 1 + visit % 3}
        if task_id == "invoice":
            return {"bill": 1, "notify": 1, "nothing": 0}
        return None

    net = Net(f"orderfulfillment_sized{len(tasks)}", "order1", tasks, data_for=data_for)
    net.variables = {"round": 0, "carrier": 0, "bill": 0, "notify": 0, "nothing": 0}
    return net
