"""Where an API request's time goes, in process: SQL queries per request and a cProfile of case starts
and work item completions through the whole Django stack (middleware, JWT auth, audit, engine).

    .venv/bin/python bench/profile_requests.py [--requests 200] [--sql]

Uses a throw-away PostgreSQL database (knhk_bench_profile) and an in-memory Celery broker (automated
items are queued, not run). Prints the query count of each request kind and the profile's top entries.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import secrets
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0]).resolve() == REPO / "bench":
    sys.path[0] = str(REPO)

from bench.http import PG_URL, admin_sql, bench_spec  # noqa: E402

DATABASE = "knhk_bench_profile"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests of each kind to profile")
    parser.add_argument("--sql", action="store_true", help="print each request's SQL")
    args = parser.parse_args(argv)

    password = secrets.token_urlsafe(16)
    os.environ.update({
        "DATABASE_URL": f"{PG_URL}/{DATABASE}", "CELERY_BROKER_URL": "memory://localhost/",
        "DJANGO_SETTINGS_MODULE": "knhk.settings", "WORKFLOW_JWT_SIGNING_KEY": secrets.token_urlsafe(48),
        "WORKFLOW_RATE_LIMIT": "1000000", "KNHK_BENCH_PASSWORD": password,
    })
    admin_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)", f"CREATE DATABASE {DATABASE}")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        call_command("migrate", "--noinput", verbosity=0)
        call_command("create_user", "bench", "--role", "workflow-admin", "--role", "operator", "--role",
                     "participant", "--password-env", "KNHK_BENCH_PASSWORD", verbosity=0)
        client = Client()
        token = client.post("/api/v1/auth/token", {"username": "bench", "password": password},
                            content_type="application/json").json()["access"]
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        answer = client.post("/api/v1/workflows", {"spec": bench_spec()}, content_type="application/json", **auth)
        assert answer.status_code < 300, answer.content

        def start_case() -> dict:
            response = client.post("/api/v1/cases", {"spec_id": "bench-http", "data": {"amount": 1}},
                                   content_type="application/json", **auth)
            assert response.status_code == 201, response.content
            return response.json()

        def complete(item_id: str) -> None:
            response = client.post(f"/api/v1/work-items/{item_id}/complete", {"data": {"approved": True}},
                                   content_type="application/json", **auth)
            assert response.status_code == 200, response.content

        def first_item(case: dict) -> str:
            return next(item["id"] for item in case["work_items"] if item["task_id"] == "review")

        for _ in range(20):  # warm caches (executor, permissions, connections)
            complete(first_item(start_case()))
        pending = first_item(start_case())
        for kind, call in (("case start", start_case), ("work item completion", lambda: complete(pending))):
            with CaptureQueriesContext(connection) as queries:
                call()
            sql = queries.captured_queries
            print(f"{kind}: {len(sql)} SQL statements")
            if args.sql:
                for query in sql:
                    print(f"    {query['time']}s  {query['sql'][:300]}")

        cases = [start_case() for _ in range(args.requests)]
        for label, work in (("case starts", lambda: [start_case() for _ in range(args.requests)]),
                            ("completions", lambda: [complete(first_item(c)) for c in cases])):
            profile = cProfile.Profile()
            profile.enable()
            work()
            profile.disable()
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
            stats.print_stats(r"knhk|cases|workflows|accounts|audit|rest_framework/views|django/db/backends", 40)
            stats.sort_stats("tottime").print_stats(15)
            print(f"===== {label}: {args.requests} requests, {stats.total_tt / args.requests * 1000:.2f} ms each "
                  "(profiled, in process) =====")
            print(out.getvalue())
    finally:
        from django.db import connections

        connections.close_all()
        admin_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
