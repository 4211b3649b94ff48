"""The Celery application: `celery -A knhk.celery worker`.

Configured from Django settings (CELERY_*): with no broker URL tasks run eagerly, in-process.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "knhk.settings")

app = Celery("knhk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
