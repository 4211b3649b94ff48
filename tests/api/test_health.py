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


PROBES = ["/health", "/health/live", "/health/ready", "/metrics"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PROBES)
def test_probes_answer_head_like_get_without_a_body(path):
    """Load balancers probe with HEAD: 200 like GET, same headers, no body (Django's require_GET said 405)."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    get, head = client.get(path), client.head(path)
    assert get.status_code == head.status_code == 200
    assert head["Content-Type"] == get["Content-Type"]
    assert head.content == b"" and int(head["Content-Length"]) > 0


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
@pytest.mark.parametrize("path", PROBES)
def test_probes_answer_other_methods_with_a_json_405_not_the_csrf_page(path, method):
    from django.test import Client

    response = getattr(Client(enforce_csrf_checks=True), method)(path)  # no CSRF token, as a real client
    assert response.status_code == 405, response.content[:200]
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET, HEAD"
    assert response.json() == {"error": {"code": "method_not_allowed",
                                         "message": f'Method "{method.upper()}" not allowed.', "details": {}}}
