"""Observing engine operations from the app services (the engine itself stays pure and uninstrumented).

A service step uses three hooks:

    with operation("work_item.complete", workflow_id=..., case_id=..., task_id=..., pattern=...):
        with hot_path():                 # around the engine call itself (cases.services._engine_call)
            engine_case.complete(item_id, data)
        engine_events(events, lookup)    # when the step's events are drained (cases.services._persist_step)

- `operation`: a span with workflow_id, case_id, task_id and pattern attributes; the ids in every log
  record inside; one log line (logger "knhk.operations") with operation and duration_ms at the end.
- `hot_path`: the engine firing latency histogram and the Fortune 5 hot-path sample.
- `engine_events`: counts work items enabled/completed and cases ended, and adds child spans for what
  the engine evaluated in the step: the split of each completed task ("split.evaluate"), the join of
  each task that became enabled ("join.evaluate", "orjoin.analysis" for an OR-join). They span the
  engine call in which that happened.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from knhk.observability import tracing
from knhk.observability.logging import log_context
from knhk.observability.tracing import engine_span, span_attributes, tracer

logger = logging.getLogger("knhk.operations")
CASE_START = "case.start"

TaskLookup = Callable[[str, str], dict[str, Any]]  # (net_id, task_id) -> the task's spec definition


@dataclass
class Operation:
    name: str
    workflow_id: str | None
    engine_started_ns: int | None = None
    engine_ended_ns: int | None = None


_current: contextvars.ContextVar[Operation | None] = contextvars.ContextVar("knhk_operation", default=None)


def task_pattern(definition: dict[str, Any]) -> str | None:
    """A task's routing as a span attribute, e.g. "or-join/xor-split+multi-instance"."""
    if not definition:
        return None
    pattern = f"{definition.get('join', 'xor')}-join/{definition.get('split', 'and')}-split"
    extras = [name for key, name in (("multi_instance", "multi-instance"), ("cancels", "cancellation"),
                                     ("timer", "timer"), ("subnet", "composite")) if definition.get(key)]
    return "+".join([pattern, *extras])


@contextmanager
def operation(name: str, *, workflow_id: Any = None, case_id: Any = None, task_id: Any = None,
              pattern: Any = None, **attributes: Any) -> Iterator[Operation]:
    """Span + log context + one timed log line around a service step (see the module docstring)."""
    op = Operation(name, None if workflow_id is None else str(workflow_id))
    ids = {"workflow_id": workflow_id, "case_id": case_id, "task_id": task_id}
    token = _current.set(op)
    started = time.perf_counter()
    outcome = "error"
    try:
        with log_context(operation=name, **ids), engine_span(name, pattern=pattern, **ids, **attributes):
            try:
                yield op
                outcome = "ok"
            finally:
                duration_ms = round((time.perf_counter() - started) * 1000, 3)
                logger.log(logging.INFO if outcome == "ok" else logging.WARNING, "%s %s", name, outcome,
                           extra={"duration_ms": duration_ms, "outcome": outcome})
        if outcome == "ok" and name == CASE_START and op.workflow_id is not None:
            from knhk.observability import metrics

            metrics.CASES_STARTED.labels(op.workflow_id).inc()
    finally:
        _current.reset(token)


@contextmanager
def hot_path() -> Iterator[None]:
    """Time one engine call: firing latency histogram, Fortune 5 hot-path sample, child span bounds."""
    from knhk import fortune5
    from knhk.observability import metrics

    op = _current.get()
    started_ns = time.time_ns()
    started = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - started
        metrics.HOT_PATH_LATENCY.labels(op.name if op else "engine").observe(elapsed)
        fortune5.record("hot_path", elapsed)
        if op is not None:
            op.engine_started_ns = op.engine_started_ns or started_ns
            op.engine_ended_ns = time.time_ns()


def _field(event: Any, name: str) -> Any:
    return event.get(name) if isinstance(event, dict) else getattr(event, name, None)


def engine_events(events: Iterable[Any], lookup: TaskLookup | None = None, *, workflow_id: Any = None) -> None:
    """Count a step's engine events and add split/join child spans to the current operation's span."""
    from knhk.observability import metrics

    events = list(events)
    op = _current.get()
    workflow = str(workflow_id) if workflow_id is not None else (op.workflow_id if op else None)
    if workflow is not None:
        metrics.record_engine_events(workflow, events)
    if lookup is None or op is None or op.engine_started_ns is None or not tracing.enabled():
        return
    for event in events:
        kind = _field(event, "kind")
        if kind not in ("item_completed", "item_enabled"):
            continue
        task_id, net_id = _field(event, "task_id"), _field(event, "net_id")
        definition = lookup(net_id or "", task_id or "") if task_id else {}
        if kind == "item_completed":
            name, pattern = "split.evaluate", f"{definition.get('split', 'and')}-split"
        else:
            join = definition.get("join", "xor")
            name, pattern = ("orjoin.analysis" if join == "or" else "join.evaluate"), f"{join}-join"
        span = tracer().start_span(name, start_time=op.engine_started_ns, attributes=span_attributes(
            workflow_id=workflow, case_id=_case_id(), task_id=task_id, pattern=pattern, net_id=net_id))
        span.end(end_time=op.engine_ended_ns)


def _case_id() -> str | None:
    from knhk.observability.logging import current_ids

    return current_ids().get("case_id")
