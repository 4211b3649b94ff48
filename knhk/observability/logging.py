"""Structured logs: JSON lines carrying the request id and the workflow, case and task in hand.

The ids live in context variables: `RequestIdMiddleware` sets the request id (from `X-Request-ID` or a
new one), `log_context(...)` adds workflow_id/case_id/task_id/operation for a block, and Celery tasks
get the request id of the request that enqueued them (see celery_signals). `ContextFilter` copies them
onto every record, so any `logger.info(...)` inside carries them.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
CONTEXT_FIELDS = ("request_id", "workflow_id", "case_id", "task_id", "operation")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # as audit.middleware

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("knhk_request_id", default=None)
_ids: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("knhk_log_ids", default={})  # noqa: B039


def current_request_id() -> str | None:
    """The request id of the HTTP request (or Celery task) being handled, if any."""
    return _request_id.get()


def set_request_id(value: str | None) -> contextvars.Token:
    """Make `value` the current request id; returns the token to restore the previous one."""
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Within the block every log record carries these ids (None values are left out)."""
    merged = {**_ids.get(), **{k: str(v) for k, v in ids.items() if v is not None}}
    token = _ids.set(merged)
    try:
        yield
    finally:
        _ids.reset(token)


def current_ids() -> dict[str, str]:
    """The ids log records get right now, request id included."""
    ids = dict(_ids.get())
    if (request_id := _request_id.get()) is not None:
        ids["request_id"] = request_id
    return ids


class ContextFilter(logging.Filter):
    """Copy the context ids onto each record (explicit `extra=` values win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in current_ids().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line: time, level, logger, message, ids and any `extra=` fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", False)
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", *args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        from datetime import UTC, datetime

        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class PlainFormatter(logging.Formatter):
    """Text lines for people: time, level, logger, [request id], message, then the other ids."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s%(ids)s")

    def format(self, record: logging.LogRecord) -> str:
        record.__dict__.setdefault("request_id", "-")
        ids = [f"{key}={getattr(record, key)}" for key in CONTEXT_FIELDS[1:] if hasattr(record, key)]
        record.ids = (" " + " ".join(ids)) if ids else ""
        return super().format(record)


def logging_config(log_format: str | None = None, level: str = "INFO") -> dict[str, Any]:
    """The LOGGING dict for settings: JSON lines (default) or plain text (WORKFLOW_LOG_FORMAT=plain)."""
    chosen = (log_format or "json").strip().lower()
    if chosen not in ("json", "plain"):
        print(f"knhk: configuration error: WORKFLOW_LOG_FORMAT must be json or plain, got {log_format!r}",
              file=sys.stderr)
        raise SystemExit(2)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "knhk.observability.logging.ContextFilter"}},
        "formatters": {
            "json": {"()": "knhk.observability.logging.JsonFormatter"},
            "plain": {"()": "knhk.observability.logging.PlainFormatter"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": chosen, "filters": ["context"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.request": {"level": "ERROR"}, "celery": {"level": "INFO"}},
    }


class RequestIdMiddleware:
    """Carry `X-Request-ID` (or a new id) through the request, its logs, and the response header."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else new_request_id()
        request.request_id = request_id
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response[REQUEST_ID_HEADER] = request_id
        return response
