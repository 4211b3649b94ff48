"""The hash chain: how a record's hash is computed, and checking a whole chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from audit.models import GENESIS_HASH, AuditHead, AuditRecord

CONTENT_FIELDS = ("at", "actor", "action", "outcome", "workflow_id", "case_id", "work_item", "request_id", "data")
HASHED_FIELDS = ("seq", *CONTENT_FIELDS)


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def normalise_data(data: Any) -> Any:
    """`data` exactly as it will read back from a JSON column (dates and other objects become strings)."""
    return json.loads(json.dumps(data if data is not None else {}, default=str, allow_nan=False))


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def content_digest(fields: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a record's content (everything but its place in the chain)."""
    content = {name: fields[name] for name in CONTENT_FIELDS}
    content["at"] = _timestamp(content["at"])
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def link_hash(prev_hash: str, seq: int, digest: str) -> str:
    """A record's hash: SHA-256 (hex) of "<previous hash>:<seq>:<content digest>".

    PostgreSQL computes the same in `knhk_audit_append` (audit/migrations/0002), so the chain can be
    extended in one statement while the head is locked.
    """
    return hashlib.sha256(f"{prev_hash}:{seq}:{digest}".encode("ascii")).hexdigest()


def record_hash(fields: dict[str, Any], prev_hash: str) -> str:
    """The hash a record with these fields (`seq` included) must carry after `prev_hash`."""
    return link_hash(prev_hash, fields["seq"], content_digest(fields))


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a chain check; `first_broken` is the seq of the first bad record."""

    intact: bool
    checked: int
    first_broken: int | None = None
    record_id: int | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def message(self) -> str:
        if self.intact:
            return f"audit chain intact: {self.checked} records checked"
        return f"audit chain broken at record #{self.first_broken} (id {self.record_id}): {self.reason}"


def verify_chain(batch_size: int = 2000) -> ChainReport:
    """Walk the chain in order and report the first record that does not fit."""
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    records = AuditRecord.objects.order_by("seq").values("id", "prev_hash", "hash", *HASHED_FIELDS)
    for row in records.iterator(chunk_size=batch_size):
        problem = ""
        if row["seq"] != expected_seq:
            problem = f"expected record #{expected_seq} here, found #{row['seq']} (records are missing)"
        elif row["prev_hash"] != expected_prev:
            problem = "its previous-hash does not match the record before it"
        elif record_hash(row, row["prev_hash"]) != row["hash"]:
            problem = "its content does not match its hash (the record was altered)"
        if problem:
            return ChainReport(False, checked, row["seq"], row["id"], problem)
        expected_prev, expected_seq, checked = row["hash"], expected_seq + 1, checked + 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.hash) != (expected_seq - 1, expected_prev):
        return ChainReport(
            False, checked, expected_seq, None,
            f"the chain head says #{head.seq} is the last record, but the chain ends at #{expected_seq - 1} "
            "(records at the end are missing or the head was altered)",
        )
    return ChainReport(True, checked)
