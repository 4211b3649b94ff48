"""Create (or reset) the demo superuser and say how to log in."""

from __future__ import annotations

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Ensure a demo superuser exists (DEMO_USERNAME/DEMO_PASSWORD, default demo/demo-password)."

    def handle(self, *args, **options) -> None:
        username = os.environ.get("DEMO_USERNAME", "demo")
        password = os.environ.get("DEMO_PASSWORD", "demo-password")
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True, "email": ""}
        )
        if created or not user.check_password(password):
            user.set_password(password)
        user.is_staff = user.is_superuser = user.is_active = True
        user.save()
        host, port = settings.WORKFLOW_API_HOST, settings.WORKFLOW_API_PORT
        base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
        self.stdout.write(f"Demo superuser {'created' if created else 'ready'}: "
                          f"username {username!r}, password {password!r}")
        self.stdout.write(f"Log in at {base}/ui/ (browser UI) or {base}/admin/ ; API docs at {base}/api/docs/")
