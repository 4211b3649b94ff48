"""Scrape-time gauges: dead letter queue size and circuit breaker states (read from the database)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily

from incidents.models import BreakerState, CircuitBreaker, Incident, IncidentState

BREAKER_STATE_VALUES = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


def collect() -> Iterable[GaugeMetricFamily]:
    dlq = GaugeMetricFamily("knhk_dead_letter_queue_size", "Incidents waiting for an operator (state open).")
    dlq.add_metric([], Incident.objects.filter(state=IncidentState.OPEN).count())
    yield dlq
    breakers = GaugeMetricFamily(
        "knhk_circuit_breaker_state", "Circuit breaker per connector: 0 closed, 1 half-open, 2 open.", labels=["connector"]
    )
    for key, state in CircuitBreaker.objects.values_list("key", "state"):
        breakers.add_metric([key], BREAKER_STATE_VALUES.get(state, 0))
    yield breakers
