"""Operations: OpenTelemetry tracing, Prometheus metrics, JSON logs with request ids (issue 6).

App services wrap each step in `operation(...)`, each engine call in `hot_path()`, and hand the step's
events to `engine_events(...)` (see operations.py). The engine (knhk/engine) is never instrumented.
"""

from knhk.observability.operations import engine_events, hot_path, operation, task_pattern

__all__ = ["engine_events", "hot_path", "operation", "task_pattern"]
