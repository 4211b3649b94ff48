"""One JSON error shape for every API failure.

    {"error": {"code": "not_found", "message": "No case 'x'.", "details": {...}}}

`exception_handler` is DRF's EXCEPTION_HANDLER; `json_error` builds the same body for plain Django
views (unknown /api/ routes, 413, Django's 404/500 handlers).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger("knhk.api")

DATABASE_RETRY_AFTER_SECONDS = 5

__all__ = [
    "ApiError",
    "Conflict",
    "NotFound",
    "BadRequest",
    "exception_handler",
    "error_body",
    "json_error",
]


class ApiError(exceptions.APIException):
    """An API failure with an explicit code, message and details."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"
    default_detail = "Bad request."

    def __init__(self, message: str | None = None, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message or self.default_detail, code or self.default_code)
        self.error_code = code or self.default_code
        self.details = details if details is not None else {}


class BadRequest(ApiError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"
    default_detail = "Invalid request."


class NotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"
    default_detail = "Not found."


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the current state."


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The error document."""
    return {"error": {"code": code, "message": message, "details": details if details is not None else {}}}


def json_error(status_code: int, code: str, message: str, details: Any = None) -> JsonResponse:
    """A plain Django JSON error response in the common shape."""
    return JsonResponse(error_body(code, message, details), status=status_code)


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    """Human-readable lines from a DRF error detail (nested dicts and lists)."""
    if isinstance(detail, dict):
        lines: list[str] = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            lines += _flatten(value, f"{prefix}.{name}" if prefix and name else prefix or name)
        return lines
    if isinstance(detail, list):
        lines = []
        for index, value in enumerate(detail):
            nested = isinstance(value, (dict, list))
            lines += _flatten(value, f"{prefix}[{index}]" if nested else prefix)
        return lines
    return [f"{prefix}: {detail}" if prefix else str(detail)]


def _plain(detail: Any) -> Any:
    """DRF ErrorDetail trees as plain JSON values."""
    if isinstance(detail, dict):
        return {str(k): _plain(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_plain(v) for v in detail]
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF exception handler: every exception becomes the common error shape; bugs become a bare 500."""
    headers: dict[str, str] = {}
    if isinstance(exc, ApiError):
        return Response(error_body(exc.error_code, str(exc.detail), exc.details), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("request_too_large", "The request body is too large.", {"limit_bytes": _body_limit()}),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError(str(exc) or "Malformed request.")
    elif isinstance(exc, (OperationalError, InterfaceError)):  # the database went away (or timed out)
        logger.warning("database unavailable: %s", exc)
        body = error_body("service_unavailable", "The database is not reachable; nothing was changed. Try again shortly.",
                          {"retry_after_seconds": DATABASE_RETRY_AFTER_SECONDS})
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})
    if isinstance(exc, exceptions.APIException):
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        if isinstance(exc, exceptions.ValidationError):
            lines = _flatten(exc.detail)
            message = "Invalid input: " + "; ".join(lines) if lines else "Invalid input."
            return Response(error_body("invalid", message, _plain(exc.detail)), status=exc.status_code)
        code = exc.get_codes() if not isinstance(exc.detail, (dict, list)) else exc.default_code
        return Response(
            error_body(str(code), str(exc.detail) if not isinstance(exc.detail, (dict, list)) else str(exc.default_detail),
                       _plain(exc.detail) if isinstance(exc.detail, (dict, list)) else {}),
            status=exc.status_code,
            headers=headers,
        )
    view = context.get("view")
    logger.exception("unhandled error in %s", type(view).__name__ if view else "API view")
    return Response(
        error_body("internal_error", "An internal error occurred; it has been logged."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def _body_limit() -> int:
    from django.conf import settings

    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)


@csrf_exempt  # an API client sends no CSRF token: the answer must be this 404, not an HTML 403
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown routes under /api/."""
    return json_error(404, "not_found", f"No API endpoint at {request.path}.")


BROWSER_PREFIXES = ("/ui/", "/accounts/")  # the browser UI's pages: their errors are HTML pages

INTERNAL_ERROR_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Something went wrong · KNHK workflows</title></head>
<body style="font-family:system-ui,sans-serif;margin:2rem;max-width:40rem">
<main><h1>Something went wrong</h1>
<p role="alert">An internal error occurred; it has been logged. Your last change may not have been saved.</p>
<p><a href="/ui/">Back to the workflows</a></p></main></body></html>
"""


def _for_browser(request: HttpRequest) -> bool:
    return request.path.startswith(BROWSER_PREFIXES)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 handler: JSON (the API and health are JSON services); an HTML page under the UI."""
    if _for_browser(request):
        from django.shortcuts import render

        return render(request, "ui/error.html", {"status": 404, "message": f"There is no page at {request.path}."},
                      status=404)  # fmt: skip
    return json_error(404, "not_found", f"Nothing at {request.path}.")


def handler500(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler: the error is already logged by Django. Under the UI a static HTML page
    (no template, no database: whatever failed may fail again)."""
    if _for_browser(request):
        return HttpResponse(INTERNAL_ERROR_PAGE, status=500, content_type="text/html; charset=utf-8")
    return json_error(500, "internal_error", "An internal error occurred; it has been logged.")
