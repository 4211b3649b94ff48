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
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from knhk.engine.compile import AND

if TYPE_CHECKING:
    from knhk.engine.runtime import NetInstance

__all__ = ["orjoin_enabled", "may_be_marked"]


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
    return not may_be_marked(instance, task_index) & empty
