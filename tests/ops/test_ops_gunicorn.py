"""Under real gunicorn with several worker processes, /metrics adds up every worker's counts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn(tmp_path):
    port = _free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"stale")  # from an earlier run: removed at start
    env = {**os.environ, "WORKFLOW_STATE_PATH": str(tmp_path), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
           "WORKFLOW_API_HOST": "127.0.0.1", "WORKFLOW_API_PORT": str(port), "WEB_CONCURRENCY": "3",
           "DJANGO_SETTINGS_MODULE": "knhk.settings"}
    env.pop("DATABASE_URL", None)  # its own SQLite file: nothing here needs the test database
    server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "--config", "deploy/gunicorn.conf.py",
                               "knhk.wsgi:application"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/health/live", timeout=1)
            break
        except httpx.HTTPError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"gunicorn did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
    yield base, metrics_dir
    server.terminate()
    server.wait(timeout=30)


def test_metrics_add_up_over_gunicorn_workers(gunicorn):
    base, metrics_dir = gunicorn
    assert not (metrics_dir / "counter_999999.db").exists()
    for _ in range(60):  # a new connection each time: the workers take turns accepting
        assert httpx.get(f"{base}/health/live", timeout=10).status_code == 200
    text = httpx.get(f"{base}/metrics", timeout=10).text
    served = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "knhk_http_requests_total" and sample.labels.get("route") == "/health/live":
                served[sample.labels["status"]] = sample.value
    assert served.get("200", 0) >= 60  # plus the start-up probes
    per_worker = {path.stem: _live_probes(path) for path in metrics_dir.glob("counter_*.db")}
    busy = [count for count in per_worker.values() if count]
    assert len(busy) >= 2, f"requests were served by several worker processes: {per_worker}"
    assert sum(busy) == served["200"]  # /metrics is exactly the sum over the workers' files


def _live_probes(path: Path) -> float:
    """The /health/live 200 count one worker process wrote."""
    import json

    from prometheus_client.mmap_dict import MmapedDict

    total = 0.0
    for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
        name, sample, labels, *_ = json.loads(key)
        if sample == "knhk_http_requests_total" and labels.get("route") == "/health/live" \
                and labels.get("status") == "200":
            total += value
    return total
