"""Dead letter queue and circuit breakers of automated tasks (issue 6)."""

from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents (dead letter queue)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from incidents import connectors  # noqa: F401  (registers the "http" connector)
