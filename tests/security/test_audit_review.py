"""Audit review: the filtered list, chain verification and export over HTTP, the read-only admin,
and the create_user command."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from audit.models import AuditRecord
from audit.services import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(make_user, client_for):
    return client_for(make_user("aude", "auditor"))


@pytest.fixture
def log():
    record("spec.registered", actor="alice", workflow_id="loan")
    record("case.created", actor="bob", workflow_id="loan", case_id="c1")
    record("case.cancelled", actor="bob", workflow_id="loan", case_id="c1")
    record("case.created", actor="carol", workflow_id="trip", case_id="c2")


@pytest.mark.parametrize(("query", "expected"), [
    ("", [4, 3, 2, 1]),
    ("?actor=bob", [3, 2]),
    ("?action=case.created", [4, 2]),
    ("?action=case.*", [4, 3, 2]),
    ("?workflow=loan", [3, 2, 1]),
    ("?case=c1&action=case.cancelled", [3]),
    ("?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z", []),
])
def test_list_filters(auditor, log, query, expected):
    response = auditor.get(f"/api/v1/audit{query}")
    assert response.status_code == 200, response.content
    assert [row["seq"] for row in response.json()["results"]] == expected


def test_time_range_filter(auditor, log):
    now = timezone.now()
    since, until = (now - timedelta(minutes=5)).isoformat(), (now + timedelta(minutes=5)).isoformat()
    response = auditor.get("/api/v1/audit", {"since": since, "until": until})
    assert response.json()["count"] == 4


def test_bad_filters_get_clear_errors(auditor):
    response = auditor.get("/api/v1/audit?since=yesterday")
    assert response.status_code == 400 and "since" in response.json()["error"]["details"]
    response = auditor.get("/api/v1/audit?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z")
    assert response.status_code == 400 and "until" in response.json()["error"]["details"]


@pytest.mark.parametrize("query, field", [
    ("page=abc", "page"), ("page=0", "page"), ("page_size=-1", "page_size"), ("page_size=abc", "page_size"),
    ("colour=red", "colour"), ("state=bogus", "state"),
])
def test_bad_or_unknown_list_parameters_are_a_400_like_every_other_list(auditor, log, query, field):
    response = auditor.get(f"/api/v1/audit?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid" and field in response.json()["error"]["details"]
    assert auditor.get("/api/v1/audit?page=2&page_size=3").json()["results"][0]["seq"] == 1


def test_export_takes_filters_and_format_only(auditor, log):
    assert auditor.get("/api/v1/audit/export?format=json&actor=bob").status_code == 200
    response = auditor.get("/api/v1/audit/export?format=csv&colour=red")
    assert response.status_code == 400 and "colour" in response.json()["error"]["details"]


@pytest.mark.parametrize("fmt", ["xml", "jsonl", "CSV"])
def test_export_unsupported_format_is_a_400_naming_the_supported_ones(auditor, log, fmt):
    response = auditor.get(f"/api/v1/audit/export?format={fmt}")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "invalid" and set(error["details"]) == {"format"}
    assert "json, csv" in error["message"] and repr(fmt) in error["message"]
    for supported in ("json", "csv"):
        assert auditor.get(f"/api/v1/audit/export?format={supported}").status_code == 200


def test_incident_list_refuses_bad_or_unknown_parameters(api_client):
    for query, field in (("page_size=0", "page_size"), ("page_size=abc", "page_size"), ("colour=red", "colour")):
        response = api_client.get(f"/api/v1/incidents?{query}")
        assert response.status_code == 400 and field in response.json()["error"]["details"], response.content
    assert api_client.get("/api/v1/incidents?page_size=5&state=open").status_code == 200


def test_verify_endpoint_names_the_altered_record(auditor, log):
    assert auditor.get("/api/v1/audit/verify").json() == {
        "intact": True, "checked": 4, "first_broken": None, "record_id": None, "reason": "",
        "message": "audit chain intact: 4 records checked",
    }
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditRecord._meta.db_table} SET data = %s WHERE seq = 3", ['{"forged": true}'])
    report = auditor.get("/api/v1/audit/verify").json()
    assert (report["intact"], report["first_broken"], report["checked"]) == (False, 3, 2)


def test_export_csv_and_json(auditor, log):
    response = auditor.get("/api/v1/audit/export?format=csv&workflow=loan")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["seq"], row["action"]) for row in rows] == [
        ("1", "spec.registered"), ("2", "case.created"), ("3", "case.cancelled")
    ]
    assert len(rows[0]["hash"]) == 64 and json.loads(rows[1]["data"]) == {}
    response = auditor.get("/api/v1/audit/export?actor=carol")
    assert response["Content-Type"] == "application/json"
    exported = json.loads(b"".join(response.streaming_content))
    assert [(row["seq"], row["case_id"], row["actor"]) for row in exported] == [(4, "c2", "carol")]


def test_only_auditors_review(make_user, client_for, log):
    operator = client_for(make_user("otto", "operator"))
    for path in ("/api/v1/audit", "/api/v1/audit/verify", "/api/v1/audit/export?format=csv"):
        assert operator.get(path).status_code == 403


def test_admin_is_read_only_with_filters(client, make_user, log):
    client.force_login(make_user("root", superuser=True))
    changelist = client.get("/admin/audit/auditrecord/?actor=bob&action=case.created")
    assert changelist.status_code == 200
    assert list(changelist.context["cl"].queryset.values_list("seq", flat=True)) == [2]
    row = AuditRecord.objects.get(seq=1)
    assert client.get("/admin/audit/auditrecord/add/").status_code == 403
    assert client.post(f"/admin/audit/auditrecord/{row.pk}/change/", {"actor": "mallory"}).status_code == 403
    assert client.post(f"/admin/audit/auditrecord/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditRecord.objects.get(seq=1).actor == "alice"


def test_create_user_command(monkeypatch):
    from django.contrib.auth import get_user_model

    monkeypatch.setenv("NEW_PASSWORD", "s3cret-pass")
    out = StringIO()
    call_command("create_user", "olga", "--role", "operator", "--role", "auditor", "--password-env",
                 "NEW_PASSWORD", stdout=out)
    user = get_user_model().objects.get(username="olga")
    assert user.check_password("s3cret-pass") and not user.is_superuser
    assert sorted(user.groups.values_list("name", flat=True)) == ["auditor", "operator"]
    assert "created" in out.getvalue()
    call_command("create_user", "olga", "--role", "participant", stdout=StringIO())
    assert user.groups.count() == 3 and user.check_password("s3cret-pass")
    with pytest.raises(CommandError, match="needs a password"):
        call_command("create_user", "nopass", stdout=StringIO())
    with pytest.raises(CommandError, match="UNSET_VAR"):
        call_command("create_user", "x", "--password-env", "UNSET_VAR", stdout=StringIO())
    assert not get_user_model().objects.filter(username__in=["nopass", "x"]).exists()


@pytest.mark.parametrize(("password", "reason"), [
    ("abc12", "too short"), ("password123", "too common"), ("8412907365", "entirely numeric"),
    ("olga.petrova", "too similar"),
])
def test_create_user_refuses_a_weak_password_and_changes_nothing(monkeypatch, password, reason):
    from django.contrib.auth import get_user_model

    monkeypatch.setenv("NEW_PASSWORD", password)
    with pytest.raises(CommandError, match=f"password refused for 'olga.petrova'.*{reason}"):
        call_command("create_user", "olga.petrova", "--role", "operator", "--password-env", "NEW_PASSWORD",
                     stdout=StringIO())
    assert not get_user_model().objects.filter(username="olga.petrova").exists()
    call_command("create_user", "olga.petrova", "--password", "Strong-enough-9", stdout=StringIO())
    with pytest.raises(CommandError, match="too short"):  # an existing user's password is checked too
        call_command("create_user", "olga.petrova", "--password", password[:5], stdout=StringIO())
    assert get_user_model().objects.get(username="olga.petrova").check_password("Strong-enough-9")
