"""Authentication and authorisation through the HTTP API: tokens, roles, per-workflow rights, task roles."""

from __future__ import annotations

import pytest

from audit.models import AuditRecord
from tests.security.conftest import CLAIMS, enabled_item, start_case

pytestmark = pytest.mark.django_db


def _assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code
    return body["error"]


@pytest.mark.parametrize("path", ["/api/v1/workflows", "/api/v1/cases", "/api/v1/work-items", "/api/v1/audit",
                                  "/api/v1/audit/verify", "/api/v1/workflows/claims/permissions"])
def test_api_needs_a_token(anonymous_client, path):
    error = _assert_error(anonymous_client.get(path), 401, "not_authenticated")
    assert "credentials" in error["message"]


def test_health_stays_open(anonymous_client):
    assert anonymous_client.get("/health/live").status_code == 200


def test_a_bad_token_is_refused(anonymous_client):
    anonymous_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    _assert_error(anonymous_client.get("/api/v1/workflows"), 401, "token_not_valid")


def test_token_login_refresh_and_use(anonymous_client, make_user):
    make_user("alice", "operator")
    response = anonymous_client.post("/api/v1/auth/token", {"username": "alice", "password": "pw-alice"},
                                     format="json")
    assert response.status_code == 200, response.content
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}
    refreshed = anonymous_client.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200 and "access" in refreshed.json()
    anonymous_client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    assert anonymous_client.get("/api/v1/workflows").status_code == 200
    assert not AuditRecord.objects.filter(action="auth.login_failed").exists()


def test_a_failed_login_is_refused_and_audited(anonymous_client, make_user):
    make_user("alice")
    response = anonymous_client.post("/api/v1/auth/token", {"username": "alice", "password": "wrong"},
                                     format="json", HTTP_X_REQUEST_ID="req-42")
    _assert_error(response, 401, "no_active_account")
    failed = AuditRecord.objects.get(action="auth.login_failed")
    assert (failed.outcome, failed.data["username"], failed.request_id) == ("failure", "alice", "req-42")
    assert failed.data["path"] == "/api/v1/auth/token"
    _assert_error(anonymous_client.post("/api/v1/auth/token/refresh", {"refresh": "junk"}, format="json"), 401)
    _assert_error(anonymous_client.post("/api/v1/auth/token", {"username": "alice"}, format="json"), 400, "invalid")


def test_token_endpoints_report_unknown_fields(anonymous_client, make_user):
    """Like every other endpoint: an unknown body field is a 400 naming it, not silently dropped."""
    make_user("alice")
    body = {"username": "alice", "password": "pw-alice"}
    error = _assert_error(anonymous_client.post("/api/v1/auth/token", {**body, "otp": "123456", "scope": "x"},
                                                format="json"), 400, "invalid")
    assert error["details"] == {"otp": ["Unknown field."], "scope": ["Unknown field."]}
    refresh = anonymous_client.post("/api/v1/auth/token", body, format="json").json()["refresh"]
    for extra in ({"lifetime": 3600}, {"access": "x"}):  # `access` is an answer field, not an input
        error = _assert_error(anonymous_client.post("/api/v1/auth/token/refresh", {"refresh": refresh, **extra},
                                                    format="json"), 400, "invalid")
        assert set(error["details"]) == set(extra)
    assert anonymous_client.post("/api/v1/auth/token/refresh", {"refresh": refresh}, format="json").status_code == 200


def test_a_failed_browser_login_is_audited_too(client, make_user):
    make_user("alice")
    response = client.post("/admin/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200  # the login form again
    failed = AuditRecord.objects.get(action="auth.login_failed")
    assert (failed.data["username"], failed.data["path"]) == ("alice", "/admin/login/")


# --------------------------------------------------------------------------- one allowed, one refused per role


def test_workflow_admin_registers_but_may_not_read_the_audit_log(clients):
    spec = {**CLAIMS, "id": "claims-2"}
    assert clients["admin"].post("/api/v1/workflows", {"spec": spec}, format="json").status_code == 201
    _assert_error(clients["admin"].get("/api/v1/audit"), 403, "permission_denied")


def test_operator_starts_and_cancels_cases_but_may_not_register(clients):
    case_id = start_case(clients["operator"])
    assert clients["operator"].post(f"/api/v1/cases/{case_id}/cancel", {}, format="json").status_code == 200
    _assert_error(clients["operator"].post("/api/v1/workflows", {"spec": {**CLAIMS, "id": "x"}}, format="json"),
                  403, "permission_denied")


def test_operator_needs_the_start_right_on_the_workflow(clients):
    _assert_error(clients["operator"].post("/api/v1/cases", {"spec_id": "other"}, format="json"), 404)


def test_participant_works_on_items_but_may_not_start_cases(clients):
    case_id = start_case(clients["operator"])
    item = enabled_item(clients["participant"], case_id, "review")
    response = clients["participant"].post(f"/api/v1/work-items/{item}/complete", {"data": {}}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "completed"
    assert response.json()["completed_by"] in ("pia", clients["participant"].user.pk)
    _assert_error(clients["participant"].post("/api/v1/cases", {"spec_id": "claims"}, format="json"), 403)


def test_auditor_reads_the_audit_log_but_may_not_cancel_cases(clients):
    case_id = start_case(clients["operator"])
    response = clients["auditor"].get("/api/v1/audit")
    assert response.status_code == 200 and response.json()["count"] > 0
    _assert_error(clients["auditor"].post(f"/api/v1/cases/{case_id}/cancel", {}, format="json"), 403)


def test_a_user_without_roles_sees_nothing_and_may_do_nothing(clients):
    assert clients["nobody"].get("/api/v1/workflows").json()["count"] == 0
    _assert_error(clients["nobody"].get("/api/v1/workflows/claims"), 404)
    _assert_error(clients["nobody"].post("/api/v1/cases", {"spec_id": "claims"}, format="json"), 403)


# --------------------------------------------------------------------------- per-object visibility


def test_lists_show_only_visible_workflows_cases_and_items(api_client, clients):
    claims_case, other_case = start_case(api_client, "claims"), start_case(api_client, "other")
    viewer = clients["participant"]
    assert [row["spec_id"] for row in viewer.get("/api/v1/workflows").json()["results"]] == ["claims"]
    assert [row["case_id"] for row in viewer.get("/api/v1/cases").json()["results"]] == [claims_case]
    assert {row["case_id"] for row in viewer.get("/api/v1/work-items").json()["results"]} == {claims_case}
    _assert_error(viewer.get("/api/v1/workflows/other"), 404)
    _assert_error(viewer.get(f"/api/v1/cases/{other_case}"), 404)
    _assert_error(viewer.get(f"/api/v1/cases/{other_case}/history"), 404)
    assert viewer.get(f"/api/v1/cases/{claims_case}").status_code == 200
    # the superuser and the auditor (global view) see both
    assert api_client.get("/api/v1/cases").json()["count"] == 2
    assert clients["auditor"].get("/api/v1/workflows").json()["count"] == 2


def test_an_invisible_case_or_work_item_is_404_like_an_unknown_id(api_client, clients):
    """The 404 names the case or work item, not the workflow it belongs to (which the caller may not see)."""
    other_case = start_case(api_client, "other")
    item = api_client.get(f"/api/v1/work-items?case={other_case}").json()["results"][0]["id"]
    viewer = clients["participant"]
    for path, message in [(f"/api/v1/cases/{other_case}", f"No case {other_case}."),
                          (f"/api/v1/cases/{other_case}/history", f"No case {other_case}."),
                          (f"/api/v1/work-items/{item}", f"No work item {item}.")]:
        assert _assert_error(viewer.get(path), 404, "not_found")["message"] == message
    for action in ("start", "complete"):
        error = _assert_error(viewer.post(f"/api/v1/work-items/{item}/{action}", {}, format="json"), 404)
        assert error["message"] == f"No work item {item}."
    error = _assert_error(clients["operator"].post(f"/api/v1/cases/{other_case}/cancel", {}, format="json"), 404)
    assert error["message"] == f"No case {other_case}." and "other" not in error["message"].replace(other_case, "")


def test_group_grant_gives_visibility_to_the_group(api_client, clients, users):
    from django.contrib.auth.models import Group

    start_case(api_client, "other")
    assert clients["nobody"].get("/api/v1/cases").json()["count"] == 0
    group = Group.objects.create(name="other-watchers")
    users["nobody"].groups.add(group)
    response = clients["admin"].post("/api/v1/workflows/other/permissions", {"group": "other-watchers",
                                                                             "right": "view"}, format="json")
    assert response.status_code == 201, response.content
    assert {"group": "other-watchers", "right": "view"} in response.json()["grants"]
    assert clients["nobody"].get("/api/v1/cases").json()["count"] == 1


# --------------------------------------------------------------------------- task roles


def test_task_roles_decide_who_may_start_and_complete_work_items(clients):
    case_id = start_case(clients["operator"])
    review = enabled_item(clients["outsider"], case_id, "review")
    _assert_error(clients["outsider"].post(f"/api/v1/work-items/{review}/start", {}, format="json"), 403)
    _assert_error(clients["outsider"].post(f"/api/v1/work-items/{review}/complete", {}, format="json"), 403)
    _assert_error(clients["operator"].post(f"/api/v1/work-items/{review}/start", {}, format="json"), 403)
    assert clients["participant"].post(f"/api/v1/work-items/{review}/start", {}, format="json").status_code == 200
    assert clients["participant"].post(f"/api/v1/work-items/{review}/complete", {}, format="json").status_code == 200
    archive = enabled_item(clients["outsider"], case_id, "archive")  # no roles: any participant
    assert clients["outsider"].post(f"/api/v1/work-items/{archive}/complete", {}, format="json").status_code == 200


# --------------------------------------------------------------------------- grants


def test_grant_and_revoke_are_admin_only_and_audited(clients):
    body = {"user": "nemo", "right": "view"}
    _assert_error(clients["operator"].post("/api/v1/workflows/claims/permissions", body, format="json"), 403)
    _assert_error(clients["participant"].post("/api/v1/workflows/claims/permissions", body, format="json"), 403)
    assert clients["admin"].post("/api/v1/workflows/claims/permissions", body, format="json").status_code == 201
    assert clients["admin"].post("/api/v1/workflows/claims/permissions", body, format="json").status_code == 200
    assert clients["nobody"].get("/api/v1/workflows/claims").status_code == 200
    response = clients["admin"].delete("/api/v1/workflows/claims/permissions", body, format="json")
    assert response.status_code == 200 and {"user": "nemo", "right": "view"} not in response.json()["grants"]
    _assert_error(clients["nobody"].get("/api/v1/workflows/claims"), 404)
    granted = AuditRecord.objects.get(action="permission.granted", data__user="nemo")
    revoked = AuditRecord.objects.get(action="permission.revoked")
    assert (granted.actor, granted.workflow_id, revoked.data) == ("wanda", "claims", {"right": "view", "user": "nemo"})


@pytest.mark.parametrize(("body", "field"), [
    ({"user": "ghost", "right": "view"}, "user"),
    ({"group": "ghosts", "right": "view"}, "group"),
    ({"user": "nemo", "right": "own"}, "right"),
    ({"user": "nemo", "group": "operator", "right": "view"}, "non_field_errors"),
    ({"user": "nemo", "right": "view", "expires": "2030-01-01"}, "expires"),  # unknown: reported, not dropped
])
def test_bad_grants_get_clear_errors(clients, body, field):
    error = _assert_error(clients["admin"].post("/api/v1/workflows/claims/permissions", body, format="json"),
                          400, "invalid")
    assert field in error["details"]


def test_a_revoke_with_an_unknown_field_is_refused_and_revokes_nothing(clients):
    body = {"user": "nemo", "right": "view"}
    assert clients["admin"].post("/api/v1/workflows/claims/permissions", body, format="json").status_code == 201
    error = _assert_error(clients["admin"].delete("/api/v1/workflows/claims/permissions", {**body, "all": True},
                                                  format="json"), 400, "invalid")
    assert error["details"] == {"all": ["Unknown field."]}
    grants = clients["admin"].get("/api/v1/workflows/claims/permissions").json()["grants"]
    assert body in grants


def test_grants_on_an_unknown_workflow_are_404(clients):
    _assert_error(clients["admin"].post("/api/v1/workflows/nope/permissions", {"user": "nemo", "right": "view"},
                                        format="json"), 404)


def test_open_api_when_auth_is_disabled(anonymous_client, workflows, settings):
    settings.WORKFLOW_AUTH_ENABLED = False
    assert anonymous_client.get("/api/v1/workflows").json()["count"] == 2
    assert anonymous_client.post("/api/v1/cases", {"spec_id": "claims"}, format="json").status_code == 201
    assert AuditRecord.objects.filter(action="case.created").get().actor == "anonymous"


def test_routes_without_a_rule_that_name_a_workflow_need_the_view_right(users):
    from django.urls import ResolverMatch
    from rest_framework.exceptions import NotFound
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from accounts.permissions import ApiAccess

    def allowed(spec_id: str) -> bool:
        http = APIRequestFactory().get(f"/api/v1/workflows/{spec_id}/diagram")
        http.resolver_match = ResolverMatch(lambda r: None, (), {"spec_id": spec_id}, url_name="workflow-diagram")
        request = Request(http)
        request.user = users["participant"]
        return ApiAccess().has_permission(request, None)

    assert allowed("claims")
    with pytest.raises(NotFound):
        allowed("other")
