"""The append-only, hash-chained audit log.

Each record stores `hash = sha256(previous record's hash : seq : sha256(canonical JSON of its content))`, so
editing, deleting or re-ordering any record breaks the chain from that record on
(`audit.chain.verify_chain`). Records are written only by `audit.services.record` / `record_many`,
which lock the single `AuditHead` row so that concurrent transactions append one after the other.
The model refuses every ORM path that would change or delete a record.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models

GENESIS_HASH = "0" * 64


class AuditImmutableError(RuntimeError):
    """Raised on any attempt to change or delete an audit record through the ORM."""


def _refuse(what: str) -> NoReturn:
    raise AuditImmutableError(f"audit records are append-only: {what} is not allowed")


class AuditQuerySet(models.QuerySet):
    """A queryset that can read and bulk-insert, but never update or delete."""

    def update(self, **kwargs: Any) -> NoReturn:
        _refuse("update")

    def delete(self) -> NoReturn:
        _refuse("delete")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> NoReturn:
        _refuse("bulk_update")

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("update_or_create")

    def _raw_delete(self, using: Any) -> NoReturn:
        _refuse("delete")


class Outcome(models.TextChoices):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


class AuditRecord(models.Model):
    """One thing that happened: who did what to which workflow/case/work item, and with what result."""

    seq = models.PositiveBigIntegerField(unique=True, editable=False, help_text="Position in the chain, from 1.")
    at = models.DateTimeField(editable=False, db_index=True)
    actor = models.CharField(max_length=150, editable=False, help_text="User name, or 'system' / 'anonymous'.")
    action = models.CharField(max_length=64, editable=False, help_text="e.g. spec.registered, item.completed.")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS, editable=False)
    workflow_id = models.CharField(max_length=100, blank=True, default="", editable=False)
    case_id = models.CharField(max_length=64, blank=True, default="", editable=False)
    work_item = models.CharField(max_length=255, blank=True, default="", editable=False)
    request_id = models.CharField(max_length=64, blank=True, default="", editable=False)
    data = models.JSONField(default=dict, blank=True, editable=False, help_text="The change's data.")
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        default_permissions = ("view",)
        base_manager_name = "objects"
        indexes = [
            models.Index(fields=["actor", "at"], name="audit_actor_at_idx"),
            models.Index(fields=["action", "at"], name="audit_action_at_idx"),
            models.Index(fields=["workflow_id", "at"], name="audit_workflow_at_idx"),
            models.Index(fields=["case_id", "at"], name="audit_case_at_idx"),
        ]
        verbose_name = "audit record"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor}"

    def save(self, *args: Any, **kwargs: Any) -> NoReturn:
        if self._state.adding:
            _refuse("save() (append through audit.services.record)")
        _refuse("changing a record")

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("delete")


class AuditHead(models.Model):
    """The single row (pk=1) holding the chain's last sequence number and hash.

    Appending locks this row (`SELECT ... FOR UPDATE`): a second transaction appending at the same time
    waits until the first commits or rolls back, then continues from the head the first left, so the
    chain never forks. The unique `AuditRecord.seq` is a second guard: a fork would violate it.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"audit head #{self.seq}"
