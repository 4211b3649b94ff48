"""The dead letter queue (incidents) and the circuit breakers of connectors.

An incident is an automated work item whose connector failed on every attempt. The work item stays
started in its case; an operator retries it (optionally with corrected input data), skips it
(completes it with given output data) or cancels the case.

A circuit breaker row is the shared state of one connector's breaker, so every gunicorn and Celery
process sees the same open/closed state (the database is already shared by all of them).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class IncidentState(models.TextChoices):
    OPEN = "open"            # in the dead letter queue, waiting for an operator
    RETRYING = "retrying"    # an operator asked for a retry; the worker has it
    RESOLVED = "resolved"    # a retry succeeded
    SKIPPED = "skipped"      # completed by the operator with given data
    CANCELLED = "cancelled"  # the operator cancelled the case


UNRESOLVED_STATES = (IncidentState.OPEN, IncidentState.RETRYING)


class Incident(models.Model):
    """One automated work item in the dead letter queue."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="incidents")
    work_item = models.ForeignKey("cases.WorkItem", on_delete=models.CASCADE, related_name="incidents")
    workflow_id = models.CharField(max_length=100, help_text="The specification id of the case.")
    task_id = models.CharField(max_length=255)
    connector = models.CharField(max_length=255, help_text="Connector name (and breaker key).")
    error = models.TextField(help_text="The last failure.")
    attempts = models.PositiveIntegerField(default=0, help_text="Connector attempts made, all rounds.")
    state = models.CharField(max_length=16, choices=IncidentState.choices, default=IncidentState.OPEN)
    resolution = models.TextField(blank=True, default="", help_text="What the operator did, and the data.")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_item"], condition=Q(state__in=["open", "retrying"]), name="incident_one_unresolved_per_item"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "-created_at"], name="incident_state_created_idx"),
            models.Index(fields=["workflow_id", "state"], name="incident_workflow_state_idx"),
        ]

    def __str__(self) -> str:
        return f"incident {self.id} {self.task_id} ({self.state})"


class BreakerState(models.TextChoices):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker(models.Model):
    """Shared state of one connector's circuit breaker."""

    key = models.CharField(max_length=255, primary_key=True, help_text="Connector name, or http:<host>.")
    state = models.CharField(max_length=16, choices=BreakerState.choices, default=BreakerState.CLOSED)
    consecutive_failures = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"breaker {self.key} ({self.state})"
