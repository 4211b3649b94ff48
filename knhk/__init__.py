"""KNHK: a YAWL-style workflow engine platform.

The Celery app is loaded lazily (as `knhk.celery_app`) so that importing the pure engine
(`knhk.engine`) never pulls in Celery or Django; the `cases` app loads it when Django starts.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "celery_app":
        from knhk.celery import app

        return app
    raise AttributeError(f"module 'knhk' has no attribute {name!r}")
