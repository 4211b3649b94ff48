"""Granting and revoking rights on workflows, audited in the same transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts import rights
from audit.models import Outcome
from audit.services import record


def grant_right(actor: Any, spec_id: str, right: str, holder: dict[str, Any]) -> bool:
    """Give a user or group (`holder` = {"user": u} or {"group": g}) a right; audited when it changes."""
    return _change(rights.grant, "permission.granted", actor, spec_id, right, holder)


def revoke_right(actor: Any, spec_id: str, right: str, holder: dict[str, Any]) -> bool:
    """Take a right from a user or group; audited when it changes."""
    return _change(rights.revoke, "permission.revoked", actor, spec_id, right, holder)


@transaction.atomic
def _change(change: Any, action: str, actor: Any, spec_id: str, right: str, holder: dict[str, Any]) -> bool:
    changed = change(right, spec_id, **holder)
    if changed:
        record(action, actor=actor, workflow_id=spec_id, data=_describe(right, holder))
    return changed


def record_failed_login(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    """Receiver of Django's `user_login_failed` (token endpoint, admin and UI logins): one record."""
    username = str(credentials.get("username") or "")[:150]
    channel = getattr(request, "path", "") if request is not None else ""
    with transaction.atomic():
        record("auth.login_failed", actor="anonymous", outcome=Outcome.FAILURE,
               data={"username": username, "path": channel})


def _describe(right: str, holder: dict[str, Any]) -> dict[str, str]:
    if "user" in holder:
        return {"right": right, "user": holder["user"].get_username()}
    return {"right": right, "group": holder["group"].name}
