"""End to end over HTTP (issue 8): PostgreSQL with durable commits, gunicorn (3 workers, the deploy
config), a real Celery worker on Redis, load from separate processes on loopback (wrk for throughput,
an asyncio + httpx client for the fixed-rate latency and the list queries).

Everything runs against a throw-away database (`knhk_bench`, dropped and re-created each run) on the
machine's PostgreSQL (127.0.0.1:5432, user postgres; override with KNHK_BENCH_PG) and Redis database
14 (KNHK_BENCH_REDIS). In the same run and server setup, the machine's ceiling: a bare DRF endpoint
(bench/ceiling: no auth, no engine, one INSERT per POST).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import Result

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_URL = os.environ.get("KNHK_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("KNHK_BENCH_REDIS", "redis://127.0.0.1:6379/14")
DATABASE = "knhk_bench"
PORT = int(os.environ.get("KNHK_BENCH_PORT", "18089"))
BASE = f"http://127.0.0.1:{PORT}"
LUA = REPO / "bench" / "wrk" / "post.lua"
SPEC_ID = "bench-http"
WRK_THREADS = 2
WRK_CONNECTIONS = 12  # 3 gunicorn workers x 4 threads
SCALE_CASES = 1_000_000
MEMORY_CASES = 10_000

# Targets (issue 8)
START_RATIO, COMPLETE_RATIO, P99_MS, LIST_P95_MS, STATE_BYTES = 0.7, 0.6, 50.0, 50.0, 2048


def bench_spec() -> dict[str, Any]:
    """One manual task, then an automated one the Celery worker runs (connector noop)."""
    return {
        "id": SPEC_ID,
        "variables": [{"name": "amount", "type": "integer", "initial": 0, "usage": "both"},
                      {"name": "approved", "type": "boolean", "initial": False}],
        "conditions": [{"id": "start", "type": "input", "flows": ["review"]}, {"id": "end", "type": "output"}],
        "tasks": [
            {"id": "review", "flows": ["notify"], "outputs": [{"name": "approved", "type": "boolean"}]},
            {"id": "notify", "kind": "automated", "flows": ["end"], "connector": {"name": "noop"}},
        ],
    }


@dataclass
class Durations:
    warmup: float = 3
    throughput: float = 15
    fixed_rate: float = 15
    list_requests: int = 200
    list_seconds: float = 30  # per endpoint, after at least 20 requests
    top_up_seconds: float = 120  # at most this long to reach 10,000 cases before reading memory
    scale_cases: int = SCALE_CASES


@dataclass
class Stack:
    """The running server setup of one HTTP benchmark run."""

    workdir: Path
    env: dict[str, str]
    password: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    token: str = ""
    rss_after_warmup: float = 0.0  # MB, the largest gunicorn worker after the warm-up requests
    starts_per_second: float = 0.0  # measured case starts/s and completions/s (they size the
    completions_per_second: float = 0.0  # sustainable-rate latency run)


# --------------------------------------------------------------------------- setup


def missing_prerequisite() -> str | None:
    """Why the HTTP benchmarks cannot run here, or None."""
    if shutil.which("wrk") is None:
        return "wrk is not installed (apt-get install -y wrk)"
    for tool in ("gunicorn", "celery"):
        if not (BIN / tool).exists():
            return f"{tool} is not installed in {BIN}"
    try:
        import psycopg

        with psycopg.connect(f"{PG_URL}/postgres", connect_timeout=3):
            pass
    except Exception as exc:
        return f"PostgreSQL is not reachable at {PG_URL} ({exc})"
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:
        return f"Redis is not reachable at {REDIS_URL} ({exc})"
    return None


def admin_sql(*statements: str, database: str = "postgres") -> list[Any]:
    """Run statements with autocommit; returns the last one's rows (if any)."""
    import psycopg

    rows: list[Any] = []
    with psycopg.connect(f"{PG_URL}/{database}", autocommit=True) as connection:
        for statement in statements:
            cursor = connection.execute(statement)
            rows = cursor.fetchall() if cursor.description else []
    return rows


def durability_settings() -> dict[str, str]:
    names = ("fsync", "synchronous_commit", "full_page_writes", "wal_sync_method")
    return {name: admin_sql(f"SHOW {name}")[0][0] for name in names}


def _manage(stack: Stack, *args: str) -> str:
    done = subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=REPO, env=stack.env,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def _wait_http(url: str, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f}s")


def _wait_log(path: Path, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.3)
    raise RuntimeError(f"{path.name}: {text!r} not seen within {timeout:.0f}s")


@contextmanager
def running_stack() -> Iterator[Stack]:
    """A fresh database, migrated; gunicorn (3 workers) and a Celery worker; a user with a token and
    the bench workflow registered. Everything is stopped and the database dropped afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="knhk-bench-"))
    password = secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG_URL}/{DATABASE}",
        "CELERY_BROKER_URL": REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "bench.ceiling.settings",
        "PYTHONPATH": str(REPO),
        "WORKFLOW_JWT_SIGNING_KEY": secrets.token_urlsafe(48),
        "WORKFLOW_JWT_ACCESS_MINUTES": "240",
        "WORKFLOW_RATE_LIMIT": "1000000",  # one client (one token) sends all the load
        "WORKFLOW_STATE_PATH": str(workdir / "state"),
        "WORKFLOW_API_HOST": "127.0.0.1",
        "WORKFLOW_API_PORT": str(PORT),
        "WEB_CONCURRENCY": "3",
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus"),
        "GUNICORN_LOG_LEVEL": "warning",
        "DJANGO_DEBUG": "false",
        "KNHK_BENCH_PASSWORD": password,
    }
    (workdir / "prometheus").mkdir()
    stack = Stack(workdir, env, password)
    admin_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)", f"CREATE DATABASE {DATABASE}")
    try:
        from bench.ceiling import CREATE_TABLE

        _manage(stack, "migrate", "--noinput")
        admin_sql(CREATE_TABLE, database=DATABASE)
        _manage(stack, "create_user", "bench", "--role", "workflow-admin", "--role", "operator",
                "--role", "participant", "--password-env", "KNHK_BENCH_PASSWORD")
        logs = workdir / "logs"
        logs.mkdir()
        stack.processes["gunicorn"] = subprocess.Popen(
            [str(BIN / "gunicorn"), "--config", "deploy/gunicorn.conf.py", "knhk.wsgi:application"],
            cwd=REPO, env=env, stdout=(logs / "gunicorn.log").open("w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        stack.processes["celery"] = subprocess.Popen(
            [str(BIN / "celery"), "-A", "knhk.celery", "worker", "--loglevel", "INFO", "--concurrency", "1",
             "--hostname", "bench@%h"],
            cwd=REPO, env=env, stdout=(logs / "celery.log").open("w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        _wait_http(f"{BASE}/health/live", 60)
        _wait_log(logs / "celery.log", " ready.", 60)
        stack.token = _token(stack)
        _register(stack, {"spec": bench_spec()})
        yield stack
    finally:
        for process in stack.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in stack.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        admin_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        shutil.rmtree(workdir, ignore_errors=True)


def _client(stack: Stack) -> Any:
    import httpx

    return httpx.Client(base_url=BASE, headers={"Authorization": f"Bearer {stack.token}"}, timeout=60)


def _token(stack: Stack) -> str:
    import httpx

    answer = httpx.post(f"{BASE}/api/v1/auth/token", json={"username": "bench", "password": stack.password},
                        timeout=30)
    answer.raise_for_status()
    return answer.json()["access"]


def _register(stack: Stack, body: dict[str, Any] | None = None, yawl: bytes | None = None) -> dict[str, Any]:
    with _client(stack) as client:
        if yawl is not None:
            answer = client.post("/api/v1/workflows/import", content=yawl,
                                 headers={"Content-Type": "application/xml"})
        else:
            answer = client.post("/api/v1/workflows", json=body)
    if answer.status_code >= 300:
        raise RuntimeError(f"registering a workflow answered {answer.status_code}: {answer.text[:500]}")
    return answer.json()


# --------------------------------------------------------------------------- load


def wrk(stack: Stack, path: str, seconds: float, body: dict[str, Any], *, token: bool = True,
        ids: Path | None = None, limit: int | None = None) -> dict[str, Any]:
    """One wrk run (2 threads, 12 connections) of POSTs; the Lua script's JSON summary."""
    env = {**os.environ, "BENCH_BODY": json.dumps(body), "BENCH_TOKEN": stack.token if token else "",
           "BENCH_THREADS": str(WRK_THREADS)}
    if ids is not None:
        env |= {"BENCH_IDS": str(ids), "BENCH_PATH": path}
    if limit is not None:
        env["BENCH_LIMIT"] = str(limit)
    command = ["wrk", "-t", str(WRK_THREADS), "-c", str(WRK_CONNECTIONS), "-d", f"{max(1, round(seconds))}s",
               "--timeout", "10s", "-s", str(LUA), BASE + (path if ids is None else "/")]
    with sampling_waits() as waits:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary: {done.stdout[-500:]} {done.stderr[-500:]}")
    summary = json.loads(line.removeprefix("BENCH_JSON "))
    good = summary["requests"] - summary["non_2xx"]
    summary["ok_per_second"] = good / (summary["duration_us"] / 1e6)
    summary["waits"] = waits
    return summary


@contextmanager
def sampling_waits(interval: float = 0.2) -> Iterator[dict[str, int]]:
    """Sample what the bench database's active backends wait on (pg_stat_activity) while the block
    runs: {"Lock:tuple": n, "IO:WALSync": n, "running": n, ...} over all samples."""
    import threading

    counts: dict[str, int] = {}
    stop = threading.Event()
    query = ("SELECT coalesce(wait_event_type || ':' || wait_event, 'running'), count(*) FROM pg_stat_activity "
             f"WHERE datname = '{DATABASE}' AND state = 'active' AND pid <> pg_backend_pid() GROUP BY 1")

    def sample() -> None:
        import psycopg

        try:
            with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as connection:
                while not stop.wait(interval):
                    for event, count in connection.execute(query).fetchall():
                        counts[event] = counts.get(event, 0) + count
        except psycopg.Error:
            counts["sampling stopped: database error"] = 0  # the load's own result says what happened

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield counts
    finally:
        stop.set()
        sampler.join(timeout=5)


def _waits_note(waits: dict[str, int]) -> str:
    total = sum(waits.values())
    if not total:
        return ""
    top = sorted(waits.items(), key=lambda kv: -kv[1])[:4]
    return "; PostgreSQL backends sampled: " + ", ".join(f"{event} {100 * n / total:.0f}%" for event, n in top)


def enabled_item_ids(task: str = "review") -> list[str]:
    rows = admin_sql(f"SELECT id FROM cases_workitem WHERE state = 'enabled' AND task_id = '{task}' "
                     "ORDER BY enabled_at", database=DATABASE)
    return [str(row[0]) for row in rows]


def wait_for_worker(timeout: float = 120) -> tuple[int, float]:
    """Wait until the Celery worker has run every automated item; (items it ran, seconds it took)."""
    query = "SELECT count(*) FROM cases_workitem WHERE kind = 'automated' AND state IN ('enabled', 'started')"
    pending = admin_sql(query, database=DATABASE)[0][0]
    start = time.monotonic()
    first = pending
    while pending and time.monotonic() - start < timeout:
        time.sleep(0.5)
        pending = admin_sql(query, database=DATABASE)[0][0]
    if pending:
        raise RuntimeError(f"the Celery worker left {pending} automated items after {timeout:.0f}s")
    return first, time.monotonic() - start


async def _fixed_rate(stack: Stack, rate: float, seconds: float, items: list[str],
                      latencies: dict[str, list[float]], failures: list[str]) -> None:
    """Open loop: request i is due at start + i / rate whatever the earlier ones did (latency counted
    from that due time, so a slow server is not hidden); even requests start a case, odd ones complete
    a work item. Fills `latencies` (ms by kind: start, complete) and `failures` as answers come."""
    import httpx

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=BASE, headers={"Authorization": f"Bearer {stack.token}"},
                                 limits=limits, timeout=30) as client:
        async def one(due: float, kind: str, item: str | None) -> None:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                if kind == "start":
                    answer = await client.post("/api/v1/cases", json={"spec_id": SPEC_ID, "data": {"amount": 1}})
                else:
                    answer = await client.post(f"/api/v1/work-items/{item}/complete",
                                               json={"data": {"approved": True}})
            except httpx.TransportError as exc:
                failures.append(f"{kind} {type(exc).__name__}")
                return
            latencies[kind].append((time.perf_counter() - due) * 1000)
            if answer.status_code >= 300:
                failures.append(f"{kind} {answer.status_code}")

        start = time.perf_counter() + 0.2
        total = int(rate * seconds)
        jobs = []
        for i in range(total):
            kind = "start" if i % 2 == 0 else "complete"
            item = items.pop() if kind == "complete" and items else None  # each item is completed once
            if kind == "complete" and item is None:
                kind = "start"
            jobs.append(one(start + i / rate, kind, item))
        await asyncio.gather(*jobs)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


# --------------------------------------------------------------------------- phases


def throughput_phase(stack: Stack, d: Durations) -> tuple[list[Result], list[str]]:
    """Ceiling, case starts/s, work item completions/s; returns the rows and the items left enabled."""
    ceiling_body = {"spec_id": SPEC_ID, "data": {"amount": 1}}
    wrk(stack, "/api/v1/bench/ceiling", d.warmup, ceiling_body, token=False)
    wrk(stack, "/api/v1/cases", d.warmup, {"spec_id": SPEC_ID, "data": {"amount": 1}})
    stack.rss_after_warmup = max(rss_mb(pid) for pid in children(stack.processes["gunicorn"].pid))
    ceiling = wrk(stack, "/api/v1/bench/ceiling", d.throughput, ceiling_body, token=False)
    starts = wrk(stack, "/api/v1/cases", d.throughput, {"spec_id": SPEC_ID, "data": {"amount": 1}})
    stack.starts_per_second = starts["ok_per_second"]
    items = enabled_item_ids()
    keep = items[len(items) - min(int(d.fixed_rate * 75), len(items) // 3):]  # for the fixed-rate phases
    ids_file = stack.workdir / "items.txt"
    ids_file.write_text("\n".join(items[: len(items) - len(keep)]) + "\n")
    completions = wrk(stack, "/api/v1/work-items/{id}/complete", d.throughput, {"data": {"approved": True}},
                      ids=ids_file)
    stack.completions_per_second = completions["ok_per_second"]
    ran, seconds = wait_for_worker()
    top = ceiling["ok_per_second"]
    rows = [
        Result("HTTP: ceiling (bare DRF POST, one INSERT, no auth)", round(top, 1), "req/s",
               note=_wrk_note(ceiling)),
        _ratio_row("HTTP: case starts", starts, top, START_RATIO),
        _ratio_row("HTTP: work item completions", completions, top, COMPLETE_RATIO),
        Result("worker: automated items run by one Celery worker", round(ran / seconds, 1) if seconds else None,
               "items/s", note=f"{ran} items queued by the completions, drained in {seconds:.1f}s after them"),
    ]
    for row, summary in ((rows[1], starts), (rows[2], completions)):
        if summary["non_2xx"] or summary["errors"]:
            row.met = False
    return rows, [i for i in keep if i]


def _wrk_note(summary: dict[str, Any]) -> str:
    return (f"{summary['requests']} requests in {summary['duration_us'] / 1e6:.1f}s, {WRK_CONNECTIONS} connections; "
            f"latency p50 {summary['p50_us'] / 1000:.1f} ms, p99 {summary['p99_us'] / 1000:.1f} ms; "
            f"{summary['non_2xx']} non-2xx, {summary['errors']} socket errors" + _waits_note(summary.get("waits", {})))


def _ratio_row(name: str, summary: dict[str, Any], ceiling: float, ratio: float) -> Result:
    value = summary["ok_per_second"]
    return Result(name, round(value, 1), "req/s", "ceiling (same run)", round(ceiling, 1),
                  round(value / ceiling, 2), f">= {ratio:g} x ceiling", value >= ratio * ceiling,
                  note=_wrk_note(summary))


def sustainable_rate_phase(stack: Stack, d: Durations, items: list[str]) -> list[Result]:
    """The same mix at half the slower of the measured case-start and completion rates (when that is
    under 100 req/s): the latency of a server that keeps up, beside the 100 req/s figure."""
    rate = round(min(stack.starts_per_second, stack.completions_per_second) / 2, 1)
    if not 1 <= rate < 100:
        return []
    rows = fixed_rate_phase(stack, d, items, rate)
    for row in rows:
        row.target = row.met = None
        row.note += "; informational: half the slower of the case-start and completion rates measured above"
    return rows


def fixed_rate_phase(stack: Stack, d: Durations, items: list[str], rate: float = 100.0) -> list[Result]:
    latencies: dict[str, list[float]] = {"start": [], "complete": []}
    failures: list[str] = []
    grace = 60.0

    async def bounded() -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(_fixed_rate(stack, rate, d.fixed_rate, items, latencies, failures),
                                   d.fixed_rate + grace)

    asyncio.run(bounded())
    every = latencies["start"] + latencies["complete"]
    unanswered = int(rate * d.fixed_rate) - len(every) - len(failures)
    detail = "; ".join(f"{kind}: n={len(v)}, p50 {percentile(v, 50):.1f} ms, p99 {percentile(v, 99):.1f} ms"
                       for kind, v in latencies.items() if v)
    if unanswered > 0:  # still open when the phase gave up: at least `grace` seconds late
        every += [grace * 1000] * unanswered
        detail += f"; {unanswered} requests unanswered {grace:.0f}s after the last was due (counted as {grace:.0f} s)"
    if failures:
        detail += f"; {len(failures)} failed requests, e.g. {', '.join(failures[:3])}"
    if not every:
        raise RuntimeError(f"every request failed, e.g. {failures[:3]}")
    p50, p99 = percentile(every, 50), percentile(every, 99)
    try:
        wait_for_worker()
    except RuntimeError as exc:
        detail += f"; {exc}"
    return [
        Result(f"HTTP: p50 latency at {rate:g} req/s (case starts + completions)", round(p50, 1), "ms", note=detail),
        Result(f"HTTP: p99 latency at {rate:g} req/s (case starts + completions)", round(p99, 1), "ms",
               target=f"< {P99_MS:g} ms", met=p99 < P99_MS and not failures and unanswered <= 0,
               note="open loop, latency counted from each request's due time"),
    ]


def memory_phase(stack: Stack, d: Durations) -> list[Result]:
    """Top the case count up to 10,000, then the resident size of one API and one worker process."""
    count = admin_sql("SELECT count(*) FROM cases_case", database=DATABASE)[0][0]
    if count < MEMORY_CASES:  # time-boxed: a slow server reports the count it reached
        per_thread = -(-(MEMORY_CASES - count) // WRK_THREADS)
        wrk(stack, "/api/v1/cases", d.top_up_seconds, {"spec_id": SPEC_ID, "data": {"amount": 1}}, limit=per_thread)
        count = admin_sql("SELECT count(*) FROM cases_case", database=DATABASE)[0][0]
    api = [rss_mb(pid) for pid in children(stack.processes["gunicorn"].pid)]
    celery_main = stack.processes["celery"].pid
    pool = children(celery_main)
    worker = rss_mb(pool[0]) if pool else rss_mb(celery_main)
    return [
        Result(f"memory: one API process after {count:,} cases", round(max(api), 1), "MB RSS",
               note=f"gunicorn workers: {', '.join(f'{x:.0f}' for x in api)} MB; the largest was "
                    f"{stack.rss_after_warmup:.0f} MB after the warm-up requests"),
        Result(f"memory: one Celery worker process after {count:,} cases", round(worker, 1), "MB RSS",
               note=f"the pool process; its parent (the worker's main process) {rss_mb(celery_main):.0f} MB"),
    ]


def state_size_phase(stack: Stack) -> list[Result]:
    """A mid-run orderfulfillment case (driven over the API along the bench happy path): the bytes
    PostgreSQL stores for its case row (engine state, data, marking) and its other rows."""
    from bench import knhk_models

    name = "scale: persisted state of a mid-run orderfulfillment case"
    if not knhk_models.ORDER_FULFILLMENT_FILE.is_file():
        return [Result(name, None, "bytes", note="skipped: ../shared/yawl/orderfulfillment.yawl is absent")]
    spec = _register(stack, yawl=knhk_models.ORDER_FULFILLMENT_FILE.read_bytes())
    spec_id = spec.get("spec_id") or spec.get("id") or "orderfulfillment"
    from knhk.engine.importers import load_spec_file

    outputs = knhk_models.declared_outputs(load_spec_file(knhk_models.ORDER_FULFILLMENT_FILE))
    completed = 0
    with _client(stack) as client:
        answer = client.post("/api/v1/cases", json={"spec_id": spec_id, "data": {}})
        answer.raise_for_status()
        case_id = answer.json()["case_id"]
        waits = 0
        conflicts: list[str] = []
        while completed < 10 and waits < 50:
            listing = client.get("/api/v1/work-items", params={"case": case_id, "state": "enabled"}).json()
            rows = listing["results"] if isinstance(listing, dict) else listing
            picked = [r for r in rows if r["task_id"] not in knhk_models.ORDER_FULFILLMENT_AVOID
                      and r["kind"] != "automated"]  # automated items are the Celery worker's
            if not picked:
                if not rows:
                    break
                waits += 1
                time.sleep(0.2)
                continue
            row = picked[0]
            if row["kind"] in ("composite", "mi"):  # starting it runs its subnet / creates its instances
                client.post(f"/api/v1/work-items/{row['id']}/start", json={}).raise_for_status()
                continue
            data = knhk_models.order_fulfillment_output(row["task_id"], row["data"], outputs)
            answer = client.post(f"/api/v1/work-items/{row['id']}/complete", json={"data": data})
            if answer.status_code == 409:  # the worker moved the case on meanwhile (an automated item ran)
                conflicts.append(f"{row['task_id']}: {answer.json().get('message', answer.text)[:120]}")
                waits += 1
                continue
            answer.raise_for_status()
            completed += 1
    size = admin_sql(
        "SELECT c.state, pg_column_size(c.*), pg_column_size(c.engine_state), pg_column_size(c.data), "
        "(SELECT coalesce(sum(pg_column_size(w.*)), 0) FROM cases_workitem w WHERE w.case_id = c.id), "
        "(SELECT count(*) FROM cases_workitem w WHERE w.case_id = c.id), "
        "(SELECT coalesce(sum(pg_column_size(e.*)), 0) FROM cases_caseevent e WHERE e.case_id = c.id) "
        f"FROM cases_case c WHERE c.id = '{case_id}'", database=DATABASE)[0]
    case_state, row_bytes, state_bytes, data_bytes, item_bytes, items, event_bytes = size
    mid_row, mid_state, mid_json = _mid_run_row_bytes(outputs)
    return [Result(name, int(mid_row), "bytes", target=f"< {STATE_BYTES} bytes", met=mid_row < STATE_BYTES,
                   note=f"the case columns (engine_state, data, marking as jsonb, as PostgreSQL stores them: "
                        f"compressed past 2 KB) of an orderfulfillment case after 10 happy-path items, in process: "
                        f"{mid_row} B, engine_state {mid_state} B ({mid_json} B of JSON text). Over the API (the same "
                        f"happy path, the Celery worker running the automated items) the case was "
                        f"{case_state} after {completed} items: its case row {row_bytes} B (engine_state "
                        f"{state_bytes} B, data {data_bytes} B); its {items} work item rows {item_bytes} B and "
                        f"history rows {event_bytes} B come on top"
                        + (f"; conflicts with the worker: {'; '.join(conflicts)}" if conflicts else ""))]


def _mid_run_row_bytes(outputs: dict[str, list[str]]) -> tuple[int, int, int]:
    """An orderfulfillment case after 10 happy-path completions, in process: the stored size of its
    case columns (engine_state, data, marking) in a jsonb row, of engine_state alone, and the
    engine state's JSON text length."""
    import psycopg
    from psycopg.types.json import Jsonb

    from bench import knhk_models
    from knhk.engine import get_executor
    from knhk.engine.importers import load_spec_file

    executor = get_executor(load_spec_file(knhk_models.ORDER_FULFILLMENT_FILE))
    case = executor.start_case("mid-run", None)
    completed = 0
    while completed < 10:
        item = next((i for i in case.items.values() if i.state == "enabled"
                     and i.task not in knhk_models.ORDER_FULFILLMENT_AVOID), None)
        if item is None:
            break
        case.start(item.id)
        if item.kind in ("composite", "mi"):
            continue
        case.complete(item.id, knhk_models.order_fulfillment_output(item.task, item.data, outputs))
        completed += 1
    state = case.to_state(root_data=False)  # as the platform stores it: the root data is the data column
    with psycopg.connect(f"{PG_URL}/{DATABASE}", autocommit=True) as connection:
        connection.execute("CREATE TEMP TABLE mid_run (engine_state jsonb, data jsonb, marking jsonb)")
        connection.execute("INSERT INTO mid_run VALUES (%s, %s, %s)",
                           (Jsonb(state), Jsonb(case.data), Jsonb(case.marking())))
        row, engine_state = connection.execute(
            "SELECT pg_column_size(m.*), pg_column_size(m.engine_state) FROM mid_run m").fetchone()
    return row, engine_state, len(json.dumps(state, separators=(",", ":")).encode())


def scale_phase(stack: Stack, d: Durations) -> list[Result]:
    """Bulk-load cases with generate_series (one INSERT ... SELECT), then p95 of the list endpoints."""
    spec_pk = admin_sql(f"SELECT id FROM workflows_workflowspec WHERE spec_id = '{SPEC_ID}'", database=DATABASE)[0][0]
    have = admin_sql("SELECT count(*) FROM cases_case", database=DATABASE)[0][0]
    load = max(0, d.scale_cases - have)
    started = time.monotonic()
    admin_sql(
        "INSERT INTO cases_case (id, spec_id, state, data, engine_state, marking, event_seq, created_at, "
        "updated_at, completed_at) "
        f"SELECT gen_random_uuid(), {spec_pk}, "
        "(ARRAY['running','running','completed','completed','completed','cancelled','suspended','failed'])[1 + n % 8], "
        "jsonb_build_object('amount', n % 1000), "
        "'{\"v\": 1, \"counter\": 2, \"nets\": [{\"id\": \"1\", \"marking\": {\"review__notify\": 1}}]}'::jsonb, "
        "'{\"bench-http:review__notify\": 1}'::jsonb, 4, "
        "now() - make_interval(secs => n), now() - make_interval(secs => n), NULL "
        f"FROM generate_series(1, {load}) AS n",
        # what autovacuum does within a minute of a bulk load (its insert threshold): statistics, and the
        # visibility map that lets counts use index-only scans
        "VACUUM (ANALYZE) cases_case", database=DATABASE)
    loaded = time.monotonic() - started
    total = admin_sql("SELECT count(*) FROM cases_case", database=DATABASE)[0][0]
    deep_page = max(1, min(100, load // 8 // 50 // 2))  # a loaded case in eight is failed; 50 a page
    queries = {
        "cases, first page": "/api/v1/cases",
        "cases?state=running": "/api/v1/cases?state=running",
        f"cases?spec_id={SPEC_ID}&state=completed": f"/api/v1/cases?spec_id={SPEC_ID}&state=completed",
        f"cases?state=failed, page {deep_page}": f"/api/v1/cases?state=failed&page={deep_page}",
        "work-items?state=enabled": "/api/v1/work-items?state=enabled",
    }
    rows = []
    with _client(stack) as client:
        for label, url in queries.items():
            for _ in range(5):
                client.get(url).raise_for_status()
            times: list[float] = []
            deadline = time.monotonic() + d.list_seconds
            while len(times) < d.list_requests and (len(times) < 20 or time.monotonic() < deadline):
                t0 = time.perf_counter()
                answer = client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
                answer.raise_for_status()
            p95 = percentile(times, 95)
            rows.append(Result(f"scale: GET {label} at {total:,} cases, p95", round(p95, 1), "ms",
                               target=f"< {LIST_P95_MS:g} ms", met=p95 < LIST_P95_MS,
                               note=f"{len(times)} sequential requests, p50 {statistics.median(times):.1f} ms"))
    rows[0].note += f"; {load:,} cases bulk-loaded in {loaded:.0f}s (INSERT ... SELECT generate_series), then VACUUM (ANALYZE) as autovacuum would"
    return rows


# --------------------------------------------------------------------------- entry point

ROW_NAMES = [
    "HTTP: ceiling (bare DRF POST, one INSERT, no auth)", "HTTP: case starts", "HTTP: work item completions",
    "HTTP: p99 latency at 100 req/s (case starts + completions)", "memory", "scale",
]


def run(durations: Durations) -> tuple[list[Result], dict[str, str]]:
    """Every HTTP benchmark; returns the rows and facts for the header (durability settings)."""
    reason = missing_prerequisite()
    if reason:
        return [Result(name, None, "", met=False, note=f"skipped: {reason}") for name in ROW_NAMES], {}
    durability = durability_settings()
    header = {"PostgreSQL durability": ", ".join(f"{k}={v}" for k, v in durability.items()),
              "HTTP setup": (f"gunicorn 3 workers x 4 threads (deploy/gunicorn.conf.py), one Celery worker "
                             f"(prefork, concurrency 1), wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS}, JWT auth and "
                             "audit log on, rate limit raised (one client sends all the load)")}
    results: list[Result] = []
    if durability["fsync"] != "on" or durability["synchronous_commit"] not in ("on", "remote_apply", "remote_write"):
        results.append(Result("HTTP: durability", None, "", met=False,
                              note=f"PostgreSQL durability is relaxed ({header['PostgreSQL durability']})"))
    with running_stack() as stack:
        items: list[str] = []

        def throughput() -> list[Result]:
            rows, kept = throughput_phase(stack, durations)
            items.extend(kept)
            return rows

        phases = {
            "throughput": throughput,
            "sustainable rate": lambda: sustainable_rate_phase(stack, durations, items),
            "fixed rate": lambda: fixed_rate_phase(stack, durations, items),
            "memory": lambda: memory_phase(stack, durations),
            "state size": lambda: state_size_phase(stack),
            "scale": lambda: scale_phase(stack, durations),
        }
        for phase, run_phase in phases.items():
            print(f"  HTTP phase: {phase}", flush=True)
            try:
                rows = run_phase()
            except Exception as exc:
                rows = [Result(f"HTTP phase {phase}", None, "", met=False,
                               note=f"failed: {type(exc).__name__}: {str(exc)[:400]}")]
            for row in rows:
                print(f"    {row.name}: {row.value} {row.unit} {row.note}", flush=True)
            results += rows
    return results, header
