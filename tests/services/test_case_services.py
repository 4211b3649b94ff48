"""cases.services: few queries per step, exact versions, automated items, connector retries, timers."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services
from cases.connectors import connector
from cases.models import Case, CaseEvent, WorkItem
from tests.api.helpers import example
from workflows.models import WorkflowSpec
from workflows.services import register_spec

pytestmark = pytest.mark.django_db

SEQUENCE = {
    "id": "seq",
    "conditions": [{"id": "start", "type": "input", "flows": ["a"]}, {"id": "end", "type": "output"}],
    "tasks": [{"id": "a", "flows": ["b"]}, {"id": "b", "flows": ["end"]}],
}


def data_queries(context: CaptureQueriesContext) -> list[str]:
    """The platform's own queries: not savepoints, not the audit chain (audit/ adds its own 3 per step)."""
    return [q["sql"] for q in context.captured_queries
            if "SAVEPOINT" not in q["sql"].upper() and '"audit_' not in q["sql"]]


def test_start_case_and_complete_item_take_at_most_six_queries():
    register_spec(example("loan-approval"))
    services.executor_for(WorkflowSpec.objects.get())  # compiled once per process, like a warm server
    with CaptureQueriesContext(connection) as started:
        result = services.start_case("loan-approval", {"amount": 5})
    assert len(data_queries(started)) <= 4, data_queries(started)
    item = result.items[0]
    with CaptureQueriesContext(connection) as completed:
        services.complete_work_item(item.id, {"amount": 6})
    assert len(data_queries(completed)) <= 6, data_queries(completed)
    assert WorkItem.objects.get(pk=item.id).state == "completed"


def test_events_are_numbered_and_items_synced():
    register_spec(SEQUENCE)
    result = services.start_case("seq")
    first = result.items[0]
    services.complete_work_item(first.id)
    case = Case.objects.get(pk=result.case.id)
    seqs = list(CaseEvent.objects.filter(case=case).values_list("seq", flat=True))
    assert seqs == list(range(1, case.event_seq + 1))
    rows = {row.task_id: row.state for row in WorkItem.objects.filter(case=case)}
    assert rows == {"a": "completed", "b": "enabled"}
    assert case.engine_state  # the engine's state is stored and restorable
    assert "data" not in case.engine_state["nets"][0]  # kept once, in the data column
    restored = services.executor_for(case.spec).restore(case.engine_state, root_data=case.data)
    assert [item.task for item in restored.items.values()] == ["b"]


def test_a_case_keeps_its_version_after_re_registration():
    register_spec(SEQUENCE)
    old = services.start_case("seq")
    register_spec({**SEQUENCE, "tasks": [{"id": "a", "flows": ["end"]}]})
    services.complete_work_item(old.items[0].id)
    case = Case.objects.select_related("spec").get(pk=old.case.id)
    assert case.spec.version == 1
    assert case.state == "running"  # v1 still has task b
    new = services.start_case("seq")
    assert new.case.spec.version == 2


AUTOMATED = {
    "id": "auto",
    "variables": [{"name": "n", "type": "integer", "initial": 1}],
    "conditions": [{"id": "start", "type": "input", "flows": ["calc"]}, {"id": "end", "type": "output"}],
    "tasks": [
        {"id": "calc", "kind": "automated", "connector": {"name": "double", "max_retries": 2, "retry_delay": 0},
         "flows": ["end"]},
    ],
}

calls: list[int] = []


@connector("double")
def double(config, data):
    calls.append(data["n"])
    if len(calls) < 3:
        raise ConnectionError("flaky")
    return {"n": data["n"] * 2}


def test_automated_item_runs_its_connector_with_retries_on_commit(django_capture_on_commit_callbacks):
    calls.clear()
    register_spec(AUTOMATED)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.start_case("auto", {})
    case = Case.objects.get(pk=result.case.id)
    assert calls == [1, 1, 1]  # two failures, retried, then success
    assert case.state == "completed"
    assert case.data["n"] == 2
    assert WorkItem.objects.get(case=case).state == "completed"


TIMED = {
    "id": "timed",
    "conditions": [{"id": "start", "type": "input", "flows": ["wait"]}, {"id": "end", "type": "output"}],
    "tasks": [{"id": "wait", "timer": {"trigger": "enabled", "duration": "PT1H"}, "flows": ["end"]}],
}


def test_timer_is_scheduled_and_fires_only_when_due():
    register_spec(TIMED)
    with mock.patch("cases.tasks.schedule_timer") as schedule:
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            result = services.start_case("timed")
    row = result.items[0]
    assert row.timer_due_at is not None
    assert timedelta(minutes=59) < row.timer_due_at - timezone.now() <= timedelta(hours=1)
    schedule.assert_called_once_with(str(result.case.id), row.engine_id, row.timer_due_at)

    assert services.fire_timer(result.case.id, row.engine_id) is None  # not due yet: ignored
    WorkItem.objects.filter(pk=row.id).update(timer_due_at=timezone.now() - timedelta(seconds=5))
    assert services.fire_timer(result.case.id, row.engine_id) is not None
    assert Case.objects.get(pk=result.case.id).state == "completed"
    assert WorkItem.objects.get(pk=row.id).state == "completed"


def test_fire_due_timers_command(capsys):
    from django.core.management import call_command

    register_spec(TIMED)
    with mock.patch("cases.tasks.schedule_timer"):
        result = services.start_case("timed")
    WorkItem.objects.filter(case_id=result.case.id).update(timer_due_at=timezone.now() - timedelta(minutes=1))
    call_command("fire_due_timers")
    assert "fired 1 timer(s)" in capsys.readouterr().out
    assert Case.objects.get(pk=result.case.id).state == "completed"


def test_advance_case_is_idempotent():
    register_spec(SEQUENCE)
    result = services.start_case("seq")
    before = Case.objects.get(pk=result.case.id)
    services.advance_case(result.case.id)
    after = Case.objects.get(pk=result.case.id)
    assert (after.state, after.event_seq, after.marking) == (before.state, before.event_seq, before.marking)


def test_long_timers_hop_within_the_brokers_visibility_timeout(settings):
    from cases import tasks

    settings.CELERY_TASK_ALWAYS_EAGER = False
    register_spec(TIMED)
    with mock.patch("cases.tasks.schedule_timer"):
        result = services.start_case("timed")
    row = result.items[0]
    with mock.patch.object(tasks.fire_timer, "apply_async") as apply_async:
        tasks.schedule_timer(str(result.case.id), row.engine_id, row.timer_due_at)
        eta = apply_async.call_args.kwargs["eta"]
        assert eta - timezone.now() <= tasks.MAX_TIMER_HOP  # 1 h timer: first hop at most 30 min
        # the hop arrives early: not fired, scheduled again towards the due time
        assert tasks.fire_timer.run(str(result.case.id), row.engine_id) == "rescheduled"
        assert apply_async.call_count == 2
    assert Case.objects.get(pk=result.case.id).state == "running"


def test_a_database_outage_in_a_task_is_retried_not_dropped():
    from django.db import OperationalError

    from cases import tasks

    register_spec(SEQUENCE)
    result = services.start_case("seq")
    real = services.advance_case
    outcomes = iter([OperationalError("server closed the connection"), None])

    def flaky(case_id):
        outcome = next(outcomes)
        if outcome is not None:
            raise outcome
        return real(case_id)

    with mock.patch("cases.services.advance_case", side_effect=flaky) as patched:
        assert tasks.advance_case.apply((str(result.case.id),)).get() == "advanced"
    assert patched.call_count == 2
