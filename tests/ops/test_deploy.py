"""deploy/: every manifest parses, and its probes, ports and environment match the application."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.urls import resolve

from knhk import health

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
KUSTOMIZATION = DEPLOY / "k8s" / "kustomization.yaml"
MANIFESTS = sorted(p for p in (DEPLOY / "k8s").glob("*.yaml") if p != KUSTOMIZATION)
# Every environment variable the application reads, wherever it reads it.
_ENV_READ = re.compile(r"""(?:environ\.get|getenv|env_[a-z_]+|environ\.setdefault)\(\s*["']([A-Z][A-Z0-9_]+)["']"""
                       r"""|environ\[\s*["']([A-Z][A-Z0-9_]+)["']\s*\]""")
# Read by libraries rather than by our code.
_LIBRARY_ENV = {"OTEL_SERVICE_NAME", "WEB_CONCURRENCY", "DJANGO_SETTINGS_MODULE"}


def _documents() -> list[dict]:
    docs: list[dict] = []
    for path in MANIFESTS:
        docs += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def _one(kind: str, name: str) -> dict:
    matches = [d for d in _documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def _app_env_names() -> set[str]:
    names: set[str] = set()
    sources = [*REPO.glob("knhk/**/*.py"), *REPO.glob("*/settings.py"), *REPO.glob("incidents/**/*.py"),
               DEPLOY / "gunicorn.conf.py"]
    for path in sources:
        for match in _ENV_READ.finditer(path.read_text()):
            names.add(match.group(1) or match.group(2))
    return names


def _container(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]["containers"][0]


def _configured_env(container: dict) -> set[str]:
    names = {e["name"] for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            names |= set(_one("ConfigMap", source["configMapRef"]["name"])["data"])
        if "secretRef" in source:
            names |= set(_one("Secret", source["secretRef"]["name"])["stringData"])
    return names


def test_the_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text())
    assert kustomization["kind"] == "Kustomization"
    assert sorted(kustomization["resources"]) == sorted(path.name for path in MANIFESTS)


def test_every_manifest_parses_with_kind_and_name():
    assert MANIFESTS, "no manifests in deploy/k8s"
    kinds = sorted(d["kind"] for d in _documents())
    assert kinds == sorted(["ConfigMap", "Secret", "PersistentVolumeClaim", "Deployment", "Deployment",
                            "Service", "Job"])
    for doc in _documents():
        assert doc["apiVersion"] and doc["metadata"]["name"]


def test_api_probes_hit_the_health_views(client, db):
    api = _container(_one("Deployment", "knhk-api"))
    assert resolve(api["livenessProbe"]["httpGet"]["path"]).func is health.live
    assert resolve(api["readinessProbe"]["httpGet"]["path"]).func is health.ready
    assert client.get(api["livenessProbe"]["httpGet"]["path"]).json() == {"alive": True}
    assert client.get(api["readinessProbe"]["httpGet"]["path"]).json() == {"ready": True}
    named_ports = {p["name"]: p["containerPort"] for p in api["ports"]}
    assert api["livenessProbe"]["httpGet"]["port"] in named_ports
    assert api["readinessProbe"]["httpGet"]["port"] in named_ports


def test_ports_agree_between_configmap_container_service_and_settings():
    config = _one("ConfigMap", "knhk-config")["data"]
    api = _container(_one("Deployment", "knhk-api"))
    service = _one("Service", "knhk-api")
    assert config["WORKFLOW_API_HOST"] == "0.0.0.0"
    assert int(config["WORKFLOW_API_PORT"]) == 8080
    assert api["ports"][0]["containerPort"] == int(config["WORKFLOW_API_PORT"])
    assert service["spec"]["ports"][0]["targetPort"] == api["ports"][0]["name"]
    assert service["spec"]["selector"].items() <= _one("Deployment", "knhk-api")["spec"]["template"]["metadata"][
        "labels"].items()


def test_resources_and_non_root_everywhere():
    for doc in _documents():
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        for container in pod["containers"]:
            assert {"requests", "limits"} <= set(container["resources"]), doc["metadata"]["name"]
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_every_configured_env_name_is_read_by_the_application():
    read = _app_env_names() | _LIBRARY_ENV
    required = {"WORKFLOW_STATE_PATH", "WORKFLOW_API_HOST", "WORKFLOW_API_PORT", "WORKFLOW_FORTUNE5_ENABLED",
                "WORKFLOW_OTEL_ENDPOINT", "WORKFLOW_AUTH_ENABLED", "DATABASE_URL", "CELERY_BROKER_URL",
                "DJANGO_SECRET_KEY"}
    assert required <= read, f"settings no longer read {required - read}"
    for doc in _documents():
        if doc["kind"] in ("Deployment", "Job"):
            configured = _configured_env(_container(doc))
            assert required <= configured, f"{doc['metadata']['name']} lacks {required - configured}"
            unknown = configured - read
            assert not unknown, f"{doc['metadata']['name']} sets variables nothing reads: {unknown}"


def test_configmap_and_secret_values_pass_the_settings_validation(tmp_path):
    """The manifests' values start the application (settings exit 2 on any bad value)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKFLOW_", "DJANGO_", "DATABASE_"))}
    env |= _one("ConfigMap", "knhk-config")["data"] | _one("Secret", "knhk-secrets")["stringData"]
    env |= {"WORKFLOW_STATE_PATH": str(tmp_path), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
            "DJANGO_SETTINGS_MODULE": "knhk.settings"}
    probe = ("import django; from django.conf import settings; django.setup(); "
             "print(settings.WORKFLOW_API_HOST, settings.WORKFLOW_API_PORT, settings.DATABASES['default']['ENGINE'])")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0.0.0.0", "8080", "django.db.backends.postgresql"]


def test_gunicorn_config_binds_the_configured_address(monkeypatch):
    monkeypatch.setenv("WORKFLOW_API_HOST", "0.0.0.0")
    monkeypatch.setenv("WORKFLOW_API_PORT", "8080")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert config["bind"] == "0.0.0.0:8080"
    assert config["workers"] == 3
    assert callable(config["child_exit"]) and callable(config["on_starting"])


def test_gunicorn_start_empties_the_metrics_directory(monkeypatch, tmp_path):
    stale = tmp_path / "counter_123.db"
    stale.write_bytes(b"x")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))["on_starting"](None)
    assert tmp_path.is_dir() and not stale.exists()


def test_dockerfile_is_multi_stage_non_root_and_runs_the_gunicorn_config():
    text = (DEPLOY / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^EXPOSE 8080$", text, re.M)
    assert "WORKFLOW_API_HOST=0.0.0.0" in text
    api = _container(_one("Deployment", "knhk-api"))
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert cmd and yaml.safe_load(cmd.group(1)) == api["command"]
    assert (DEPLOY / api["command"][2]).name == "gunicorn.conf.py"


@pytest.mark.parametrize("name", ["knhk-worker", "knhk-migrate"])
def test_worker_and_job_run_the_right_commands(name):
    doc = _one("Deployment" if name == "knhk-worker" else "Job", name)
    command = _container(doc)["command"]
    if name == "knhk-worker":
        assert command[:4] == ["celery", "-A", "knhk.celery", "worker"]
    else:
        assert command == ["python", "manage.py", "migrate", "--noinput"]


def test_gunicorn_config_serves_tls_from_the_environment(monkeypatch, tmp_path):
    import shutil

    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", "server.key", "-out", "server.crt"], cwd=tmp_path, check=True, capture_output=True)
    monkeypatch.setenv("WORKFLOW_TLS_CERT", str(tmp_path / "server.crt"))
    monkeypatch.setenv("WORKFLOW_TLS_KEY", str(tmp_path / "server.key"))
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert config["certfile"] == str(tmp_path / "server.crt") and config["keyfile"] == str(tmp_path / "server.key")
    assert callable(config["ssl_context"])


def test_gunicorn_config_names_a_bad_tls_variable(tmp_path):
    env = {**os.environ, "WORKFLOW_TLS_CERT": str(tmp_path / "missing.crt"), "WORKFLOW_TLS_KEY": "x"}
    result = subprocess.run([sys.executable, str(DEPLOY / "gunicorn.conf.py")], env=env, capture_output=True,
                            text=True, cwd=tmp_path)
    assert result.returncode == 2
    assert "knhk: configuration error: WORKFLOW_TLS_CERT must name a readable PEM file" in result.stderr
