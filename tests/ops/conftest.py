"""Fixtures for the operations tests: an in-memory span exporter and small specifications."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

_EXPORTER = InMemorySpanExporter()

# a, then an OR-split to b and/or c (straight to d when neither), an OR-join at d.
OR_SPEC: dict[str, Any] = {
    "id": "ops-or",
    "variables": [{"name": "x", "type": "integer", "initial": 0, "usage": "both"},
                  {"name": "y", "type": "integer", "initial": 0, "usage": "both"}],
    "conditions": [{"id": "start", "type": "input", "flows": ["a"]}, {"id": "end", "type": "output"}],
    "tasks": [
        {"id": "a", "split": "or", "flows": [{"to": "b", "predicate": "x = 1", "ordering": 0},
                                             {"to": "c", "predicate": "y = 1", "ordering": 1},
                                             {"to": "d", "ordering": 2, "default": True}]},
        {"id": "b", "flows": ["d"]},
        {"id": "c", "flows": ["d"]},
        {"id": "d", "join": "or", "flows": ["end"]},
    ],
}


def automated_spec(spec_id: str, connector: dict[str, Any]) -> dict[str, Any]:
    """start -> call (automated, through `connector`) -> end."""
    return {
        "id": spec_id,
        "variables": [{"name": "n", "type": "integer", "initial": 1, "usage": "both"},
                      {"name": "result", "type": "integer", "initial": 0}],
        "conditions": [{"id": "start", "type": "input", "flows": ["call"]}, {"id": "end", "type": "output"}],
        "tasks": [{"id": "call", "kind": "automated", "connector": connector, "flows": ["end"]}],
    }


@pytest.fixture
def spans() -> InMemorySpanExporter:
    """Spans finished during the test (tracing set up once per process with the memory exporter)."""
    from knhk.observability import tracing

    tracing.setup_tracing(span_exporter=_EXPORTER)
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


@pytest.fixture(scope="session")
def redis_url():
    """A throwaway redis-server on a free port (skipped when the binary is absent)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([binary, "--port", str(port), "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=10)
