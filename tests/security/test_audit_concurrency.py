"""Concurrent appenders on PostgreSQL: the head row lock keeps one unbroken chain."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from audit.chain import verify_chain
from audit.models import AuditRecord
from audit.services import AuditEntry, record, record_many

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS, ROUNDS = 4, 15


def test_concurrent_transactions_do_not_fork_the_chain():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks); run by .ci/run with DATABASE_URL set")
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        from django.db import connection as own_connection

        try:
            start.wait()
            for round_ in range(ROUNDS):
                with transaction.atomic():
                    if round_ % 2:
                        record_many([AuditEntry("item.enabled", actor=f"w{number}", work_item=f"{round_}.{i}")
                                     for i in range(3)])
                    else:
                        record("case.created", actor=f"w{number}", case_id=f"{number}-{round_}")
                    time.sleep(0.002)  # hold the lock a little: the others must queue behind it
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)
        finally:
            own_connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    expected = WRITERS * (ROUNDS // 2 + 1 + (ROUNDS // 2) * 3)
    assert list(AuditRecord.objects.values_list("seq", flat=True)) == list(range(1, expected + 1))
    report = verify_chain()
    assert report.intact and report.checked == expected
