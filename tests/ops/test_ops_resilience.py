"""Automated tasks that survive failure: retries with backoff, circuit breaker, dead letter queue."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from cases.connectors import ConnectorError, connector
from cases.models import Case, WorkItem
from incidents.breaker import Breaker, CircuitOpen
from incidents.models import CircuitBreaker, Incident
from incidents.resilience import backoff_delay
from tests.ops.conftest import automated_spec
from tests.ops.test_ops_metrics import scrape, value

pytestmark = pytest.mark.django_db

calls: list[dict] = []


@connector("ops-token-check")
def token_check(config, data):
    """Fails unless the input data carries token "ok" (so an operator's data fix makes it succeed)."""
    calls.append(dict(data))
    if data.get("token") != "ok":
        raise ConnectionError("remote refused the token")
    return {"result": data["n"] * 10}


@pytest.fixture(autouse=True)
def _fresh(settings):
    calls.clear()
    settings.WORKFLOW_BREAKER_FAILURES = 3
    settings.WORKFLOW_BREAKER_RESET_SECONDS = 30


def _start(api_client, spec_id: str, connector_def: dict, data: dict | None = None) -> str:
    assert api_client.post("/api/v1/workflows", {"spec": automated_spec(spec_id, connector_def)},
                           format="json").status_code == 201
    response = api_client.post("/api/v1/cases", {"spec_id": spec_id, "data": data or {}}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["case_id"]


FAILING = {"name": "ops-token-check", "max_retries": 4, "retry_delay": 0.5}


def test_failing_connector_opens_the_circuit_and_lands_in_the_dead_letter_queue(api_client, client, caplog):
    before = scrape(client)
    case_id = _start(api_client, "ops-dlq", FAILING, {"n": 4})

    # 5 attempts: 3 real calls fail and open the breaker (threshold 3); the 4th and 5th are refused by it.
    assert len(calls) == 3
    breaker = CircuitBreaker.objects.get(key="ops-token-check")
    assert breaker.state == "open" and breaker.consecutive_failures == 3
    retries = [r.getMessage() for r in caplog.records if r.name == "knhk.tasks" and "retry" in r.getMessage()]
    # Doubling from retry_delay; while the breaker is open, at least until its next trial.
    assert [m.rsplit(" in ", 1)[1] for m in retries] == ["0.5 s", "1.0 s", "2.0 s", "30.0 s"]

    [incident] = Incident.objects.all()
    assert (incident.state, incident.attempts, incident.task_id, incident.connector) == ("open", 5, "call",
                                                                                        "ops-token-check")
    assert "circuit breaker" in incident.error
    assert WorkItem.objects.get(pk=incident.work_item_id).state == "started"
    assert Case.objects.get(pk=case_id).state == "running"

    listed = api_client.get("/api/v1/incidents?state=open").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == str(incident.id)
    assert listed["results"][0]["case_id"] == case_id
    samples = scrape(client)
    assert value(samples, "knhk_dead_letter_queue_size") == 1
    assert value(samples, "knhk_circuit_breaker_state", connector="ops-token-check") == 2

    def moved(name, **labels):
        return value(samples, name, **labels) - value(before, name, **labels)

    assert moved("knhk_task_execution_duration_seconds_count", connector="ops-token-check", outcome="failure") >= 3
    assert moved("knhk_connector_calls_total", connector="ops-token-check", outcome="circuit_open") >= 2


def test_a_retry_with_fixed_data_completes_the_case(api_client, client):
    case_id = _start(api_client, "ops-retry", FAILING, {"n": 4})
    incident = Incident.objects.get()
    # The breaker's reset timeout passes: the retry is its half-open trial call.
    CircuitBreaker.objects.filter(key="ops-token-check").update(opened_at=timezone.now() - timedelta(seconds=31))

    response = api_client.post(f"/api/v1/incidents/{incident.id}/retry", {"data": {"token": "ok"}}, format="json")
    assert response.status_code == 200, response.content
    incident.refresh_from_db()
    assert incident.state == "resolved" and incident.resolved_at is not None
    case = Case.objects.get(pk=case_id)
    assert case.state == "completed"
    assert case.data["result"] == 40
    assert calls[-1]["token"] == "ok"
    assert CircuitBreaker.objects.get(key="ops-token-check").state == "closed"
    assert value(scrape(client), "knhk_dead_letter_queue_size") == 0
    from audit.models import AuditRecord

    actions = list(AuditRecord.objects.filter(case_id=case_id, action__startswith="incident.")
                   .order_by("seq").values_list("action", flat=True))
    assert actions == ["incident.opened", "incident.retried", "incident.resolved"]
    again = api_client.post(f"/api/v1/incidents/{incident.id}/retry", {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_a_retry_that_fails_again_goes_back_to_the_queue(api_client):
    _start(api_client, "ops-again", {**FAILING, "max_retries": 0})
    incident = Incident.objects.get()
    CircuitBreaker.objects.filter(key="ops-token-check").update(opened_at=timezone.now() - timedelta(seconds=31))
    assert api_client.post(f"/api/v1/incidents/{incident.id}/retry", {}, format="json").status_code == 200
    incident.refresh_from_db()
    assert incident.state == "open" and incident.attempts == 2
    assert Incident.objects.count() == 1


def test_skip_completes_the_item_with_the_given_data(api_client):
    case_id = _start(api_client, "ops-skip", FAILING, {"n": 4})
    incident = Incident.objects.get()
    response = api_client.post(f"/api/v1/incidents/{incident.id}/skip", {"data": {"result": 7}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "skipped"
    case = Case.objects.get(pk=case_id)
    assert case.state == "completed" and case.data["result"] == 7


def test_a_connector_output_the_engine_refuses_goes_to_the_dead_letter_queue_and_can_be_skipped(api_client):
    refused = {"name": "echo", "config": {"output": {"result": "abc"}}, "max_retries": 3}  # result: integer
    case_id = _start(api_client, "ops-refused-output", refused)
    incident = Incident.objects.get()
    assert incident.state == "open" and incident.attempts == 1  # not retried: the same output again
    assert incident.error.startswith("the connector's output was refused: ") and "'result'" in incident.error
    item = WorkItem.objects.get(case_id=case_id, task_id="call")
    assert item.state == "started" and Case.objects.get(pk=case_id).state == "running"
    response = api_client.post(f"/api/v1/incidents/{incident.id}/skip", {"data": {"result": 7}}, format="json")
    assert response.status_code == 200, response.content
    case = Case.objects.get(pk=case_id)
    assert case.state == "completed" and case.data["result"] == 7


def test_cancel_cancels_the_case_and_a_stale_incident_is_closed(api_client):
    case_id = _start(api_client, "ops-cancel", FAILING)
    incident = Incident.objects.get()
    assert api_client.post(f"/api/v1/incidents/{incident.id}/cancel", {}, format="json").json()["state"] == "cancelled"
    assert Case.objects.get(pk=case_id).state == "cancelled"

    other_case = _start(api_client, "ops-cancel", FAILING)
    other = Incident.objects.get(case_id=other_case)
    assert api_client.post(f"/api/v1/cases/{other_case}/cancel", {}, format="json").status_code == 200
    stale = api_client.post(f"/api/v1/incidents/{other.id}/retry", {}, format="json")
    assert stale.status_code == 409 and "cancelled" in stale.json()["error"]["message"]
    other.refresh_from_db()
    assert other.state == "cancelled"


def test_a_suspended_case_keeps_its_incident_open(api_client):
    case_id = _start(api_client, "ops-suspended", FAILING)
    incident = Incident.objects.get()
    assert api_client.post(f"/api/v1/cases/{case_id}/suspend", {}, format="json").status_code == 200
    refused = api_client.post(f"/api/v1/incidents/{incident.id}/skip", {"data": {}}, format="json")
    assert refused.status_code == 409 and "resume it first" in refused.json()["error"]["message"]
    incident.refresh_from_db()
    assert incident.state == "open"
    assert api_client.post(f"/api/v1/cases/{case_id}/resume", {}, format="json").status_code == 200
    assert api_client.post(f"/api/v1/incidents/{incident.id}/skip", {"data": {}}, format="json").status_code == 200
    assert Case.objects.get(pk=case_id).state == "completed"


def test_bad_requests_get_clear_errors(api_client, make_user, client_for):
    _start(api_client, "ops-errors", FAILING)
    incident = Incident.objects.get()
    bad = api_client.post(f"/api/v1/incidents/{incident.id}/retry", {"data": [1, 2]}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
    for action in ("retry", "skip", "cancel"):  # an unknown field is reported, not dropped; nothing happens
        extra = api_client.post(f"/api/v1/incidents/{incident.id}/{action}", {"data": {}, "reason": "x"},
                                format="json")
        assert extra.status_code == 400 and extra.json()["error"]["details"] == {"reason": ["Unknown field."]}
    incident.refresh_from_db()
    assert incident.state == "open"
    missing = api_client.post("/api/v1/incidents/00000000-0000-0000-0000-000000000000/skip", {}, format="json")
    assert missing.status_code == 404
    assert api_client.get("/api/v1/incidents?state=nonsense").status_code == 400
    participant = client_for(make_user("pat", "participant"))
    assert participant.get("/api/v1/incidents").status_code == 403
    operator = client_for(make_user("olga", "operator"))
    assert operator.get("/api/v1/incidents").status_code == 200


def test_admin_lists_incidents_and_breakers(api_client, make_user, client):
    _start(api_client, "ops-admin", FAILING)
    admin = make_user("boss", superuser=True)
    client.force_login(admin)
    assert client.get("/admin/incidents/incident/").status_code == 200
    assert client.get("/admin/incidents/circuitbreaker/").status_code == 200
    incident = Incident.objects.get()
    assert client.get(f"/admin/incidents/incident/{incident.id}/change/").status_code == 200


def test_breaker_half_opens_after_its_timeout_and_a_failed_trial_reopens_it():
    breaker = Breaker("ops-unit", failure_threshold=2, reset_timeout=30)
    breaker.before_call()
    breaker.record_failure("one")
    breaker.before_call()
    breaker.record_failure("two")
    assert breaker.state() == "open"
    with pytest.raises(CircuitOpen) as refused:
        breaker.before_call()
    assert isinstance(refused.value, ConnectorError) and 29 < refused.value.retry_after <= 30

    CircuitBreaker.objects.filter(key="ops-unit").update(opened_at=timezone.now() - timedelta(seconds=31))
    breaker.before_call()  # the trial call is let through
    assert breaker.state() == "half_open"
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # only one trial at a time
    breaker.record_failure("trial failed")
    assert breaker.state() == "open"

    CircuitBreaker.objects.filter(key="ops-unit").update(opened_at=timezone.now() - timedelta(seconds=31))
    breaker.before_call()
    breaker.record_success()
    row = CircuitBreaker.objects.get(key="ops-unit")
    assert (row.state, row.consecutive_failures) == ("closed", 0)


def test_backoff_doubles_from_the_task_retry_delay_and_is_capped():
    assert [backoff_delay({"retry_delay": 2}, n) for n in range(4)] == [2, 4, 8, 16]
    assert backoff_delay({}, 0) == 1.0
    assert backoff_delay({"retry_delay": 10}, 10) == 300.0
    assert backoff_delay({"retry_delay": 1}, 0, CircuitOpen("x", 12.0)) == 12.0


class _Service(BaseHTTPRequestHandler):
    """A tiny HTTP service: /ok answers with JSON from the body, /down answers 503."""

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        if self.path == "/ok":
            payload = json.dumps({"result": body["n"] + 1, "seen_request_id": self.headers.get("X-Request-ID")})
            self.send_response(200)
        else:
            payload = json.dumps({"error": "down"})
            self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def http_service():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Service)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_connector_completes_the_item_with_the_json_answer(api_client, http_service):
    case_id = _start(api_client, "ops-http", {"name": "http", "config": {"url": f"{http_service}/ok"}}, {"n": 41})
    case = Case.objects.get(pk=case_id)
    assert case.state == "completed"
    assert case.data["result"] == 42


def test_http_connector_failures_count_on_the_hosts_breaker(api_client, http_service):
    _start(api_client, "ops-http-down", {"name": "http", "config": {"url": f"{http_service}/down"}, "max_retries": 1,
                                         "retry_delay": 0})
    incident = Incident.objects.get()
    assert "answered 503" in incident.error and incident.attempts == 2
    host = http_service.removeprefix("http://")
    assert CircuitBreaker.objects.get(key=f"http:{host}").consecutive_failures == 2


def test_an_operator_sees_and_handles_only_incidents_of_workflows_granted_to_them(api_client, make_user, client_for):
    from accounts import rights

    _start(api_client, "ops-rights", FAILING)
    incident = Incident.objects.get()
    olga = make_user("olga", "operator")
    operator = client_for(olga)
    assert operator.get("/api/v1/incidents").json()["count"] == 0
    assert operator.get(f"/api/v1/incidents/{incident.id}").status_code == 404
    assert operator.post(f"/api/v1/incidents/{incident.id}/skip", {"data": {}}, format="json").status_code == 404

    rights.grant("view", "ops-rights", user=olga)
    assert operator.get("/api/v1/incidents").json()["count"] == 1
    refused = operator.post(f"/api/v1/incidents/{incident.id}/skip", {"data": {}}, format="json")
    assert refused.status_code == 403 and "'start' right" in refused.json()["error"]["message"]

    rights.grant("start", "ops-rights", user=olga)
    assert operator.post(f"/api/v1/incidents/{incident.id}/skip", {"data": {}}, format="json").status_code == 200
