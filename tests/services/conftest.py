"""Fixtures for the tests against the real stack: PostgreSQL, Redis and a Celery worker process.

.ci/run sets DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis). The worker is a separate
`celery -A knhk.celery worker` process pointed at the test database pytest-django created, so it
sees what the live server commits and the test sees what it commits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx
import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parents[2]


def _require_real_stack() -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL (run by .ci/run)")
    if not settings.CELERY_BROKER_URL or settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("needs CELERY_BROKER_URL pointing at Redis (run by .ci/run)")


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[subprocess.Popen]:
    """A real Celery worker process on the test database (started once per session)."""
    _require_real_stack()
    from django.db import connection

    from knhk.celery import app

    test_db = connection.settings_dict["NAME"]
    url = urlparse(os.environ["DATABASE_URL"])
    env = {**os.environ, "DATABASE_URL": urlunparse(url._replace(path=f"/{test_db}")),
           "DJANGO_SETTINGS_MODULE": "knhk.settings"}
    app.control.purge()  # nothing left over from an earlier run
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    log = log_path.open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "knhk.celery", "worker", "--pool=prefork", "--concurrency=2",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "-n", f"knhk-test-{os.getpid()}@%h"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=1.0):
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail(f"Celery worker did not start:\n{log_path.read_text()[-4000:]}")
    worker.log_path = log_path
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
    log.close()


@pytest.fixture
def http(live_server, celery_worker_process, transactional_db):
    """An HTTP client to the live server, as a superuser with a JWT access token."""
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    user = get_user_model().objects.create_superuser("ci-root", password="ci-root-password")
    headers = {"Authorization": f"Bearer {AccessToken.for_user(user)}"}
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=30.0) as client:
        yield client


@pytest.fixture
def call(http):
    """(method, path, json=None) -> (status, body) over real HTTP."""

    def request(method: str, path: str, body=None):
        response = http.request(method, path, json=body) if body is not None else http.request(method, path)
        return response.status_code, response.json()

    return request
