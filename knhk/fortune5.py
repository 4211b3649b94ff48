"""Fortune 5 mode (WORKFLOW_FORTUNE5_ENABLED=true): latency SLOs, health and a promotion gate.

Three SLOs, each a p99 latency against a limit (settings.WORKFLOW_SLO_P99_MS, from the environment):
- hot_path: one engine firing inside a service (knhk.observability.operation);
- write: a state-changing API request (POST/PUT/PATCH/DELETE under /api/);
- end_to_end: a case from creation to completion (read from the database).
hot_path and write keep their last WINDOW samples in Redis when a Redis broker is configured (so all
processes share one window), else in-process. An SLO with fewer than MIN_SAMPLES samples is not judged.
While any SLO is breached /health says "Degraded" and registering a specification (a new version going
into production) is refused with 409. docs/fortune5.md describes the mode for operators.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from knhk.sharedstore import redis_client

logger = logging.getLogger("knhk.fortune5")

SLOS = ("hot_path", "write", "end_to_end")
WINDOW = 1000
MIN_SAMPLES = 20
_REDIS_KEY = "knhk:fortune5:{}"
_local: dict[str, deque[float]] = {name: deque(maxlen=WINDOW) for name in SLOS}
_lock = threading.Lock()


def enabled() -> bool:
    return bool(getattr(settings, "WORKFLOW_FORTUNE5_ENABLED", False))


def limits_ms() -> dict[str, int]:
    return dict(getattr(settings, "WORKFLOW_SLO_P99_MS", {"hot_path": 50, "write": 500, "end_to_end": 60_000}))


def record(slo: str, seconds: float) -> None:
    """Add a latency sample (ignored unless Fortune 5 mode is on)."""
    if not enabled() or slo not in _local:
        return
    client = redis_client()
    if client is not None:
        try:
            key = _REDIS_KEY.format(slo)
            client.pipeline(transaction=False).lpush(key, seconds).ltrim(key, 0, WINDOW - 1).execute()
            return
        except Exception as exc:  # Redis down: keep the sample locally
            logger.warning("SLO sample kept in-process: %s", exc)
    with _lock:
        _local[slo].append(seconds)


def _samples(slo: str) -> list[float]:
    if slo == "end_to_end":
        return _end_to_end_samples()
    client = redis_client()
    if client is not None:
        try:
            return [float(v) for v in client.lrange(_REDIS_KEY.format(slo), 0, WINDOW - 1)]
        except Exception as exc:
            logger.warning("SLO samples read in-process: %s", exc)
    with _lock:
        return list(_local[slo])


def _end_to_end_samples() -> list[float]:
    """Durations of the last WINDOW completed cases."""
    from cases.models import Case, CaseState

    rows = (Case.objects.filter(state=CaseState.COMPLETED, completed_at__isnull=False)
            .order_by("-completed_at").values_list("created_at", "completed_at")[:WINDOW])
    return [(done - created).total_seconds() for created, done in rows]


def p99(samples: Iterable[float]) -> float | None:
    """Nearest-rank 99th percentile (None without samples)."""
    ordered = sorted(samples)
    if not ordered:
        return None
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


@dataclass(frozen=True)
class SloStatus:
    name: str
    limit_ms: int
    p99_ms: float | None
    samples: int

    @property
    def breached(self) -> bool:
        return self.samples >= MIN_SAMPLES and self.p99_ms is not None and self.p99_ms > self.limit_ms

    def describe(self) -> str:
        return f"SLO {self.name} breached: p99 {self.p99_ms:.1f} ms > {self.limit_ms} ms ({self.samples} samples)"

    def as_dict(self) -> dict:
        return {"slo": self.name, "p99_ms": None if self.p99_ms is None else round(self.p99_ms, 3),
                "limit_ms": self.limit_ms, "samples": self.samples, "breached": self.breached}


def statuses() -> list[SloStatus]:
    """Every SLO's current p99 against its limit."""
    limits = limits_ms()
    result = []
    for name in SLOS:
        samples = _samples(name)
        value = p99(samples)
        result.append(SloStatus(name, limits[name], None if value is None else value * 1000, len(samples)))
    return result


def breaches() -> list[SloStatus]:
    """The breached SLOs (none when the mode is off)."""
    if not enabled():
        return []
    try:
        return [status for status in statuses() if status.breached]
    except Exception as exc:  # a health check must answer even if the samples cannot be read
        logger.warning("SLO state unavailable: %s", exc)
        return []


def health_problems() -> list[str]:
    """For /health: one line per breached SLO."""
    return [status.describe() for status in breaches()]


def check_promotion(spec_id: str) -> None:
    """The promotion gate: refuse a new specification version with 409 while an SLO is breached."""
    breached = breaches()
    if breached:
        from knhk.api.errors import Conflict

        raise Conflict(
            f"Workflow {spec_id!r} not registered: Fortune 5 promotion gate closed while "
            + "; ".join(status.describe() for status in breached),
            code="slo_breached",
            details={"breached": [status.as_dict() for status in breached]},
        )


def reset() -> None:
    """Forget the hot_path and write samples (tests; an operator after a fix)."""
    with _lock:
        for window in _local.values():
            window.clear()
    client = redis_client()
    if client is not None:
        try:
            client.delete(*(_REDIS_KEY.format(name) for name in SLOS))
        except Exception as exc:
            logger.warning("SLO samples in Redis not cleared: %s", exc)


class SloCollector:
    """Prometheus gauges: p99, limit, breached and sample count per SLO (only in Fortune 5 mode)."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        if not enabled():
            return
        p99_family = GaugeMetricFamily("knhk_slo_p99_seconds", "Current p99 latency per SLO.", labels=["slo"])
        limit_family = GaugeMetricFamily("knhk_slo_limit_seconds", "p99 limit per SLO.", labels=["slo"])
        breached_family = GaugeMetricFamily("knhk_slo_breached", "1 while the SLO is breached.", labels=["slo"])
        samples_family = GaugeMetricFamily("knhk_slo_samples", "Samples in the SLO window.", labels=["slo"])
        for status in statuses():
            p99_family.add_metric([status.name], (status.p99_ms or 0.0) / 1000)
            limit_family.add_metric([status.name], status.limit_ms / 1000)
            breached_family.add_metric([status.name], 1.0 if status.breached else 0.0)
            samples_family.add_metric([status.name], status.samples)
        yield from (p99_family, limit_family, breached_family, samples_family)
