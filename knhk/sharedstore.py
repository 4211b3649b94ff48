"""The Redis connection shared by the rate limiter and the Fortune 5 SLO windows.

Redis is used when the Celery broker is Redis (CELERY_BROKER_URL redis:// or rediss://): then every
gunicorn worker, Celery worker and replica sees the same counters. Without it the callers keep their
state in-process, which is exact for the embedded single-process mode.
"""

from __future__ import annotations

import functools
import logging

logger = logging.getLogger("knhk.sharedstore")


def redis_url() -> str | None:
    from django.conf import settings

    url = getattr(settings, "CELERY_BROKER_URL", None) or ""
    return url if url.startswith(("redis://", "rediss://")) else None


@functools.lru_cache(maxsize=4)
def _client_for(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=30)


def redis_client():
    """A redis.Redis for the broker URL, or None when no Redis is configured."""
    url = redis_url()
    return _client_for(url) if url else None
