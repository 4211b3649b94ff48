"""Django app that switches observability on once per process."""

from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "knhk.observability"
    label = "observability"
    verbose_name = "Observability"

    def ready(self) -> None:
        # metrics first: it chooses the Prometheus multiprocess directory before prometheus_client loads.
        import knhk.observability.metrics  # noqa: F401
        from knhk.observability import celery_signals, tracing

        tracing.setup_tracing()
        celery_signals.connect()
