"""Who is acting and for which request, for audit records written deeper down (services, engine events).

Set per request by `audit.middleware.AuditContextMiddleware` (request id) and the authentication
classes (actor); read by `audit.services.record` when the caller gives no actor or request id.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

SYSTEM_ACTOR = "system"
ANONYMOUS_ACTOR = "anonymous"

_actor: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_actor", default=None)
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("audit_request_id", default="")


def actor_name(user: object) -> str:
    """The name recorded for a user object, a plain name, or nobody."""
    if user is None:
        return _actor.get() or SYSTEM_ACTOR
    if isinstance(user, str):
        return user or SYSTEM_ACTOR
    if not getattr(user, "is_authenticated", False):
        return ANONYMOUS_ACTOR
    return str(user.get_username())


def set_actor(user: object) -> None:
    """Record `user` as the actor of the current request."""
    _actor.set(actor_name(user))


def current_actor() -> str:
    return _actor.get() or SYSTEM_ACTOR


def current_request_id() -> str:
    return _request_id.get()


@contextmanager
def request_context(request_id: str, actor: str | None = None) -> Iterator[None]:
    """Bind a request id (and optionally an actor) for the duration of a block."""
    id_token = _request_id.set(request_id)
    actor_token = _actor.set(actor)
    try:
        yield
    finally:
        _request_id.reset(id_token)
        _actor.reset(actor_token)
