"""The audit log: hash chain, tamper detection, append-only model, transactional writes."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from audit.chain import verify_chain
from audit.models import AuditHead, AuditImmutableError, AuditRecord
from audit.services import AuditEntry, entries_for_events, record, record_many

pytestmark = pytest.mark.django_db


def _three_records() -> list[AuditRecord]:
    record("spec.registered", actor="alice", workflow_id="loan", data={"version": 1})
    return [
        *record_many([
            AuditEntry("case.created", actor="bob", workflow_id="loan", case_id="c1", data={"amount": 5}),
            AuditEntry("item.enabled", workflow_id="loan", case_id="c1", work_item="review.1"),
        ]),
    ]


def test_records_chain_onto_each_other():
    _three_records()
    rows = list(AuditRecord.objects.order_by("seq"))
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == "0" * 64
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
    assert len({r.hash for r in rows}) == 3
    assert rows[2].actor == "system" and rows[1].actor == "bob"
    head = AuditHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (3, rows[2].hash)
    assert verify_chain().intact and verify_chain().checked == 3


def test_batch_is_one_insert(django_assert_max_num_queries):
    # PostgreSQL: one statement (knhk_audit_append). SQLite: take the write lock, read the head, one
    # INSERT, move the head.
    with django_assert_max_num_queries(1 if connection.vendor == "postgresql" else 4):
        record_many([AuditEntry("item.enabled", work_item=str(i)) for i in range(50)])
    assert AuditRecord.objects.count() == 50


def test_verify_audit_command_names_the_altered_record():
    _three_records()
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact: 3 records" in out.getvalue()
    target = AuditRecord.objects.get(seq=2)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditRecord._meta.db_table} SET actor = %s WHERE id = %s", ["mallory", target.id])
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", stdout=StringIO())
    assert "record #2" in str(failure.value) and f"id {target.id}" in str(failure.value)
    assert "altered" in str(failure.value)
    assert failure.value.returncode == 1


@pytest.mark.parametrize(("deleted", "reported", "reason"), [(2, 3, "missing"), (3, 3, "head")])
def test_verify_notices_deleted_records(deleted, reported, reason):
    _three_records()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditRecord._meta.db_table} WHERE seq = %s", [deleted])
    report = verify_chain()
    assert not report.intact and report.first_broken == reported and reason in report.reason


def test_records_cannot_be_changed_or_deleted_through_the_orm():
    _three_records()
    row = AuditRecord.objects.get(seq=1)
    row.actor = "mallory"
    with pytest.raises(AuditImmutableError):
        row.save()
    with pytest.raises(AuditImmutableError):
        row.delete()
    with pytest.raises(AuditImmutableError):
        AuditRecord.objects.filter(seq=1).update(actor="mallory")
    with pytest.raises(AuditImmutableError):
        AuditRecord.objects.all().delete()
    with pytest.raises(AuditImmutableError):
        AuditRecord.objects.bulk_update([row], ["actor"])
    with pytest.raises(AuditImmutableError):
        AuditRecord.objects.create(action="x", actor="y", prev_hash="", hash="")
    assert verify_chain().intact
    assert AuditRecord.objects.get(seq=1).actor == "alice"


def test_record_rolls_back_with_the_change_it_records():
    from django.contrib.auth.models import Group

    with pytest.raises(RuntimeError), transaction.atomic():
        Group.objects.create(name="reviewers")
        record("permission.granted", actor="alice", data={"group": "reviewers"})
        raise RuntimeError("failure after the change")
    assert not Group.objects.filter(name="reviewers").exists()
    assert AuditRecord.objects.count() == 0
    assert AuditHead.objects.get(pk=1).seq == 0
    record("spec.registered", actor="alice")
    assert AuditRecord.objects.get().seq == 1 and verify_chain().intact


def test_data_is_stored_as_hashed():
    from datetime import date
    from decimal import Decimal

    record("case.created", data={"when": date(2026, 1, 2), "amount": Decimal("1.5"), "n": 1.25, "ü": [1, None]})
    assert AuditRecord.objects.get().data == {"when": "2026-01-02", "amount": "1.5", "n": 1.25, "ü": [1, None]}
    assert verify_chain().intact


def test_engine_events_become_records():
    class Event:
        def __init__(self, kind, item_id=None, task_id=None):
            self.kind, self.item_id, self.task_id, self.net_id, self.payload = kind, item_id, task_id, "N", {}

    entries = entries_for_events(
        [Event("item_completed", "t.1", "t"), Event("case_completed")], workflow_id="wf", case_id="c9", actor="bob"
    )
    assert [(e.action, e.work_item, e.case_id) for e in entries] == [
        ("item.completed", "t.1", "c9"), ("case.completed", "", "c9")
    ]
    assert entries[0].data == {"task": "t", "net": "N"}
