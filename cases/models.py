"""Cases, their work items and their history (case events).

Case state: running | suspended | completed | cancelled | failed | deadlocked.
Work item state:
- enabled: offered, nobody has started it yet;
- started: someone (or a worker) is working on it;
- completed: finished with output data;
- cancelled: cancelled explicitly (a request, or its case was cancelled);
- withdrawn: removed by the engine (cancellation region, deferred choice, multiple-instance threshold
  reached, case end) before it completed;
- failed: an automated task's connector failed for good, or the engine failed it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from workflows.models import WorkflowSpec


class CaseState(models.TextChoices):
    RUNNING = "running"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"
    DEADLOCKED = "deadlocked"


ACTIVE_CASE_STATES = (CaseState.RUNNING, CaseState.SUSPENDED)


class WorkItemState(models.TextChoices):
    ENABLED = "enabled"
    STARTED = "started"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    WITHDRAWN = "withdrawn"
    FAILED = "failed"


LIVE_ITEM_STATES = (WorkItemState.ENABLED, WorkItemState.STARTED)


class Case(models.Model):
    """A running (or finished) instance of one exact specification version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    spec = models.ForeignKey(WorkflowSpec, on_delete=models.CASCADE, related_name="cases")
    state = models.CharField(max_length=16, choices=CaseState.choices, default=CaseState.RUNNING)
    data = models.JSONField(default=dict, blank=True, help_text="Root net data.")
    engine_state = models.JSONField(default=dict, blank=True, help_text="The engine's serialised case.")
    marking = models.JSONField(default=dict, blank=True, help_text="Tokens per net:condition.")
    event_seq = models.PositiveIntegerField(default=0, help_text="Sequence number of the last event.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "-created_at"], name="case_state_created_idx"),
            models.Index(fields=["spec", "state"], name="case_spec_state_idx"),
            models.Index(fields=["-created_at"], name="case_created_idx"),
        ]

    def __str__(self) -> str:
        return f"case {self.id} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_CASE_STATES


class WorkItem(models.Model):
    """A task instance of a case, as offered to people or run by a worker."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="work_items")
    engine_id = models.CharField(max_length=255, help_text="The engine's item id (unique in its case).")
    task_id = models.CharField(max_length=255)
    task_name = models.CharField(max_length=255, blank=True, default="")
    net_id = models.CharField(max_length=255)
    parent_engine_id = models.CharField(max_length=255, blank=True, default="")
    state = models.CharField(max_length=16, choices=WorkItemState.choices, default=WorkItemState.ENABLED)
    kind = models.CharField(max_length=16, default="manual", help_text="manual | automated | composite | mi")
    data = models.JSONField(default=dict, blank=True, help_text="Input data, then output data.")
    roles = models.JSONField(default=list, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    enabled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    timer_due_at = models.DateTimeField(null=True, blank=True, help_text="When the item's timer fires.")

    class Meta:
        ordering = ["enabled_at", "engine_id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "engine_id"], name="workitem_unique_engine_id"),
        ]
        indexes = [
            models.Index(fields=["case", "state"], name="workitem_case_state_idx"),
            models.Index(fields=["state", "enabled_at"], name="workitem_state_enabled_idx"),
            models.Index(fields=["task_id", "state"], name="workitem_task_state_idx"),
            models.Index(fields=["timer_due_at"], name="workitem_timer_due_idx",
                         condition=models.Q(timer_due_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} [{self.engine_id}] ({self.state})"


class CaseEvent(models.Model):
    """One engine event of a case, in order (the case history)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=32)
    task_id = models.CharField(max_length=255, blank=True, default="")
    net_id = models.CharField(max_length=255, blank=True, default="")
    item_engine_id = models.CharField(max_length=255, blank=True, default="")
    payload = models.JSONField(default=dict, blank=True)
    actor = models.CharField(max_length=150, blank=True, default="")
    at = models.DateTimeField()

    class Meta:
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="caseevent_unique_seq")]
        indexes = [models.Index(fields=["kind", "at"], name="caseevent_kind_at_idx")]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.kind}"
