"""The browser UI's pages through Django's test client (session login), end to end over the services."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts import rights
from audit.models import AuditRecord
from cases.models import Case, WorkItem

LEAVE_REQUEST = Path(__file__).resolve().parents[1] / "data" / "ui" / "leave_request.yawl"
EVERY_ROLE = ("workflow-admin", "operator", "participant", "auditor")

ROLE_SPEC = b"""{"id": "expense", "conditions": [
  {"id": "i", "type": "input", "flows": ["approve"]}, {"id": "o", "type": "output"}],
 "tasks": [{"id": "approve", "roles": ["manager"], "flows": ["o"],
            "outputs": [{"name": "ok", "type": "boolean", "required": true}]}]}"""


@pytest.fixture
def alice(make_user):
    return make_user("alice", *EVERY_ROLE)


@pytest.fixture
def browser(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def login_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, name: str, content: bytes):
    return client.post("/ui/workflows/upload/", {"file": SimpleUploadedFile(name, content)})


def live_item(case: Case, task_id: str) -> WorkItem:
    return WorkItem.objects.get(case=case, task_id=task_id, state__in=("enabled", "started"))


@pytest.mark.django_db
def test_pages_need_a_login_and_root_leads_to_the_ui():
    client = Client()
    assert client.get("/").headers["Location"] == "/ui/"
    response = client.get("/ui/cases/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/accounts/login/?next=")
    assert client.get("/accounts/login/").status_code == 200


@pytest.mark.django_db
def test_login_form_signs_in(alice):
    client = Client()
    response = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 302 and response.headers["Location"] == "/ui/"
    assert client.get("/ui/").status_code == 200
    wrong = Client().post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert "did not match" in wrong.content.decode()


@pytest.mark.django_db
def test_upload_start_work_the_inbox_until_the_case_finishes_and_audit_shows_it(browser):
    response = upload(browser, "leave_request.yawl", LEAVE_REQUEST.read_bytes())
    assert response.status_code == 302
    assert response.headers["Location"] == "/ui/workflows/LeaveRequest/v1/"
    page = browser.get("/ui/workflows/LeaveRequest/v1/").content.decode()
    assert 'role="img"' in page and 'data-node="Submit"' in page and "approved=&#x27;true&#x27;" in page
    assert "Registered LeaveRequest version 1" in page
    assert "LeaveRequest" in browser.get("/ui/").content.decode()

    response = browser.post("/ui/workflows/LeaveRequest/v1/", {"data": ""})
    case = Case.objects.get()
    assert response.headers["Location"] == f"/ui/cases/{case.id}/"
    case_page = browser.get(f"/ui/cases/{case.id}/").content.decode()
    assert re.search(r'class="node task manual enabled"[^>]*data-node="Submit"', case_page)
    assert "Work item enabled" in case_page

    submit = live_item(case, "Submit")
    assert str(submit.id) in browser.get("/ui/inbox/").content.decode()
    assert browser.post(f"/ui/items/{submit.id}/start/").status_code == 302
    form = browser.get(f"/ui/items/{submit.id}/").content.decode()
    assert 'name="out_days"' in form and 'name="out_reason"' in form
    refused = browser.post(f"/ui/items/{submit.id}/", {"out_days": "three"})
    assert refused.status_code == 400 and "Enter a whole number" in refused.content.decode()
    missing = browser.post(f"/ui/items/{submit.id}/", {"out_reason": "x"})
    assert missing.status_code == 400 and "This field is required" in missing.content.decode()
    assert browser.post(f"/ui/items/{submit.id}/", {"out_days": "3", "out_reason": "holiday"}).status_code == 302

    review = live_item(case, "Review")
    assert "&quot;reason&quot;: &quot;holiday&quot;" in browser.get(f"/ui/items/{review.id}/").content.decode()
    assert browser.post(f"/ui/items/{review.id}/", {"out_approved": "true"}).status_code == 302
    book = live_item(case, "Book")
    assert browser.post(f"/ui/items/{book.id}/", {"out_note": "booked"}).status_code == 302
    case.refresh_from_db()
    assert case.state == "completed" and case.data["approved"] is True
    assert "Nothing to do" in browser.get("/ui/inbox/").content.decode()
    assert "Case completed" in browser.get(f"/ui/cases/{case.id}/").content.decode()

    audit = browser.get(f"/ui/audit/?case={case.id}").content.decode()
    assert "Chain verified" in audit
    for action in ("item.enabled", "item.started", "item.completed", "case.completed"):
        assert action in audit
    assert AuditRecord.objects.filter(case_id=str(case.id), action="item.completed").count() == 3
    assert "format=csv" in audit and f"case={case.id}" in audit
    csv_link = re.search(r'href="([^"]*format=csv[^"]*)"', audit).group(1).replace("&amp;", "&")
    exported = browser.get(csv_link)  # the API's export, through the same browser session
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    lines = b"".join(exported.streaming_content).decode().splitlines()
    assert lines[0].startswith("seq,at,actor,action") and all(str(case.id) in line for line in lines[1:])
    assert len(lines) - 1 == AuditRecord.objects.filter(case_id=str(case.id)).count()


@pytest.mark.django_db
def test_an_invalid_upload_shows_its_verification_messages_beside_its_diagram(browser):
    broken = b"""{"id": "broken", "conditions": [{"id": "i", "type": "input", "flows": ["a"]},
                  {"id": "o", "type": "output"}], "tasks": [{"id": "a", "flows": []}]}"""
    response = upload(browser, "broken.json", broken)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Not registered: problems found" in page and "net broken: task &#x27;a&#x27;" in page
    assert 'data-node="a"' in page  # the diagram of the rejected document
    bad_xml = upload(browser, "x.yawl", b"<specificationSet><oops")
    assert bad_xml.status_code == 400 and "unclosed token" in bad_xml.content.decode()
    unreachable = LEAVE_REQUEST.read_bytes().replace(b'<flowsInto><nextElementRef id="end" /></flowsInto>', b"", 1)
    response = upload(browser, "unreachable.yawl", unreachable)
    page = response.content.decode()
    assert response.status_code == 400 and "Book" in page and 'data-node="Book"' in page
    assert "Not registered: problems found" in page
    wrong_type = upload(browser, "x.txt", b"hello")
    assert wrong_type.status_code == 400 and "Choose a .yawl, .xml or .json file." in wrong_type.content.decode()


@pytest.mark.django_db
def test_suspend_resume_cancel_buttons_for_operators_only(browser, make_user):
    upload(browser, "leave_request.yawl", LEAVE_REQUEST.read_bytes())
    refused = browser.post("/ui/workflows/LeaveRequest/v1/", {"data": '{"days": 2}'}).content.decode()
    assert "variable &#x27;days&#x27; is not an input variable" in refused  # the engine's reason, on the form
    browser.post("/ui/workflows/LeaveRequest/v1/", {"data": ""})
    case = Case.objects.get()
    page = browser.get(f"/ui/cases/{case.id}/").content.decode()
    assert ">Suspend<" in page and ">Cancel case<" in page and ">Resume<" not in page
    browser.post(f"/ui/cases/{case.id}/suspend/")
    case.refresh_from_db()
    assert case.state == "suspended"
    assert ">Resume<" in browser.get(f"/ui/cases/{case.id}/").content.decode()
    browser.post(f"/ui/cases/{case.id}/resume/")
    case.refresh_from_db()
    assert case.state == "running"

    viewer = make_user("victor", "participant")
    rights.grant("view", "LeaveRequest", user=viewer)
    viewer_client = login_client(viewer)
    page = viewer_client.get(f"/ui/cases/{case.id}/").content.decode()
    assert ">Suspend<" not in page and ">Cancel case<" not in page
    assert viewer_client.post(f"/ui/cases/{case.id}/cancel/").status_code == 403
    browser.post(f"/ui/cases/{case.id}/cancel/")
    case.refresh_from_db()
    assert case.state == "cancelled"
    assert "Cannot suspend" in browser.post(f"/ui/cases/{case.id}/suspend/", follow=True).content.decode()


@pytest.mark.django_db
def test_invalid_case_data_is_a_form_error(browser):
    upload(browser, "leave_request.yawl", LEAVE_REQUEST.read_bytes())
    response = browser.post("/ui/workflows/LeaveRequest/v1/", {"data": "[1, 2"})
    assert response.status_code == 400 and "Not valid JSON" in response.content.decode()
    response = browser.post("/ui/workflows/LeaveRequest/v1/", {"data": "[1, 2]"})
    assert "must be a JSON object" in response.content.decode()
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_visibility_and_task_roles_decide_what_a_participant_sees(browser, make_user):
    upload(browser, "expense.json", ROLE_SPEC)
    browser.post("/ui/workflows/expense/v1/", {"data": ""})
    item = WorkItem.objects.get()

    outsider = login_client(make_user("olga", "participant"))
    assert "expense" not in outsider.get("/ui/").content.decode()
    assert outsider.get("/ui/workflows/expense/").status_code == 404
    assert outsider.get(f"/ui/items/{item.id}/").status_code == 404
    assert outsider.get("/ui/audit/").status_code == 403
    assert outsider.get("/ui/workflows/upload/").status_code == 403

    clerk = make_user("carl", "participant")
    rights.grant("view", "expense", user=clerk)
    clerk_client = login_client(clerk)
    assert "expense" in clerk_client.get("/ui/").content.decode()
    assert str(item.id) not in clerk_client.get("/ui/inbox/").content.decode()  # not a manager
    assert clerk_client.post(f"/ui/items/{item.id}/start/").status_code == 403

    manager = make_user("mia", "participant", "manager")
    rights.grant("view", "expense", user=manager)
    manager_client = login_client(manager)
    assert str(item.id) in manager_client.get("/ui/inbox/").content.decode()
    response = manager_client.post(f"/ui/items/{item.id}/", {"out_ok": ""})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    assert manager_client.post(f"/ui/items/{item.id}/", {"out_ok": "false"}).status_code == 302
    assert Case.objects.get().state == "completed"


@pytest.mark.django_db
def test_case_list_filters_and_unknown_pages(browser):
    upload(browser, "leave_request.yawl", LEAVE_REQUEST.read_bytes())
    browser.post("/ui/workflows/LeaveRequest/v1/", {"data": ""})
    case = Case.objects.get()
    assert str(case.id)[:8] in browser.get("/ui/cases/?state=running").content.decode()
    assert "No cases match" in browser.get("/ui/cases/?state=completed").content.decode()
    assert "No cases match" not in browser.get("/ui/cases/?workflow=LeaveRequest").content.decode()
    assert '<option value="LeaveRequest"' in browser.get("/ui/cases/").content.decode()
    assert browser.get("/ui/cases/?state=bogus&version=x").status_code == 200  # bad filters: all cases
    assert browser.get("/ui/workflows/nope/").status_code == 404
    assert browser.get("/ui/cases/00000000-0000-0000-0000-000000000000/").status_code == 404
    svg = browser.get("/ui/workflows/LeaveRequest/v1/net0.svg")
    assert svg.headers["Content-Type"] == "image/svg+xml" and svg.content.startswith(b"<svg")
    assert browser.get("/ui/workflows/LeaveRequest/v1/net5.svg").status_code == 404


FREE_SPEC = b"""{"id": "notes", "conditions": [
  {"id": "i", "type": "input", "flows": ["write"]}, {"id": "o", "type": "output"}],
 "tasks": [{"id": "write", "flows": ["tag"]},
           {"id": "tag", "flows": ["o"], "outputs": [{"name": "tags", "type": "any"}]}]}"""

# Text the API's JSON parser refuses (knhk.api.limits, strict JSON); the pages must refuse it too,
# with a form error, never a 500 (RecursionError, an over-long integer, NaN in a JSON column) and
# never store it (NUL is a 500 on PostgreSQL; 40 levels is beyond MAX_DATA_DEPTH).
REFUSED_JSON = {
    "NaN": ('{"x": NaN}', "NaN is not a JSON value"),
    "Infinity": ('{"x": -Infinity}', "Infinity is not a JSON value"),
    "overflow": ('{"x": 1e999}', "Infinity is not a JSON value"),
    "long integer": ('{"x": 1' + "0" * 5000 + "}", "too many digits"),
    "NUL": ('{"x": "a\\u0000b"}', "NUL characters"),
    "40 levels": ('{"x": ' + "[" * 40 + "]" * 40 + "}", "Nested deeper than"),
    "5000 levels": ('{"x": ' + "[" * 5000 + "]" * 5000 + "}", "Nested deeper than"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("text, message", REFUSED_JSON.values(), ids=REFUSED_JSON.keys())
def test_json_the_api_refuses_is_a_form_error_on_every_json_field(browser, text, message):
    upload(browser, "notes.json", FREE_SPEC)
    response = browser.post("/ui/workflows/notes/v1/", {"data": text})
    assert response.status_code == 400 and message in response.content.decode()
    assert not Case.objects.exists()

    browser.post("/ui/workflows/notes/v1/", {"data": ""})
    write = live_item(Case.objects.get(), "write")
    response = browser.post(f"/ui/items/{write.id}/", {"data": text})
    assert response.status_code == 400 and message in response.content.decode()
    assert browser.post(f"/ui/items/{write.id}/", {"data": '{"x": 1}'}).status_code == 302

    tag = live_item(Case.objects.get(), "tag")
    value = text.removeprefix('{"x": ').removesuffix("}")
    response = browser.post(f"/ui/items/{tag.id}/", {"out_tags": value})
    assert response.status_code == 400 and message in response.content.decode()
    assert browser.post(f"/ui/items/{tag.id}/", {"out_tags": "plain words"}).status_code == 302
    assert Case.objects.get().data["tags"] == "plain words"


REFUSED_UPLOAD = {**{k: v for k, v in REFUSED_JSON.items() if k != "40 levels"}, "70 levels": ('{"x": ' + "[" * 70 + "]" * 70 + "}", "Nested deeper than 64")}


@pytest.mark.django_db
@pytest.mark.parametrize("text, message", REFUSED_UPLOAD.values(), ids=REFUSED_UPLOAD.keys())
def test_a_json_upload_the_api_would_refuse_is_listed_not_a_500(browser, text, message):
    response = upload(browser, "odd.json", text.encode())
    assert response.status_code == 400 and message in response.content.decode()


@pytest.mark.django_db
def test_a_json_upload_may_start_with_a_byte_order_mark(browser):
    response = upload(browser, "notes.json", b"\xef\xbb\xbf" + FREE_SPEC)
    assert response.status_code == 302 and response.headers["Location"] == "/ui/workflows/notes/v1/"


MI_SPEC = b"""{"id": "review", "variables": [
   {"name": "reviewers", "type": "array", "initial": ["ann", "bo"]},
   {"name": "votes", "type": "array", "initial": []}],
 "conditions": [{"id": "i", "type": "input", "flows": ["vote"]}, {"id": "o", "type": "output"}],
 "tasks": [{"id": "vote", "name": "Vote",
            "multi_instance": {"min": 1, "max": 5, "creation": "static", "query": "reviewers",
                               "variable": "reviewer", "to": "votes"},
            "outputs": [{"name": "vote", "type": "string", "required": true}], "flows": ["o"]}]}"""


@pytest.mark.django_db
def test_a_multiple_instance_task_is_started_then_its_instances_are_completed(browser):
    assert upload(browser, "review.json", MI_SPEC).status_code == 302
    browser.post("/ui/workflows/review/v1/", {"data": ""})
    case = Case.objects.get()
    parent = live_item(case, "vote")

    page = browser.get(f"/ui/items/{parent.id}/").content.decode()
    assert 'name="out_vote"' not in page  # the parent has no completion form: the engine refuses one
    assert f'action="/ui/items/{parent.id}/start/"' in page
    refused = browser.post(f"/ui/items/{parent.id}/", {"out_vote": "yes"})
    assert refused.status_code == 400 and "start it, then complete each of its instances" in refused.content.decode()

    started = browser.post(f"/ui/items/{parent.id}/start/", follow=True).content.decode()
    assert "Started Vote: 2 instance(s) offered." in started
    instances = list(WorkItem.objects.filter(case=case, parent_engine_id=parent.engine_id))
    assert len(instances) == 2 and 'name="out_vote"' not in started
    for instance in instances:
        assert f'href="/ui/items/{instance.id}/"' in started
        assert browser.post(f"/ui/items/{instance.id}/", {"out_vote": "yes"}).status_code == 302
    case.refresh_from_db()
    assert case.state == "completed"
    done = browser.get(f"/ui/items/{parent.id}/").content.decode()
    assert "This work item is completed; there is nothing to do." in done and done.count("state-completed") == 3


def assert_described_by_ids_exist(page: str) -> int:
    """Every aria-describedby of the page names elements that exist; returns how many names were checked."""
    ids = set(re.findall(r'\sid="([^"]+)"', page))
    named = [name for value in re.findall(r'aria-describedby="([^"]+)"', page) for name in value.split()]
    missing = [name for name in named if name not in ids]
    assert not missing, f"aria-describedby names missing ids: {missing}"
    return len(named)


@pytest.mark.django_db
def test_fields_are_described_by_their_help_and_errors_for_screen_readers(browser, alice):
    from django.contrib.auth.models import Group

    alice.groups.add(Group.objects.get_or_create(name="manager")[0])
    upload(browser, "expense.json", ROLE_SPEC)
    start = browser.post("/ui/workflows/expense/v1/", {"data": "[1"}).content.decode()
    assert 'aria-invalid="true"' in start and assert_described_by_ids_exist(start) >= 1
    browser.post("/ui/workflows/expense/v1/", {"data": ""})
    item = WorkItem.objects.get()
    page = browser.post(f"/ui/items/{item.id}/", {"out_ok": "perhaps"}).content.decode()
    assert 'aria-describedby="id_out_ok_helptext id_out_ok_error"' in page
    assert assert_described_by_ids_exist(page) == 2
    audit = browser.get("/ui/audit/?since=yesterday").content.decode()
    assert 'aria-invalid="true"' in audit and assert_described_by_ids_exist(audit) >= 2


@pytest.mark.django_db
def test_an_unknown_page_or_a_bug_under_the_ui_is_an_html_page_not_json(alice):
    from unittest import mock

    client = Client(raise_request_exception=False)
    client.force_login(alice)
    missing = client.get("/ui/no-such-page/")
    assert missing.status_code == 404 and missing["Content-Type"].startswith("text/html")
    assert "There is no page at /ui/no-such-page/" in missing.content.decode()
    with mock.patch("workflows.selectors.spec_list", side_effect=RuntimeError("secret internals")):
        broken = client.get("/ui/")
    body = broken.content.decode()
    assert broken.status_code == 500 and broken["Content-Type"].startswith("text/html")
    assert "Something went wrong" in body and "secret" not in body and "Traceback" not in body
    # Outside the UI the answers stay JSON.
    assert client.get("/no-such-thing").json()["error"]["code"] == "not_found"


COMPOSITE_SPEC = b"""{"id": "outer", "conditions": [
   {"id": "i", "type": "input", "flows": ["sub"]}, {"id": "o", "type": "output"}],
 "tasks": [{"id": "sub", "name": "Do the inner part", "subnet": "inner", "flows": ["o"]}],
 "nets": [{"id": "inner", "conditions": [
     {"id": "ii", "type": "input", "flows": ["work"]}, {"id": "io", "type": "output"}],
   "tasks": [{"id": "work", "name": "Inner work", "flows": ["io"]}]}]}"""


@pytest.mark.django_db
def test_a_composite_task_is_started_from_the_inbox_and_its_subnet_runs(browser):
    response = upload(browser, "outer.json", COMPOSITE_SPEC)
    assert response.status_code == 302, response.content.decode()
    browser.post("/ui/workflows/outer/v1/", {"data": ""})
    case = Case.objects.get()
    sub = live_item(case, "sub")
    assert sub.kind == "composite"
    assert f'/ui/items/{sub.id}/start/' in browser.get("/ui/inbox/").content.decode()
    assert f'href="/ui/items/{sub.id}/"' in browser.get(f"/ui/cases/{case.id}/").content.decode()
    page = browser.get(f"/ui/items/{sub.id}/").content.decode()
    assert "starting it runs its subnet" in page and "Output data" not in page
    assert browser.post(f"/ui/items/{sub.id}/", {"data": "{}"}).status_code == 400

    started = browser.post(f"/ui/items/{sub.id}/start/", follow=True).content.decode()
    assert "Started Do the inner part: its subnet runs." in started
    work = live_item(case, "work")
    assert "subnet running" in browser.get("/ui/inbox/").content.decode()
    assert f'href="/ui/items/{work.id}/"' in browser.get(f"/ui/items/{sub.id}/").content.decode()
    assert browser.post(f"/ui/items/{work.id}/", {"data": ""}).status_code == 302
    case.refresh_from_db()
    assert case.state == "completed"
