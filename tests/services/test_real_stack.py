"""Against real PostgreSQL, Redis and a Celery worker process (not eager), over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from tests.api.drive import drive_case

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def register_example(call, name: str) -> str:
    spec = json.loads((EXAMPLES / f"{name}.json").read_text())
    status, body = call("POST", "/api/v1/workflows", {"spec": spec})
    assert status == 201, body
    return body["spec_id"]


def test_loan_approval_completes_with_its_automated_task_run_by_the_worker(call, celery_worker_process):
    from django.conf import settings

    assert settings.CELERY_TASK_ALWAYS_EAGER is False  # pay_out can only be done by the worker
    spec_id = register_example(call, "loan-approval")
    status, case = call("POST", "/api/v1/cases", {"spec_id": spec_id, "data": {"applicant": "Ann", "amount": 50000}})
    assert status == 201, case

    def output(item):
        return {"committee_review": {"vote": "yes"}, "decide": {"approved": True}}.get(item["task_id"], {})

    final = drive_case(call, case["case_id"], output=output, idle_timeout=60)
    assert final["state"] == "completed"
    assert final["data"]["paid"] is True
    status, items = call("GET", f"/api/v1/work-items?case={case['case_id']}&task=pay_out")
    assert [item["state"] for item in items["results"]] == ["completed"]
    assert "cases.tasks.run_automated_item" in celery_worker_process.log_path.read_text()


@pytest.mark.shared
def test_orderfulfillment_yawl_imported_over_http_runs_to_completion(http, call, shared_dir):
    data = (shared_dir / "yawl" / "orderfulfillment.yawl").read_bytes()
    response = http.post("/api/v1/workflows/import", content=data, headers={"Content-Type": "application/xml"})
    assert response.status_code == 201, response.text
    spec_id = response.json()["spec_id"]
    status, case = call("POST", "/api/v1/cases", {"spec_id": spec_id, "data": {}})
    assert status == 201, case
    # the happy path a client takes (bench.knhk_models): approve, confirm, quote, pay, deliver
    from bench import knhk_models
    from knhk.engine.importers import load_spec_file

    outputs = knhk_models.declared_outputs(load_spec_file(shared_dir / "yawl" / "orderfulfillment.yawl"))
    done: set[str] = set()

    def output(item: dict) -> dict:
        done.add(item["task_id"])
        return knhk_models.order_fulfillment_output(item["task_id"], item["data"], outputs)

    def skip(item: dict) -> bool:
        return item["task_id"] in knhk_models.ORDER_FULFILLMENT_AVOID or (
            item["task_id"] in knhk_models.ORDER_FULFILLMENT_ONCE and item["task_id"] in done)

    final = drive_case(call, case["case_id"], idle_timeout=60, output=output, skip=skip)
    assert final["state"] == "completed", final
    status, history = call("GET", f"/api/v1/cases/{case['case_id']}/history?page_size=500")
    if not ("Approve_Purchase_Order_1901" in done and "Process_Shipment_Payment_603" in done):
        pytest.fail(" | ".join(f'{e["kind"]}:{e["task_id"]}' for e in history["results"][6:]))
    assert history["results"][-1]["kind"] == "case_completed"
    # the order was confirmed by a person: the timed Order_Timeout task waited (P3D) and was withdrawn
    timeout = [event["kind"] for event in history["results"] if event["task_id"] == "Order_Timeout_1791"]
    assert timeout == ["item_enabled", "timer_set", "item_withdrawn"] or \
        timeout == ["timer_set", "item_enabled", "item_withdrawn"], timeout  # fmt: skip


@pytest.mark.postgres
def test_concurrent_completions_of_one_case_are_serialised_by_the_row_lock(call):
    """Two requests complete two parallel items of one case at once: both land, nothing is lost."""
    spec = {
        "id": "parallel",
        "conditions": [{"id": "start", "type": "input", "flows": ["split"]}, {"id": "end", "type": "output"}],
        "tasks": [
            {"id": "split", "kind": "routing", "split": "and", "flows": ["a", "b"]},
            {"id": "a", "flows": ["join"]},
            {"id": "b", "flows": ["join"]},
            {"id": "join", "join": "and", "kind": "routing", "flows": ["end"]},
        ],
    }
    for round_number in range(5):
        if round_number == 0:
            assert call("POST", "/api/v1/workflows", {"spec": spec})[0] == 201
        status, case = call("POST", "/api/v1/cases", {"spec_id": "parallel"})
        items = [item["id"] for item in case["work_items"]]
        assert len(items) == 2
        results: list[int] = []
        barrier = threading.Barrier(2)

        def complete(item_id: str, barrier: threading.Barrier, results: list[int]) -> None:
            barrier.wait()
            results.append(call("POST", f"/api/v1/work-items/{item_id}/complete", {"data": {}})[0])

        threads = [threading.Thread(target=complete, args=(item_id, barrier, results)) for item_id in items]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == [200, 200]
        status, final = call("GET", f"/api/v1/cases/{case['case_id']}")
        assert final["state"] == "completed", final
        status, history = call("GET", f"/api/v1/cases/{case['case_id']}/history?page_size=500")
        seqs = [event["seq"] for event in history["results"]]
        assert seqs == list(range(1, len(seqs) + 1))


def test_a_timer_fires_on_the_worker_at_its_due_time(call):
    spec = {
        "id": "short-timer",
        "conditions": [{"id": "start", "type": "input", "flows": ["wait"]}, {"id": "end", "type": "output"}],
        "tasks": [{"id": "wait", "timer": {"trigger": "enabled", "duration": "PT2S"}, "flows": ["end"]}],
    }
    assert call("POST", "/api/v1/workflows", {"spec": spec})[0] == 201
    status, case = call("POST", "/api/v1/cases", {"spec_id": "short-timer"})
    assert status == 201 and case["work_items"][0]["timer_due_at"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, current = call("GET", f"/api/v1/cases/{case['case_id']}")
        if current["state"] != "running":
            break
        time.sleep(0.25)
    assert current["state"] == "completed"
    status, history = call("GET", f"/api/v1/cases/{case['case_id']}/history")
    kinds = [event["kind"] for event in history["results"]]
    assert "timer_set" in kinds and kinds[-1] == "case_completed"
