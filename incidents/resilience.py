"""Running a connector resiliently: circuit breaker, exponential backoff, measurement.

cases.tasks.run_automated_item calls `call_connector` for each attempt, waits `backoff_delay` before
the next one, and after the task's last retry puts the work item into the dead letter queue
(incidents.services.dead_letter).
"""

from __future__ import annotations

import math
import time
from typing import Any

from cases.connectors import ConnectorError, run_connector
from incidents.breaker import Breaker, CircuitOpen
from incidents.connectors import breaker_key

MAX_BACKOFF_SECONDS = 300.0
DEFAULT_RETRY_DELAY = 1.0


def backoff_delay(definition: dict[str, Any], retries_done: int, error: Exception | None = None) -> float:
    """Seconds before attempt `retries_done + 2`: retry_delay * 2**retries_done, capped at 5 minutes.

    When the breaker is open the wait is at least until its next trial.
    """
    raw = definition.get("retry_delay", DEFAULT_RETRY_DELAY)
    base = float(raw) if isinstance(raw, (int, float)) and raw >= 0 else DEFAULT_RETRY_DELAY
    delay = min(base * (2 ** max(0, retries_done)), MAX_BACKOFF_SECONDS)
    if isinstance(error, CircuitOpen):
        delay = max(delay, min(float(math.ceil(error.retry_after)), MAX_BACKOFF_SECONDS))
    return delay


def call_connector(name: str, config: dict[str, Any], data: dict[str, Any], *, workflow_id: Any = None,
                   case_id: Any = None, task_id: Any = None) -> dict[str, Any]:
    """One attempt through the connector's breaker; ConnectorError (CircuitOpen too) on failure."""
    from opentelemetry import trace

    from knhk.observability import metrics, operation

    breaker = Breaker.for_key(breaker_key(name, config or {}))
    with operation("connector.call", workflow_id=workflow_id, case_id=case_id, task_id=task_id,
                   connector=name, breaker=breaker.key):
        span = trace.get_current_span()
        try:
            breaker.before_call()
        except CircuitOpen:
            metrics.CONNECTOR_CALLS.labels(name, "circuit_open").inc()
            span.set_attribute("outcome", "circuit_open")
            raise
        started = time.perf_counter()
        try:
            output = run_connector(name, config or {}, data or {})
        except ConnectorError as exc:
            breaker.record_failure(str(exc))
            metrics.TASK_DURATION.labels(name, "failure").observe(time.perf_counter() - started)
            metrics.CONNECTOR_CALLS.labels(name, "failure").inc()
            span.set_attribute("outcome", "failure")
            raise
        breaker.record_success()
        metrics.TASK_DURATION.labels(name, "success").observe(time.perf_counter() - started)
        metrics.CONNECTOR_CALLS.labels(name, "success").inc()
        span.set_attribute("outcome", "success")
        return output
