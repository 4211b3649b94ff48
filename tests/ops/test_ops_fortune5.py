"""Fortune 5 mode: p99 SLOs of hot-path, write and end-to-end latency in /health and /metrics, and the
promotion gate (409 for a new specification version while an SLO is breached)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from knhk import fortune5
from tests.ops.conftest import OR_SPEC
from tests.ops.test_ops_metrics import scrape, value

pytestmark = pytest.mark.django_db


@pytest.fixture
def fortune5_on(settings):
    settings.WORKFLOW_FORTUNE5_ENABLED = True
    settings.CELERY_BROKER_URL = None  # in-process sample windows (Redis: see the last test)
    settings.WORKFLOW_SLO_P99_MS = {"hot_path": 50, "write": 500, "end_to_end": 60_000}
    fortune5.reset()
    yield settings
    fortune5.reset()


def _slow_hot_path(samples: int = 30, seconds: float = 0.2) -> None:
    for _ in range(samples):
        fortune5.record("hot_path", seconds)


def test_p99_is_the_nearest_rank():
    assert fortune5.p99([]) is None
    assert fortune5.p99(range(1, 101)) == 99
    assert fortune5.p99([5.0]) == 5.0


def test_a_breached_slo_degrades_health_and_shows_in_metrics(client, fortune5_on):
    assert client.get("/health").json()["status"] == "Healthy"
    _slow_hot_path()
    body = client.get("/health").json()
    assert body["status"] == "Degraded"
    assert "SLO hot_path breached: p99 200.0 ms > 50 ms (30 samples)" in body["reason"]
    samples = scrape(client)
    assert value(samples, "knhk_slo_breached", slo="hot_path") == 1
    assert value(samples, "knhk_slo_p99_seconds", slo="hot_path") == pytest.approx(0.2)
    assert value(samples, "knhk_slo_limit_seconds", slo="hot_path") == pytest.approx(0.05)
    assert value(samples, "knhk_slo_breached", slo="write") == 0


def test_the_promotion_gate_refuses_new_versions_while_breached(api_client, fortune5_on):
    assert api_client.post("/api/v1/workflows", {"spec": OR_SPEC}, format="json").status_code == 201
    _slow_hot_path()
    refused = api_client.post("/api/v1/workflows", {"spec": {**OR_SPEC, "name": "v2"}}, format="json")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "slo_breached"
    assert error["details"]["breached"][0]["slo"] == "hot_path"
    assert api_client.get("/api/v1/workflows/ops-or").json()["version"] == 1

    fortune5.reset()  # latency back within its limit
    _slow_hot_path(seconds=0.001)
    assert api_client.post("/api/v1/workflows", {"spec": {**OR_SPEC, "name": "v2"}}, format="json").status_code == 201


def test_too_few_samples_are_not_judged(client, fortune5_on):
    _slow_hot_path(samples=fortune5.MIN_SAMPLES - 1)
    assert client.get("/health").json()["status"] == "Healthy"


def test_end_to_end_latency_comes_from_completed_cases(api_client, client, fortune5_on):
    from cases.models import Case

    fortune5_on.WORKFLOW_SLO_P99_MS = {"hot_path": 50_000, "write": 50_000, "end_to_end": 1000}
    assert api_client.post("/api/v1/workflows", {"spec": {**OR_SPEC, "tasks": [
        {"id": "a", "kind": "routing", "flows": ["end"]}]}}, format="json").status_code == 201
    for _ in range(fortune5.MIN_SAMPLES):
        assert api_client.post("/api/v1/cases", {"spec_id": "ops-or"}, format="json").json()["state"] == "completed"
    assert client.get("/health").json()["status"] == "Healthy"
    Case.objects.update(completed_at=timezone.now() + timedelta(seconds=5))  # they took over 5 s
    body = client.get("/health").json()
    assert body["status"] == "Degraded" and "SLO end_to_end breached" in body["reason"]


def test_running_cases_and_writes_feed_the_windows(api_client, fortune5_on):
    assert api_client.post("/api/v1/workflows", {"spec": OR_SPEC}, format="json").status_code == 201
    api_client.post("/api/v1/cases", {"spec_id": "ops-or", "data": {}}, format="json")
    by_name = {status.name: status for status in fortune5.statuses()}
    assert by_name["hot_path"].samples >= 1  # the engine call of case start
    assert by_name["write"].samples == 2  # two POSTs under /api/


def test_mode_off_nothing_is_judged(client, settings):
    settings.WORKFLOW_FORTUNE5_ENABLED = False
    _slow_hot_path()
    assert client.get("/health").json() == {"status": "Healthy", "service": "knhk-workflow-engine"}
    assert not any(name.startswith("knhk_slo") for name, _ in scrape(client))
    fortune5.check_promotion("anything")  # no exception


def test_with_redis_every_process_shares_the_window(fortune5_on, redis_url):
    fortune5_on.CELERY_BROKER_URL = redis_url
    fortune5.reset()
    _slow_hot_path()
    from knhk.sharedstore import redis_client

    assert redis_client().llen("knhk:fortune5:hot_path") == 30
    fortune5._local["hot_path"].clear()  # another process has no local samples, yet sees the breach
    assert [status.name for status in fortune5.breaches()] == ["hot_path"]
