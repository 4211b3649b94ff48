"""YAWL files import over the API (raw XML body or multipart) and run."""

import pytest

from tests.api.drive import drive_case

pytestmark = pytest.mark.django_db

SMALL_YAWL = b"""<?xml version="1.0" encoding="UTF-8"?>
<specificationSet xmlns="http://www.yawlfoundation.org/yawlschema" version="2.2">
  <specification uri="TinyImport">
    <decomposition id="Main" isRootNet="true" xsi:type="NetFactsType"
                   xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
      <processControlElements>
        <inputCondition id="in"><flowsInto><nextElementRef id="Approve"/></flowsInto></inputCondition>
        <task id="Approve">
          <name>Approve</name>
          <flowsInto><nextElementRef id="out"/></flowsInto>
          <join code="xor"/><split code="and"/>
          <decomposesTo id="ApproveDecomp"/>
        </task>
        <outputCondition id="out"/>
      </processControlElements>
    </decomposition>
    <decomposition id="ApproveDecomp" xsi:type="WebServiceGatewayFactsType"
                   xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>
  </specification>
</specificationSet>
"""


def _call(api_client):
    def call(method, path, body=None):
        response = getattr(api_client, method.lower())(path, body, format="json") if body is not None \
            else getattr(api_client, method.lower())(path)
        return response.status_code, response.json()

    return call


def test_import_raw_xml_body_registers_and_runs(api_client):
    response = api_client.post("/api/v1/workflows/import", SMALL_YAWL, content_type="application/xml")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["version"] == 1 and body["source_format"] == "yawl"
    case = api_client.post("/api/v1/cases", {"spec_id": body["spec_id"]}, format="json").json()
    assert [item["task_id"] for item in case["work_items"]] == ["Approve"]
    assert drive_case(_call(api_client), case["case_id"])["state"] == "completed"


def test_import_multipart_file_and_reimport_makes_version_two(api_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    first = api_client.post("/api/v1/workflows/import", SMALL_YAWL, content_type="application/xml").json()
    upload = SimpleUploadedFile("tiny.yawl", SMALL_YAWL, content_type="application/xml")
    response = api_client.post("/api/v1/workflows/import", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["spec_id"] == first["spec_id"]
    assert response.json()["version"] == 2


@pytest.mark.parametrize("payload, fragment", [
    (b"<not-closed", "line 1"),
    (b"", "empty"),
    (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", "not allowed"),
])
def test_import_bad_xml_is_a_clear_400(api_client, payload, fragment):
    response = api_client.post("/api/v1/workflows/import", payload, content_type="application/xml")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_yawl"
    assert fragment in error["message"]


def test_import_multipart_without_file_names_the_field(api_client):
    response = api_client.post("/api/v1/workflows/import", {"other": "x"}, format="multipart")
    assert response.status_code == 400
    assert "other" in response.json()["error"]["details"]


@pytest.mark.shared
def test_orderfulfillment_yawl_runs_to_completion(api_client, shared_dir):
    data = (shared_dir / "yawl" / "orderfulfillment.yawl").read_bytes()
    response = api_client.post("/api/v1/workflows/import", data, content_type="application/xml")
    assert response.status_code == 201, response.content
    spec_id = response.json()["spec_id"]
    case = api_client.post("/api/v1/cases", {"spec_id": spec_id}, format="json").json()
    assert case["state"] == "running"
    final = drive_case(_call(api_client), case["case_id"])
    assert final["state"] == "completed", final
