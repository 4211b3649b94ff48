"""`manage.py create_user NAME --role operator [--role ...] [--password-env VAR | --password P]`.

The password must pass Django's validators (settings.AUTH_PASSWORD_VALIDATORS: at least 8 characters, not
common, not all digits, not like the user name); otherwise nothing changes and the command fails.
"""

from __future__ import annotations

import getpass
import os
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import ROLES


class Command(BaseCommand):
    help = "Create a user (or update an existing one) and give them roles."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", action="append", default=[], choices=ROLES,
                            help="A role to add (repeatable).")
        parser.add_argument("--password", help="The password (visible in the process list; prefer --password-env).")
        parser.add_argument("--password-env", metavar="VAR", help="Read the password from this environment variable.")
        parser.add_argument("--email", default="")
        parser.add_argument("--superuser", action="store_true", help="Make the user a superuser (and staff).")
        parser.add_argument("--staff", action="store_true", help="Let the user log in to the admin.")

    def handle(self, *args, **options) -> None:
        username: str = options["username"].strip()
        if not username:
            raise CommandError("the user name must not be empty")
        password = self._password(options)
        user_model = get_user_model()
        with transaction.atomic():
            user, created = user_model.objects.get_or_create(username=username, defaults={"email": options["email"]})
            if created and password is None:
                raise CommandError("a new user needs a password: give --password-env VAR or --password")
            if options["email"]:
                user.email = options["email"]
            if password is not None:
                try:
                    validate_password(password, user)
                except ValidationError as exc:
                    raise CommandError(f"password refused for {username!r}: {' '.join(exc.messages)}") from exc
                user.set_password(password)
            if options["superuser"]:
                user.is_superuser = user.is_staff = True
            if options["staff"]:
                user.is_staff = True
            user.save()
            missing = [role for role in options["role"] if not Group.objects.filter(name=role).exists()]
            if missing:
                raise CommandError(f"role group(s) {', '.join(missing)} do not exist; run `manage.py migrate` first")
            user.groups.add(*Group.objects.filter(name__in=options["role"]))
        roles = sorted(user.groups.values_list("name", flat=True))
        self.stdout.write(f"User {username!r} {'created' if created else 'updated'}; roles: "
                          f"{', '.join(roles) or 'none'}{'; superuser' if user.is_superuser else ''}")

    def _password(self, options: dict) -> str | None:
        if options["password_env"]:
            value = os.environ.get(options["password_env"])
            if not value:
                raise CommandError(f"environment variable {options['password_env']} is not set or empty")
            return value
        if options["password"] is not None:
            if not options["password"]:
                raise CommandError("the password must not be empty")
            return options["password"]
        if sys.stdin.isatty():
            first = getpass.getpass("Password: ")
            if not first or first != getpass.getpass("Password (again): "):
                raise CommandError("the passwords are empty or do not match")
            return first
        return None
