"""The OR-join decision (WCP-38, general synchronising merge).

An OR-join task is enabled when at least one of its preset conditions is marked and no token can
still reach one of its empty preset conditions. "Can still reach" is a forward fixpoint over
bitsets, starting from the current marking:

- a condition *may be marked* if it is marked now, or is in the postset of a task that *may fire*;
- a task may fire if it is busy (a started work item, a running subnet or MI instances), or if its
  join could be satisfied by conditions that may be marked (AND: all of its preset; XOR/OR: one);
- the OR-join under analysis never fires in the analysis.

This over-approximates what can happen (token counts and cancellation are ignored, so it only ever
waits longer than needed, never fires too early); it gives YAWL's answers on the nets that matter:
loops (a busy or re-enabled task in a loop keeps the OR-join waiting) and cancellation (once a
cancellation set has removed the tokens, the runtime re-checks every OR-join of the net).

When the fixpoint says "a token may still come", an exact search confirms it (YAWL decides by
reachability): it explores the markings reachable from the current one, tasks firing atomically
(consume, cancellation set, split; XOR-joins and XOR-splits branch on each choice, an OR-split
produces on every flow, which covers all its choices), busy tasks completing, and the OR-join
itself never firing. If no reachable marking puts a token on an empty preset condition, the join
is enabled after all (e.g. an AND-join upstream whose inputs come from the two sides of one XOR
choice can never fire). Beyond SEARCH_LIMIT markings the search stops and the join keeps waiting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from knhk.engine.compile import AND, XOR

if TYPE_CHECKING:
    from knhk.engine.runtime import NetInstance

__all__ = ["orjoin_enabled", "may_be_marked", "can_reach", "SEARCH_LIMIT"]

SEARCH_LIMIT = 2000  # markings the exact search may visit before it gives up (and the join waits)
CACHE_SIZE = 4096  # remembered answers per compiled net (the answer depends on the state only)


def may_be_marked(instance: NetInstance, excluded_task: int) -> int:
    """Bitmask of the conditions that are marked or may still become marked in this net instance."""
    tasks = instance.net.tasks
    items = instance.items
    may = instance.mask
    fired = 1 << excluded_task
    for ctask in tasks:
        item = items[ctask.index]
        if item is not None and item.state == "started" and ctask.index != excluded_task:
            fired |= 1 << ctask.index
            may |= ctask.postset_mask
    changed = True
    while changed:
        changed = False
        for ctask in tasks:
            bit = 1 << ctask.index
            if fired & bit:
                continue
            preset = ctask.preset_mask
            if (may & preset == preset) if ctask.join == AND else (may & preset):
                fired |= bit
                if ctask.postset_mask & ~may:
                    may |= ctask.postset_mask
                    changed = True
    return may


def orjoin_enabled(instance: NetInstance, task_index: int) -> bool:
    """Whether the OR-join task `task_index` is enabled in this net instance's current state."""
    preset = instance.net.tasks[task_index].preset_mask
    marked = instance.mask & preset
    if not marked:
        return False
    empty = preset & ~marked
    if not empty:
        return True
    if not may_be_marked(instance, task_index) & empty:
        return True
    return not can_reach(instance, task_index, empty)


State = tuple[tuple[int, ...], frozenset[int]]  # (tokens per condition, busy tasks)


def can_reach(instance: NetInstance, excluded_task: int, targets: int) -> bool:
    """Whether a marking reachable from the current state marks one of the `targets` conditions
    (breadth first, `excluded_task` never fires); True when the search exceeds SEARCH_LIMIT."""
    busy = frozenset(
        index for index, item in enumerate(instance.items) if item is not None and item.state == "started"
    )
    start: State = (tuple(instance.marking), busy)
    cache = instance.net.reach_cache
    key = (excluded_task, targets, start)
    answer = cache.get(key)
    if answer is None:
        answer = _search(instance.net.tasks, start, excluded_task, targets)
        if len(cache) >= CACHE_SIZE:
            cache.clear()
        cache[key] = answer
    return answer


def _search(tasks: list, start: State, excluded_task: int, targets: int) -> bool:
    seen = {start}
    frontier = [start]
    wanted = _bits(targets)
    while frontier:
        next_frontier = []
        for marking, busy in frontier:
            for successor in _successors(tasks, marking, busy, excluded_task):
                if any(successor[0][c] for c in wanted):
                    return True
                if successor not in seen:
                    if len(seen) >= SEARCH_LIMIT:
                        return True
                    seen.add(successor)
                    next_frontier.append(successor)
        frontier = next_frontier
    return False


def _bits(mask: int) -> list[int]:
    return [index for index in range(mask.bit_length()) if mask >> index & 1]


def _successors(tasks: list, marking: tuple[int, ...], busy: frozenset[int], excluded: int) -> list[State]:
    found: list[State] = []
    for ctask in tasks:
        index = ctask.index
        if index in busy:  # a started task completes
            _complete(ctask, list(marking), busy - {index}, found)
            continue
        if index == excluded:
            continue
        preset = ctask.preset
        if ctask.join == AND:
            if all(marking[c] for c in preset):
                after = list(marking)
                for c in preset:
                    after[c] -= 1
                _complete(ctask, after, busy, found)
        elif ctask.join == XOR:
            for c in preset:
                if marking[c]:
                    after = list(marking)
                    after[c] -= 1
                    _complete(ctask, after, busy, found)
        elif any(marking[c] for c in preset):
            after = list(marking)
            for c in preset:
                if after[c]:
                    after[c] -= 1
            _complete(ctask, after, busy, found)
    return found


def _complete(ctask: Any, marking: list[int], busy: frozenset[int], found: list[State]) -> None:
    """The task exits: cancellation set, then the split (each XOR choice is its own successor)."""
    if ctask.has_cancel:
        for c in _bits(ctask.cancel_mask):
            marking[c] = 0
        busy = busy - set(ctask.cancel_tasks)
    if ctask.split == XOR and len(ctask.postset_conditions) > 1:
        for c in ctask.postset_conditions:
            after = list(marking)
            after[c] += 1
            found.append((tuple(after), busy))
        return
    for c in ctask.postset_conditions:
        marking[c] += 1
    found.append((tuple(marking), busy))
