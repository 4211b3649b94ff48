"""One JSON error shape everywhere; body limits; OpenAPI schema and Swagger UI."""

from unittest import mock

import pytest
import yaml

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_unknown_api_route_is_json_404(api_client):
    assert_error(api_client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(api_client.post("/api/v2/cases", {}, format="json"), 404, "not_found")


def test_method_not_allowed_is_json_405(api_client):
    assert_error(api_client.put("/api/v1/cases", {}, format="json"), 405, "method_not_allowed")


def test_unsupported_media_type_is_json_415(api_client):
    response = api_client.post("/api/v1/workflows", "spec=1", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


def test_malformed_json_is_400(api_client):
    response = api_client.post("/api/v1/workflows", '{"spec": ', content_type="application/json")
    assert_error(response, 400, "parse_error")


@pytest.mark.parametrize("path, body", [
    ("/api/v1/workflows", {"spec": {"id": "x", "description": "a\u0000b"}}),
    ("/api/v1/cases", {"spec_id": "x", "data": {"applicant": "a\u0000b"}}),
    ("/api/v1/cases", {"spec_id": "x", "data": {"a\u0000": 1}}),
])
def test_nul_characters_in_json_strings_are_a_400(api_client, path, body):
    """PostgreSQL cannot store U+0000 in jsonb or text: refused on every database, before any write."""
    error = assert_error(api_client.post(path, body, format="json"), 400, "parse_error")
    assert "NUL" in error["message"]


def test_body_over_the_limit_is_json_413(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_client.post("/api/v1/workflows", {"spec": {"id": "x" * 2000}}, format="json")
    error = assert_error(response, 413, "request_too_large")
    assert error["details"]["limit_bytes"] == 1000


def test_chunked_body_without_content_length_is_411_not_read_as_empty(api_client):
    response = api_client.generic("POST", "/api/v1/cases", b"", content_type="application/json",
                                  HTTP_TRANSFER_ENCODING="chunked")
    assert_error(response, 411, "length_required")


@pytest.mark.parametrize("path", ["/api/v1/workflows", "/api/v1/cases", "/api/v1/audit/verify"])
def test_unsupported_format_query_parameter_is_a_400_not_a_404(api_client, path):
    """DRF's URL_FORMAT_OVERRIDE answered an unknown ?format= with a bare 404 (see knhk/api/negotiation.py)."""
    error = assert_error(api_client.get(f"{path}?format=xml"), 400, "invalid")
    assert set(error["details"]) == {"format"} and "supported: json" in error["message"]


QUERY_VALIDATING_ENDPOINTS = [
    "/api/v1/workflows", "/api/v1/workflows?all_versions=true", "/api/v1/workflows/loan-approval",
    "/api/v1/cases", "/api/v1/cases?state=running", "/api/v1/cases/{case_id}/history",
    "/api/v1/work-items", "/api/v1/work-items?case={case_id}", "/api/v1/patterns",
    "/api/v1/audit", "/api/v1/audit?action=case.*", "/api/v1/incidents",
]


@pytest.fixture
def loan_case(api_client):
    from tests.api.helpers import example, register, start_case

    register(api_client, example("loan-approval"))
    return start_case(api_client, "loan-approval", {"applicant": "Ann", "amount": 500})["case_id"]


@pytest.mark.parametrize("path", QUERY_VALIDATING_ENDPOINTS)
def test_format_json_is_an_accepted_query_parameter_where_parameters_are_validated(api_client, loan_case, path):
    """`?format=json` is DRF's URL format override, not an unknown filter: the normal 200 answer."""
    path = path.format(case_id=loan_case)
    plain = api_client.get(path)
    assert plain.status_code == 200, plain.content
    sep = "&" if "?" in path else "?"
    response = api_client.get(f"{path}{sep}format=json")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    if "results" in plain.json():
        assert response.json()["count"] == plain.json()["count"]
    error = assert_error(api_client.get(f"{path}{sep}format=xml"), 400, "invalid")
    assert set(error["details"]) == {"format"} and "supported: json" in error["message"]
    error = assert_error(api_client.get(f"{path}{sep}format=json&colour=red"), 400, "invalid")
    assert error["details"] == {"colour": ["Unknown field."]}


def test_audit_export_keeps_its_own_format_choice(api_client):
    assert api_client.get("/api/v1/audit/export?format=json").status_code == 200
    assert api_client.get("/api/v1/audit/export?format=csv").status_code == 200
    assert_error(api_client.get("/api/v1/audit/export?format=xml"), 400, "invalid")


def test_a_revoke_by_query_parameters_accepts_format_json(api_client, loan_case):
    body = {"user": "root", "right": "view"}
    assert api_client.post("/api/v1/workflows/loan-approval/permissions", body, format="json").status_code == 201
    response = api_client.delete("/api/v1/workflows/loan-approval/permissions?user=root&right=view&format=json")
    assert response.status_code == 200, response.content
    assert body not in response.json()["grants"]


def test_schema_still_honours_format_json(api_client):
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == 200 and response.json()["openapi"].startswith("3.")
    assert api_client.get("/api/v1/audit/verify?format=json").status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "delete"])
@pytest.mark.parametrize("path", ["/api/docs/", "/api/schema/", "/api/schema/?format=json"])
def test_openapi_views_answer_a_wrong_method_with_a_json_405(client, path, method):
    """Their own renderers (Swagger UI's HTML template, YAML) rendered the 405 as HTML or YAML."""
    response = getattr(client, method)(path)
    error = assert_error(response, 405, "method_not_allowed")
    assert error["message"] == f'Method "{method.upper()}" not allowed.'
    assert response["Allow"].startswith("GET, HEAD")


def test_swagger_ui_answers_get_and_head_and_options_is_a_405_not_a_500(client):
    assert client.get("/api/docs/").status_code == 200
    head = client.head("/api/docs/")
    assert head.status_code == 200 and head.content == b"" and head["Content-Type"].startswith("text/html")
    response = client.options("/api/docs/")  # the HTML template renderer cannot render OPTIONS metadata
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_openapi_views_answer_an_unsupported_format_with_a_json_400(client, path):
    error = assert_error(client.get(f"{path}?format=xml"), 400, "invalid")
    assert set(error["details"]) == {"format"} and "Unsupported format 'xml'" in error["message"]
    assert client.head("/api/schema/").status_code == 200


def test_a_bug_is_a_bare_json_500_without_traceback(api_client):
    with mock.patch("cases.selectors.case_list", side_effect=RuntimeError("secret internals")):
        response = api_client.get("/api/v1/cases")
    error = assert_error(response, 500, "internal_error")
    assert "secret" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert error["details"] == {}


def test_openapi_schema_documents_every_endpoint_with_examples(api_client):
    response = api_client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    expected = {
        "/api/v1/workflows": {"get", "post"},
        "/api/v1/workflows/import": {"post"},
        "/api/v1/workflows/{spec_id}": {"get", "delete"},
        "/api/v1/cases": {"get", "post"},
        "/api/v1/cases/{case_id}": {"get"},
        "/api/v1/cases/{case_id}/cancel": {"post"},
        "/api/v1/cases/{case_id}/suspend": {"post"},
        "/api/v1/cases/{case_id}/resume": {"post"},
        "/api/v1/cases/{case_id}/history": {"get"},
        "/api/v1/work-items": {"get"},
        "/api/v1/work-items/{item_id}": {"get"},
        "/api/v1/work-items/{item_id}/start": {"post"},
        "/api/v1/work-items/{item_id}/complete": {"post"},
        "/api/v1/patterns": {"get"},
    }
    paths = {path.rstrip("/"): ops for path, ops in schema["paths"].items()}
    for path, methods in expected.items():
        assert path in paths, f"{path} missing from {sorted(paths)}"
        for method in methods:
            operation = paths[path][method]
            ok = next(code for code in operation["responses"] if code.startswith("2"))
            content = operation["responses"][ok].get("content", {})
            if ok != "204":
                media = content["application/json"]
                assert "schema" in media, (path, method)
                assert media.get("examples"), f"no example for {method.upper()} {path}"
    for path in ("/api/v1/workflows", "/api/v1/workflows/import", "/api/v1/cases",
                 "/api/v1/work-items/{item_id}/complete"):
        body = paths[path]["post"]["requestBody"]["content"]
        assert body, path
    assert set(paths["/api/v1/workflows/import"]["post"]["requestBody"]["content"]) == {
        "application/xml", "multipart/form-data"}


def test_swagger_ui_is_served(api_client):
    response = api_client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


@pytest.mark.django_db
def test_an_unreachable_database_is_a_503_with_retry_after_not_a_500(api_client, monkeypatch):
    from django.db import OperationalError

    def down(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    monkeypatch.setattr("cases.services.start_case", down)
    monkeypatch.setattr("cases.api.views.services.start_case", down, raising=False)
    response = api_client.post("/api/v1/cases", {"spec_id": "anything"}, format="json")
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "service_unavailable"
