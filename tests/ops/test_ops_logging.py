"""Structured logs: JSON lines with workflow_id, case_id, operation, duration_ms and the request id,
which travels from the HTTP request into the Celery task."""

from __future__ import annotations

import io
import json
import logging
from types import SimpleNamespace

import pytest

from knhk.observability import celery_signals
from knhk.observability.logging import ContextFilter, JsonFormatter, current_request_id, set_request_id
from tests.ops.conftest import OR_SPEC


@pytest.fixture
def json_lines():
    """Everything the knhk.* loggers write during the test, as parsed JSON objects."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("knhk")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(previous)


@pytest.mark.django_db
def test_a_log_line_carries_request_workflow_case_operation_and_duration(api_client, json_lines):
    assert api_client.post("/api/v1/workflows", {"spec": OR_SPEC}, format="json").status_code == 201
    response = api_client.post("/api/v1/cases", {"spec_id": "ops-or", "data": {}}, format="json",
                               HTTP_X_REQUEST_ID="req-42")
    assert response.status_code == 201
    assert response["X-Request-ID"] == "req-42"
    [line] = [entry for entry in json_lines() if entry.get("operation") == "case.start"]
    assert line["request_id"] == "req-42"
    assert line["workflow_id"] == "ops-or"
    assert line["case_id"] == response.json()["case_id"]
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["logger"] == "knhk.operations" and line["time"].endswith("Z")


@pytest.mark.django_db
def test_a_request_without_id_gets_one_and_a_malformed_one_is_replaced(client):
    made = client.get("/health/live")["X-Request-ID"]
    assert len(made) == 32
    replaced = client.get("/health/live", HTTP_X_REQUEST_ID="bad id with spaces\n")["X-Request-ID"]
    assert replaced != "bad id with spaces\n" and len(replaced) == 32


def test_the_request_id_travels_in_the_task_headers_into_the_worker(json_lines):
    headers: dict = {}
    token = set_request_id("req-from-http")
    try:
        celery_signals.add_request_id_header(headers=headers)  # before_task_publish, in the web process
    finally:
        from knhk.observability.logging import reset_request_id

        reset_request_id(token)
    assert headers == {"knhk_request_id": "req-from-http"}

    # In the worker the message headers are the task's request attributes.
    task = SimpleNamespace(name="cases.tasks.run_automated_item", request=SimpleNamespace(**headers))
    celery_signals.task_started(task_id="t1", task=task)
    assert current_request_id() == "req-from-http"
    from audit.context import current_request_id as audit_request_id

    assert audit_request_id() == "req-from-http"  # the worker's audit records name the request too
    logging.getLogger("knhk.tasks").info("running")
    celery_signals.task_finished(task_id="t1", task=task, state="SUCCESS")
    assert current_request_id() is None and audit_request_id() == ""
    assert json_lines()[-1]["request_id"] == "req-from-http"


def test_celery_signal_handlers_are_connected():
    from celery import signals

    assert celery_signals.add_request_id_header in [r() for _, r in signals.before_task_publish.receivers]
    assert celery_signals.task_started in [r() for _, r in signals.task_prerun.receivers]


def test_a_bad_log_format_stops_start_up_with_a_clear_message(capsys):
    from knhk.observability.logging import logging_config

    with pytest.raises(SystemExit) as stop:
        logging_config("xml")
    assert stop.value.code == 2
    assert "WORKFLOW_LOG_FORMAT must be json or plain, got 'xml'" in capsys.readouterr().err
    assert logging_config("plain")["handlers"]["console"]["formatter"] == "plain"


def test_plain_text_lines_carry_the_ids_too():
    from knhk.observability.logging import PlainFormatter, log_context

    record = logging.LogRecord("knhk.x", logging.INFO, __file__, 1, "hello", None, None)
    assert PlainFormatter().format(record).endswith("INFO knhk.x [-]: hello")
    with log_context(workflow_id="w1", case_id="c1"):
        ContextFilter().filter(record := logging.LogRecord("knhk.x", logging.INFO, __file__, 1, "hi", None, None))
    assert PlainFormatter().format(record).endswith("INFO knhk.x [-]: hi workflow_id=w1 case_id=c1")
