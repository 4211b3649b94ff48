"""Serve API, admin and Swagger UI with gunicorn on WORKFLOW_API_HOST:WORKFLOW_API_PORT."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from knhk.tls import gunicorn_args


class Command(BaseCommand):
    help = "Serve the platform with gunicorn on $WORKFLOW_API_HOST:$WORKFLOW_API_PORT."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))

    def handle(self, *args, **options) -> None:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        if not gunicorn.exists():
            found = shutil.which("gunicorn")
            if not found:
                raise CommandError("gunicorn is not installed (pip install -r requirements.lock)")
            gunicorn = Path(found)
        host, port = settings.WORKFLOW_API_HOST, settings.WORKFLOW_API_PORT
        bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        tls = gunicorn_args()  # WORKFLOW_TLS_CERT/_KEY(/_CLIENT_CA), checked by the settings already
        scheme = "https" if tls else "http"
        base = f"{scheme}://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
        self.stdout.write(f"KNHK serving on {base}" + (" (TLS, client certificates required)"
                                                       if "--ca-certs" in tls else " (TLS)" if tls else ""))
        self.stdout.write(f"  API:        {base}/api/v1/workflows")
        self.stdout.write(f"  Swagger UI: {base}/api/docs/")
        self.stdout.write(f"  Admin:      {base}/admin/")
        self.stdout.write(f"  Health:     {base}/health")
        if not settings.WORKFLOW_AUTH_ENABLED:
            self.stdout.write(self.style.WARNING("  WORKFLOW_AUTH_ENABLED=false: the API is open to anyone."))
        self.stdout.flush()
        argv = [
            str(gunicorn), "knhk.wsgi:application",
            "--config", str(settings.BASE_DIR / "deploy" / "gunicorn.conf.py"),  # metrics hooks; flags below win
            "--bind", bind,
            "--workers", str(options["workers"]),
            "--access-logfile", "-",
            "--graceful-timeout", "10",
            *tls,
        ]
        os.execv(argv[0], argv)
