"""Shared fixtures for the Django tests.

Every API test goes through `api_client`, so authentication can be added in one place. Its requests
run the transaction.on_commit callbacks they register (Celery enqueues), as a real request would,
even inside the test's transaction.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

SHARED_DIR = Path(__file__).resolve().parents[1] / ".." / "shared"


class CommittingAPIClient(APIClient):
    """An APIClient that runs each request's on_commit callbacks when the request returns."""

    def request(self, **kwargs):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**kwargs)


@pytest.fixture
def api_client(db) -> APIClient:
    """The client every API test uses (authentication is added here when it exists)."""
    return CommittingAPIClient()


@pytest.fixture(autouse=True)
def _eager_celery_propagates(settings):
    """In tests, an exception inside an in-process Celery task fails the test."""
    from knhk.celery import app

    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_eager_propagates = previous


@pytest.fixture
def shared_dir() -> Path:
    """../shared beside the repository, or skip."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"shared material not found at {SHARED_DIR.resolve()} (it sits beside the repo in CI)")
    return SHARED_DIR.resolve()
