"""The shipped examples run to completion over the API, with automated tasks done by Celery (eager)."""

import pytest

from tests.api.helpers import case, complete, example, item_by_task, live_items, register, start_case

pytestmark = pytest.mark.django_db


def test_loan_approval_large_loan_goes_through_committee_and_is_paid(api_client):
    register(api_client, example("loan-approval"))
    started = start_case(api_client, "loan-approval", {"applicant": "Ann", "amount": 50000})
    case_id = started["case_id"]
    assert started["state"] == "running"
    assert [item["task_id"] for item in started["work_items"]] == ["register"]

    complete(api_client, item_by_task(api_client, case_id, "register")["id"])
    # XOR choice: amount > 10000 -> committee review (multiple instances, one per reviewer)
    review = item_by_task(api_client, case_id, "committee_review")
    assert review["kind"] == "mi"
    response = api_client.post(f"/api/v1/work-items/{review['id']}/start", {}, format="json")
    assert response.status_code == 200, response.content
    instances = live_items(api_client, case_id)
    assert sorted(item["data"]["reviewer"] for item in instances) == ["alice", "bob", "carol"]
    assert all(item["parent"] == review["engine_id"] for item in instances)
    for instance in instances:
        complete(api_client, instance["id"], {"vote": "yes"})

    complete(api_client, item_by_task(api_client, case_id, "decide")["id"], {"approved": True})
    # pay_out is automated: run by the (eager) Celery task on commit, not by a person
    finished = case(api_client, case_id)
    assert finished["state"] == "completed"
    assert finished["data"]["votes"] == [{"vote": "yes"}] * 3
    assert finished["data"]["approved"] is True
    assert finished["data"]["paid"] is True
    assert finished["work_items"] == []
    pay = api_client.get(f"/api/v1/work-items?case={case_id}&task=pay_out").json()["results"]
    assert [item["state"] for item in pay] == ["completed"]


def test_loan_approval_small_loan_skips_committee_and_is_rejected(api_client):
    register(api_client, example("loan-approval"))
    case_id = start_case(api_client, "loan-approval", {"applicant": "Bo", "amount": 500})["case_id"]
    complete(api_client, item_by_task(api_client, case_id, "register")["id"])
    assert [item["task_id"] for item in live_items(api_client, case_id)] == ["decide"]
    complete(api_client, item_by_task(api_client, case_id, "decide")["id"], {"approved": False})
    complete(api_client, item_by_task(api_client, case_id, "send_rejection")["id"])
    assert case(api_client, case_id)["state"] == "completed"


def test_order_fulfilment_or_split_takes_only_needed_branches(api_client):
    register(api_client, example("order-fulfilment"))
    case_id = start_case(api_client, "order-fulfilment", {"order_id": "o-1", "gift_wrap": True})["case_id"]
    complete(api_client, item_by_task(api_client, case_id, "receive_order")["id"])
    complete(api_client, item_by_task(api_client, case_id, "pick_items")["id"], {"picked": True})
    tasks = sorted(item["task_id"] for item in live_items(api_client, case_id))
    assert tasks == ["cancel_order", "send_invoice", "wrap_gift"]
    complete(api_client, item_by_task(api_client, case_id, "wrap_gift")["id"])
    # OR-join: pack waits for the invoice branch the split also took
    assert "pack_order" not in [item["task_id"] for item in live_items(api_client, case_id)]
    complete(api_client, item_by_task(api_client, case_id, "send_invoice")["id"])
    complete(api_client, item_by_task(api_client, case_id, "pack_order")["id"])
    finished = case(api_client, case_id)
    assert finished["state"] == "completed"
    assert finished["data"]["shipped"] is True
    states = {item["task_id"]: item["state"] for item in
              api_client.get(f"/api/v1/work-items?case={case_id}").json()["results"]}
    assert states["cancel_order"] == "withdrawn"
    assert states["ship_order"] == "completed"


def test_order_fulfilment_cancellation_region_clears_fulfilment(api_client):
    register(api_client, example("order-fulfilment"))
    case_id = start_case(api_client, "order-fulfilment", {"order_id": "o-2", "gift_wrap": True})["case_id"]
    complete(api_client, item_by_task(api_client, case_id, "receive_order")["id"])
    complete(api_client, item_by_task(api_client, case_id, "pick_items")["id"])
    complete(api_client, item_by_task(api_client, case_id, "cancel_order")["id"], {"cancel_reason": "changed mind"})
    finished = case(api_client, case_id)
    assert finished["state"] == "completed"
    assert finished["marking"] == {}
    states = {item["task_id"]: item["state"] for item in
              api_client.get(f"/api/v1/work-items?case={case_id}").json()["results"]}
    assert states["wrap_gift"] == "withdrawn"
    assert states["send_invoice"] == "withdrawn"
    assert "pack_order" not in states
