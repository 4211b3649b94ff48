"""Health endpoints, exactly as the deployment guide names them.

GET /health/live  -> {"alive": true}
GET /health/ready -> {"ready": true}, or 503 {"ready": false, "reason": "..."}
GET /health       -> {"status": "Healthy" | "Degraded", "service": "knhk-workflow-engine"}

HEAD answers like GET without the body; another method is a JSON 405 (knhk.api.methods).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

from knhk.api.methods import get_and_head_only

SERVICE_NAME = "knhk-workflow-engine"
logger = logging.getLogger("knhk.health")


def database_problem() -> str | None:
    """None when the database answers, else why not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready"
        return f"database unavailable: {exc.__class__.__name__}: {exc}".strip()
    return None


def broker_problem() -> str | None:
    """None when no broker is configured or it answers, else why not."""
    if not settings.CELERY_BROKER_URL:
        return None
    from knhk.celery import app

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as exc:  # kombu raises many kinds; all mean "not ready"
        return f"broker unavailable: {exc.__class__.__name__}: {exc}".strip()
    return None


def dependency_problems() -> list[str]:
    return [problem for problem in (database_problem(), broker_problem()) if problem]


def slo_problems() -> list[str]:
    """Fortune 5 mode: one line per breached latency SLO (none when the mode is off)."""
    from knhk import fortune5

    return fortune5.health_problems()


@get_and_head_only
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"alive": True})


@get_and_head_only
def ready(request: HttpRequest) -> JsonResponse:
    problems = dependency_problems()
    if problems:
        logger.warning("not ready: %s", "; ".join(problems))
        return JsonResponse({"ready": False, "reason": "; ".join(problems)}, status=503)
    return JsonResponse({"ready": True})


@get_and_head_only
def health(request: HttpRequest) -> JsonResponse:
    problems = dependency_problems() + slo_problems()
    body = {"status": "Degraded" if problems else "Healthy", "service": SERVICE_NAME}
    if problems:
        body["reason"] = "; ".join(problems)
    return JsonResponse(body)
