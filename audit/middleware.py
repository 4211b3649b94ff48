"""Binds the request id for audit records written while a request runs.

The id is the one an earlier middleware put on `request.request_id` (the observability request-id
middleware), else a well-formed `X-Request-ID` header, else a new one; it is echoed in the response.

A state-changing request to the API or the UI that is refused with 403 leaves one `access.denied`
record (outcome `denied`), written after the response, outside the refused request's (rolled back)
work.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from audit.context import ANONYMOUS_ACTOR, actor_name, request_context

AUDITED_PREFIXES = ("/api/", "/ui/")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

logger = logging.getLogger("knhk.audit")
REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class AuditContextMiddleware:
    """Bind the request's id (and, once authenticated, its actor) for `audit.services.record`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = getattr(request, "request_id", None)
        if not request_id:
            given = request.headers.get(REQUEST_ID_HEADER, "")
            request_id = given if _VALID_REQUEST_ID.match(given) else uuid.uuid4().hex
            request.request_id = request_id
        with request_context(str(request_id)[:64], actor=ANONYMOUS_ACTOR):  # until authenticated
            response = self.get_response(request)
        if not response.has_header(REQUEST_ID_HEADER):
            response[REQUEST_ID_HEADER] = request_id
        if (
            response.status_code == 403
            and request.method not in SAFE_METHODS
            and request.path.startswith(AUDITED_PREFIXES)
        ):
            _record_denied(request, str(request_id)[:64])
        return response


def _record_denied(request: HttpRequest, request_id: str) -> None:
    from audit.models import Outcome
    from audit.services import record

    user = getattr(request, "user", None)  # DRF sets it on the Django request once authenticated
    actor = ANONYMOUS_ACTOR if user is None else actor_name(user)
    try:
        record("access.denied", actor=actor, outcome=Outcome.DENIED, request_id=request_id,
               data={"method": request.method, "path": request.path[:200]})
    except DatabaseError as exc:  # the refusal stands (it changed nothing); the miss is logged instead
        logger.warning("access.denied not recorded (%s): %s %s by %s", exc, request.method, request.path, actor)
