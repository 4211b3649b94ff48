"""Celery tasks: the work that is not a person's request.

- run_automated_item: an automated work item's connector runs (through its circuit breaker), then the
  item completes and the case advances; failures are retried with exponential backoff, and after the
  last retry the item goes to the dead letter queue (incidents/), as it does at once when the engine
  refuses the connector's output (a retry would get the same answer; an operator skips it with data).
- fire_timer: a work item's timer expired.
- advance_case: re-run a case from its stored state (recovery).
Each takes the case's row lock inside the service, so two workers never advance one case at once.
Embedded (no broker) the tasks run in-process; timers then wait on a local thread.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from cases import services
from cases.connectors import ConnectorError
from incidents.resilience import backoff_delay, call_connector
from incidents.services import dead_letter, resolve_for_item
from knhk.api.errors import BadRequest

logger = logging.getLogger("knhk.tasks")


# A database outage (connection lost, server restarting) is retried with backoff, not dropped.
DATABASE_OUTAGE = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_kwargs": {"max_retries": 30},
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "retry_jitter": True,
}


@shared_task(bind=True, acks_late=True, max_retries=None, **DATABASE_OUTAGE)
def run_automated_item(self, work_item_id: str) -> str:
    """Start the item, run its connector outside the case lock, then complete (or fail) it."""
    row = services.begin_automated_item(work_item_id)
    if row is None:
        return "skipped"
    definition = services.task_definition(row.case.spec, row.net_id, row.task_id).get("connector") or {}
    name = definition.get("name") or "noop"
    max_retries = int(definition.get("max_retries", 0) or 0)
    try:
        output = call_connector(name, definition.get("config") or {}, row.data or {},
                                workflow_id=row.case.spec.spec_id, case_id=row.case_id, task_id=row.task_id)
    except ConnectorError as exc:  # CircuitOpen too: an attempt that did not reach the connector
        if self.request.retries < max_retries:
            delay = backoff_delay(definition, self.request.retries, exc)  # exponential
            logger.warning("work item %s: %s; retry %d/%d in %.1f s", work_item_id, exc, self.request.retries + 1,
                           max_retries, delay)
            raise self.retry(countdown=delay, exc=exc) from exc
        dead_letter(work_item_id, name, str(exc), attempts=self.request.retries + 1)  # the dead letter queue
        return "dead_lettered"
    try:
        services.complete_work_item(work_item_id, output)
    except BadRequest as exc:  # the engine refused the connector's output: a retry would get the same
        dead_letter(work_item_id, name, f"the connector's output was refused: {exc.detail}",
                    attempts=self.request.retries + 1)
        return "dead_lettered"
    resolve_for_item(work_item_id)
    return "completed"


@shared_task(acks_late=True, **DATABASE_OUTAGE)
def fire_timer(case_id: str, engine_item_id: str) -> str:
    """Fire a due timer; one not due yet (a long timer's intermediate hop) is scheduled again."""
    result = services.fire_timer(case_id, engine_item_id)
    if result is not None:
        return "fired"
    due = services.pending_timer(case_id, engine_item_id)
    if due is not None and due > timezone.now():
        schedule_timer(case_id, engine_item_id, due)
        return "rescheduled"
    return "skipped"


@shared_task(acks_late=True, **DATABASE_OUTAGE)
def advance_case(case_id: str) -> str:
    result = services.advance_case(case_id)
    return "advanced" if result is not None else "skipped"


# A broker holds an eta task unacknowledged; past Redis' visibility timeout (1 h) it would be delivered
# again. Long timers therefore hop: the task runs at most this far ahead and schedules the next hop.
MAX_TIMER_HOP = timedelta(minutes=30)


def schedule_timer(case_id: str, engine_item_id: str, due: datetime) -> None:
    """Fire a timer at `due`: a Celery eta with a broker, a local thread when embedded."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        fire_timer.apply_async((case_id, engine_item_id), eta=min(due, timezone.now() + MAX_TIMER_HOP))
        return
    delay = max(0.0, (due - timezone.now()).total_seconds())
    timer = threading.Timer(delay, _fire_in_thread, args=(case_id, engine_item_id))
    timer.daemon = True
    timer.start()


def _fire_in_thread(case_id: str, engine_item_id: str) -> None:
    from django.db import close_old_connections

    try:
        fire_timer.delay(case_id, engine_item_id)
    except Exception:  # a timer thread must never die loudly; the command fire_due_timers recovers
        logger.exception("timer %s of case %s failed", engine_item_id, case_id)
    finally:
        close_old_connections()
