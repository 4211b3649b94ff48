"""Celery side of observability: the request id travels with the task, task run time is measured,
and a worker serves its metrics when WORKFLOW_WORKER_METRICS_PORT is set."""

from __future__ import annotations

import os
import time
from contextlib import AbstractContextManager, ExitStack, nullcontext
from typing import Any

from celery import signals

from knhk.observability.logging import current_request_id, reset_request_id, set_request_id

REQUEST_ID_HEADER = "knhk_request_id"
_running: dict[str, tuple[float, ExitStack]] = {}


def add_request_id_header(headers: dict | None = None, **_: Any) -> None:
    """before_task_publish: put the current request id into the message headers."""
    request_id = current_request_id()
    if headers is not None and request_id and REQUEST_ID_HEADER not in headers:
        headers[REQUEST_ID_HEADER] = request_id


def task_started(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    """task_prerun: adopt the publisher's request id for logs and audit records (eager tasks already
    share the publisher's context)."""
    request_id = getattr(getattr(task, "request", None), REQUEST_ID_HEADER, None)
    context = ExitStack()
    if request_id:
        token = set_request_id(request_id)
        context.callback(reset_request_id, token)
        context.enter_context(_audit_context(request_id))
    _running[task_id or ""] = (time.perf_counter(), context)


def _audit_context(request_id: str) -> AbstractContextManager:
    from django.apps import apps

    if not apps.is_installed("audit"):
        return nullcontext()
    from audit.context import request_context

    return request_context(request_id)


def task_finished(task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any) -> None:
    """task_postrun: record the run time and restore the request id."""
    from knhk.observability import metrics

    started, context = _running.pop(task_id or "", (None, None))
    if context is not None:
        context.close()
    if started is not None:
        name = getattr(task, "name", "unknown")
        metrics.CELERY_TASK_DURATION.labels(name, state or "UNKNOWN").observe(time.perf_counter() - started)


def worker_ready(**_: Any) -> Any:
    """worker_init: serve this worker's merged metrics for Prometheus (its own directory, emptied first,
    as gunicorn's is: a restarted container must not add the previous one's counts)."""
    port = os.environ.get("WORKFLOW_WORKER_METRICS_PORT", "").strip()
    if port.isdigit():
        from knhk.observability import metrics

        metrics.clear_directory()
        return metrics.start_worker_metrics_server(int(port))
    return None


def worker_process_gone(pid: int | None = None, **_: Any) -> None:
    from knhk.observability import metrics

    metrics.mark_process_dead(pid or os.getpid())


def connect() -> None:
    """Connect the handlers (weakly referenced module functions stay alive; dispatch_uid dedupes)."""
    signals.before_task_publish.connect(add_request_id_header, dispatch_uid="knhk.request_id.publish")
    signals.task_prerun.connect(task_started, dispatch_uid="knhk.request_id.prerun")
    signals.task_postrun.connect(task_finished, dispatch_uid="knhk.request_id.postrun")
    signals.worker_init.connect(worker_ready, dispatch_uid="knhk.metrics.worker")
    signals.worker_process_shutdown.connect(worker_process_gone, dispatch_uid="knhk.metrics.process_gone")
