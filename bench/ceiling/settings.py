"""The platform's settings plus the ceiling endpoint (bench runs only)."""

from knhk.settings import *  # noqa: F403
from knhk.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.ceiling"]
ROOT_URLCONF = "bench.ceiling.urls"
