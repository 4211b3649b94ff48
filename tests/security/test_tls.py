"""TLS from the environment (knhk/tls.py) and gunicorn actually serving HTTPS with client certificates."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from knhk.tls import TLSConfigError, gunicorn_args, tls_settings

REPO = Path(__file__).resolve().parents[2]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    """A server certificate for localhost, a client CA and a client certificate it signed (openssl CLI)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", "server.key", "-out", "server.crt",
             cwd=folder)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=KNHK test client CA",
             "-keyout", "ca.key", "-out", "ca.crt", cwd=folder)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=client", "-keyout", "client.key",
             "-out", "client.csr", cwd=folder)
    _openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "1", "-out", "client.crt", cwd=folder)
    return folder


def _env(pki: Path, client_ca: bool = False) -> dict[str, str]:
    env = {"WORKFLOW_TLS_CERT": str(pki / "server.crt"), "WORKFLOW_TLS_KEY": str(pki / "server.key")}
    if client_ca:
        env["WORKFLOW_TLS_CLIENT_CA"] = str(pki / "ca.crt")
    return env


def test_no_tls_without_variables():
    assert tls_settings({}) == {} and gunicorn_args({}) == []


def test_tls_and_mtls_settings(pki):
    assert tls_settings(_env(pki)) == {"certfile": str(pki / "server.crt"), "keyfile": str(pki / "server.key")}
    settings = tls_settings(_env(pki, client_ca=True))
    assert settings["ca_certs"] == str(pki / "ca.crt") and settings["cert_reqs"] == ssl.CERT_REQUIRED
    assert gunicorn_args(_env(pki, client_ca=True))[-4:] == ["--ca-certs", str(pki / "ca.crt"), "--cert-reqs", "2"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"WORKFLOW_TLS_KEY": ""}, "set both WORKFLOW_TLS_CERT and WORKFLOW_TLS_KEY"),
    ({"WORKFLOW_TLS_CERT": "/no/such.pem"}, "WORKFLOW_TLS_CERT must name a readable PEM file"),
    ({"WORKFLOW_TLS_KEY": "ca.key"}, "matching private key"),
    ({"WORKFLOW_TLS_CLIENT_CA": "server.key"}, "WORKFLOW_TLS_CLIENT_CA: not a PEM CA"),
    ({"WORKFLOW_TLS_CERT": "", "WORKFLOW_TLS_KEY": "", "WORKFLOW_TLS_CLIENT_CA": "ca.crt"}, "needs WORKFLOW_TLS_CERT"),
])
def test_bad_tls_variables_are_named(pki, overrides, message):
    env = _env(pki)
    env.update({name: str(pki / value) if value and not value.startswith("/") else value
                for name, value in overrides.items()})
    with pytest.raises(TLSConfigError, match=message):
        tls_settings(env)


def test_settings_refuse_a_bad_tls_variable_at_start_up():
    env = {**os.environ, "WORKFLOW_TLS_CERT": "/no/such.pem", "WORKFLOW_TLS_KEY": "/no/such.key"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert "configuration error: WORKFLOW_TLS_CERT must name a readable PEM file" in result.stderr
    assert "Traceback" not in result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_gunicorn_serves_https_and_requires_client_certificates(pki, tmp_path):
    port = _free_port()
    env = {**os.environ, **_env(pki, client_ca=True), "WORKFLOW_API_HOST": "127.0.0.1", "WORKFLOW_API_PORT": str(port),
           "WEB_CONCURRENCY": "1", "WORKFLOW_STATE_PATH": str(tmp_path)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "--config", "deploy/gunicorn.conf.py",
                               "knhk.wsgi:application"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"https://localhost:{port}/health/live"
        trusting = ssl.create_default_context(cafile=str(pki / "server.crt"))
        with_cert = ssl.create_default_context(cafile=str(pki / "server.crt"))
        with_cert.load_cert_chain(str(pki / "client.crt"), str(pki / "client.key"))
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url, context=with_cert, timeout=5) as response:
                    assert response.status == 200 and b"alive" in response.read()
                break
            except (ConnectionError, urllib.error.URLError):
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"gunicorn did not serve TLS: {server.stderr.read().decode() if server.poll() else ''}")
                time.sleep(0.3)
        with pytest.raises((ssl.SSLError, ConnectionError, urllib.error.URLError)):
            urllib.request.urlopen(url, context=trusting, timeout=5).read()
    finally:
        server.terminate()
        server.wait(timeout=15)
