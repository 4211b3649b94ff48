"""DRF permission classes.

`ApiAccess` is the default of every API view: it needs a logged-in user (401 otherwise, unless
WORKFLOW_AUTH_ENABLED=false) and then applies the rule of the route (URL name + method) from
`ROUTE_RULES`: roles for registering and running things, per-workflow rights for the workflow, case
or work item the route names, and a task's roles for its work items. Lists are narrowed by the views
with `accounts.rights.filter_visible`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.permissions import BasePermission

from accounts import rights

Rule = Callable[[Any, Any], None]  # (request, view kwargs) -> None, or raises PermissionDenied/NotFound


def _case_spec_id(case_id: Any) -> str | None:
    from cases.models import Case

    try:
        return Case.objects.filter(pk=case_id).values_list("spec__spec_id", flat=True).first()
    except (ValueError, TypeError):
        return None


def _item_spec_and_roles(item_id: Any) -> tuple[str, list[str]] | None:
    from cases.models import WorkItem

    try:
        return WorkItem.objects.filter(pk=item_id).values_list("case__spec__spec_id", "roles").first()
    except (ValueError, TypeError):
        return None


def _register(request: Any, kwargs: dict[str, Any]) -> None:
    rights.require_capability(request.user, rights.REGISTER, "register workflow specifications")


def _on_workflow(right: str, doing: str) -> Rule:
    def rule(request: Any, kwargs: dict[str, Any]) -> None:
        rights.require_right(request.user, right, kwargs["spec_id"], doing)

    return rule


def _start_case(request: Any, kwargs: dict[str, Any]) -> None:
    rights.require_capability(request.user, rights.OPERATE_CASES, "start cases")
    spec_id = request.data.get("spec_id") if isinstance(request.data, dict) else None
    if isinstance(spec_id, str) and spec_id:
        rights.require_right(request.user, "start", spec_id, "start cases of this workflow")


def _on_case(right: str, doing: str, capability: str | None = None) -> Rule:
    def rule(request: Any, kwargs: dict[str, Any]) -> None:
        spec_id = _case_spec_id(kwargs["case_id"])
        if spec_id is None:
            return  # the view answers 404
        rights.require_right(request.user, "view", spec_id, doing, f"No case {kwargs['case_id']}.")
        if capability:
            rights.require_capability(request.user, capability, doing)
        rights.require_right(request.user, right, spec_id, doing)

    return rule


def _view_item(request: Any, kwargs: dict[str, Any]) -> None:
    found = _item_spec_and_roles(kwargs["item_id"])
    if found is not None:
        rights.require_right(request.user, "view", found[0], "see this work item", f"No work item {kwargs['item_id']}.")


def _work_on_item(doing: str) -> Rule:
    def rule(request: Any, kwargs: dict[str, Any]) -> None:
        found = _item_spec_and_roles(kwargs["item_id"])
        if found is not None:
            rights.require_work_item_access(request.user, found[0], found[1], doing, f"No work item {kwargs['item_id']}.")

    return rule


ROUTE_RULES: dict[tuple[str, str], Rule] = {
    ("workflow-list", "POST"): _register,
    ("workflow-import", "POST"): _register,
    ("workflow-detail", "GET"): _on_workflow("view", "see this workflow"),
    ("workflow-detail", "DELETE"): _on_workflow("admin", "delete this workflow"),
    ("case-list", "POST"): _start_case,
    ("case-detail", "GET"): _on_case("view", "see this case"),
    ("case-history", "GET"): _on_case("view", "see this case"),
    ("case-cancel", "POST"): _on_case("start", "cancel this case", rights.OPERATE_CASES),
    ("case-suspend", "POST"): _on_case("start", "suspend this case", rights.OPERATE_CASES),
    ("case-resume", "POST"): _on_case("start", "resume this case", rights.OPERATE_CASES),
    ("work-item-detail", "GET"): _view_item,
    ("work-item-start", "POST"): _work_on_item("start this work item"),
    ("work-item-complete", "POST"): _work_on_item("complete this work item"),
}


class ApiAccess(BasePermission):
    """A logged-in user (everyone when auth is off), then the route's rule."""

    message = "Authentication credentials were not provided."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not rights.checks_enabled():
            return True
        if not (request.user and request.user.is_authenticated):
            return False
        match = getattr(request, "resolver_match", None)
        method = "GET" if request.method == "HEAD" else request.method
        rule = ROUTE_RULES.get((getattr(match, "url_name", None) or "", method)) or _fallback_rule(match)
        if rule is not None:
            rule(request, match.kwargs)
        return True


def _fallback_rule(match: Any) -> Rule | None:
    """A route without a rule that names a workflow, case or work item needs at least the view right."""
    kwargs = getattr(match, "kwargs", None) or {}
    if "spec_id" in kwargs:
        return _on_workflow("view", "see this workflow")
    if "case_id" in kwargs:
        return _on_case("view", "see this case")
    if "item_id" in kwargs:
        return _view_item
    return None


class IsAuditor(ApiAccess):
    """Reading the audit log: the auditor role (audit.view_auditrecord) or a superuser."""

    message = "Only auditors may read the audit log."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        rights.require_capability(request.user, rights.VIEW_AUDIT, "read the audit log")
        return True
