"""DRF authentication classes that also name the actor for audit records of the request."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import SessionAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication

from audit.context import set_actor


class ActorMixin:
    """After a successful authentication, the user becomes the actor of the request's audit records."""

    def authenticate(self, request: Any) -> Any:
        result = super().authenticate(request)  # type: ignore[misc]
        if result is not None:
            set_actor(result[0])
        return result


class AuditedJWTAuthentication(ActorMixin, JWTAuthentication):
    """`Authorization: Bearer <access token>`."""


class AuditedSessionAuthentication(ActorMixin, SessionAuthentication):
    """Django's session login (the browser admin and UI), with CSRF checks."""
