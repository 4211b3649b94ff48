"""DRF permission classes: the API default, and role capabilities for whole endpoints."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from accounts.rights import VIEW_AUDIT, checks_enabled, has_capability


class ApiAccess(BasePermission):
    """The default: any authenticated user (per-action checks come later); everyone when auth is off."""

    message = "Authentication credentials were not provided."

    def has_permission(self, request: Any, view: Any) -> bool:
        return not checks_enabled() or bool(request.user and request.user.is_authenticated)


class IsAuditor(ApiAccess):
    """Reading the audit log: the auditor role (audit.view_auditrecord) or a superuser."""

    message = "Only auditors may read the audit log."

    def has_permission(self, request: Any, view: Any) -> bool:
        return super().has_permission(request, view) and has_capability(request.user, VIEW_AUDIT)
