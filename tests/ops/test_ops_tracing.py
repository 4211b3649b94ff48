"""Tracing: spans of our own around the engine operations reach the exporter with the engine ids."""

from __future__ import annotations

import pytest

from tests.ops.conftest import OR_SPEC

pytestmark = pytest.mark.django_db


def _by_name(exporter, name: str) -> list:
    return [span for span in exporter.get_finished_spans() if span.name == name]


def _complete_task(api_client, case_id: str, task_id: str) -> None:
    items = api_client.get(f"/api/v1/work-items?case={case_id}&task={task_id}&state=enabled").json()["results"]
    assert items, f"no enabled {task_id}"
    response = api_client.post(f"/api/v1/work-items/{items[0]['id']}/complete", {"data": {}}, format="json")
    assert response.status_code == 200, response.content


def test_engine_operations_become_spans_with_ids_and_patterns(api_client, spans):
    assert api_client.post("/api/v1/workflows", {"spec": OR_SPEC}, format="json").status_code == 201
    case = api_client.post("/api/v1/cases", {"spec_id": "ops-or", "data": {"x": 1, "y": 1}}, format="json").json()
    case_id = case["case_id"]

    [start] = _by_name(spans, "case.start")
    assert start.attributes["workflow_id"] == "ops-or"
    assert start.attributes["case_id"] == case_id
    [join_a] = [s for s in _by_name(spans, "join.evaluate") if s.attributes["task_id"] == "a"]
    assert join_a.attributes["case_id"] == case_id and join_a.parent.span_id == start.context.span_id

    spans.clear()
    _complete_task(api_client, case_id, "a")
    [complete_a] = _by_name(spans, "work_item.complete")
    assert complete_a.attributes["task_id"] == "a"
    assert complete_a.attributes["pattern"] == "xor-join/or-split"
    # One span carries all four ids: workflow, case, task and pattern.
    assert (complete_a.attributes["workflow_id"], complete_a.attributes["case_id"]) == ("ops-or", case_id)
    [split] = _by_name(spans, "split.evaluate")
    assert (split.attributes["task_id"], split.attributes["pattern"]) == ("a", "or-split")
    assert split.parent.span_id == complete_a.context.span_id
    assert (split.attributes["workflow_id"], split.attributes["case_id"]) == ("ops-or", case_id)
    assert {s.attributes["task_id"] for s in _by_name(spans, "join.evaluate")} == {"b", "c"}

    _complete_task(api_client, case_id, "b")
    _complete_task(api_client, case_id, "c")
    orjoins = _by_name(spans, "orjoin.analysis")
    assert orjoins and {s.attributes["task_id"] for s in orjoins} == {"d"}
    assert all(s.attributes["pattern"] == "or-join" and s.attributes["case_id"] == case_id for s in orjoins)

    # The HTTP request itself is traced by the Django instrumentation, our spans inside it.
    http = [s for s in spans.get_finished_spans() if s.attributes.get("http.method") == "POST"
            or s.attributes.get("http.request.method") == "POST"]
    assert http, "Django requests are traced"


def test_span_records_the_failure_of_an_operation(spans):
    from opentelemetry.trace import StatusCode

    from knhk.observability import operation

    with pytest.raises(RuntimeError), operation("case.step", workflow_id="w", case_id="c1"):
        raise RuntimeError("boom")
    [span] = _by_name(spans, "case.step")
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["workflow_id"] == "w" and span.attributes["case_id"] == "c1"


def test_no_endpoint_means_no_exporter(monkeypatch):
    from knhk.observability import tracing

    monkeypatch.setattr(tracing, "_provider", None)
    assert tracing.setup_tracing(endpoint=None) is False
    assert tracing.traces_url("http://collector:4318") == "http://collector:4318/v1/traces"
    assert tracing.traces_url("http://collector:4318/v1/traces/") == "http://collector:4318/v1/traces"


def test_with_an_endpoint_spans_are_exported_by_otlp_http(tmp_path):
    """A separate process with WORKFLOW_OTEL_ENDPOINT set posts its spans to <endpoint>/v1/traces."""
    import os
    import subprocess
    import sys
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from pathlib import Path

    received: list[tuple[str, str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script = (
        "import django; django.setup()\n"
        "from opentelemetry import trace\n"
        "from knhk.observability.tracing import engine_span\n"
        "with engine_span('case.start', workflow_id='otlp-wf', case_id='c-1'):\n"
        "    pass\n"
        "trace.get_tracer_provider().force_flush()\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "knhk.settings", "WORKFLOW_STATE_PATH": str(tmp_path),
           "WORKFLOW_OTEL_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}"}
    try:
        result = subprocess.run([sys.executable, "-c", script], env=env, cwd=Path(__file__).resolve().parents[2],
                                capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr
    assert received, "no span reached the collector"
    path, content_type, body = received[0]
    assert path == "/v1/traces" and content_type == "application/x-protobuf"
    assert b"case.start" in body and b"otlp-wf" in body and b"knhk-workflow-engine" in body
