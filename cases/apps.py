from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases and work items"

    def ready(self) -> None:
        # Bind @shared_task to the project's Celery app (settings: broker, eager mode).
        import knhk.celery  # noqa: F401
