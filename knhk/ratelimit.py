"""Rate limiting: WORKFLOW_RATE_LIMIT requests per second per client (default 100).

A fixed one-second window per client. With a Redis broker the window counter is one Redis INCR (atomic,
so every gunicorn worker and replica shares the limit, one round trip, O(1) memory per client); without
it the counter is in-process. Why not DRF throttling: its history throttle keeps a list of timestamps
per client and updates it read-modify-write through the cache, so concurrent processes lose updates, and
it would only cover DRF views. The 429 answer uses the common error shape and carries Retry-After.

A client is the user of a valid bearer token (several users behind one proxy are told apart), else its
address (REMOTE_ADDR). /health*, /metrics and /static/ are never limited (probes and scrapes must get through).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from knhk.api.errors import json_error
from knhk.sharedstore import redis_client

logger = logging.getLogger("knhk.ratelimit")

DEFAULT_LIMIT = 100
WINDOW_SECONDS = 1
EXEMPT_PREFIXES = ("/health", "/metrics", "/static/")
clock: Callable[[], float] = time.time  # replaced in tests to pin the window


def client_key(request: HttpRequest) -> str:
    """Who is asking: the user of a valid bearer token, else the remote address.

    The token's signature is checked (no database access), so made-up tokens cannot open new buckets.
    """
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth.startswith("Bearer "):
        user_id = _token_user(auth.removeprefix("Bearer ").strip())
        if user_id is not None:
            return f"user:{user_id}"
    return "addr:" + (request.META.get("REMOTE_ADDR") or "unknown")


def _token_user(token: str) -> str | None:
    from rest_framework_simplejwt.exceptions import TokenError
    from rest_framework_simplejwt.settings import api_settings
    from rest_framework_simplejwt.tokens import AccessToken

    try:
        return str(AccessToken(token)[api_settings.USER_ID_CLAIM])
    except (TokenError, KeyError):
        return None


class InProcessWindows:
    """Fixed-window counters in this process."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        self._window = -1

    def hit(self, key: str, window: int) -> int:
        with self._lock:
            if window != self._window:  # a new second: forget every older window
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
                self._window = window
            count = self._counts.get((key, window), 0) + 1
            self._counts[(key, window)] = count
            return count


class RedisWindows:
    """Fixed-window counters in Redis (INCR, then a short expiry)."""

    def __init__(self, client) -> None:
        self.client = client

    def hit(self, key: str, window: int) -> int:
        name = f"knhk:ratelimit:{key}:{window}"
        pipe = self.client.pipeline(transaction=False)
        pipe.incr(name)
        pipe.expire(name, WINDOW_SECONDS * 2)
        count, _ = pipe.execute()
        return int(count)


_local = InProcessWindows()


def count_hit(key: str, window: int) -> int:
    """Count one request of `key` in `window`: in Redis when configured, else (or if Redis fails) locally."""
    client = redis_client()
    if client is not None:
        try:
            return RedisWindows(client).hit(key, window)
        except Exception as exc:  # Redis down: limit per process rather than refuse or crash
            logger.warning("rate limiter falls back to in-process counters: %s", exc)
    return _local.hit(key, window)


class RateLimitMiddleware:
    """Answer 429 to the request past the limit within the current second."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = int(getattr(settings, "WORKFLOW_RATE_LIMIT", DEFAULT_LIMIT))
        if request.path.startswith(EXEMPT_PREFIXES):
            return self.get_response(request)
        now = clock()
        window = int(now // WINDOW_SECONDS)
        if count_hit(client_key(request), window) > limit:
            from knhk.observability.metrics import RATE_LIMITED

            RATE_LIMITED.inc()
            retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
            response = json_error(
                429,
                "rate_limited",
                f"Too many requests: the limit is {limit} per second per client. Retry after {retry_after} s.",
                {"limit": limit, "window_seconds": WINDOW_SECONDS, "retry_after_seconds": retry_after},
            )
            response["Retry-After"] = str(retry_after)
            return response
        return self.get_response(request)
