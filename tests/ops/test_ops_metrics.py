"""GET /metrics: Prometheus text that parses, merged over processes, and counters that move with a case."""

from __future__ import annotations

import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.ops.conftest import OR_SPEC

pytestmark = pytest.mark.django_db


def scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples, name: str, **labels) -> float:
    """Sum over the samples of `name` whose labels include `labels`."""
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls))


def _register(api_client) -> str:
    """OR_SPEC under an id of its own (parallel test processes share the metrics directory)."""
    spec_id = f"ops-m-{uuid.uuid4().hex[:8]}"
    assert api_client.post("/api/v1/workflows", {"spec": {**OR_SPEC, "id": spec_id}}, format="json").status_code == 201
    return spec_id


def _run_case(api_client, spec_id: str) -> str:
    case = api_client.post("/api/v1/cases", {"spec_id": spec_id, "data": {"x": 1, "y": 0}}, format="json").json()
    for task in ("a", "b", "d"):
        [item] = api_client.get(f"/api/v1/work-items?case={case['case_id']}&task={task}&state=enabled").json()["results"]
        assert api_client.post(f"/api/v1/work-items/{item['id']}/complete", {"data": {}}, format="json").status_code == 200
    assert api_client.get(f"/api/v1/cases/{case['case_id']}").json()["state"] == "completed"
    return case["case_id"]


def test_metrics_parse_and_counters_move_when_a_case_runs(api_client, client):
    spec_id = _register(api_client)
    before = scrape(client)
    _run_case(api_client, spec_id)
    after = scrape(client)

    def moved(name, **labels):
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("knhk_cases_started_total", workflow_id=spec_id) == 1
    assert moved("knhk_work_items_enabled_total", workflow_id=spec_id) == 3  # a, b, d
    assert moved("knhk_work_items_completed_total", workflow_id=spec_id) == 3
    assert moved("knhk_cases_finished_total", workflow_id=spec_id, state="completed") == 1
    assert moved("knhk_hot_path_firing_seconds_count", operation="work_item.complete") >= 3
    assert moved("knhk_http_requests_total", method="POST", status="200") >= 3
    assert moved("knhk_http_request_duration_seconds_count", method="POST") >= 4
    # Facts of the database, read at scrape time.
    assert value(after, "knhk_cases", state="completed") - value(before, "knhk_cases", state="completed") == 1
    assert ("knhk_dead_letter_queue_size", ()) in after


def test_requests_are_labelled_by_route_template_not_by_id(api_client, client):
    case_id = _run_case(api_client, _register(api_client))
    samples = scrape(client)
    routes = {dict(labels).get("route") for (name, labels) in samples if name == "knhk_http_requests_total"}
    assert not any(case_id in (route or "") for route in routes)
    assert any(route and "case_id" in route for route in routes)


def test_metrics_view_answers_get_only(client):
    assert client.post("/metrics").status_code == 405


def test_a_celery_worker_serves_its_metrics_on_its_port(monkeypatch, client):
    import socket

    import httpx

    from knhk.observability import celery_signals, metrics

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("WORKFLOW_WORKER_METRICS_PORT", str(port))
    cleared = []
    monkeypatch.setattr(metrics, "clear_directory", lambda: cleared.append(True))  # the test's dir is shared
    server = celery_signals.worker_ready()
    try:
        metrics.CELERY_TASK_DURATION.labels("ops.test", "SUCCESS").observe(0.01)
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        server.shutdown()
        server.server_close()
    assert cleared == [True]
    families = {f.name for f in text_string_to_metric_families(text)}
    assert "knhk_celery_task_duration_seconds" in families and "knhk_dead_letter_queue_size" in families


def test_an_unusable_metrics_directory_stops_start_up_with_a_clear_message(tmp_path):
    import os
    import subprocess
    import sys

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    env = {**os.environ, "WORKFLOW_STATE_PATH": str(tmp_path), "PROMETHEUS_MULTIPROC_DIR": str(blocker / "sub"),
           "DJANGO_SETTINGS_MODULE": "knhk.settings"}
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "knhk: configuration error: PROMETHEUS_MULTIPROC_DIR" in result.stderr
    assert "Traceback" not in result.stderr
