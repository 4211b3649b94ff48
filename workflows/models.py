"""Workflow specifications, versioned: registering an existing id adds a version."""

from __future__ import annotations

from django.db import models


class WorkflowSpec(models.Model):
    """One version of a workflow specification (the JSON spec format, docs/spec-format.md)."""

    spec_id = models.CharField(max_length=100, help_text="The specification's id (the spec's `id`).")
    version = models.PositiveIntegerField(help_text="1 for the first registration, +1 for each after it.")
    name = models.CharField(max_length=255, blank=True, default="")
    spec = models.JSONField(help_text="The specification document.")
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the canonical JSON of `spec`.")
    source_format = models.CharField(max_length=16, default="json", help_text="json or yawl.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["spec_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["spec_id", "version"], name="workflowspec_unique_version"),
        ]
        indexes = [models.Index(fields=["created_at"], name="workflowspec_created_idx")]
        verbose_name = "workflow specification"

    def __str__(self) -> str:
        return f"{self.spec_id} v{self.version}"
