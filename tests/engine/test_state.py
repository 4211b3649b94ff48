"""State round trip: serialise at any step, restore, continue -> the same trace as without the break."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from knhk.engine import Case, EngineError, Executor, compile_spec
from knhk.engine.importers import load_spec_file

PATTERN_SPECS = sorted((Path(__file__).resolve().parents[2] / "knhk" / "engine" / "pattern_specs").glob("*.json"))

MIXED = {
    "id": "mixed",
    "variables": [{"name": "items", "type": "array", "initial": ["a", "b", "c"]}, {"name": "out", "type": "array"}],
    "conditions": [
        {"id": "start", "type": "input", "flows": ["S"]},
        {"id": "pick", "flows": ["D1", "D2"]},
        {"id": "end", "type": "output"},
    ],
    "tasks": [
        {"id": "S", "flows": ["M", "P", "pick"]},
        {"id": "M", "flows": ["E"], "multi_instance": {"min": 1, "max": 5, "threshold": 2, "query": "items",
                                                        "variable": "item", "to": "out"}},
        {"id": "P", "subnet": "Sub", "flows": ["E"]},
        {"id": "D1", "flows": ["E"]},
        {"id": "D2", "flows": ["E"], "cancels": ["P"]},
        {"id": "E", "join": "or", "flows": ["end"]},
    ],
    "nets": [{
        "id": "Sub",
        "conditions": [{"id": "i", "type": "input", "flows": ["X"]}, {"id": "o", "type": "output"}],
        "tasks": [{"id": "X", "flows": ["Y"]}, {"id": "Y", "flows": ["o"]}],
    }],
}  # fmt: skip


def step(case: Case, rng: random.Random) -> bool:
    """One random move: start an enabled item, or complete a started leaf item. False when stuck."""
    enabled = [item for item in case.items.values() if item.state == "enabled"]
    started = [item for item in case.items.values() if item.state == "started" and item.kind in ("manual", "automated")]
    moves = [("start", item.id) for item in enabled] + [("complete", item.id) for item in started]
    if case.status != "running" or not moves:
        return False
    action, item_id = rng.choice(moves)
    if action == "start":
        case.start(item_id)
    else:
        case.complete(item_id, {"n": rng.randint(0, 9)})
    return True


def events(case: Case) -> list[tuple]:
    return [(e.kind, e.item_id, e.task_id, json.dumps(e.payload, sort_keys=True)) for e in case.drain_events()]


def run(case: Case, rng: random.Random, steps: int) -> tuple[list[tuple], int]:
    """Up to `steps` random moves; returns the events (then status and marking) and the moves made."""
    trace: list[tuple] = []
    made = 0
    while made < steps and step(case, rng):
        made += 1
        trace.extend(events(case))
    return [*trace, ("end", case.status, json.dumps(case.marking(), sort_keys=True))], made


def check_round_trip_at_every_step(executor: Executor, seed: int, limit: int = 200) -> None:
    reference = executor.start_case("c", {})
    reference.drain_events()
    expected, moves = run(reference, random.Random(seed), limit)
    for cut in range(moves + 1):
        rng = random.Random(seed)
        case = executor.start_case("c", {})
        case.drain_events()
        before, _ = run(case, rng, cut)
        state = json.loads(json.dumps(case.to_state()))
        restored = executor.restore(state)
        assert restored.to_state() == state
        after, _ = run(restored, rng, limit - cut)
        assert before[:-1] + after == expected, f"diverged after a break at move {cut}"


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_round_trip_mixed_spec(seed: int) -> None:
    check_round_trip_at_every_step(compile_spec(MIXED), seed)


@pytest.mark.skipif(not PATTERN_SPECS, reason="no pattern specs in knhk/engine/pattern_specs yet")
@pytest.mark.parametrize("path", PATTERN_SPECS, ids=[path.stem for path in PATTERN_SPECS])
def test_round_trip_pattern_specs(path: Path) -> None:
    executor = compile_spec(load_spec_file(path))
    check_round_trip_at_every_step(executor, 7)


def test_state_is_compact_json() -> None:
    case = compile_spec(MIXED).start_case("c-1", {})
    item = next(iter(case.items.values()))
    case.start(item.id)
    case.complete(item.id, {})
    state = case.to_state()
    assert state["v"] == 1 and state["case"] == "c-1" and state["status"] == "running"
    assert state["nets"][0]["marking"] == {"pick": 1, "S__M": 1, "S__P": 1}
    assert {entry["task"] for entry in state["items"]} == {"M", "P", "D1", "D2"}
    json.dumps(state)


def test_restore_rejects_state_of_another_spec() -> None:
    case = compile_spec(MIXED).start_case("c", {})
    other = compile_spec({**MIXED, "id": "other"})
    with pytest.raises(EngineError) as error:
        other.restore(case.to_state())
    assert error.value.code == "invalid"
    with pytest.raises(EngineError):
        compile_spec(MIXED).restore({"v": 99})


def test_a_state_without_root_data_restores_with_the_data_given() -> None:
    executor = compile_spec({
        "id": "d", "variables": [{"name": "n", "type": "integer", "initial": 1, "usage": "both"}],
        "conditions": [{"id": "i", "type": "input", "flows": ["a"]}, {"id": "o", "type": "output"}],
        "tasks": [{"id": "a", "flows": ["b"]}, {"id": "b", "flows": ["o"]}],
    })  # fmt: skip
    case = executor.start_case("c", {"n": 5})
    lean = json.loads(json.dumps(case.to_state(root_data=False)))
    assert "data" not in lean["nets"][0]
    restored = executor.restore(lean, root_data={"n": 5})
    assert restored.to_state() == json.loads(json.dumps(case.to_state()))
    with pytest.raises(EngineError, match="does not fit"):
        executor.restore(lean)  # the data must come from somewhere
