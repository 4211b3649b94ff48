"""Every state-changing action leaves exactly one audit record, written in the same transaction,
and a case's audit records agree with its history."""

from __future__ import annotations

from collections import Counter

import pytest

from audit.chain import verify_chain
from audit.models import AuditRecord
from audit.services import event_action
from cases.models import Case
from tests.security.conftest import enabled_item, start_case
from workflows.models import WorkflowSpec

pytestmark = pytest.mark.django_db

RACE = {  # A cancels B: B is withdrawn when A completes
    "id": "race",
    "conditions": [{"id": "start", "type": "input", "flows": ["fork"]}, {"id": "end", "type": "output"}],
    "tasks": [{"id": "fork", "kind": "routing", "split": "and", "flows": ["A", "B"]},
              {"id": "A", "flows": ["end"], "cancels": ["B"]}, {"id": "B", "flows": ["end"]}],
}
STUCK = {  # an AND-join after an XOR-split: the case deadlocks
    "id": "stuck",
    "conditions": [{"id": "start", "type": "input", "flows": ["pick"]}, {"id": "end", "type": "output"},
                   {"id": "c1", "flows": ["J"]}, {"id": "c2", "flows": ["J"]}],
    "tasks": [{"id": "pick", "split": "xor", "flows": [{"to": "c1", "predicate": "true()"},
                                                       {"to": "c2", "default": True}]},
              {"id": "J", "join": "and", "flows": ["end"]}],
}


def _actions(**filters) -> Counter:
    return Counter(AuditRecord.objects.filter(**filters).values_list("action", flat=True))


def _post(client, path: str, body: dict | None = None, status: int = 200):
    response = client.post(path, body or {}, format="json")
    assert response.status_code == status, response.content
    return response.json() if response.content else None


def _assert_case_audit_matches_history(client, case_id: str) -> None:
    history = client.get(f"/api/v1/cases/{case_id}/history?page_size=500").json()["results"]
    records = list(AuditRecord.objects.filter(case_id=case_id).order_by("seq"))
    assert records[0].action == "case.created"
    assert [(r.action, r.work_item) for r in records[1:]] == [
        (event_action(event["kind"]), event["work_item"]) for event in history
    ]


def test_spec_registration_and_deletion(api_client, workflows):
    assert _actions(workflow_id="claims") == {"spec.registered": 1}
    record = AuditRecord.objects.get(workflow_id="claims")
    assert (record.actor, record.outcome, record.data["version"]) == ("root", "success", 1)
    assert api_client.delete("/api/v1/workflows/other").status_code == 204
    assert _actions(workflow_id="other") == {"spec.registered": 1, "spec.deleted": 1}


def test_case_life_records_each_step_once(clients, api_client):
    operator, participant = clients["operator"], clients["participant"]
    case_id = start_case(operator)
    assert _actions(case_id=case_id) == {"case.created": 1, "net.started": 1, "item.enabled": 1}
    _post(operator, f"/api/v1/cases/{case_id}/suspend")
    _post(operator, f"/api/v1/cases/{case_id}/resume")
    review = enabled_item(participant, case_id, "review")
    _post(participant, f"/api/v1/work-items/{review}/start")
    _post(participant, f"/api/v1/work-items/{review}/complete", {"data": {"ok": True}})
    archive = enabled_item(participant, case_id, "archive")
    _post(participant, f"/api/v1/work-items/{archive}/complete")
    counts = _actions(case_id=case_id)
    assert counts["case.created"] == counts["case.suspended"] == counts["case.resumed"] == 1
    assert counts["case.completed"] == 1 and counts["item.enabled"] == 2 and counts["item.completed"] == 2
    started = AuditRecord.objects.get(case_id=case_id, action="item.started", data__task="review")
    completed = AuditRecord.objects.get(case_id=case_id, action="item.completed", data__task="review")
    assert (started.actor, completed.actor, completed.data["output"]) == ("pia", "pia", {"ok": True})
    assert AuditRecord.objects.get(case_id=case_id, action="case.suspended").actor == "otto"
    _assert_case_audit_matches_history(api_client, case_id)
    assert verify_chain().intact


def test_cancel_withdraw_and_deadlock(api_client):
    for spec in (RACE, STUCK):
        _post(api_client, "/api/v1/workflows", {"spec": spec}, status=201)
    race = start_case(api_client, "race")
    _post(api_client, f"/api/v1/work-items/{enabled_item(api_client, race, 'A')}/complete")
    assert _actions(case_id=race)["item.withdrawn"] == 1
    stuck = start_case(api_client, "stuck")
    _post(api_client, f"/api/v1/work-items/{enabled_item(api_client, stuck, 'pick')}/complete")
    assert _actions(case_id=stuck)["case.deadlocked"] == 1
    cancelled = start_case(api_client, "race")
    _post(api_client, f"/api/v1/cases/{cancelled}/cancel")
    assert _actions(case_id=cancelled)["case.cancelled"] == 1
    for case_id in (race, stuck, cancelled):
        _assert_case_audit_matches_history(api_client, case_id)


def test_no_change_without_its_record(api_client, workflows, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr("cases.services.record_many", broken)
    monkeypatch.setattr("workflows.services.record", broken)
    before = AuditRecord.objects.count()
    assert api_client.post("/api/v1/cases", {"spec_id": "claims"}, format="json").status_code == 500
    assert api_client.post("/api/v1/workflows", {"spec": {**workflows["claims"], "id": "new"}},
                           format="json").status_code == 500
    assert not Case.objects.exists() and not WorkflowSpec.objects.filter(spec_id="new").exists()
    assert AuditRecord.objects.count() == before


def test_no_record_without_its_change(api_client, workflows, monkeypatch):
    def fails_after_writing(case, rows):
        raise RuntimeError("failure after the step was written")

    monkeypatch.setattr("cases.services._enqueue_follow_ups", fails_after_writing)
    before = AuditRecord.objects.count()
    assert api_client.post("/api/v1/cases", {"spec_id": "claims"}, format="json").status_code == 500
    assert not Case.objects.exists()
    assert AuditRecord.objects.count() == before
    assert verify_chain().intact


def test_a_refused_change_leaves_one_denied_record_and_changes_nothing(make_user, client_for, workflows):
    participant = client_for(make_user("pat", "participant"))
    before = AuditRecord.objects.count()
    response = participant.post("/api/v1/workflows", {"spec": {"id": "x"}}, format="json")
    assert response.status_code == 403, response.content
    denied = list(AuditRecord.objects.filter(seq__gt=before).order_by("seq"))
    assert [(r.action, r.actor, r.outcome, r.data) for r in denied] == [
        ("access.denied", "pat", "denied", {"method": "POST", "path": "/api/v1/workflows"})
    ]
    assert denied[0].request_id == response["X-Request-ID"]
    assert WorkflowSpec.objects.filter(spec_id="x").count() == 0
    assert verify_chain().intact
    # a refused read is not a change: no record
    assert participant.get("/api/v1/audit").status_code == 403
    assert AuditRecord.objects.count() == before + 1
