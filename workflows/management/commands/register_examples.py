"""Register the shipped examples (examples/*.json); unchanged ones are skipped, so it is idempotent."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from knhk.api.errors import ApiError
from workflows.services import register_spec


class Command(BaseCommand):
    help = "Register every examples/*.json specification (a new version only when its content changed)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="*", help="Spec files (default: examples/*.json).")

    def handle(self, *args, **options) -> None:
        paths = [Path(p) for p in options["paths"]] or sorted((settings.BASE_DIR / "examples").glob("*.json"))
        for path in paths:
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"{path}: {exc}") from exc
            if isinstance(document, dict) and isinstance(document.get("spec"), dict):
                document = document["spec"]
            try:
                registration = register_spec(document, skip_unchanged=True)
            except ApiError as exc:
                raise CommandError(f"{path}: {exc.detail}") from exc
            row = registration.spec
            verb = "registered" if registration.created else "unchanged"
            self.stdout.write(f"{verb}: {row.spec_id} v{row.version} ({path.name})")
