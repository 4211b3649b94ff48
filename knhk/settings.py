"""Django settings for KNHK, read from the environment and validated at start-up.

A bad value stops start-up with one line naming the variable (exit status 2, no traceback).
With nothing set the service runs embedded: SQLite under WORKFLOW_STATE_PATH, Celery tasks in-process.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url

from knhk.tls import TLSConfigError, tls_settings

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """An environment variable with a value the service cannot run with."""


def env_str(name: str, default: str) -> str:
    """A string variable (unset or empty = default)."""
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool) -> bool:
    """A boolean variable: 1/true/yes/on or 0/false/no/off."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be a boolean (true/false, 1/0, yes/no, on/off), got {raw!r}")


def env_port(name: str, default: int) -> int:
    """A TCP port variable, 1-65535."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"{name} must be an integer port 1-65535, got {raw!r}")
    return int(raw)


def env_positive_int(name: str, default: int) -> int:
    """A positive integer variable."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a positive integer, got {raw!r}")
    return int(raw)


def env_secret(name: str, min_length: int) -> str:
    """An optional secret variable that, when set, is at least `min_length` characters long."""
    raw = os.environ.get(name, "").strip()
    if raw and len(raw) < min_length:
        raise ConfigError(f"{name} must be at least {min_length} characters long (got {len(raw)})")
    return raw


def env_url(name: str, schemes: tuple[str, ...]) -> str | None:
    """An optional URL variable whose scheme is one of `schemes`."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in schemes or not (parsed.netloc or parsed.path):
        raise ConfigError(f"{name} must be a URL starting with {' or '.join(s + '://' for s in schemes)}, got {raw!r}")
    return raw


def env_host(name: str, default: str) -> str:
    """A host name or IP address to bind to."""
    raw = env_str(name, default)
    if any(ch.isspace() for ch in raw) or "/" in raw:
        raise ConfigError(f"{name} must be a host name or IP address, got {raw!r}")
    return raw


# SQLite: a transaction takes the write lock when it begins (a read-then-write transaction would
# otherwise fail at once with "database is locked" when another one writes), and a busy lock is waited
# for instead of failing: concurrent requests queue up rather than answering 500.
SQLITE_OPTIONS = {"transaction_mode": "IMMEDIATE", "timeout": 20}


def database_config(url: str | None, state_path: Path) -> dict:
    """DATABASE_URL (PostgreSQL through psycopg 3) or the embedded SQLite file."""
    if url is None:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(state_path / "knhk.sqlite3"),
                "OPTIONS": dict(SQLITE_OPTIONS)}
    try:
        config = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"DATABASE_URL is not a usable database URL ({exc}), got {url!r}") from exc
    if config.get("ENGINE") not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
        raise ConfigError(f"DATABASE_URL must be a postgres:// or sqlite:// URL, got {url!r}")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {**SQLITE_OPTIONS, **config.get("OPTIONS", {})}
    return config


def _load() -> dict:
    state_path = Path(env_str("WORKFLOW_STATE_PATH", "./var")).expanduser()
    if not state_path.is_absolute():
        state_path = (Path.cwd() / state_path).resolve()
    return {
        "STATE_PATH": state_path,
        "API_HOST": env_host("WORKFLOW_API_HOST", "127.0.0.1"),
        "API_PORT": env_port("WORKFLOW_API_PORT", 8080),
        "FORTUNE5_ENABLED": env_bool("WORKFLOW_FORTUNE5_ENABLED", False),
        "OTEL_ENDPOINT": env_url("WORKFLOW_OTEL_ENDPOINT", ("http", "https")),
        "AUTH_ENABLED": env_bool("WORKFLOW_AUTH_ENABLED", True),
        "DATABASE_URL": env_url("DATABASE_URL", ("postgres", "postgresql", "pgsql", "sqlite")),
        "BROKER_URL": env_url("CELERY_BROKER_URL", ("redis", "rediss", "amqp", "amqps", "memory")),
        "DEBUG": env_bool("DJANGO_DEBUG", False),
        "MAX_BODY": env_positive_int("WORKFLOW_MAX_BODY_BYTES", 5 * 1024 * 1024),
        # Operations (issue 6): rate limit, Fortune 5 SLO limits, circuit breakers.
        "RATE_LIMIT": env_positive_int("WORKFLOW_RATE_LIMIT", 100),
        "SLO_HOT_PATH_MS": env_positive_int("WORKFLOW_SLO_HOT_PATH_P99_MS", 50),
        "SLO_WRITE_MS": env_positive_int("WORKFLOW_SLO_WRITE_P99_MS", 500),
        "SLO_END_TO_END_MS": env_positive_int("WORKFLOW_SLO_END_TO_END_P99_MS", 60_000),
        "BREAKER_FAILURES": env_positive_int("WORKFLOW_BREAKER_FAILURES", 5),
        "BREAKER_RESET_SECONDS": env_positive_int("WORKFLOW_BREAKER_RESET_SECONDS", 30),
        "JWT_SIGNING_KEY": env_secret("WORKFLOW_JWT_SIGNING_KEY", 32),
        "JWT_ACCESS_MINUTES": env_positive_int("WORKFLOW_JWT_ACCESS_MINUTES", 15),
        "JWT_REFRESH_DAYS": env_positive_int("WORKFLOW_JWT_REFRESH_DAYS", 1),
        "XPATH_TIMEOUT_MS": env_positive_int("WORKFLOW_XPATH_TIMEOUT_MS", 1000),
    }


try:
    _config = _load()
    _database = database_config(_config["DATABASE_URL"], _config["STATE_PATH"])
    _tls = tls_settings()  # WORKFLOW_TLS_CERT / _KEY / _CLIENT_CA, used by gunicorn
except (ConfigError, TLSConfigError) as _error:
    print(f"knhk: configuration error: {_error}", file=sys.stderr)
    raise SystemExit(2) from None

WORKFLOW_STATE_PATH: Path = _config["STATE_PATH"]
WORKFLOW_API_HOST: str = _config["API_HOST"]
WORKFLOW_API_PORT: int = _config["API_PORT"]
WORKFLOW_FORTUNE5_ENABLED: bool = _config["FORTUNE5_ENABLED"]
WORKFLOW_OTEL_ENDPOINT: str | None = _config["OTEL_ENDPOINT"]
WORKFLOW_AUTH_ENABLED: bool = _config["AUTH_ENABLED"]
WORKFLOW_TLS_ENABLED: bool = bool(_tls)
WORKFLOW_RATE_LIMIT: int = _config["RATE_LIMIT"]
WORKFLOW_SLO_P99_MS: dict[str, int] = {
    "hot_path": _config["SLO_HOT_PATH_MS"], "write": _config["SLO_WRITE_MS"], "end_to_end": _config["SLO_END_TO_END_MS"],
}
WORKFLOW_BREAKER_FAILURES: int = _config["BREAKER_FAILURES"]
WORKFLOW_BREAKER_RESET_SECONDS: int = _config["BREAKER_RESET_SECONDS"]
WORKFLOW_XPATH_TIMEOUT_MS: int = _config["XPATH_TIMEOUT_MS"]  # one expression evaluation (knhk.engine.configure)

DEBUG: bool = _config["DEBUG"]
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip() or "knhk-insecure-development-key-change-me"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = WORKFLOW_TLS_ENABLED  # over TLS, cookies only over HTTPS
ALLOWED_HOSTS = [h.strip() for h in env_str("DJANGO_ALLOWED_HOSTS", "*").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "rest_framework_simplejwt",
    "guardian",
    "accounts",
    "audit",
    "workflows",
    "cases",
    "ui",
    "knhk.observability",
    "incidents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "knhk.observability.logging.RequestIdMiddleware",
    "knhk.observability.metrics.MetricsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "knhk.ratelimit.RateLimitMiddleware",
    "knhk.api.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "knhk.urls"
WSGI_APPLICATION = "knhk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's password rules: `manage.py create_user` and the admin's password forms apply them (the demo
# user of `make run`, ensure_demo_user, is exempt).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve static files straight from the apps when collectstatic has not run (tests, first start).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG or not STATIC_ROOT.is_dir()

# Request bodies: Django's own limit plus the JSON 413 answer of RequestBodyLimitMiddleware.
DATA_UPLOAD_MAX_MEMORY_SIZE = _config["MAX_BODY"]
FILE_UPLOAD_MAX_MEMORY_SIZE = _config["MAX_BODY"]

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["knhk.api.limits.LimitedJSONParser"],  # DRF's, with a nesting limit
    # JWT for API clients, Django's session for the browser; accounts.permissions.ApiAccess requires a
    # login unless WORKFLOW_AUTH_ENABLED=false (then the API is open and start-up warns).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.AuditedJWTAuthentication",
        "accounts.authentication.AuditedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.ApiAccess"],
    "DEFAULT_PAGINATION_CLASS": "knhk.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "knhk.api.errors.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "knhk.api.negotiation.ContentNegotiation",  # ?format=xml: 400, not 404
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# Authentication: Django's users and groups (roles) plus django-guardian's per-object rights.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no database user for anonymous requests
# The browser UI (ui/) logs in with Django's session at /accounts/login/.
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/ui/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
SIMPLE_JWT = {
    "SIGNING_KEY": _config["JWT_SIGNING_KEY"] or SECRET_KEY,
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=_config["JWT_ACCESS_MINUTES"]),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=_config["JWT_REFRESH_DAYS"]),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "KNHK workflow engine API",
    "DESCRIPTION": "Workflow specifications, cases and work items of the KNHK YAWL-style workflow engine.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "knhk.api.schema.add_common_errors"],
    "ENUM_NAME_OVERRIDES": {
        "CaseStateEnum": "cases.models.CaseState",
        "WorkItemStateEnum": "cases.models.WorkItemState",
    },
}

# Celery: a broker URL means a real worker pool; none means tasks run in-process (embedded).
CELERY_BROKER_URL = _config["BROKER_URL"]
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log JSON lines with request ids too (LOGGING below)

# JSON lines with request id, workflow_id, case_id, operation, duration_ms (WORKFLOW_LOG_FORMAT=plain for text).
from knhk.observability.logging import logging_config  # noqa: E402

LOGGING = logging_config(os.environ.get("WORKFLOW_LOG_FORMAT"))

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    try:
        WORKFLOW_STATE_PATH.mkdir(parents=True, exist_ok=True)
    except OSError as _error:
        print(f"knhk: configuration error: WORKFLOW_STATE_PATH {str(WORKFLOW_STATE_PATH)!r} cannot be created: "
              f"{_error.strerror}", file=sys.stderr)
        raise SystemExit(2) from None
