"""What the UI lets a user do, decided by the security layer's helpers (accounts.rights).

Each page and button asks here; nothing in the UI decides rights itself. The DRF exceptions those
helpers raise become `Denied` (shown as a 403 or 404 page).
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions

from accounts import rights


class Denied(Exception):
    """The user may not see (404) or do (403) this; `message` says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _guard(check: Any, *args: Any) -> None:
    try:
        check(*args)
    except exceptions.NotFound as exc:
        raise Denied(404, str(exc.detail)) from exc
    except exceptions.PermissionDenied as exc:
        raise Denied(403, str(exc.detail)) from exc


def visible(queryset: Any, user: Any, spec_id_field: str) -> Any:
    """Narrow specs, cases or work items to the workflows the user may see."""
    return rights.filter_visible(queryset, user, spec_id_field)


def require_view(user: Any, spec_id: str) -> None:
    _guard(rights.require_right, user, "view", spec_id, "see this workflow")


def may_register(user: Any) -> bool:
    return rights.has_capability(user, rights.REGISTER)


def require_register(user: Any) -> None:
    _guard(rights.require_capability, user, rights.REGISTER, "register workflows")


def may_operate(user: Any, spec_id: str) -> bool:
    """Start, suspend, resume and cancel cases of a workflow: the operate_cases role and the start right."""
    return rights.has_capability(user, rights.OPERATE_CASES) and rights.has_right(user, "start", spec_id)


def require_operate(user: Any, spec_id: str, doing: str) -> None:
    _guard(rights.require_right, user, "start", spec_id, doing)
    _guard(rights.require_capability, user, rights.OPERATE_CASES, doing)


def may_work_on(user: Any, spec_id: str, roles: list[str] | None) -> bool:
    try:
        require_work_item(user, spec_id, roles)
    except Denied:
        return False
    return True


def require_work_item(user: Any, spec_id: str, roles: list[str] | None) -> None:
    _guard(rights.require_work_item_access, user, spec_id, roles, "work on this work item")


def may_audit(user: Any) -> bool:
    return rights.has_capability(user, rights.VIEW_AUDIT)


def require_audit(user: Any) -> None:
    _guard(rights.require_capability, user, rights.VIEW_AUDIT, "review the audit log")
