"""Nothing lost: a random mix of API operations, with the Celery worker restarted in the middle and a
pool process killed, then the database is checked against what every 2xx answer promised.

Marked `disruptive` (it restarts workers): .ci/run runs it alone at its end. The number of operations
is KNHK_REPLAY_OPERATIONS (default 10,000); the figures are printed at the end.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.reliability.conftest import require_broker

pytestmark = [pytest.mark.services, pytest.mark.disruptive, pytest.mark.django_db(transaction=True)]

OPERATIONS = int(os.environ.get("KNHK_REPLAY_OPERATIONS", "10000"))
TIME_BUDGET = float(os.environ.get("KNHK_REPLAY_SECONDS", "420"))  # stop early (and say so) past this
MIN_OPERATIONS = min(OPERATIONS, 2000)
SPEC = {
    "id": "ledger",
    "conditions": [{"id": "i", "type": "input", "flows": ["A"]}, {"id": "o", "type": "output"}],
    "tasks": [
        {"id": "A", "flows": ["auto"]},
        {"id": "auto", "kind": "automated", "flows": ["B"],
         "connector": {"name": "echo", "config": {"output": {"auto": True}}}},
        {"id": "B", "flows": ["o"]},
    ],
}  # fmt: skip
WEIGHTS = {"start_case": 14, "complete": 36, "start_item": 10, "cancel_case": 3, "suspend": 3, "resume": 6,
           "discover": 12, "read": 10, "refused": 6}  # fmt: skip


@dataclass
class Ledger:
    """What the 2xx answers promised, and what the client knows of live items."""

    cases: dict[str, str] = field(
        default_factory=dict
    )  # case id -> state promised by the last case-level 2xx
    completed: dict[str, tuple[str, int]] = field(default_factory=dict)  # item id -> (case id, op index)
    started: set[str] = field(default_factory=set)
    live: dict[str, str] = field(default_factory=dict)  # known live manual item id -> case id
    statuses: Counter = field(default_factory=Counter)


def test_replayed_operations_lose_nothing(make_user, start_worker, settings) -> None:
    require_broker()
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    settings.WORKFLOW_RATE_LIMIT = 1_000_000
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(make_user('ledger', superuser=True))}"
    )
    worker = start_worker(concurrency=2)
    assert client.post("/api/v1/workflows", {"spec": SPEC}, format="json").status_code == 201

    rng = random.Random(20261203)
    ledger = Ledger()
    faults: list[str] = []
    began = time.monotonic()

    def post(path: str, body: dict) -> Any:
        response = client.post(path, body, format="json")
        ledger.statuses[response.status_code] += 1
        return response

    def note_items(case_id: str, items: list[dict]) -> None:
        for item in items:
            if item["kind"] == "manual" and item["state"] in ("enabled", "started"):
                ledger.live[item["id"]] = case_id

    done = 0
    for index in range(OPERATIONS):
        spent = (time.monotonic() - began) / TIME_BUDGET  # share of the time budget used
        if spent > 1 and index >= MIN_OPERATIONS and len(faults) == 2:
            break  # out of time: the figures say how many ran
        done = index + 1
        if not faults and (index >= OPERATIONS // 2 or spent > 0.5):  # the middle of the run
            worker.stop()  # warm shutdown (SIGTERM), then a new worker process
            faults.append(f"worker restarted (SIGTERM, new process) at operation {index}")
            worker = start_worker(concurrency=2)
        elif len(faults) == 1 and (index >= OPERATIONS * 3 // 4 or spent > 0.75) and worker.pool_children():
            os.kill(worker.pool_children()[0], signal.SIGKILL)
            faults.append(f"worker pool process killed (SIGKILL) at operation {index}")
        kind = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        running = [case_id for case_id, state in ledger.cases.items() if state == "running"]
        if kind == "start_case" or not ledger.cases:
            response = post("/api/v1/cases", {"spec_id": "ledger", "data": {"n": index}})
            assert response.status_code == 201, response.content
            body = response.json()
            ledger.cases[body["case_id"]] = body["state"]
            note_items(body["case_id"], body["work_items"])
        elif kind in ("complete", "start_item") and ledger.live:
            item_id = rng.choice(sorted(ledger.live))
            case_id = ledger.live[item_id]
            if kind == "complete":
                response = post(f"/api/v1/work-items/{item_id}/complete", {"data": {"v": index}})
            else:
                response = post(f"/api/v1/work-items/{item_id}/start", {})
            if response.status_code == 200 and kind == "complete":
                ledger.completed[item_id] = (case_id, index)
                del ledger.live[item_id]
            elif response.status_code == 200:
                ledger.started.add(item_id)
            else:  # the case is cancelled or suspended, or the item already started: refused, not lost
                assert response.status_code == 409, response.content
                state = client.get(f"/api/v1/work-items/{item_id}").json()["state"]
                if state not in ("enabled", "started"):
                    del ledger.live[item_id]
        elif kind in ("cancel_case", "suspend") and running:
            case_id = rng.choice(sorted(running))
            action = "cancel" if kind == "cancel_case" else "suspend"
            response = post(f"/api/v1/cases/{case_id}/{action}", {})
            if response.status_code == 200:
                ledger.cases[case_id] = response.json()["state"]
            else:
                assert response.status_code == 409, response.content  # completed meanwhile
                ledger.cases[case_id] = client.get(f"/api/v1/cases/{case_id}").json()["state"]
        elif kind == "resume" and "suspended" in ledger.cases.values():
            case_id = rng.choice(sorted(c for c, state in ledger.cases.items() if state == "suspended"))
            response = post(f"/api/v1/cases/{case_id}/resume", {})
            assert response.status_code == 200, response.content
            ledger.cases[case_id] = response.json()["state"]
        elif kind == "discover":
            page = client.get("/api/v1/work-items?state=enabled&task=B&page_size=500").json()
            for item in page["results"]:
                ledger.live.setdefault(item["id"], item["case_id"])
        elif kind == "refused" and ledger.completed:
            item_id = rng.choice(sorted(ledger.completed))
            response = post(f"/api/v1/work-items/{item_id}/complete", {"data": {"v": -1}})
            assert response.status_code == 409, response.content
        elif running:
            case_id = rng.choice(running)
            response = client.get(f"/api/v1/cases/{case_id}")
            assert response.status_code == 200
            ledger.cases[case_id] = response.json()["state"]  # completed cases become final here
            note_items(case_id, response.json()["work_items"])
    elapsed = time.monotonic() - began

    _wait_for_the_workers(ledger)
    lost, duplicated = _check(ledger)
    print(
        f"\nnothing lost: {done} of {OPERATIONS} operations in {elapsed:.0f} s ({sum(ledger.statuses.values())} writes, "
        f"statuses {dict(sorted(ledger.statuses.items()))}); {len(ledger.cases)} cases, "
        f"{len(ledger.completed)} completions promised; faults: {faults}; lost {lost}, duplicated {duplicated}"
    )
    assert ledger.statuses[500] == 0
    assert (lost, duplicated) == (0, 0)


def _wait_for_the_workers(ledger: Ledger, seconds: float = 120.0) -> None:
    """Until no running case has an automated item left (the workers drained the queue)."""
    from cases.models import WorkItem

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pending = WorkItem.objects.filter(task_id="auto", state__in=("enabled", "started"),
                                          case__state="running").count()  # fmt: skip
        if not pending:
            return
        time.sleep(0.5)
    raise AssertionError(f"{pending} automated item(s) still pending after {seconds} s")


def _check(ledger: Ledger) -> tuple[int, int]:
    """(lost, duplicated): promises the database does not keep, and things done twice."""
    from cases.models import Case, CaseEvent, WorkItem

    lost = duplicated = 0
    stored = {str(case.id): case for case in Case.objects.filter(spec__spec_id="ledger")}
    missing = set(ledger.cases) - set(stored)
    assert not missing, f"{len(missing)} case(s) answered 201 are missing"
    assert len(stored) == len(ledger.cases), "cases stored that no answer announced"
    for case_id, promised in ledger.cases.items():
        actual = stored[case_id].state
        # A case promised running may have completed since (the worker and later completions move it).
        if promised in ("cancelled", "suspended", "completed") and actual != promised:
            lost += 1
    rows = {str(row.id): row for row in WorkItem.objects.filter(case__spec__spec_id="ledger")}
    last_value: dict[str, int] = {}
    for item_id, (case_id, index) in ledger.completed.items():
        row = rows.get(item_id)
        if row is None or row.state != "completed":
            lost += 1
        last_value[case_id] = max(last_value.get(case_id, -1), index)
    for item_id in ledger.started:
        if rows[item_id].state not in ("started", "completed", "withdrawn", "cancelled"):
            lost += 1
    for case_id, value in last_value.items():
        if stored[case_id].data.get("v") != value:  # the last completion's output is the case's data
            lost += 1
    ends: dict[tuple[str, str], int] = defaultdict(int)
    for event in CaseEvent.objects.filter(case__spec__spec_id="ledger").values(
        "case_id", "kind", "item_engine_id"
    ):
        if event["kind"] in ("item_completed", "item_withdrawn", "item_cancelled", "item_failed"):
            ends[(str(event["case_id"]), event["item_engine_id"])] += 1
    duplicated += sum(1 for count in ends.values() if count > 1)
    for case_id in stored:
        seqs = list(CaseEvent.objects.filter(case_id=case_id).order_by("seq").values_list("seq", flat=True))
        if seqs != list(range(1, len(seqs) + 1)):
            lost += 1
    autos = Counter(
        row.case_id for row in rows.values() if row.task_id == "auto" and row.state == "completed"
    )
    duplicated += sum(1 for count in autos.values() if count > 1)
    return lost, duplicated
