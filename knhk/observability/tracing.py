"""OpenTelemetry: Django, Celery and psycopg instrumentation, OTLP/HTTP export, engine spans.

With WORKFLOW_OTEL_ENDPOINT unset nothing is installed: no provider, no instrumentation, and the spans
opened by `engine_span` are the API's no-op spans. With it set (e.g. http://otel-collector:4318) spans
are batched to `<endpoint>/v1/traces`. The batch processor re-creates its export thread after a fork,
so setting up before gunicorn or Celery forks is safe.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace

logger = logging.getLogger("knhk.tracing")

SERVICE_NAME = "knhk-workflow-engine"
TRACER_NAME = "knhk.engine"
_lock = threading.Lock()
_provider: Any = None


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for a collector base URL (a full .../v1/traces URL is kept)."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


def _configured_endpoint() -> str | None:
    try:
        from django.conf import settings

        return getattr(settings, "WORKFLOW_OTEL_ENDPOINT", None)
    except Exception:  # settings not configured: a plain library use
        return os.environ.get("WORKFLOW_OTEL_ENDPOINT") or None


def setup_tracing(endpoint: str | None = None, span_exporter: Any = None) -> bool:
    """Install the SDK provider and instrumentation once; True when tracing is on.

    `span_exporter` (tests: InMemorySpanExporter) is used instead of OTLP and exports synchronously.
    """
    global _provider
    endpoint = endpoint or _configured_endpoint()
    if endpoint is None and span_exporter is None:
        return _provider is not None
    with _lock:
        if _provider is not None:
            return True
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        service = os.environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        if span_exporter is not None:
            provider.add_span_processor(SimpleSpanProcessor(span_exporter))
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url(endpoint))))
        trace.set_tracer_provider(provider)
        _provider = provider
        _instrument_libraries()
        logger.info("tracing on", extra={"exporter": "memory" if span_exporter is not None else traces_url(endpoint)})
        return True


def _instrument_libraries() -> None:
    """Django requests, Celery tasks (publish and run) and psycopg queries."""
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    for instrumentor in (DjangoInstrumentor(), CeleryInstrumentor(), PsycopgInstrumentor()):
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument()


def enabled() -> bool:
    """Whether spans go anywhere (an endpoint or a test exporter is set up)."""
    return _provider is not None


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def span_attributes(
    workflow_id: Any = None, case_id: Any = None, task_id: Any = None, pattern: Any = None, **more: Any
) -> dict[str, str | int | float | bool]:
    """Span attributes from the engine ids (None values left out; everything else as str or number)."""
    values = {"workflow_id": workflow_id, "case_id": case_id, "task_id": task_id, "pattern": pattern, **more}
    return {k: v if isinstance(v, (int, float, bool)) else str(v) for k, v in values.items() if v is not None}


@contextmanager
def engine_span(name: str, **attributes: Any) -> Iterator[trace.Span]:
    """A span around one engine operation, e.g. engine_span("case.start", workflow_id=..., case_id=...)."""
    with tracer().start_as_current_span(name, attributes=span_attributes(**attributes)) as span:
        yield span
