"""`manage.py verify_audit`: check the audit hash chain; exit status 1 names the first broken record."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from audit.chain import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; report it intact or name the first broken record."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, **options) -> None:
        report = verify_chain()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict()))
        elif report.intact:
            self.stdout.write(self.style.SUCCESS(report.message()))
        if not report.intact:
            raise CommandError(report.message(), returncode=1)
