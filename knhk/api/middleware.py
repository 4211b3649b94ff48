"""Request body limit with a JSON 413 answer (before any view reads the body)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from knhk.api.errors import json_error


class RequestBodyLimitMiddleware:
    """Refuse API requests whose declared body exceeds DATA_UPLOAD_MAX_MEMORY_SIZE (413), or that
    send a chunked body (411: Django would read it as empty)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit and request.path.startswith("/api/"):
            if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
                # Django reads a chunked body (no Content-Length) as empty: refuse it rather than
                # answer as if nothing had been sent.
                return json_error(411, "length_required",
                                  "Send the request body with a Content-Length header (chunked bodies are not read).")
            raw = request.META.get("CONTENT_LENGTH") or "0"
            try:
                length = int(raw)
            except ValueError:
                return json_error(400, "invalid", f"Content-Length {raw!r} is not a number.")
            if length > limit:
                return json_error(
                    413,
                    "request_too_large",
                    f"The request body is {length} bytes; the limit is {limit} bytes.",
                    {"limit_bytes": limit, "length_bytes": length},
                )
        return self.get_response(request)
