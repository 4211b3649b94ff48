"""A circuit breaker per connector, its state shared through the database.

closed --N consecutive failures--> open --reset timeout--> half_open --success--> closed
                                                           half_open --failure--> open

Why the database and not Redis (e.g. pybreaker's Redis storage): every gunicorn worker, Celery worker
and replica already shares it, in the embedded SQLite mode as well as with PostgreSQL, so the breaker
needs no extra service; the state survives restarts and shows in the admin. It is touched only on a
state change or a failure (a success on a closed breaker with no failures writes nothing), and each
transition is one conditional UPDATE, so two processes never both win the half-open trial call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cases.connectors import ConnectorError
from incidents.models import BreakerState, CircuitBreaker

logger = logging.getLogger("knhk.breaker")


class CircuitOpen(ConnectorError):
    """The connector's breaker is open: the call was not made (a failed attempt, retried later)."""

    def __init__(self, key: str, retry_after: float) -> None:
        super().__init__(f"circuit breaker of connector {key!r} is open; next trial in {retry_after:.0f} s")
        self.key = key
        self.retry_after = retry_after


@dataclass(frozen=True)
class Breaker:
    """The breaker of one connector key."""

    key: str
    failure_threshold: int
    reset_timeout: float

    @classmethod
    def for_key(cls, key: str) -> Breaker:
        return cls(key, int(settings.WORKFLOW_BREAKER_FAILURES), float(settings.WORKFLOW_BREAKER_RESET_SECONDS))

    def _row(self) -> CircuitBreaker:
        row, _ = CircuitBreaker.objects.get_or_create(key=self.key)
        return row

    def before_call(self) -> None:
        """Raise CircuitOpen unless a call may go through (closed, or this caller won the half-open trial)."""
        row = self._row()
        if row.state == BreakerState.CLOSED:
            return
        now = timezone.now()
        since = row.opened_at if row.state == BreakerState.OPEN else row.updated_at
        waited = (now - since).total_seconds() if since else self.reset_timeout
        if waited < self.reset_timeout:
            raise CircuitOpen(self.key, self.reset_timeout - waited)
        # Timeout over: exactly one caller moves it to half_open (or re-takes a trial left hanging).
        won = CircuitBreaker.objects.filter(key=self.key, state=row.state, updated_at=row.updated_at).update(
            state=BreakerState.HALF_OPEN, updated_at=now
        )
        if not won:
            raise CircuitOpen(self.key, self.reset_timeout)
        logger.info("circuit breaker %s half-open: trial call", self.key)

    def record_success(self) -> None:
        row = self._row()
        if row.state == BreakerState.CLOSED and row.consecutive_failures == 0:
            return
        CircuitBreaker.objects.filter(key=self.key).update(
            state=BreakerState.CLOSED, consecutive_failures=0, opened_at=None, updated_at=timezone.now()
        )
        if row.state != BreakerState.CLOSED:
            logger.info("circuit breaker %s closed", self.key)

    def record_failure(self, error: str) -> None:
        now = timezone.now()
        with transaction.atomic():
            row = CircuitBreaker.objects.select_for_update().get(key=self._row().key)
            failures = row.consecutive_failures + 1
            opens = row.state == BreakerState.HALF_OPEN or (
                row.state == BreakerState.CLOSED and failures >= self.failure_threshold
            )
            CircuitBreaker.objects.filter(key=self.key).update(
                consecutive_failures=F("consecutive_failures") + 1,
                last_error=error[:2000],
                updated_at=now,
                **({"state": BreakerState.OPEN, "opened_at": now} if opens else {}),
            )
        if opens:
            logger.warning("circuit breaker %s open after %d consecutive failures: %s", self.key, failures, error)

    def state(self) -> str:
        return self._row().state

    def reset(self) -> None:
        """Close the breaker by hand (admin action)."""
        CircuitBreaker.objects.filter(key=self.key).update(
            state=BreakerState.CLOSED, consecutive_failures=0, opened_at=None, updated_at=timezone.now()
        )

