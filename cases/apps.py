from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases and work items"

    def ready(self) -> None:
        from django.conf import settings

        # Bind @shared_task to the project's Celery app (settings: broker, eager mode).
        import knhk.celery  # noqa: F401
        from knhk.engine import configure

        # The engine reads no Django settings: give it its expression time budget (web and workers).
        configure(xpath_timeout_ms=settings.WORKFLOW_XPATH_TIMEOUT_MS)
