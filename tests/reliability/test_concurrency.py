"""Concurrency on PostgreSQL: real threads racing real HTTP requests at one case.

- 50 simultaneous completions of one work item: exactly one 200, 409 for every other.
- Simultaneous completions of the branches into an AND-join, an OR-join and a discriminator:
  the join fires exactly once (one work item of the task after it, one item_enabled event).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import Call

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PATTERNS = Path(__file__).resolve().parents[2] / "knhk" / "engine" / "pattern_specs"
ROUNDS = 3


def race(calls: list[tuple[str, str, Any]], call: Call) -> list[tuple[int, Any]]:
    """Send the requests at once from one thread each (released together by a barrier)."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[int, Any] | None] = [None] * len(calls)

    def run(index: int, method: str, path: str, body: Any) -> None:
        barrier.wait()
        results[index] = call(method, path, body)

    threads = [threading.Thread(target=run, args=(index, *request)) for index, request in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert all(result is not None for result in results), "a request thread did not finish"
    return results  # type: ignore[return-value]


def register(call: Call, spec: dict) -> str:
    status, body = call("POST", "/api/v1/workflows", {"spec": spec})
    assert status == 201, body
    return body["spec_id"]


def start(call: Call, spec_id: str) -> dict:
    status, case = call("POST", "/api/v1/cases", {"spec_id": spec_id, "data": {}})
    assert status == 201, case
    return case


def items_of(call: Call, case_id: str, task: str) -> list[dict]:
    status, page = call("GET", f"/api/v1/work-items?case={case_id}&task={task}&page_size=500")
    assert status == 200, page
    return page["results"]


def history(call: Call, case_id: str) -> list[dict]:
    status, page = call("GET", f"/api/v1/cases/{case_id}/history?page_size=500")
    assert status == 200, page
    return page["results"]


def complete_path(item: dict) -> str:
    return f"/api/v1/work-items/{item['id']}/complete"


def test_fifty_simultaneous_completions_of_one_item_give_one_success(pg_call: Call) -> None:
    spec_id = register(pg_call, {
        "id": "one-item",
        "conditions": [{"id": "i", "type": "input", "flows": ["A"]}, {"id": "o", "type": "output"}],
        "tasks": [{"id": "A", "flows": ["B"]}, {"id": "B", "flows": ["o"]}],
    })  # fmt: skip
    for _ in range(ROUNDS):
        case = start(pg_call, spec_id)
        (item,) = case["work_items"]
        results = race([("POST", complete_path(item), {"data": {"by": n}}) for n in range(50)], pg_call)
        statuses = Counter(status for status, _ in results)
        assert statuses == {200: 1, 409: 49}, statuses
        assert all(body["error"]["code"] == "conflict" for status, body in results if status == 409)
        events = history(pg_call, case["case_id"])
        completions = [e for e in events if e["kind"] == "item_completed" and e["task_id"] == "A"]
        assert len(completions) == 1
        assert len(items_of(pg_call, case["case_id"], "B")) == 1  # the case advanced once
        status, detail = pg_call("GET", f"/api/v1/cases/{case['case_id']}")
        assert detail["data"]["by"] in range(50)  # one completion's output, merged once
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


def branches_spec(spec_id: str, split: str, width: int) -> dict:
    """i -> fork (split) -> B0..Bn-1 -> J (join of the same kind) -> o; J is a manual task to count."""
    flows: list[Any] = [f"B{n}" for n in range(width)]
    extra: list[dict] = []
    if split == "or":  # every branch's predicate holds; the default flow (taken when none does) is not taken
        flows = [{"to": f"B{n}", "predicate": "true()", "ordering": n} for n in range(width)]
        flows.append({"to": "none", "default": True, "ordering": width})
        extra = [{"id": "none", "flows": ["J"]}]
    return {
        "id": spec_id,
        "conditions": [{"id": "i", "type": "input", "flows": ["fork"]}, {"id": "o", "type": "output"}],
        "tasks": [
            {"id": "fork", "kind": "routing", "split": split, "flows": flows},
            *({"id": f"B{n}", "flows": ["J"]} for n in range(width)),
            *extra,
            {"id": "J", "join": split, "flows": ["o"]},
        ],
    }


@pytest.mark.parametrize("join", ["and", "or"])
def test_simultaneous_branch_completions_fire_the_join_once(pg_call: Call, join: str) -> None:
    width = 12
    spec_id = register(pg_call, branches_spec(f"{join}-join-race", join, width))
    for _ in range(ROUNDS):
        case = start(pg_call, spec_id)
        branches = [item for item in case["work_items"] if item["task_id"].startswith("B")]
        assert len(branches) == width
        results = race([("POST", complete_path(item), {"data": {}}) for item in branches], pg_call)
        assert [status for status, _ in results] == [200] * width, results
        joined = items_of(pg_call, case["case_id"], "J")
        assert len(joined) == 1, joined
        events = history(pg_call, case["case_id"])
        assert sum(1 for e in events if e["kind"] == "item_enabled" and e["task_id"] == "J") == 1
        assert pg_call("POST", complete_path(joined[0]), {"data": {}})[0] == 200
        status, detail = pg_call("GET", f"/api/v1/cases/{case['case_id']}")
        assert detail["state"] == "completed", detail


def test_simultaneous_arrivals_at_a_discriminator_fire_it_once(pg_call: Call) -> None:
    spec = json.loads((PATTERNS / "wcp09_structured_discriminator.json").read_text())
    spec_id = register(pg_call, spec)
    for _ in range(ROUNDS):
        case = start(pg_call, spec_id)
        (first,) = case["work_items"]
        status, _ = pg_call("POST", complete_path(first), {"data": {}})
        assert status == 200
        status, detail = pg_call("GET", f"/api/v1/cases/{case['case_id']}")
        arrivals = [item for item in detail["work_items"] if item["task_id"] in ("B", "C", "D")]
        assert len(arrivals) == 3
        results = race([("POST", complete_path(item), {"data": {}}) for item in arrivals], pg_call)
        assert [status for status, _ in results] == [200] * 3, results
        fired = items_of(pg_call, case["case_id"], "F")
        assert len(fired) == 1, fired
        assert pg_call("POST", complete_path(fired[0]), {"data": {}})[0] == 200
        status, detail = pg_call("GET", f"/api/v1/cases/{case['case_id']}")
        assert detail["state"] == "completed", detail
        events = history(pg_call, case["case_id"])
        assert sum(1 for e in events if e["kind"] == "item_completed" and e["task_id"] == "F") == 1
