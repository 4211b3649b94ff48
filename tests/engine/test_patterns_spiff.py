"""Independent check of the pattern specs against another engine's expected runs.

SpiffWorkflow's control-flow conformance suite (../shared/patterns/spiff-control-flow, see
../shared/README.md) gives, per pattern, the tasks its engine completes: one line per completed task,
indented two spaces per depth of its task tree (a child was enabled by its parent). For the patterns
whose spec here mirrors SpiffWorkflow's model (same task names, same choices), a case is driven to its
end and the multiset of completed tasks and the parent-before-child order are compared.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from pattern_driver import Run

SPIFF_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "patterns" / "spiff-control-flow"

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(
        not SPIFF_DIR.is_dir(),
        reason=f"SpiffWorkflow pattern suite not found at {SPIFF_DIR} (../shared absent)",
    ),
]

# SpiffWorkflow's own bookkeeping nodes, not tasks of the pattern
SPIFF_PSEUDO_TASKS = {"Start", "End", "ThreadStart"}


class Mirror(NamedTuple):
    """How a spec here mirrors a SpiffWorkflow model and the data that makes the same choices.

    In SpiffWorkflow's runs test_attribute1 != test_attribute2, so a condition comparing them is
    false; other equalities hold."""

    wcp: int
    start_data: dict[str, Any] | None = None
    data: dict[str, dict[str, Any]] | None = None  # completion data per task
    prefer: tuple[str, ...] = ()  # which enabled tasks to work on first
    ours_only: frozenset[str] = frozenset()  # our routing tasks SpiffWorkflow has no node for


MIRRORS: dict[str, Mirror] = {
    "sequence": Mirror(1),
    "synchronization": Mirror(3),
    # excl_choice_1: both conditions false -> default task_c1; excl_choice_2: 1 = 1 first -> task_d2
    "exclusive_choice": Mirror(4, data={"first": {"amount": 0, "express": "yes"}}),
    "simple_merge": Mirror(5, data={"first": {"route": ""}}),
    # e1: attr1 = attr1, e2: attr1 = attr2 (false), e3: attr2 = attr2
    "structured_synchronizing_merge": Mirror(7, start_data={"a": "yes", "b": "no", "c": "yes"}),
    "implicit_termination": Mirror(11, ours_only=frozenset({"done"})),
    "interleaved_routing": Mirror(40),
    # SpiffWorkflow's run takes branch one to its cancel node before branch two starts
    "explicit_termination": Mirror(43, prefer=("one1", "one2"), ours_only=frozenset({"split"})),
}


def read_path(name: str) -> list[tuple[str, str | None]]:
    """(task, parent task) for each completed task of a .path file, pseudo tasks left out."""
    result: list[tuple[str, str | None]] = []
    stack: list[str] = []  # stack[d]: the task last seen at depth d
    for line in (SPIFF_DIR / f"{name}.path").read_text().splitlines():
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        task = line.strip()
        del stack[depth:]
        stack.extend([""] * (depth - len(stack)))
        parent = next((t for t in reversed(stack) if t and t not in SPIFF_PSEUDO_TASKS), None)
        stack.append(task)
        if task not in SPIFF_PSEUDO_TASKS:
            result.append((task, parent))
    return result


def test_path_reader_follows_the_indentation() -> None:
    assert read_path("sequence") == [("first", None), ("second", "first"), ("last", "second")]


@pytest.mark.parametrize("name", sorted(MIRRORS))
def test_completed_tasks_match_spiffworkflow(name: str) -> None:
    mirror = MIRRORS[name]
    expected = read_path(name)
    run = Run(mirror.wcp, mirror.start_data)
    run.drive(data=mirror.data, prefer=mirror.prefer)
    assert run.status == "completed"
    ours = [task for task in run.trace if task not in mirror.ours_only]

    assert Counter(ours) == Counter(task for task, _ in expected)
    for task, parent in expected:
        if parent is not None:
            assert ours.index(parent) < ours.index(task), f"{parent} must complete before {task}"
