"""Configuration comes from the environment and a bad value stops start-up naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_check(tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("WORKFLOW_", "DATABASE_URL", "CELERY_"))}
    environment.update({"WORKFLOW_STATE_PATH": str(tmp_path / "state"), "DJANGO_SETTINGS_MODULE": "knhk.settings"})
    environment.update(env)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name, value, message", [
    ("WORKFLOW_API_PORT", "abc", "WORKFLOW_API_PORT must be an integer port 1-65535, got 'abc'"),
    ("WORKFLOW_AUTH_ENABLED", "maybe", "WORKFLOW_AUTH_ENABLED must be a boolean"),
    ("DATABASE_URL", "mysql://db/knhk", "DATABASE_URL must be a URL"),
])
def test_bad_value_stops_start_up_naming_the_variable(tmp_path, name, value, message):
    result = run_check(tmp_path, **{name: value})
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_defaults_run_embedded_with_sqlite_under_the_state_path(tmp_path):
    result = run_check(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "state").is_dir()


@pytest.mark.parametrize("name, value, message", [
    ("WORKFLOW_API_PORT", "70000", "WORKFLOW_API_PORT must be an integer port 1-65535, got '70000'"),
    ("WORKFLOW_API_PORT", "0", "WORKFLOW_API_PORT must be an integer port 1-65535, got '0'"),
    ("WORKFLOW_FORTUNE5_ENABLED", "2", "WORKFLOW_FORTUNE5_ENABLED must be a boolean"),
    ("WORKFLOW_OTEL_ENDPOINT", "collector:4318", "WORKFLOW_OTEL_ENDPOINT must be a URL"),
    ("CELERY_BROKER_URL", "nats://x", "CELERY_BROKER_URL must be a URL"),
    ("WORKFLOW_API_HOST", "bad host", "WORKFLOW_API_HOST must be a host name"),
])
def test_each_variable_is_validated(monkeypatch, name, value, message):
    from knhk import settings as knhk_settings

    monkeypatch.setenv(name, value)
    with pytest.raises(knhk_settings.ConfigError, match=message.replace("(", r"\(")):
        knhk_settings._load()


def test_valid_values_are_read(monkeypatch, tmp_path):
    from knhk import settings as knhk_settings

    monkeypatch.setenv("WORKFLOW_API_PORT", "9090")
    monkeypatch.setenv("WORKFLOW_AUTH_ENABLED", "off")
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("WORKFLOW_STATE_PATH", str(tmp_path))
    config = knhk_settings._load()
    assert (config["API_PORT"], config["AUTH_ENABLED"]) == (9090, False)
    assert config["BROKER_URL"] == "redis://127.0.0.1:6379/0"
    assert config["STATE_PATH"] == tmp_path
    database = knhk_settings.database_config("postgres://u:p@db:5432/knhk", tmp_path)
    assert database["ENGINE"] == "django.db.backends.postgresql" and database["CONN_MAX_AGE"] == 600
    assert knhk_settings.database_config(None, tmp_path)["NAME"] == str(tmp_path / "knhk.sqlite3")


def test_embedded_sqlite_serialises_concurrent_read_then_write_transactions(django_db_blocker, tmp_path):
    """Without IMMEDIATE transactions, a second writer's read-then-write fails with "database is
    locked" (a 500 under concurrent requests to one work item)."""
    import threading

    from django.db import connections, transaction

    from knhk import settings as knhk_settings

    alias = "sqlite_concurrency_probe"
    config = knhk_settings.database_config(None, tmp_path)
    connections.settings[alias] = connections.configure_settings({"default": config, alias: config})[alias]
    errors: list[Exception] = []

    def bump() -> None:
        try:
            for _ in range(15):
                with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
                    cursor.execute("SELECT n FROM counter")
                    (n,) = cursor.fetchone()
                    cursor.execute("UPDATE counter SET n = %s", [n + 1])
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connections[alias].close()

    try:
        django_db_blocker.unblock()
        with connections[alias].cursor() as cursor:
            cursor.execute("CREATE TABLE counter (n integer)")
            cursor.execute("INSERT INTO counter VALUES (0)")
        threads = [threading.Thread(target=bump) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT n FROM counter")
            assert cursor.fetchone() == (60,)
    finally:
        connections[alias].close()
        del connections.settings[alias]
        django_db_blocker.restore()
