"""Gunicorn configuration: `gunicorn --config deploy/gunicorn.conf.py knhk.wsgi:application`.

Binds WORKFLOW_API_HOST:WORKFLOW_API_PORT (0.0.0.0:8080 in the container). Prometheus multiprocess
mode: the metrics directory is emptied once when the master starts and a dead worker's live gauges are
dropped. Tracing and JSON logging are set up by the Django app itself (knhk.observability).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: knhk.tls below

from knhk.tls import TLSConfigError, tls_settings  # noqa: E402


def _bind() -> str:
    host = os.environ.get("WORKFLOW_API_HOST", "").strip() or "127.0.0.1"
    port = os.environ.get("WORKFLOW_API_PORT", "").strip() or "8080"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _workers() -> int:
    raw = os.environ.get("WEB_CONCURRENCY", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return min(2 * multiprocessing.cpu_count() + 1, 8)


bind = _bind()
workers = _workers()
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4") or 4)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60") or 60)
graceful_timeout = 20
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
# Heartbeat files on tmpfs: a container's overlay filesystem can block workers for seconds.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "knhk-workflow-engine"

# TLS when WORKFLOW_TLS_CERT and WORKFLOW_TLS_KEY are set (mutual TLS with WORKFLOW_TLS_CLIENT_CA): see
# knhk/tls.py. In Kubernetes TLS usually ends at the ingress; with it on here, set the probes' scheme: HTTPS.
try:
    _tls = tls_settings()
except TLSConfigError as _error:
    print(f"knhk: configuration error: {_error}", file=sys.stderr)
    raise SystemExit(2) from None
if _tls:
    from knhk.tls import ssl_context  # noqa: F401  (gunicorn hook: TLS 1.2 at least)

    certfile, keyfile = _tls["certfile"], _tls["keyfile"]
    ca_certs, cert_reqs = _tls.get("ca_certs"), _tls.get("cert_reqs", 0)


def on_starting(server) -> None:
    """Start with an empty Prometheus multiprocess directory (stale files would skew the counters)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker) -> None:
    """Drop the live gauges of a worker that exited."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


# TLS (issue 5): certificate, key and optional client CA (mTLS) from WORKFLOW_TLS_* (knhk/tls.py);
# plain HTTP when they are unset. `ssl_context` is gunicorn's hook (TLS 1.2 at least).
from knhk.tls import TLSConfigError, ssl_context, tls_settings  # noqa: E402, F401

try:
    globals().update(tls_settings())
except TLSConfigError as _error:
    raise SystemExit(f"knhk: configuration error: {_error}") from None


def post_fork(server, worker) -> None:
    """A shorter GIL switch interval (WORKFLOW_GIL_SWITCH_MS, default 1 ms; Python's is 5 ms).

    A request thread that comes back from PostgreSQL while holding a row lock (a case, the audit chain
    head) must win the GIL back from the worker's CPU-bound threads before it can send its COMMIT; every
    other writer waits on that lock meanwhile. A short interval bounds that wait.
    """
    raw = os.environ.get("WORKFLOW_GIL_SWITCH_MS", "").strip() or "1"
    try:
        interval_ms = float(raw)
        if not 0.05 <= interval_ms <= 100:
            raise ValueError
    except ValueError:
        print(f"knhk: configuration error: WORKFLOW_GIL_SWITCH_MS must be a number of milliseconds "
              f"between 0.05 and 100, got {raw!r}", file=sys.stderr)
        raise SystemExit(2) from None
    sys.setswitchinterval(interval_ms / 1000)
