"""Fixtures for the reliability tests against the real stack (PostgreSQL; Redis and Celery for crashes).

`pg_call` talks HTTP to a live server on the test database; `start_worker` runs a Celery worker
process on that database (the crash tests kill it). .ci/run runs the `postgres` tests with the real
stack and the `disruptive` ones (they kill workers and stop PostgreSQL) alone, at its end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx
import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIServer

REPO = Path(__file__).resolve().parents[2]

# The live server's listen backlog (Django's default is 10): the races open 50 connections at once,
# as a production server's (gunicorn: 2048) would accept them.
WSGIServer.request_queue_size = 512
Call = Callable[..., tuple[int, Any]]


def require_postgres() -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL (run by .ci/run)")


def require_broker() -> None:
    require_postgres()
    if not settings.CELERY_BROKER_URL or settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("needs CELERY_BROKER_URL pointing at Redis (run by .ci/run)")


@pytest.fixture
def pg_http(live_server, transactional_db, settings) -> Iterator[httpx.Client]:
    """An HTTP client (superuser JWT) to a live server on the PostgreSQL test database."""
    require_postgres()
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    settings.WORKFLOW_RATE_LIMIT = 1_000_000  # these tests are one client sending bursts on purpose
    user = get_user_model().objects.create_superuser("reliability", password="reliability-password")
    headers = {"Authorization": f"Bearer {AccessToken.for_user(user)}"}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=120.0, limits=limits) as client:
        yield client


@pytest.fixture
def pg_call(pg_http) -> Call:
    """(method, path, body=None) -> (status, JSON body) over real HTTP."""

    def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = (
            pg_http.request(method, path, json=body) if body is not None else pg_http.request(method, path)
        )
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.text

    return call


class Worker:
    """A Celery worker process on the test database."""

    def __init__(self, log_path: Path, concurrency: int) -> None:
        from django.db import connection

        url = urlparse(os.environ["DATABASE_URL"])
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "knhk.settings",
               "DATABASE_URL": urlunparse(url._replace(path=f"/{connection.settings_dict['NAME']}"))}  # fmt: skip
        self.log_path = log_path
        self._log = log_path.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "knhk.celery", "worker", "--pool=prefork",
             f"--concurrency={concurrency}", "--loglevel=INFO", "--without-gossip", "--without-mingle",
             "-n", f"knhk-reliability-{os.getpid()}-{time.monotonic_ns()}@%h"],
            cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.wait_ready()

    def wait_ready(self, seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        while "ready." not in self.log_path.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"Celery worker did not start:\n{self.log_path.read_text()[-4000:]}")
            time.sleep(0.2)

    def pool_children(self) -> list[int]:
        """Pids of the prefork pool's child processes."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture
def start_worker(tmp_path) -> Iterator[Callable[..., Worker]]:
    """`start_worker(concurrency=1)`: a Celery worker process, stopped after the test."""
    require_broker()
    from knhk.celery import app

    app.control.purge()
    workers: list[Worker] = []

    def start(concurrency: int = 1) -> Worker:
        worker = Worker(tmp_path / "worker.log", concurrency)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
