"""Who may do what: roles (capabilities) and per-workflow rights (django-guardian).

A user may act on a workflow when they hold the capability the action needs (through a role group,
or directly) AND the right on that workflow (per object, for them or one of their groups, or
globally). Superusers may do everything; with WORKFLOW_AUTH_ENABLED=false nothing is checked.

Rights: view < start < admin (a higher one implies the lower ones).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Exists, OuterRef, QuerySet
from django.db.models.functions import Cast
from guardian.shortcuts import assign_perm, get_group_perms, get_objects_for_user, get_user_perms, remove_perm
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model
from rest_framework.exceptions import NotFound, PermissionDenied

from accounts.models import WorkflowAccess

RIGHTS = ("view", "start", "admin")
REGISTER = "accounts.register_workflow"
OPERATE_CASES = "accounts.operate_cases"
WORK_ITEMS = "accounts.work_items"
VIEW_AUDIT = "audit.view_auditrecord"


def right_codename(right: str) -> str:
    """`view` -> `view_workflow` (ValueError for an unknown right)."""
    if right not in RIGHTS:
        raise ValueError(f"unknown right {right!r}; one of {', '.join(RIGHTS)}")
    return f"{right}_workflow"


def _implying(right: str) -> list[str]:
    """Codenames of `right` and every right above it."""
    return [right_codename(r) for r in RIGHTS[RIGHTS.index(right):]]


def checks_enabled() -> bool:
    return bool(getattr(settings, "WORKFLOW_AUTH_ENABLED", True))


def _unrestricted(user: Any) -> bool:
    return not checks_enabled() or bool(getattr(user, "is_superuser", False))


def has_capability(user: Any, permission: str) -> bool:
    """A global permission such as `accounts.operate_cases` (roles carry these)."""
    return _unrestricted(user) or bool(user and user.is_authenticated and user.has_perm(permission))


def has_right(user: Any, right: str, spec_id: str) -> bool:
    """Whether `user` holds `right` (or a higher one) on workflow `spec_id`."""
    if _unrestricted(user):
        return True
    if not (user and user.is_authenticated and user.is_active):
        return False
    codenames = _implying(right)
    if any(user.has_perm(f"accounts.{codename}") for codename in codenames):
        return True
    return _holds_object_right(user, codenames, spec_id)


def _holds_object_right(user: Any, codenames: list[str], spec_id: str) -> bool:
    """A guardian right on the workflow's access row, for the user or one of their groups: one
    query (the access row, with EXISTS over both permission tables), where guardian's checker
    takes three."""
    content_type = ContentType.objects.get_for_model(WorkflowAccess)  # cached by Django
    wanted = {
        "content_type": content_type,
        "object_pk": Cast(OuterRef("pk"), output_field=CharField()),
        "permission__codename__in": codenames,
        "permission__content_type": content_type,
    }
    by_user = get_user_obj_perms_model().objects.filter(user=user, **wanted)
    by_group = get_group_obj_perms_model().objects.filter(group__user=user, **wanted)
    return WorkflowAccess.objects.filter(spec_id=spec_id).filter(Exists(by_user) | Exists(by_group)).exists()


def visible_spec_ids(user: Any) -> QuerySet | None:
    """Spec ids the user may see (a subquery), or None when they may see every workflow."""
    if _unrestricted(user) or (user and user.is_authenticated and has_global_view(user)):
        return None
    if not (user and user.is_authenticated and user.is_active):
        return WorkflowAccess.objects.none().values("spec_id")
    visible = get_objects_for_user(
        user, _implying("view"), WorkflowAccess, any_perm=True, accept_global_perms=False
    )
    return visible.values("spec_id")


def has_global_view(user: Any) -> bool:
    return any(user.has_perm(f"accounts.{codename}") for codename in _implying("view"))


def filter_visible(queryset: QuerySet, user: Any, spec_id_field: str = "spec_id") -> QuerySet:
    """Narrow a queryset of specs, cases or work items to the workflows the user may see.

    `spec_id_field` is the lookup of the specification id: `spec_id` for WorkflowSpec,
    `spec__spec_id` for Case, `case__spec__spec_id` for WorkItem.
    """
    spec_ids = visible_spec_ids(user)
    return queryset if spec_ids is None else queryset.filter(**{f"{spec_id_field}__in": spec_ids})


def require_capability(user: Any, permission: str, doing: str) -> None:
    """403 unless the user holds the capability."""
    if not has_capability(user, permission):
        raise PermissionDenied(f"You may not {doing}: it needs the {permission.split('.')[1]} permission.")


def require_right(user: Any, right: str, spec_id: str, doing: str, missing: str | None = None) -> None:
    """404 when the user may not even see the workflow, 403 when they may see it but not do this.

    `missing`: the 404's message when the route names a case or work item ("No case <id>."), so it
    reads as for an unknown id and does not reveal the workflow of something the user may not see."""
    if has_right(user, right, spec_id):
        return
    if right != "view" and has_right(user, "view", spec_id):
        raise PermissionDenied(f"You may not {doing}: it needs the {right!r} right on workflow {spec_id!r}.")
    raise NotFound(missing or f"No workflow {spec_id!r}.")


def may_work_on(user: Any, roles: list[str] | tuple[str, ...] | None) -> bool:
    """Whether a user fills one of a task's roles (a group of that name); no roles = anyone."""
    if _unrestricted(user) or not roles:
        return True
    return user.groups.filter(name__in=list(roles)).exists()


def require_work_item_access(user: Any, spec_id: str, roles: list[str] | None, doing: str,
                             missing: str | None = None) -> None:
    """Starting or completing a work item: work_items capability, view right, and one of the task's roles."""
    require_right(user, "view", spec_id, doing, missing)
    require_capability(user, WORK_ITEMS, doing)
    if not may_work_on(user, roles):
        raise PermissionDenied(f"You may not {doing}: the task is offered to the roles {', '.join(roles or [])}.")


def _holder(user: Any = None, group: Group | None = None) -> Any:
    if (user is None) == (group is None):
        raise ValueError("give exactly one of user or group")
    return user if user is not None else group


def _direct_perms(holder: Any, access: WorkflowAccess) -> set[str]:
    """Rights granted to this very user or group on the workflow (not through a group)."""
    found = get_group_perms(holder, access) if isinstance(holder, Group) else get_user_perms(holder, access)
    return set(found)


def grant(right: str, spec_id: str, *, user: Any = None, group: Group | None = None) -> bool:
    """Give a user or group `right` on a workflow; False when they already held it."""
    holder = _holder(user, group)
    access, _ = WorkflowAccess.objects.get_or_create(spec_id=spec_id)
    codename = right_codename(right)
    if codename in _direct_perms(holder, access):
        return False
    assign_perm(f"accounts.{codename}", holder, access)
    return True


def revoke(right: str, spec_id: str, *, user: Any = None, group: Group | None = None) -> bool:
    """Take `right` on a workflow from a user or group; False when they did not hold it."""
    holder = _holder(user, group)
    access = WorkflowAccess.objects.filter(spec_id=spec_id).first()
    codename = right_codename(right)
    if access is None or codename not in _direct_perms(holder, access):
        return False
    remove_perm(f"accounts.{codename}", holder, access)
    return True


def grants(spec_id: str) -> list[dict[str, str]]:
    """The per-object rights held on a workflow, as {"user"|"group": name, "right": right}."""
    from guardian.models import GroupObjectPermission, UserObjectPermission

    access = WorkflowAccess.objects.filter(spec_id=spec_id).first()
    if access is None:
        return []
    codenames = [right_codename(right) for right in RIGHTS]
    rows: list[dict[str, str]] = []
    for model, holder, name_field in (
        (UserObjectPermission, "user", "user__username"),
        (GroupObjectPermission, "group", "group__name"),
    ):
        held = model.objects.filter(
            content_type__app_label="accounts", object_pk=str(access.pk), permission__codename__in=codenames
        ).values_list(name_field, "permission__codename")
        rows += [{holder: name, "right": codename.removesuffix("_workflow")} for name, codename in held]
    return sorted(rows, key=lambda row: (row.get("user", ""), row.get("group", ""), row["right"]))
