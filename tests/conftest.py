"""Shared fixtures for the Django tests.

Every API test goes through `api_client`, so authentication can be added in one place. Its requests
run the transaction.on_commit callbacks they register (Celery enqueues), as a real request would,
even inside the test's transaction.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import TestCase
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

# Property tests are deterministic by default (the same examples on every run, so CI is repeatable);
# HYPOTHESIS_PROFILE=explore draws new random examples, for hunting bugs locally.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("explore", derandomize=False, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SHARED_DIR = Path(__file__).resolve().parents[1] / ".." / "shared"


class CommittingAPIClient(APIClient):
    """An APIClient that runs each request's on_commit callbacks when the request returns."""

    def request(self, **kwargs):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**kwargs)


@pytest.fixture
def make_user(db):
    """`make_user("alice", "operator", ...)`: a user with a password ("pw-<name>") and role groups."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    def make(username: str, *roles: str, superuser: bool = False):
        user = get_user_model().objects.create_user(
            username, password=f"pw-{username}", is_superuser=superuser, is_staff=superuser
        )
        user.groups.add(*[Group.objects.get_or_create(name=role)[0] for role in roles])
        return user

    return make


@pytest.fixture
def client_for(db):
    """`client_for(user)`: a client sending that user's JWT access token."""
    from rest_framework_simplejwt.tokens import AccessToken

    def make(user) -> APIClient:
        client = CommittingAPIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        client.user = user
        return client

    return make


@pytest.fixture
def anonymous_client(db) -> APIClient:
    """A client without credentials (401 on the API while WORKFLOW_AUTH_ENABLED is true)."""
    return CommittingAPIClient()


@pytest.fixture
def api_client(make_user, client_for) -> APIClient:
    """The client every API test uses: authenticated (JWT) as the superuser `root`."""
    return client_for(make_user("root", superuser=True))


@pytest.fixture(autouse=True)
def _no_rate_limit_by_default(settings):
    """Test clients send hundreds of requests a second; tests/ops/test_ops_ratelimit.py sets its own limit."""
    settings.WORKFLOW_RATE_LIMIT = 1_000_000


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many users: hash their passwords cheaply."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def shared_dir() -> Path:
    """../shared beside the repository, or skip."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"shared material not found at {SHARED_DIR.resolve()} (it sits beside the repo in CI)")
    return SHARED_DIR.resolve()
