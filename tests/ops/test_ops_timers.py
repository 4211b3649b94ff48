"""YAWL timers fire through Celery: scheduled with an eta on a broker, fired by the fire_timer task."""

from __future__ import annotations

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from cases import tasks
from cases.models import Case, WorkItem

TIMED = {
    "id": "ops-timed",
    "conditions": [{"id": "start", "type": "input", "flows": ["wait"]}, {"id": "end", "type": "output"}],
    "tasks": [{"id": "wait", "timer": {"trigger": "enabled", "duration": "PT2S"}, "flows": ["end"]}],
}


@pytest.mark.django_db
def test_with_a_broker_the_timer_is_a_celery_task_with_an_eta_that_fires(api_client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # as with Redis: schedule through the broker
    assert api_client.post("/api/v1/workflows", {"spec": TIMED}, format="json").status_code == 201
    with mock.patch.object(tasks.fire_timer, "apply_async") as send:
        case_id = api_client.post("/api/v1/cases", {"spec_id": "ops-timed"}, format="json").json()["case_id"]
    row = WorkItem.objects.get(case_id=case_id)
    send.assert_called_once()
    args, eta = send.call_args.args[0], send.call_args.kwargs["eta"]
    assert args == (case_id, row.engine_id)
    assert eta == row.timer_due_at
    assert timedelta(seconds=1) < eta - timezone.now() <= timedelta(seconds=2)

    # The worker runs the task at its eta (here: the due time has passed).
    WorkItem.objects.filter(pk=row.pk).update(timer_due_at=timezone.now() - timedelta(milliseconds=1))
    assert tasks.fire_timer.apply(args).get() == "fired"
    assert Case.objects.get(pk=case_id).state == "completed"
    assert WorkItem.objects.get(pk=row.pk).state == "completed"
    assert tasks.fire_timer.apply(args).get() == "skipped"  # delivered twice: harmless


@pytest.mark.django_db(transaction=True)
def test_embedded_the_timer_fires_by_itself(api_client, settings):
    """No broker: the in-process Celery task fires from a timer thread when the time comes."""
    assert settings.CELERY_TASK_ALWAYS_EAGER
    assert api_client.post("/api/v1/workflows", {"spec": TIMED}, format="json").status_code == 201
    case_id = api_client.post("/api/v1/cases", {"spec_id": "ops-timed"}, format="json").json()["case_id"]
    assert Case.objects.get(pk=case_id).state == "running"
    # Wait without touching the database: the test database is a shared-cache in-memory SQLite, where
    # a read during the timer thread's write transaction fails with "table is locked".
    time.sleep(4)
    deadline = time.monotonic() + 15
    while _state(case_id) != "completed" and time.monotonic() < deadline:
        time.sleep(1)
    assert _state(case_id) == "completed"


def _state(case_id: str) -> str | None:
    from django.db import OperationalError

    try:
        return Case.objects.get(pk=case_id).state
    except OperationalError:  # the timer thread holds the table just now
        return None


DEFERRED_TIMEOUT = {  # confirm within three days, or the timed automated task takes over (YAWL's Order_Timeout)
    "id": "ops-timeout",
    "conditions": [{"id": "start", "type": "input", "flows": ["open"]}, {"id": "end", "type": "output"},
                   {"id": "waiting", "flows": ["confirm", "timeout"]}],
    "tasks": [{"id": "open", "flows": ["waiting"]},
              {"id": "confirm", "flows": ["end"]},
              {"id": "timeout", "kind": "automated", "connector": {"name": "echo", "config": {"output": {}}},
               "timer": {"trigger": "enabled", "duration": "P3D"}, "flows": ["end"]}],
}  # fmt: skip


@pytest.mark.django_db
def test_a_timed_automated_task_waits_for_its_timer_instead_of_running_at_once(api_client, settings):
    """The timer of an automated task that starts on enabling decides when it completes: its
    connector is not run at once, so a person can still take the other side of the choice."""
    assert api_client.post("/api/v1/workflows", {"spec": DEFERRED_TIMEOUT}, format="json").status_code == 201
    case_id = api_client.post("/api/v1/cases", {"spec_id": "ops-timeout"}, format="json").json()["case_id"]
    with mock.patch.object(tasks.run_automated_item, "delay") as run_now, \
         mock.patch.object(tasks, "schedule_timer") as schedule:  # fmt: skip
        opened = WorkItem.objects.get(case_id=case_id, task_id="open")
        assert api_client.post(f"/api/v1/work-items/{opened.pk}/complete", {"data": {}}, format="json").status_code == 200
    assert not run_now.called  # the timed automated item is not dispatched
    timeout = WorkItem.objects.get(case_id=case_id, task_id="timeout")
    assert timeout.state == "enabled" and timeout.timer_due_at > timezone.now() + timedelta(days=2)
    assert schedule.call_args.args[1] == timeout.engine_id
    confirm = WorkItem.objects.get(case_id=case_id, task_id="confirm")
    assert api_client.post(f"/api/v1/work-items/{confirm.pk}/complete", {"data": {}}, format="json").status_code == 200
    assert Case.objects.get(pk=case_id).state == "completed"
    assert WorkItem.objects.get(pk=timeout.pk).state == "withdrawn"
