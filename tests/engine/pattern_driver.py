"""A small driver for the pattern tests: run a pattern spec's case by task id and record what happened."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from knhk.engine import Case, Event, WorkItem, get_executor
from knhk.engine.patterns import load_pattern_spec


class Run:
    """One case of a pattern spec, driven by task id, with every event it produced kept in order."""

    def __init__(self, wcp: int, data: dict[str, Any] | None = None) -> None:
        self.executor = get_executor(load_pattern_spec(wcp))
        self.case: Case = self.executor.start_case(f"wcp{wcp:02d}", data)
        self.events: list[Event] = []
        self._collect()

    def _collect(self) -> None:
        self.events.extend(self.case.drain_events())

    # ------------------------------------------------------------------ what is there
    @property
    def status(self) -> str:
        return self.case.status

    def items(self, task: str | None = None, state: str | None = None) -> list[WorkItem]:
        """Live work items, MI parents and composite items included, optionally of one task/state."""
        return [
            item
            for item in self.case.items.values()
            if (task is None or item.task == task) and (state is None or item.state == state)
        ]

    def enabled(self) -> set[str]:
        """The tasks that have an enabled work item."""
        return {item.task for item in self.items(state="enabled")}

    def started(self) -> list[str]:
        """The tasks of started work items that people work on (not MI parents or composites)."""
        return sorted(item.task for item in self.items(state="started") if _workable(item))

    def instances(self, task: str) -> list[WorkItem]:
        """The live instances of an MI task."""
        return [item for item in self.items(task) if item.parent is not None]

    # ------------------------------------------------------------------ what happened
    def tasks_with(self, kind: str) -> list[str]:
        """Task ids of the events of one kind, in order."""
        return [event.task_id for event in self.events if event.kind == kind and event.task_id]

    @property
    def trace(self) -> list[str]:
        """Completed tasks in order: routing tasks included, each MI instance counted, MI parents not."""
        return [
            event.task_id
            for event in self.events
            if event.kind == "item_completed" and (event.payload or {}).get("kind") != "mi"
        ]

    def counts(self) -> Counter[str]:
        return Counter(self.trace)

    @property
    def withdrawn(self) -> list[str]:
        return self.tasks_with("item_withdrawn")

    # ------------------------------------------------------------------ acting
    def start(self, task: str) -> WorkItem:
        """Start the enabled work item of `task` (for an MI task: its parent, creating the instances)."""
        candidates = [item for item in self.items(task, "enabled") if item.parent is None]
        candidates = candidates or self.items(task, "enabled")
        assert candidates, f"{task} is not enabled; enabled: {sorted(self.enabled())}"
        item = self.case.start(candidates[0].id)
        self._collect()
        return item

    def complete(self, task: str, data: dict[str, Any] | None = None) -> WorkItem:
        """Complete one work item of `task`: a started one if any, else start an enabled one first.

        An enabled MI task is started (creating its instances) and one instance is completed."""
        item = self._workable(task, "started") or self._workable(task, "enabled")
        if item is None:
            parents = [i for i in self.items(task, "enabled") if i.kind == "mi" and i.parent is None]
            assert parents, f"{task} has no work item; enabled: {sorted(self.enabled())}"
            self.start(task)
            item = self._workable(task, "enabled")
            assert item is not None, f"MI task {task} created no instances"
        if item.state == "enabled":
            self.case.start(item.id)
        self.case.complete(item.id, data)
        self._collect()
        return item

    def complete_all(self, tasks: Iterable[str]) -> None:
        for task in tasks:
            self.complete(task)

    def cancel(self) -> None:
        self.case.cancel()
        self._collect()

    def add_instance(self, task: str, data: Any = None) -> WorkItem:
        parent = next(item for item in self.items(task) if item.kind == "mi" and item.parent is None)
        child = self.case.add_instance(parent.id, data)
        self._collect()
        return child

    def round_trip(self) -> None:
        """Replace the case by one restored from its state serialised as JSON."""
        self._collect()
        state = json.loads(json.dumps(self.case.to_state()))
        self.case = self.executor.restore(state)

    def drive(self, data: dict[str, dict[str, Any]] | None = None, prefer: Iterable[str] = (),
              max_steps: int = 500, round_trips: bool = False) -> None:  # fmt: skip
        """Start and complete enabled work until the case stops or nothing is enabled.

        Picks the first enabled item of the earliest task in `prefer`, else the oldest enabled item;
        `data` gives each task's completion data. With `round_trips`, the case is serialised and
        restored before every step."""
        data = data or {}
        order = {task: rank for rank, task in enumerate(prefer)}
        for _ in range(max_steps):
            if round_trips:
                self.round_trip()
            enabled = self.items(state="enabled")
            if self.status != "running" or not enabled:
                return
            item = min(enabled, key=lambda i: (order.get(i.task, len(order)), int(i.id)))
            self.case.start(item.id)
            if _workable(item) and item.id in self.case.items:
                self.case.complete(item.id, data.get(item.task))
            self._collect()
        raise AssertionError(f"case still running after {max_steps} steps; trace {self.trace}")

    def _workable(self, task: str, state: str) -> WorkItem | None:
        return next((item for item in self.items(task, state) if _workable(item)), None)


def _workable(item: WorkItem) -> bool:
    """A work item a person starts and completes (not an MI parent, not a running subnet)."""
    return not (item.kind == "mi" and item.parent is None) and item.kind != "composite"
