"""Writing the audit log: `record` (one entry) and `record_many` (a batch, e.g. a case's engine events).

Call them inside the transaction of the change they record: they join it (no savepoint), so the change
and its records commit or roll back together. Cost per call: three statements whatever the batch size:
lock and read the chain head, one multi-row INSERT, move the head.

Concurrency: the head row (`AuditHead`, pk=1) is locked with `SELECT ... FOR UPDATE`; a concurrent
appender waits for the lock and then builds on the committed head, so the chain cannot fork. On SQLite
a no-op UPDATE of the head takes the database's single write lock first. `AuditRecord.seq` is unique as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from audit.chain import normalise_data, record_hash
from audit.context import actor_name, current_request_id
from audit.models import GENESIS_HASH, AuditHead, AuditRecord, Outcome

__all__ = ["AuditEntry", "record", "record_many", "entries_for_events", "event_action"]


@dataclass(frozen=True)
class AuditEntry:
    """One record to append. `actor` is a user, a user name, or None (the request's actor or 'system')."""

    action: str
    actor: Any = None
    outcome: str = Outcome.SUCCESS
    workflow_id: str = ""
    case_id: str = ""
    work_item: str = ""
    data: Any = field(default_factory=dict)
    request_id: str | None = None


def record(
    action: str,
    *,
    actor: Any = None,
    outcome: str = Outcome.SUCCESS,
    workflow_id: object = "",
    case_id: object = "",
    work_item: object = "",
    data: Any = None,
    request_id: str | None = None,
) -> AuditRecord:
    """Append one record to the audit log (inside the caller's transaction, if any)."""
    entry = AuditEntry(
        action=action, actor=actor, outcome=outcome, workflow_id=str(workflow_id or ""),
        case_id=str(case_id or ""), work_item=str(work_item or ""), data=data, request_id=request_id,
    )
    return record_many([entry])[0]


def record_many(entries: Iterable[AuditEntry], *, at: datetime | None = None) -> list[AuditRecord]:
    """Append a batch of records, chained in the given order, with one INSERT."""
    entries = list(entries)
    if not entries:
        return []
    at = at or timezone.now()
    with transaction.atomic(savepoint=False):
        head = _locked_head()
        seq, prev_hash = head.seq, head.hash
        records = []
        for entry in entries:
            seq += 1
            fields = _fields(entry, seq, at)
            digest = record_hash(fields, prev_hash)
            records.append(AuditRecord(**fields, prev_hash=prev_hash, hash=digest))
            prev_hash = digest
        AuditRecord.objects.bulk_create(records)
        AuditHead.objects.filter(pk=1).update(seq=seq, hash=prev_hash)
    return records


def _locked_head() -> AuditHead:
    """The chain head, locked until the transaction ends (created if a flushed database lost it)."""
    if connection.vendor == "sqlite":
        # SQLite ignores FOR UPDATE: take the database's write lock before reading the head instead.
        AuditHead.objects.filter(pk=1).update(seq=F("seq"))
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditHead.objects.bulk_create([AuditHead(pk=1, seq=0, hash=GENESIS_HASH)], ignore_conflicts=True)
        head = AuditHead.objects.select_for_update().get(pk=1)
    return head


def _fields(entry: AuditEntry, seq: int, at: datetime) -> dict[str, Any]:
    request_id = entry.request_id if entry.request_id is not None else current_request_id()
    return {
        "seq": seq,
        "at": at,
        "actor": actor_name(entry.actor)[:150],
        "action": entry.action,
        "outcome": str(entry.outcome),
        "workflow_id": str(entry.workflow_id or "")[:100],
        "case_id": str(entry.case_id or "")[:64],
        "work_item": str(entry.work_item or "")[:255],
        "request_id": (request_id or "")[:64],
        "data": normalise_data(entry.data),
    }


def event_action(kind: str) -> str:
    """The audit action of an engine event kind: `item_enabled` -> `item.enabled`."""
    return kind.replace("_", ".", 1)


def entries_for_events(
    events: Sequence[Any],
    *,
    workflow_id: object,
    case_id: object,
    actor: Any = None,
    acting_item: str | None = None,
    output: Any = None,
) -> list[AuditEntry]:
    """Audit entries for engine events (`Event(kind, item_id, task_id, net_id, payload)`), in order.

    The completion of `acting_item` (the item a person completed) carries its `output` data.
    """
    entries = []
    for event in events:
        item_id = getattr(event, "item_id", None) or ""
        data = {
            key: value
            for key, value in (
                ("task", getattr(event, "task_id", None)),
                ("net", getattr(event, "net_id", None)),
                ("payload", getattr(event, "payload", None)),
            )
            if value
        }
        if output is not None and event.kind == "item_completed" and item_id and item_id == acting_item:
            data["output"] = output
        entries.append(AuditEntry(action=event_action(event.kind), actor=actor, workflow_id=str(workflow_id),
                                  case_id=str(case_id), work_item=str(item_id), data=data))
    return entries
