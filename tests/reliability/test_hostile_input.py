"""Hostile input: XML attacks, huge and deeply nested bodies, unknown fields — refused quickly and clearly."""

from __future__ import annotations

import json
import time

import pytest

from tests.api.helpers import example, register, start_case

pytestmark = pytest.mark.django_db

IMPORT = "/api/v1/workflows/import"
FIFTY_MB = 50 * 1024 * 1024


@pytest.fixture(autouse=True)
def _warm(api_client) -> None:
    """One request and the importer loaded first, so the timings measure the refusal, not start-up."""
    import knhk.engine.importers.yawl  # noqa: F401

    api_client.get("/api/v1/workflows")
    api_client.post(IMPORT, b"<x/>", content_type="application/xml")


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The common error shape with this status (and code)."""
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def timed(call, *args, **kwargs):
    """(response, seconds) of one request."""
    began = time.perf_counter()
    response = call(*args, **kwargs)
    return response, time.perf_counter() - began


# ---------------------------------------------------------------------------- XML

XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE specificationSet [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<specificationSet xmlns="http://www.yawlfoundation.org/yawlschema" version="4.0">
  <specification uri="x"><name>&secret;</name></specification>
</specificationSet>"""

XXE_PARAMETER = b"""<?xml version="1.0"?>
<!DOCTYPE specificationSet [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<specificationSet xmlns="http://www.yawlfoundation.org/yawlschema" version="4.0"/>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE specificationSet SYSTEM "http://127.0.0.1:9/evil.dtd">
<specificationSet xmlns="http://www.yawlfoundation.org/yawlschema" version="4.0"/>"""


def billion_laughs() -> bytes:
    lines = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE specificationSet [' + "".join(lines) + "]>\n"
        '<specificationSet xmlns="http://www.yawlfoundation.org/yawlschema" version="4.0">'
        '<specification uri="x"><name>&lol9;</name></specification></specificationSet>'
    ).encode()


def quadratic_blowup() -> bytes:
    entity = "x" * 50_000
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE s [<!ENTITY a "{entity}">]>\n<s>' + "&a;" * 50_000 + "</s>"
    ).encode()


@pytest.mark.parametrize(
    "document",
    [XXE_FILE, XXE_PARAMETER, EXTERNAL_DTD, billion_laughs(), quadratic_blowup()],
    ids=["external-entity-file", "external-parameter-entity", "external-dtd", "billion-laughs", "quadratic"],
)
@pytest.mark.parametrize("upload", ["raw", "multipart"])
def test_hostile_xml_is_refused_quickly(api_client, document: bytes, upload: str) -> None:
    if upload == "raw":
        response, seconds = timed(api_client.post, IMPORT, document, content_type="application/xml")
    else:
        from django.core.files.uploadedfile import SimpleUploadedFile

        file = SimpleUploadedFile("evil.yawl", document, content_type="application/xml")
        response, seconds = timed(api_client.post, IMPORT, {"file": file}, format="multipart")
    error = assert_error(response, 400, "invalid_yawl")
    assert "root:" not in json.dumps(error), "the file's content leaked into the answer"
    assert seconds < 1.0, f"took {seconds:.2f} s"


def test_fifty_megabyte_xml_body_is_refused_quickly_with_413(api_client) -> None:
    body = b"<specificationSet>" + b" " * FIFTY_MB + b"</specificationSet>"
    response, seconds = timed(api_client.post, IMPORT, body, content_type="application/xml")
    error = assert_error(response, 413, "request_too_large")
    assert error["details"]["limit_bytes"] < FIFTY_MB
    assert seconds < 1.0, f"took {seconds:.2f} s"


def test_fifty_megabyte_multipart_upload_is_refused_quickly_with_413(api_client) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    file = SimpleUploadedFile("big.yawl", b"<x>" + b" " * FIFTY_MB + b"</x>", content_type="application/xml")
    response, seconds = timed(api_client.post, IMPORT, {"file": file}, format="multipart")
    assert_error(response, 413, "request_too_large")
    assert seconds < 3.0, f"took {seconds:.2f} s"  # includes encoding the 50 MB multipart body


# ---------------------------------------------------------------------------- JSON size and depth


@pytest.mark.parametrize("path", ["/api/v1/workflows", "/api/v1/cases"])
def test_oversized_json_body_is_413(api_client, settings, path: str) -> None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = json.dumps({"spec_id": "x", "data": {"blob": "y" * (limit + 1)}})
    response, seconds = timed(api_client.post, path, body, content_type="application/json")
    error = assert_error(response, 413, "request_too_large")
    assert error["details"]["limit_bytes"] == limit
    assert seconds < 1.0, f"took {seconds:.2f} s"


def test_fifty_megabyte_json_body_is_413_quickly(api_client) -> None:
    body = b'{"spec": "' + b"y" * FIFTY_MB + b'"}'
    response, seconds = timed(api_client.post, "/api/v1/workflows", body, content_type="application/json")
    assert_error(response, 413, "request_too_large")
    assert seconds < 1.0, f"took {seconds:.2f} s"


def nested(depth: int) -> dict:
    """A JSON object `depth` levels deep: {"a": {"a": ... {"a": 1}}}."""
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value  # type: ignore[return-value]


@pytest.fixture
def any_data_spec(api_client) -> str:
    """A one-task spec whose root net takes any start data and any output data."""
    spec = {
        "id": "any-data",
        "conditions": [{"id": "i", "type": "input", "flows": ["A"]}, {"id": "o", "type": "output"}],
        "tasks": [{"id": "A", "flows": ["o"]}],
    }
    return register(api_client, spec)["spec_id"]


def test_case_data_nested_within_the_limit_is_accepted(api_client, any_data_spec) -> None:
    from knhk.api.limits import MAX_DATA_DEPTH

    case = start_case(api_client, any_data_spec, {"deep": nested(MAX_DATA_DEPTH - 1)})
    assert case["data"]["deep"] == nested(MAX_DATA_DEPTH - 1)


def test_deeply_nested_case_data_is_refused(api_client, any_data_spec) -> None:
    from knhk.api.limits import MAX_DATA_DEPTH

    response = api_client.post(
        "/api/v1/cases", {"spec_id": any_data_spec, "data": {"deep": nested(MAX_DATA_DEPTH)}}, format="json"
    )
    error = assert_error(response, 400, "invalid")
    assert "data" in error["details"] and str(MAX_DATA_DEPTH) in error["message"]


def test_deeply_nested_completion_data_is_refused(api_client, any_data_spec) -> None:
    from knhk.api.limits import MAX_DATA_DEPTH

    case = start_case(api_client, any_data_spec)
    item = case["work_items"][0]
    path = f"/api/v1/work-items/{item['id']}/complete"
    response = api_client.post(path, {"data": {"deep": nested(MAX_DATA_DEPTH + 5)}}, format="json")
    assert_error(response, 400, "invalid")
    assert api_client.get(f"/api/v1/cases/{case['case_id']}").json()["state"] == "running"


@pytest.mark.parametrize("path", ["/api/v1/workflows", "/api/v1/cases"])
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_json_nesting_bomb_is_400_not_500(api_client, path: str, opener: str) -> None:
    body = opener * 200_000
    response, seconds = timed(api_client.post, path, body, content_type="application/json")
    assert_error(response, 400)
    assert seconds < 1.0, f"took {seconds:.2f} s"


def test_deeply_nested_spec_extensions_are_refused(api_client) -> None:
    spec = example("loan-approval")
    spec["extensions"] = nested(500)
    response = api_client.post("/api/v1/workflows", {"spec": spec}, format="json")
    assert_error(response, 400)


# ---------------------------------------------------------------------------- unknown fields


def test_unknown_fields_are_named_not_dropped(api_client, any_data_spec) -> None:
    response = api_client.post(
        "/api/v1/cases", {"spec_id": any_data_spec, "colour": "red", "x": 1}, format="json"
    )
    error = assert_error(response, 400, "invalid")
    assert set(error["details"]) == {"colour", "x"} and "colour" in error["message"]

    response = api_client.post(
        "/api/v1/workflows", {"spec": example("loan-approval"), "force": True}, format="json"
    )
    assert "force" in assert_error(response, 400, "invalid")["details"]

    case = start_case(api_client, any_data_spec)
    item = case["work_items"][0]
    response = api_client.post(f"/api/v1/work-items/{item['id']}/complete", {"data": {}, "outcome": "ok"},
                               format="json")  # fmt: skip
    assert "outcome" in assert_error(response, 400, "invalid")["details"]
    assert api_client.get(f"/api/v1/cases/{case['case_id']}").json()["state"] == "running"


def test_unknown_fields_inside_a_spec_are_named(api_client) -> None:
    spec = example("loan-approval")
    spec["tasks"][0]["priority"] = "high"
    response = api_client.post("/api/v1/workflows", {"spec": spec}, format="json")
    error = assert_error(response, 400)
    assert "priority" in error["message"]


def test_unknown_query_parameters_are_named(api_client) -> None:
    response = api_client.get("/api/v1/cases?stat=running")
    assert "stat" in assert_error(response, 400, "invalid")["message"]


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe not utf-8", b"null", b"[]", b'"text"', b"1e999999", b'{"spec_id": NaN}'],
    ids=["bad-utf8", "null", "list", "string", "huge-number", "nan"],
)
def test_malformed_json_bodies_are_400(api_client, body: bytes) -> None:
    response = api_client.post("/api/v1/cases", body, content_type="application/json")
    assert_error(response, 400)


@pytest.mark.parametrize("escaped", ["\\ud800", "\\udfff", "a\\udc00b"])
def test_lone_surrogates_are_400_not_500(api_client, any_data_spec, escaped: str) -> None:
    case = start_case(api_client, any_data_spec)
    item = case["work_items"][0]
    bodies = {
        "/api/v1/cases": '{"spec_id": "SPEC", "data": {"x": "TEXT"}}'.replace("SPEC", any_data_spec),
        f"/api/v1/work-items/{item['id']}/complete": '{"data": {"TEXT": 1}}',
        "/api/v1/workflows": '{"spec": {"id": "s", "name": "TEXT"}}',
    }
    for path, body in bodies.items():
        response = api_client.post(path, body.replace("TEXT", escaped), content_type="application/json")
        assert_error(response, 400, "parse_error")
        assert "surrogate" in response.json()["error"]["message"]
    assert api_client.get(f"/api/v1/cases/{case['case_id']}").json()["state"] == "running"
    assert api_client.get("/api/v1/cases").json()["count"] == 1
