"""Health endpoints, exactly as the deployment guide names them."""

from unittest import mock

import pytest


@pytest.mark.django_db
def test_live(client):
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"alive": True}


@pytest.mark.django_db
def test_ready_when_database_answers(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"ready": True}


@pytest.mark.django_db
def test_health_healthy(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "Healthy", "service": "knhk-workflow-engine"}


@pytest.mark.django_db
def test_ready_and_health_when_database_fails(client):
    with mock.patch("knhk.health.database_problem", return_value="database unavailable: boom"):
        ready = client.get("/health/ready")
        health = client.get("/health")
    assert ready.status_code == 503
    assert ready.json() == {"ready": False, "reason": "database unavailable: boom"}
    assert health.status_code == 200
    assert health.json()["status"] == "Degraded"
    assert health.json()["service"] == "knhk-workflow-engine"


@pytest.mark.django_db
def test_ready_checks_configured_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    assert body["reason"].startswith("broker unavailable")
