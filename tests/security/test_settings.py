"""Security settings from the environment: validated at start-up, and the loud warning of an open API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHOW = ("from django.conf import settings as s; j = s.SIMPLE_JWT; "
        "print(j['ACCESS_TOKEN_LIFETIME'].total_seconds(), j['REFRESH_TOKEN_LIFETIME'].days, len(j['SIGNING_KEY']))")


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WORKFLOW_JWT") and k != "WORKFLOW_AUTH_ENABLED"}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_jwt_lifetimes_and_key_come_from_the_environment():
    result = _manage("shell", "-c", SHOW, WORKFLOW_JWT_ACCESS_MINUTES="5", WORKFLOW_JWT_REFRESH_DAYS="7",
                     WORKFLOW_JWT_SIGNING_KEY="k" * 40)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["300.0", "7", "40"]


@pytest.mark.parametrize(("name", "value", "message"), [
    ("WORKFLOW_JWT_SIGNING_KEY", "short", "WORKFLOW_JWT_SIGNING_KEY must be at least 32 characters"),
    ("WORKFLOW_JWT_ACCESS_MINUTES", "0", "WORKFLOW_JWT_ACCESS_MINUTES must be a positive integer"),
    ("WORKFLOW_JWT_REFRESH_DAYS", "soon", "WORKFLOW_JWT_REFRESH_DAYS must be a positive integer"),
    ("WORKFLOW_AUTH_ENABLED", "maybe", "WORKFLOW_AUTH_ENABLED must be a boolean"),
    ("WORKFLOW_XPATH_TIMEOUT_MS", "0", "WORKFLOW_XPATH_TIMEOUT_MS must be a positive integer"),
])
def test_bad_values_stop_start_up_with_one_line(name, value, message):
    result = _manage("check", **{name: value})
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_an_open_api_is_announced_loudly():
    result = _manage("check", WORKFLOW_AUTH_ENABLED="false")
    assert result.returncode == 0, result.stderr
    assert "WORKFLOW_AUTH_ENABLED=false: the API is OPEN to anyone" in result.stderr
    assert "OPEN to anyone" not in _manage("check").stderr


def test_the_engine_gets_its_expression_time_budget_from_the_environment():
    show = "from knhk.engine.expressions import time_budget_ms; print(time_budget_ms())"
    assert _manage("shell", "-c", show).stdout.split()[-1] == "1000"
    result = _manage("shell", "-c", show, WORKFLOW_XPATH_TIMEOUT_MS="250")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "250"
