"""Prometheus metrics, correct under several gunicorn and Celery worker processes.

prometheus-client's multiprocess mode: each process writes its counters and histograms to files in
PROMETHEUS_MULTIPROC_DIR (default WORKFLOW_STATE_PATH/prometheus; in Kubernetes an emptyDir per pod)
and `GET /metrics` merges them. Values that are facts of the database (cases by state, dead letter
queue size, circuit breaker states) are read from it at scrape time rather than kept as gauges, so
every process and replica reports the same number.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from knhk import fortune5
from knhk.api.methods import get_and_head_only

logger = logging.getLogger("knhk.metrics")


def _multiprocess_dir() -> Path | None:
    """Choose the directory before prometheus_client is first imported (it decides at import)."""
    defaulted = "PROMETHEUS_MULTIPROC_DIR" not in os.environ and "prometheus_client" not in sys.modules
    if defaulted:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(Path(settings.WORKFLOW_STATE_PATH) / "prometheus")
    raw = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not raw:
        return None
    path = Path(raw)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"knhk: configuration error: PROMETHEUS_MULTIPROC_DIR {raw!r} cannot be created: {exc.strerror}",
              file=sys.stderr)
        raise SystemExit(2) from None
    if defaulted:
        _remove_dead_process_files(path)
    return path


def _remove_dead_process_files(path: Path) -> None:
    """Embedded/development default directory: drop the files of processes that no longer run.

    (A deployment sets PROMETHEUS_MULTIPROC_DIR itself and gunicorn empties it at start; see deploy/.)
    """
    for file in path.glob("*_*.db"):
        pid = file.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


MULTIPROC_DIR = _multiprocess_dir()

from prometheus_client import (  # noqa: E402  (after the multiprocess directory is chosen)
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily  # noqa: E402

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_TASK_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

HTTP_REQUESTS = Counter("knhk_http_requests", "HTTP requests served.", ["method", "route", "status"])
HTTP_LATENCY = Histogram("knhk_http_request_duration_seconds", "HTTP request latency.", ["method", "route"],
                         buckets=_LATENCY_BUCKETS)
CASES_STARTED = Counter("knhk_cases_started", "Cases started.", ["workflow_id"])
CASES_FINISHED = Counter("knhk_cases_finished", "Cases that ended, by how they ended.", ["workflow_id", "state"])
WORK_ITEMS_ENABLED = Counter("knhk_work_items_enabled", "Work items enabled.", ["workflow_id"])
WORK_ITEMS_COMPLETED = Counter("knhk_work_items_completed", "Work items completed.", ["workflow_id"])
TASK_DURATION = Histogram("knhk_task_execution_duration_seconds",
                          "Automated task execution through its connector, per attempt.", ["connector", "outcome"],
                          buckets=_TASK_BUCKETS)
HOT_PATH_LATENCY = Histogram("knhk_hot_path_firing_seconds",
                             "Engine firing latency (one engine call inside a service).", ["operation"],
                             buckets=_LATENCY_BUCKETS)
CELERY_TASK_DURATION = Histogram("knhk_celery_task_duration_seconds", "Celery task run time.", ["task", "state"],
                                 buckets=_TASK_BUCKETS)
RATE_LIMITED = Counter("knhk_rate_limited_requests", "Requests refused with 429 by the rate limiter.")
CONNECTOR_CALLS = Counter("knhk_connector_calls", "Connector calls by outcome.", ["connector", "outcome"])

_case_end_events = {"case_completed": "completed", "case_cancelled": "cancelled", "case_deadlocked": "deadlocked",
                    "case_failed": "failed"}


def record_engine_events(workflow_id: str, events: Iterable) -> None:
    """Count the engine events of one service call (objects with `.kind`, or dicts with "kind")."""
    for event in events:
        kind = event.get("kind") if isinstance(event, dict) else getattr(event, "kind", None)
        if kind == "item_enabled":
            WORK_ITEMS_ENABLED.labels(workflow_id).inc()
        elif kind == "item_completed":
            WORK_ITEMS_COMPLETED.labels(workflow_id).inc()
        elif kind in _case_end_events:
            CASES_FINISHED.labels(workflow_id, _case_end_events[kind]).inc()


class DatabaseCollector:
    """Gauges read from the database at scrape time: cases by state, DLQ size, circuit breakers."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        yield from _safely(self._cases_by_state)
        yield from _safely(self._incidents)

    @staticmethod
    def _cases_by_state() -> Iterable[GaugeMetricFamily]:
        from django.db.models import Count

        from cases.models import Case, CaseState

        counts = dict(Case.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
        family = GaugeMetricFamily("knhk_cases", "Cases by state.", labels=["state"])
        for state in CaseState.values:
            family.add_metric([state], counts.get(state, 0))
        yield family

    @staticmethod
    def _incidents() -> Iterable[GaugeMetricFamily]:
        from django.apps import apps

        if not apps.is_installed("incidents"):
            return
        from incidents.metrics import collect

        yield from collect()


def _safely(producer: Callable[[], Iterable[GaugeMetricFamily]]) -> Iterable[GaugeMetricFamily]:
    """A scrape never fails because one source does (e.g. tables not migrated yet)."""
    try:
        yield from list(producer())
    except Exception as exc:  # the database may be down; /metrics must still answer
        logger.warning("metrics source %s failed: %s", producer.__name__, exc)


_extra_collectors: list = [DatabaseCollector(), fortune5.SloCollector()]


def register_collector(collector) -> None:
    """Add a scrape-time collector."""
    if collector not in _extra_collectors:
        _extra_collectors.append(collector)


def scrape_registry() -> CollectorRegistry:
    """All processes' metrics (multiprocess) or this process's, plus the scrape-time collectors."""
    if MULTIPROC_DIR is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(MULTIPROC_DIR))
    else:
        registry = CollectorRegistry()
        registry.register(_Delegate(REGISTRY))
    for collector in _extra_collectors:
        registry.register(collector)
    return registry


class _Delegate:
    """Expose an existing registry's metrics inside another registry."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self):
        return self.source.collect()


@get_and_head_only
def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics: Prometheus text format (HEAD: the headers; another method: a JSON 405)."""
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)


_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return "/" + match.route.lstrip("^").rstrip("$") if match.route else match.view_name or "unmatched"


class MetricsMiddleware:
    """Count and time every request by method, route template and status."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = _route(request)
        HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        elapsed = time.perf_counter() - started
        HTTP_LATENCY.labels(request.method, route).observe(elapsed)
        if request.method in _WRITE_METHODS and request.path.startswith("/api/"):
            fortune5.record("write", elapsed)
        return response


def start_worker_metrics_server(port: int):
    """Serve the merged metrics of a Celery worker's processes on `port` (Kubernetes scrapes it).

    Returns the HTTP server (its thread is a daemon)."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, registry=scrape_registry())
    logger.info("worker metrics on port %s", port)
    return server


def clear_directory() -> None:
    """Remove every metrics file (at a server's start, before its processes write)."""
    if MULTIPROC_DIR is not None:
        for file in MULTIPROC_DIR.glob("*.db"):
            file.unlink(missing_ok=True)


def mark_process_dead(pid: int) -> None:
    """Drop a dead process's live gauges from the multiprocess directory."""
    if MULTIPROC_DIR is not None:
        multiprocess.mark_process_dead(pid, path=str(MULTIPROC_DIR))
