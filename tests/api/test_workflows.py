"""POST/GET/DELETE /api/v1/workflows: registration, versions, verification messages."""

import pytest

from tests.api.helpers import example, register, start_case

pytestmark = pytest.mark.django_db

GUIDE_BODY = {"spec": {"id": "workflow-123", "name": "Example Workflow", "tasks": [], "conditions": []}}


def test_guide_example_body_is_a_400_saying_exactly_what_is_missing(api_client):
    response = api_client.post("/api/v1/workflows", GUIDE_BODY, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_spec"
    assert error["details"]["errors"] == [
        "net workflow-123: must have exactly one input condition, found 0",
        "net workflow-123: must have exactly one output condition, found 0",
    ]
    assert "input condition" in error["message"] and "output condition" in error["message"]


def test_guide_example_completed_with_conditions_registers(api_client):
    spec = {**GUIDE_BODY["spec"],
            "conditions": [{"id": "start", "type": "input", "flows": ["review"]}, {"id": "end", "type": "output"}],
            "tasks": [{"id": "review", "flows": ["end"]}]}
    response = api_client.post("/api/v1/workflows", {"spec": spec}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["spec_id"], body["version"]) == ("workflow-123", 1)


def test_malformed_spec_lists_every_shape_problem_with_its_path(api_client):
    spec = {"id": "bad id!", "tasks": [{"flows": []}], "colour": "red"}
    response = api_client.post("/api/v1/workflows", {"spec": spec}, format="json")
    assert response.status_code == 400
    errors = response.json()["error"]["details"]["errors"]
    assert len(errors) >= 3
    joined = " | ".join(errors)
    assert "colour" in joined and "id" in joined


@pytest.mark.parametrize("body, field", [
    ({}, "spec"),
    ({"spec": "text"}, "spec"),
    ({"spec": {"id": "x"}, "extra": 1}, "extra"),
])
def test_bad_request_bodies_name_the_field(api_client, body, field):
    response = api_client.post("/api/v1/workflows", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_names_and_ids_too_long_for_their_columns_are_a_400_not_stored(api_client):
    long = "x" * 256
    spec = {**GUIDE_BODY["spec"], "name": long,
            "conditions": [{"id": "start", "type": "input", "flows": [long]}, {"id": "end", "type": "output"}],
            "tasks": [{"id": long, "name": long, "flows": ["end"]}]}
    response = api_client.post("/api/v1/workflows", {"spec": spec}, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()["error"]["details"]["errors"]
    assert [e for e in errors if "longer than 255" in e] == [
        "name: longer than 255 characters",
        f"net workflow-123: task {long[:40]!r}: id longer than 255 characters",
        f"net workflow-123: task {long[:40]!r}: name longer than 255 characters",
    ]
    assert api_client.get("/api/v1/workflows/workflow-123").status_code == 404


def test_registering_an_existing_id_makes_a_new_version_and_cases_keep_theirs(api_client):
    spec = example("loan-approval")
    assert register(api_client, spec)["version"] == 1
    case_v1 = start_case(api_client, "loan-approval", {"amount": 1})
    spec["name"] = "Loan approval, second edition"
    assert register(api_client, spec)["version"] == 2
    case_v2 = start_case(api_client, "loan-approval", {"amount": 1})
    assert case_v1["version"] == 1 and case_v2["version"] == 2
    assert api_client.get(f"/api/v1/cases/{case_v1['case_id']}").json()["version"] == 1

    listing = api_client.get("/api/v1/workflows").json()
    assert listing["count"] == 1 and listing["results"][0]["version"] == 2
    assert set(listing) == {"count", "next", "previous", "results"}
    all_versions = api_client.get("/api/v1/workflows?all_versions=true").json()
    assert [row["version"] for row in all_versions["results"]] == [2, 1]

    detail = api_client.get("/api/v1/workflows/loan-approval").json()
    assert detail["version"] == 2 and detail["versions"] == [1, 2]
    assert detail["spec"]["id"] == "loan-approval"
    assert detail["case_counts"] == {"running": 1}
    old = api_client.get("/api/v1/workflows/loan-approval?version=1").json()
    assert old["name"] == "Loan approval"


def test_detail_of_unknown_spec_is_404(api_client):
    response = api_client.get("/api/v1/workflows/nope")
    assert response.status_code == 404
    assert response.json()["error"] == {"code": "not_found", "message": "No workflow 'nope'.", "details": {}}


def test_delete_is_refused_while_cases_run_then_allowed(api_client):
    register(api_client, example("loan-approval"))
    case_id = start_case(api_client, "loan-approval", {"amount": 1})["case_id"]
    response = api_client.delete("/api/v1/workflows/loan-approval")
    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"active_cases": 1}

    assert api_client.post(f"/api/v1/cases/{case_id}/cancel", {}, format="json").status_code == 200
    assert api_client.delete("/api/v1/workflows/loan-approval").status_code == 204
    assert api_client.get("/api/v1/workflows/loan-approval").status_code == 404
    assert api_client.delete("/api/v1/workflows/loan-approval").status_code == 404


def test_list_filter_and_pagination(api_client):
    for index in range(3):
        spec = example("loan-approval")
        spec["id"] = f"loan-{index}"
        register(api_client, spec)
    page = api_client.get("/api/v1/workflows?page_size=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"] and page["previous"] is None
    only = api_client.get("/api/v1/workflows?spec_id=loan-1").json()
    assert [row["spec_id"] for row in only["results"]] == ["loan-1"]
    bad = api_client.get("/api/v1/workflows?colour=red")
    assert bad.status_code == 400 and "colour" in bad.json()["error"]["details"]
    assert api_client.get("/api/v1/workflows?page=99").status_code == 404


def test_patterns_registry_lists_43(api_client):
    response = api_client.get("/api/v1/patterns")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 43
    assert body["results"][0]["name"] == "Sequence"
