"""Reading the audit log for the API, the admin and exports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from audit.models import AuditRecord

EXPORT_FIELDS = (
    "seq", "at", "actor", "action", "outcome", "workflow_id", "case_id", "work_item", "request_id", "data",
    "prev_hash", "hash",
)


def audit_records(
    *,
    actor: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    workflow_id: str | None = None,
    case_id: str | None = None,
    work_item: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    newest_first: bool = False,
) -> QuerySet[AuditRecord]:
    """Records matching every given filter (`action` ending in '.' or '*' matches a prefix)."""
    records = AuditRecord.objects.all()
    exact = {"actor": actor, "outcome": outcome, "workflow_id": workflow_id, "case_id": case_id,
             "work_item": work_item}
    records = records.filter(**{name: value for name, value in exact.items() if value})
    if action:
        records = (records.filter(action__startswith=action.rstrip("*")) if action.endswith(("*", "."))
                   else records.filter(action=action))
    if since:
        records = records.filter(at__gte=since)
    if until:
        records = records.filter(at__lt=until)
    return records.order_by("-seq" if newest_first else "seq")


def export_rows(records: QuerySet[AuditRecord], chunk_size: int = 2000) -> Iterator[dict[str, Any]]:
    """Plain dicts in export field order, streamed from the database."""
    for row in records.values(*EXPORT_FIELDS).iterator(chunk_size=chunk_size):
        row["at"] = row["at"].isoformat()
        yield row


def case_history(case_id: object) -> QuerySet[AuditRecord]:
    """A case's audit records in order (to compare with its case events)."""
    return AuditRecord.objects.filter(case_id=str(case_id)).order_by("seq")
