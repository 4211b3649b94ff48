import logging

from django.apps import AppConfig
from django.conf import settings


class AccountsConfig(AppConfig):
    """Roles, per-workflow rights (django-guardian), JWT login and the grant/revoke API."""

    name = "accounts"
    verbose_name = "Accounts and rights"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from accounts import schema  # noqa: F401  (registers the OpenAPI security schemes)
        from accounts.services import record_failed_login

        user_login_failed.connect(record_failed_login, dispatch_uid="accounts.audit_failed_login")

        if not getattr(settings, "WORKFLOW_AUTH_ENABLED", True):
            logging.getLogger("knhk.security").warning(
                "WORKFLOW_AUTH_ENABLED=false: the API is OPEN to anyone, with no login and no rights checks. "
                "Use this for local trials only."
            )
