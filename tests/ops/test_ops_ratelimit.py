"""Rate limiting: WORKFLOW_RATE_LIMIT requests per second per client; the 101st gets 429."""

from __future__ import annotations

import subprocess

import pytest

from knhk import ratelimit

pytestmark = pytest.mark.django_db


@pytest.fixture
def limit_100(settings, monkeypatch):
    settings.WORKFLOW_RATE_LIMIT = 100
    settings.CELERY_BROKER_URL = None  # in-process counters (the Redis ones are tested below)
    now = [1_000_000.25]
    monkeypatch.setattr(ratelimit, "clock", lambda: now[0])
    monkeypatch.setattr(ratelimit, "_local", ratelimit.InProcessWindows())
    return now


def test_the_101st_request_in_a_second_gets_429_with_retry_after(anonymous_client, limit_100):
    statuses = [anonymous_client.get("/api/v1/workflows").status_code for _ in range(100)]
    assert 429 not in statuses
    refused = anonymous_client.get("/api/v1/workflows")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert "100 per second" in error["message"]
    assert error["details"] == {"limit": 100, "window_seconds": 1, "retry_after_seconds": 1}

    limit_100[0] += 1.0  # the next second
    assert anonymous_client.get("/api/v1/workflows").status_code != 429


def test_clients_are_counted_apart_and_probes_are_never_limited(anonymous_client, api_client, client, limit_100):
    for _ in range(101):
        anonymous_client.get("/api/v1/workflows")
    assert anonymous_client.get("/api/v1/workflows").status_code == 429
    assert api_client.get("/api/v1/workflows").status_code == 200  # another client (its token)
    assert client.get("/health/live").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_the_limit_comes_from_the_environment(tmp_path):
    import os
    import sys

    env = {**os.environ, "WORKFLOW_RATE_LIMIT": "fast", "WORKFLOW_STATE_PATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", "import knhk.settings"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert "WORKFLOW_RATE_LIMIT must be a positive integer, got 'fast'" in result.stderr
    env["WORKFLOW_RATE_LIMIT"] = "250"
    result = subprocess.run([sys.executable, "-c", "from knhk import settings; print(settings.WORKFLOW_RATE_LIMIT)"],
                            env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "250"


def test_with_redis_the_window_is_shared_between_processes(settings, redis_url, monkeypatch, anonymous_client):
    """Two limiter instances (as two gunicorn workers) share one counter; the 101st is refused."""
    settings.CELERY_BROKER_URL = redis_url
    settings.WORKFLOW_RATE_LIMIT = 100
    monkeypatch.setattr(ratelimit, "clock", lambda: 2_000_000.5)
    from knhk.sharedstore import redis_client

    worker_one, worker_two = ratelimit.RedisWindows(redis_client()), ratelimit.RedisWindows(redis_client())
    counts = [(worker_one if i % 2 else worker_two).hit("addr:10.0.0.9", 2_000_000) for i in range(100)]
    assert counts[-1] == 100
    # The middleware, counting through the same Redis, refuses that client's next request.
    response = anonymous_client.get("/api/v1/workflows", REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 429 and response["Retry-After"] == "1"
    assert ratelimit.count_hit("addr:10.0.0.9", 2_000_001) == 1  # a new second, a new window


def test_a_user_is_one_client_whatever_its_tokens_and_made_up_tokens_count_as_the_address(
        limit_100, make_user, client_for, anonymous_client):
    from rest_framework.test import APIClient

    user = make_user("ann")
    first, second = client_for(user), client_for(user)  # two tokens of one user
    for _ in range(50):
        first.get("/api/v1/workflows")
        second.get("/api/v1/workflows")
    assert first.get("/api/v1/workflows").status_code == 429
    forger = APIClient()
    for number in range(100):
        forger.credentials(HTTP_AUTHORIZATION=f"Bearer made-up-{number}")
        assert forger.get("/api/v1/workflows").status_code == 401
    assert anonymous_client.get("/api/v1/workflows").status_code == 429  # same address, same bucket
