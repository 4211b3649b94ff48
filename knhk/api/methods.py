"""GET-and-HEAD-only plain Django views (health probes, metrics): another method is a JSON 405.

Django's `require_GET` answered HEAD (what load balancers send) with a 405 and, behind the CSRF
middleware, a POST or DELETE with its HTML 403 page. These views change nothing, so they are
csrf_exempt; HEAD answers like GET (same status and headers) without the body.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from knhk.api.errors import json_error

READ_METHODS = ("GET", "HEAD")


def method_not_allowed(request: HttpRequest, allowed: tuple[str, ...] = READ_METHODS) -> HttpResponse:
    """The 405 in the common error shape (the message of DRF's own 405), with its Allow header."""
    response = json_error(405, "method_not_allowed", f'Method "{request.method[:32]}" not allowed.')
    response["Allow"] = ", ".join(allowed)
    return response


def get_and_head_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate a plain Django view that only reads: GET and HEAD run it, another method is a JSON 405."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in READ_METHODS:
            return method_not_allowed(request)
        response = view(request, *args, **kwargs)
        if request.method == "HEAD" and not response.streaming:
            response["Content-Length"] = str(len(response.content))  # the length a GET would have
            response.content = b""
        return response

    return csrf_exempt(wrapped)
