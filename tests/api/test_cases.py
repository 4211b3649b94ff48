"""Cases and work items over the API: start, inspect, act, conflicts, filters, history."""

import uuid

import pytest

from tests.api.helpers import case, complete, example, item_by_task, register, start_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def loan(api_client):
    register(api_client, example("loan-approval"))
    return start_case(api_client, "loan-approval", {"applicant": "Ann", "amount": 500})


def test_start_case_answers_case_id_state_and_first_work_items(api_client, loan):
    assert uuid.UUID(loan["case_id"])
    assert loan["state"] == "running"
    assert loan["spec_id"] == "loan-approval" and loan["version"] == 1
    assert loan["data"]["applicant"] == "Ann"
    assert loan["marking"] == {"loan-approval:start": 1}  # consumed only when the item starts
    [item] = loan["work_items"]
    assert item["task_id"] == "register" and item["state"] == "enabled" and item["roles"] == ["clerk"]
    assert item["task_name"] == "Register application"


@pytest.mark.parametrize("body, status, field", [
    ({"spec_id": "nope"}, 404, None),
    ({"data": {}}, 400, "spec_id"),
    ({"spec_id": "loan-approval", "data": [1]}, 400, "data"),
    ({"spec_id": "loan-approval", "colour": "red"}, 400, "colour"),
    ({"spec_id": "loan-approval", "data": {"unknown_variable": 1}}, 400, None),
    ({"spec_id": "loan-approval", "version": 9}, 404, None),
])
def test_start_case_bad_input(api_client, loan, body, status, field):
    response = api_client.post("/api/v1/cases", body, format="json")
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["message"]
    if field:
        assert field in error["details"]


def test_complete_merges_data_and_completing_twice_is_409(api_client, loan):
    item = loan["work_items"][0]
    done = complete(api_client, item["id"], {"amount": 700})
    assert done["state"] == "completed" and done["data"] == {"amount": 700}
    assert case(api_client, loan["case_id"])["data"]["amount"] == 700
    again = api_client.post(f"/api/v1/work-items/{item['id']}/complete", {"data": {}}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert again.json()["error"]["details"]["state"] == "completed"


def test_complete_with_a_wrongly_typed_variable_is_400_and_changes_nothing(api_client, loan):
    item_id = loan["work_items"][0]["id"]
    response = api_client.post(f"/api/v1/work-items/{item_id}/complete", {"data": {"amount": "lots"}}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid" and "amount" in response.json()["error"]["message"]
    after = case(api_client, loan["case_id"])
    assert after["state"] == "running" and after["data"]["amount"] == 500
    assert complete(api_client, item_id, {})["state"] == "completed"


def test_start_then_complete_and_start_twice_is_409(api_client, loan):
    item_id = loan["work_items"][0]["id"]
    started = api_client.post(f"/api/v1/work-items/{item_id}/start", {}, format="json")
    assert started.status_code == 200 and started.json()["state"] == "started"
    assert started.json()["started_at"]
    assert api_client.post(f"/api/v1/work-items/{item_id}/start", {}, format="json").status_code == 409
    assert complete(api_client, item_id)["state"] == "completed"


def test_required_output_missing_is_400(api_client, loan):
    complete(api_client, loan["work_items"][0]["id"])
    decide = item_by_task(api_client, loan["case_id"], "decide")
    response = api_client.post(f"/api/v1/work-items/{decide['id']}/complete", {"data": {}}, format="json")
    assert response.status_code == 400
    assert "approved" in response.json()["error"]["message"]


def test_suspend_resume_cancel_and_conflicts(api_client, loan):
    case_id, item_id = loan["case_id"], loan["work_items"][0]["id"]
    assert api_client.post(f"/api/v1/cases/{case_id}/resume", {}, format="json").status_code == 409
    suspended = api_client.post(f"/api/v1/cases/{case_id}/suspend", {}, format="json")
    assert suspended.status_code == 200 and suspended.json()["state"] == "suspended"
    blocked = api_client.post(f"/api/v1/work-items/{item_id}/complete", {"data": {}}, format="json")
    assert blocked.status_code == 409 and "suspended" in blocked.json()["error"]["message"]
    resumed = api_client.post(f"/api/v1/cases/{case_id}/resume", {}, format="json")
    assert resumed.json()["state"] == "running"

    cancelled = api_client.post(f"/api/v1/cases/{case_id}/cancel", {}, format="json")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["work_items"] == []
    assert api_client.get(f"/api/v1/work-items/{item_id}").json()["state"] in ("withdrawn", "cancelled")
    for action in ("cancel", "suspend", "resume"):
        response = api_client.post(f"/api/v1/cases/{case_id}/{action}", {}, format="json")
        assert response.status_code == 409, action
        assert response.json()["error"]["details"]["case_state"] == "cancelled"
    acting = api_client.post(f"/api/v1/work-items/{item_id}/complete", {"data": {}}, format="json")
    assert acting.status_code == 409


def test_history_records_every_event_in_order(api_client, loan):
    complete(api_client, loan["work_items"][0]["id"])
    response = api_client.get(f"/api/v1/cases/{loan['case_id']}/history")
    assert response.status_code == 200
    events = response.json()["results"]
    assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
    kinds = [event["kind"] for event in events]
    assert kinds[:2] == ["net_started", "item_enabled"]
    assert "item_completed" in kinds
    completed = next(event for event in events if event["kind"] == "item_completed")
    assert completed["task_id"] == "register" and completed["actor"] == "root"


def test_lists_filter_by_spec_state_case_task(api_client, loan):
    other = start_case(api_client, "loan-approval", {"amount": 2})
    api_client.post(f"/api/v1/cases/{other['case_id']}/cancel", {}, format="json")
    running = api_client.get("/api/v1/cases?state=running").json()
    assert [row["case_id"] for row in running["results"]] == [loan["case_id"]]
    by_spec = api_client.get("/api/v1/cases?spec_id=loan-approval").json()
    assert by_spec["count"] == 2
    assert api_client.get("/api/v1/cases?spec_id=other").json()["count"] == 0
    bad_state = api_client.get("/api/v1/cases?state=sleeping")
    assert bad_state.status_code == 400 and "state" in bad_state.json()["error"]["details"]

    items = api_client.get(f"/api/v1/work-items?case={loan['case_id']}&state=enabled&task=register").json()
    assert [row["id"] for row in items["results"]] == [loan["work_items"][0]["id"]]
    assert api_client.get("/api/v1/work-items?task=decide").json()["count"] == 0
    assert api_client.get("/api/v1/work-items?case=not-a-uuid").status_code == 400


def test_unknown_ids_are_404(api_client, loan):
    missing = uuid.uuid4()
    for method, path in [
        ("get", f"/api/v1/cases/{missing}"),
        ("get", f"/api/v1/cases/{missing}/history"),
        ("post", f"/api/v1/cases/{missing}/cancel"),
        ("get", f"/api/v1/work-items/{missing}"),
        ("post", f"/api/v1/work-items/{missing}/start"),
        ("post", f"/api/v1/work-items/{missing}/complete"),
        ("get", "/api/v1/cases/not-a-uuid"),
    ]:
        response = getattr(api_client, method)(path, {}, format="json") if method == "post" else api_client.get(path)
        assert response.status_code == 404, (method, path, response.content)
        assert response.json()["error"]["code"] == "not_found"


def test_action_bodies_reject_unknown_fields(api_client, loan):
    item_id = loan["work_items"][0]["id"]
    response = api_client.post(f"/api/v1/work-items/{item_id}/complete", {"dta": {}}, format="json")
    assert response.status_code == 400 and "dta" in response.json()["error"]["details"]
    response = api_client.post(f"/api/v1/cases/{loan['case_id']}/cancel", {"force": True}, format="json")
    assert response.status_code == 400 and "force" in response.json()["error"]["details"]


def test_people_cannot_start_or_complete_automated_items(api_client):
    spec = {
        "id": "auto-wait",
        "conditions": [{"id": "start", "type": "input", "flows": ["calc"]}, {"id": "end", "type": "output"}],
        "tasks": [{"id": "calc", "kind": "automated", "connector": {"name": "not-registered"}, "flows": ["end"]}],
    }
    register(api_client, spec)
    from unittest import mock

    with mock.patch("cases.tasks.run_automated_item.delay"):  # no worker picks it up in this test
        case_id = start_case(api_client, "auto-wait")["case_id"]
    [item] = case(api_client, case_id)["work_items"]
    assert item["kind"] == "automated"
    for action in ("start", "complete"):
        response = api_client.post(f"/api/v1/work-items/{item['id']}/{action}", {}, format="json")
        assert response.status_code == 409
        assert "automated" in response.json()["error"]["message"]
