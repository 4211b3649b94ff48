"""Rights on workflows: one `WorkflowAccess` row per specification id is what django-guardian attaches
per-user and per-group rights to (so a right covers every version of the specification).

Two kinds of permission (all declared here, as model permissions of `WorkflowAccess`):
- rights on a workflow, held per object or globally: view_workflow < start_workflow < admin_workflow
  (each implies the ones before it);
- capabilities, held globally (through a role group): register_workflow, operate_cases, work_items.
"""

from __future__ import annotations

from django.db import models

ROLE_WORKFLOW_ADMIN = "workflow-admin"
ROLE_OPERATOR = "operator"
ROLE_PARTICIPANT = "participant"
ROLE_AUDITOR = "auditor"
ROLES = (ROLE_WORKFLOW_ADMIN, ROLE_OPERATOR, ROLE_PARTICIPANT, ROLE_AUDITOR)

# The role groups and their global permissions are created by migration 0002_role_groups.


class WorkflowAccess(models.Model):
    """The permission target of one workflow (a specification id, all its versions)."""

    spec_id = models.CharField(max_length=100, unique=True)

    class Meta:
        default_permissions = ()
        permissions = [
            ("view_workflow", "Can see the workflow, its cases and its work items"),
            ("start_workflow", "Can start cases of the workflow (with the operate_cases capability)"),
            ("admin_workflow", "Can delete the workflow and grant rights on it"),
            ("register_workflow", "Can register workflow specifications"),
            ("operate_cases", "Can start, suspend, resume and cancel cases"),
            ("work_items", "Can start and complete work items offered to them"),
        ]
        verbose_name = "workflow access"
        verbose_name_plural = "workflow access"

    def __str__(self) -> str:
        return self.spec_id
