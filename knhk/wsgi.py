"""WSGI entry point (gunicorn knhk.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "knhk.settings")

application = get_wsgi_application()
