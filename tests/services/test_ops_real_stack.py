"""Operations against the real stack (PostgreSQL, Redis, a Celery worker process), over real HTTP:
a failing connector lands in the dead letter queue through the worker's retries, an operator's retry
with fixed data completes the case, the request id reaches the worker's logs, the worker's metrics
show at /metrics (multiprocess), and a timer fires through the broker."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


class _TokenService(BaseHTTPRequestHandler):
    """503 unless the JSON body carries token "ok"; then {"result": n * 10}."""

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        ok = body.get("token") == "ok"
        payload = json.dumps({"result": body.get("n", 0) * 10} if ok else {"error": "bad token"}).encode()
        self.send_response(200 if ok else 503)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def token_service():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/check"
    server.shutdown()
    server.server_close()


def _wait(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}")


def _spec(spec_id: str, task: dict) -> dict:
    return {"id": spec_id, "variables": [{"name": "n", "type": "integer", "initial": 1, "usage": "both"},
                                         {"name": "result", "type": "integer", "initial": 0}],
            "conditions": [{"id": "start", "type": "input", "flows": [task["id"]]}, {"id": "end", "type": "output"}],
            "tasks": [{**task, "flows": ["end"]}]}


def test_dead_letter_queue_and_retry_through_the_worker(http, call, celery_worker_process, token_service):
    task = {"id": "charge", "kind": "automated",
            "connector": {"name": "http", "config": {"url": token_service}, "max_retries": 2, "retry_delay": 0.2}}
    assert call("POST", "/api/v1/workflows", {"spec": _spec("ops-real-dlq", task)})[0] == 201
    status, case = call("POST", "/api/v1/cases", {"spec_id": "ops-real-dlq", "data": {"n": 4}})
    assert status == 201, case
    case_id = case["case_id"]

    def open_incident():
        body = call("GET", f"/api/v1/incidents?case={case_id}&state=open")[1]
        return body["results"][0] if body["count"] else None

    incident = _wait(open_incident, what="the work item in the dead letter queue")
    assert incident["attempts"] == 3 and "answered 503" in incident["error"]
    assert call("GET", f"/api/v1/cases/{case_id}")[1]["state"] == "running"

    response = http.post(f"/api/v1/incidents/{incident['id']}/retry", json={"data": {"token": "ok"}},
                         headers={"X-Request-ID": "ops-real-retry"})
    assert response.status_code == 200, response.text
    final = _wait(lambda: (body := call("GET", f"/api/v1/cases/{case_id}")[1])["state"] == "completed" and body,
                  what="the case to complete after the retry")
    assert final["data"]["result"] == 40
    assert call("GET", f"/api/v1/incidents/{incident['id']}")[1]["state"] == "resolved"

    log = celery_worker_process.log_path.read_text()
    worker_lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(line.get("request_id") == "ops-real-retry" and line.get("case_id") == case_id
               for line in worker_lines), "the retry's request id reaches the worker's log lines"

    metrics = http.get("/metrics").text  # the worker process's counters, merged by the web process
    failures = [line for line in metrics.splitlines()
                if line.startswith('knhk_connector_calls_total{connector="http",outcome="failure"}')]
    assert failures and float(failures[0].split()[-1]) >= 3


def test_a_timer_fires_through_the_broker(call, celery_worker_process):
    task = {"id": "wait", "timer": {"trigger": "enabled", "duration": "PT2S"}}
    assert call("POST", "/api/v1/workflows", {"spec": _spec("ops-real-timer", task)})[0] == 201
    status, case = call("POST", "/api/v1/cases", {"spec_id": "ops-real-timer"})
    assert status == 201 and case["state"] == "running"
    _wait(lambda: call("GET", f"/api/v1/cases/{case['case_id']}")[1]["state"] == "completed", timeout=30,
          what="the timer to fire on the worker")
    assert "cases.tasks.fire_timer" in celery_worker_process.log_path.read_text()
