"""The OR-join (WCP-38): enabled when no token can still reach an empty preset condition."""

from __future__ import annotations

import pytest

from knhk.engine import Case, compile_spec
from knhk.engine.orjoin import can_reach, may_be_marked, orjoin_enabled


def start(tasks: list[dict], nets: list[dict] | None = None) -> Case:
    document = {
        "id": "oj",
        "conditions": [{"id": "start", "type": "input", "flows": ["S"]}, {"id": "end", "type": "output"}],
        "tasks": tasks,
        "nets": nets or [],
    }
    return compile_spec(document).start_case("c", {})


def item_of(case: Case, task: str) -> str:
    (item_id,) = [item.id for item in case.items.values() if item.task == task and item.parent is None]
    return item_id


def do(case: Case, task: str) -> None:
    item_id = item_of(case, task)
    case.start(item_id)
    case.complete(item_id, {})


def enabled(case: Case) -> list[str]:
    return sorted(item.task for item in case.enabled_items())


def e_enabled(case: Case) -> bool:
    """What the OR-join analysis itself says about task E of the root net."""
    root = case.root
    assert root is not None
    return orjoin_enabled(root, root.net.task_index["E"])


LOOP = [
    {"id": "S", "flows": ["A", "B"]},
    # A loops back on itself with an AND-split; its other branch reaches E through C
    {"id": "A", "flows": ["A", "C"]},
    {"id": "B", "flows": ["E"]},
    {"id": "C", "flows": ["E"]},
    {"id": "E", "join": "or", "flows": ["end"]},
]


def test_orjoin_in_a_loop_waits_while_the_loop_can_still_reach_it() -> None:
    case = start(LOOP)
    do(case, "S")
    do(case, "B")
    assert not e_enabled(case), "A is enabled and can still put a token on C__E"
    a = item_of(case, "A")
    case.start(a)
    assert "E" not in enabled(case) and not e_enabled(case), "A runs"
    case.complete(a, {})
    assert enabled(case) == ["A", "C"]
    assert not e_enabled(case), "after A completes, C (and A again) can still reach E"
    do(case, "A")
    assert "E" not in enabled(case)
    do(case, "C")
    assert "E" in enabled(case), "every preset condition of E is marked"


def test_orjoin_next_to_cancellation_fires_once_the_cancelled_branch_is_gone() -> None:
    case = start([
        {"id": "S", "flows": ["B", "C", "K"]},
        {"id": "B", "flows": ["E"]},
        {"id": "C", "flows": ["E"]},
        {"id": "K", "flows": ["E"], "cancels": ["C"]},
        {"id": "E", "join": "or", "flows": ["end"]},
    ])  # fmt: skip
    do(case, "S")
    do(case, "B")
    assert enabled(case) == ["C", "K"]
    k = item_of(case, "K")
    case.start(k)
    assert not e_enabled(case), "C can still fire"
    case.complete(k, {})
    assert enabled(case) == ["E"], "C was withdrawn and its token removed: nothing can reach C__E"
    do(case, "E")
    assert case.status == "completed"


def test_orjoin_at_a_loop_entry_is_enabled_by_the_first_token() -> None:
    document = {
        "id": "entry",
        "conditions": [{"id": "start", "type": "input", "flows": ["E"]}, {"id": "end", "type": "output"}],
        "tasks": [
            {"id": "E", "join": "or", "flows": ["D"]},
            {"id": "D", "split": "xor", "flows": [{"to": "E", "predicate": "false()"}, {"to": "end", "default": True}]},
        ],
    }  # fmt: skip
    case = compile_spec(document).start_case("c", {})
    assert enabled(case) == ["E"], "only E itself could bring a token back to its loop input"


def test_orjoin_waits_for_a_running_subnet() -> None:
    sub = {"id": "Sub", "conditions": [{"id": "i", "type": "input", "flows": ["X"]}, {"id": "o", "type": "output"}],
           "tasks": [{"id": "X", "flows": ["o"]}]}  # fmt: skip
    case = start(
        [
            {"id": "S", "flows": ["B", "P"]},
            {"id": "B", "flows": ["E"]},
            {"id": "P", "subnet": "Sub", "flows": ["E"]},
            {"id": "E", "join": "or", "flows": ["end"]},
        ],
        [sub],
    )
    do(case, "S")
    case.start(item_of(case, "P"))
    do(case, "B")
    assert enabled(case) == ["X"], "P is busy running its subnet: E waits"
    do(case, "X")
    assert enabled(case) == ["E"]


def test_orjoin_after_xor_choice_does_not_wait_for_the_branch_not_taken() -> None:
    case = start([
        {"id": "S", "split": "xor", "flows": [{"to": "B", "predicate": "true()", "ordering": 0}, {"to": "C", "default": True}]},
        {"id": "B", "flows": ["E"]},
        {"id": "C", "flows": ["E"]},
        {"id": "E", "join": "or", "flows": ["end"]},
    ])  # fmt: skip
    do(case, "S")
    do(case, "B")
    assert enabled(case) == ["E"]


def test_may_be_marked_covers_marked_and_reachable_conditions() -> None:
    case = start(LOOP)
    do(case, "S")
    root = case.root
    assert root is not None
    net = root.net
    may = may_be_marked(root, net.task_index["E"])
    names = {net.condition_ids[i] for i in range(len(net.condition_ids)) if may >> i & 1}
    assert names == {"S__A", "S__B", "A__A", "A__C", "B__E", "C__E"}


# Upstream of E, the AND-join T needs both sides of X's XOR choice, so it can never fire: the
# fixpoint (which ignores that the two sides exclude each other) says a token may still reach E,
# the exact search says none can, as YAWL's reachability analysis does.
EXCLUSIVE = [
    {"id": "S", "flows": ["B", "X"]},
    {"id": "B", "flows": ["E"]},
    {"id": "X", "split": "xor", "flows": [{"to": "Y", "default": True}, {"to": "Z", "predicate": "true()", "ordering": 0}]},
    {"id": "Y", "flows": ["T"]},
    {"id": "Z", "flows": ["T"]},
    {"id": "T", "join": "and", "flows": ["E"]},
    {"id": "E", "join": "or", "flows": ["end"]},
]  # fmt: skip


def test_exact_search_enables_orjoin_when_the_fixpoint_overestimates() -> None:
    case = start(EXCLUSIVE)
    do(case, "S")
    do(case, "B")
    root = case.root
    assert root is not None
    e_index = root.net.task_index["E"]
    e_inputs = root.net.tasks[e_index].preset_mask
    assert may_be_marked(root, e_index) & e_inputs & ~root.mask, "the fixpoint alone would wait"
    assert "E" in enabled(case), "no reachable marking puts a token on T__E"


def test_exact_search_gives_up_at_its_limit_and_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    import knhk.engine.orjoin as orjoin

    monkeypatch.setattr(orjoin, "SEARCH_LIMIT", 0)
    case = start(EXCLUSIVE)
    do(case, "S")
    do(case, "B")
    assert "E" not in enabled(case)


def test_exact_search_follows_busy_tasks_and_cancellation() -> None:
    case = start([
        {"id": "S", "flows": ["B", "C", "K"]},
        {"id": "B", "flows": ["E"]},
        {"id": "C", "flows": ["E"]},
        {"id": "K", "flows": ["E"], "cancels": ["C"]},
        {"id": "E", "join": "or", "flows": ["end"]},
    ])  # fmt: skip
    do(case, "S")
    do(case, "B")
    root = case.root
    assert root is not None
    e_index = root.net.task_index["E"]
    empty = root.net.tasks[e_index].preset_mask & ~root.mask
    assert can_reach(root, e_index, empty), "C can still fire before K cancels it"
    case.start(item_of(case, "C"))
    assert can_reach(root, e_index, empty), "C is busy: it will complete"


# An OR block nested in an OR block, inside a loop (L -> S -> {A, Split2 -> {B, C} -> J2} -> J1 -> X,
# X loops back to L when x = 0).
NESTED_IN_LOOP = [
    {"id": "S", "flows": ["L"]},
    {"id": "L", "join": "xor", "flows": ["O1"]},
    {"id": "O1", "split": "or", "flows": [
        {"to": "A", "predicate": "x >= 0", "ordering": 0, "default": True},
        {"to": "O2", "predicate": "x >= 1", "ordering": 1}]},
    {"id": "A", "flows": ["J1"]},
    {"id": "O2", "split": "or", "flows": [
        {"to": "B", "predicate": "x >= 0", "ordering": 0, "default": True},
        {"to": "C", "predicate": "x >= 2", "ordering": 1}]},
    {"id": "B", "flows": ["J2"]},
    {"id": "C", "flows": ["J2"]},
    {"id": "J2", "join": "or", "flows": ["J1"]},
    {"id": "J1", "join": "or", "flows": ["X"]},
    {"id": "X", "split": "xor", "flows": [{"to": "L", "predicate": "x = 0", "ordering": 0},
                                          {"to": "end", "default": True}]},
]  # fmt: skip


def _step(case: Case, task: str, x: int) -> None:
    item_id = item_of(case, task)
    case.start(item_id)
    case.complete(item_id, {"x": x})


def test_nested_or_joins_in_a_loop_deadlock_as_in_yawl() -> None:
    """YAWL's OR-join analysis treats every other OR-join as a XOR-join (E2WFOJNet.removeOrJoin),
    so with the outer join J1 holding A's token, the analysis of the inner join J2 lets J1 fire,
    go round the loop and reach J2's empty branch (C): J2 waits, J1 waits for J2, and the case
    deadlocks, as in the reference engine (while A has not completed, J1 may still fire in J2's
    analysis just the same). With both inner branches taken, or no inner OR block, it completes."""
    case = start(NESTED_IN_LOOP)
    for task, x in [("S", 0), ("L", 0), ("O1", 1), ("A", 0), ("O2", 0), ("B", 0)]:
        _step(case, task, x)
    assert case.status == "deadlocked"
    stuck = next(e for e in case.drain_events() if e.kind == "case_deadlocked").payload["stuck"]
    assert {"J1", "J2"} <= set(stuck)

    case = start(NESTED_IN_LOOP)  # A not completed yet: the same
    for task, x in [("S", 0), ("L", 0), ("O1", 1), ("O2", 0), ("B", 0)]:
        _step(case, task, x)
    assert "J2" not in enabled(case)

    case = start(NESTED_IN_LOOP)  # only A's branch, twice round the loop: J1 fires each time
    for task, x in [("S", 0), ("L", 0), ("O1", 0), ("A", 0), ("J1", 0), ("X", 0), ("L", 0), ("O1", 0),
                    ("A", 0), ("J1", 3), ("X", 3)]:  # fmt: skip
        _step(case, task, x)
    assert case.status == "completed"

    case = start(NESTED_IN_LOOP)  # the inner OR-split takes both branches: J2's preset fills up
    for task, x in [("S", 0), ("L", 0), ("O1", 1), ("A", 0), ("O2", 2), ("B", 0), ("C", 0), ("J2", 0),
                    ("J1", 3), ("X", 3)]:  # fmt: skip
        _step(case, task, x)
    assert case.status == "completed"
