"""Writing the audit log: `record` (one entry) and `record_many` (a batch, e.g. a case's engine events).

Call them inside the transaction of the change they record: they join it (no savepoint), so the change
and its records commit or roll back together. Each record's content digest is computed here, before any
lock; only the chaining (`link_hash`) needs the head.

Concurrency: the head row (`AuditHead`, pk=1) is locked until the transaction ends, so a concurrent
appender waits and then builds on the committed head: the chain cannot fork (`AuditRecord.seq` is unique
as well). The lock is the one point every writing request passes through, so it is held as briefly as
possible: on PostgreSQL one statement (`knhk_audit_append`, audit/migrations/0002) locks the head,
chains and inserts the batch and moves the head, and only the COMMIT follows. Elsewhere (SQLite) three
statements: take the write lock and read the head, one multi-row INSERT, move the head.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from audit.chain import content_digest, link_hash, normalise_data
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
    contents = [_fields(entry, at) for entry in entries]
    digests = [content_digest(fields) for fields in contents]
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            return _append_postgresql(contents, digests)
        head = _locked_head()
        seq, prev_hash = head.seq, head.hash
        records = []
        for fields, digest in zip(contents, digests, strict=True):
            seq += 1
            record_hash = link_hash(prev_hash, seq, digest)
            records.append(AuditRecord(**fields, seq=seq, prev_hash=prev_hash, hash=record_hash))
            prev_hash = record_hash
        AuditRecord.objects.bulk_create(records)
        AuditHead.objects.filter(pk=1).update(seq=seq, hash=prev_hash)
    return records


def _append_postgresql(contents: list[dict[str, Any]], digests: list[str]) -> list[AuditRecord]:
    """Lock the head, chain, insert and move the head in one statement; the records as stored."""
    batch = [
        {**fields, "at": fields["at"].isoformat(), "digest": digest}
        for fields, digest in zip(contents, digests, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM knhk_audit_append(%s::jsonb)", [json.dumps(batch, allow_nan=False)])
        chained = cursor.fetchall()
    records = []
    for fields, (record_id, seq, prev_hash, record_hash) in zip(contents, chained, strict=True):
        stored = AuditRecord(**fields, id=record_id, seq=seq, prev_hash=prev_hash, hash=record_hash)
        stored._state.adding, stored._state.db = False, connection.alias
        records.append(stored)
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


def _fields(entry: AuditEntry, at: datetime) -> dict[str, Any]:
    request_id = entry.request_id if entry.request_id is not None else current_request_id()
    return {
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
