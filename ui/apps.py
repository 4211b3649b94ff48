from django.apps import AppConfig


class UiConfig(AppConfig):
    """The browser UI: server-rendered pages over the platform's selectors and services."""

    name = "ui"
    verbose_name = "Browser UI"
