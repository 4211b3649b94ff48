"""Django admin pages for specs, cases and work items; the management commands make run uses."""

import pytest
from django.core.management import call_command

from tests.api.helpers import example, register, start_case
from workflows.models import WorkflowSpec

pytestmark = pytest.mark.django_db


def test_register_examples_is_idempotent(capsys):
    call_command("register_examples")
    first = capsys.readouterr().out
    assert "registered: loan-approval v1" in first and "registered: order-fulfilment v1" in first
    call_command("register_examples")
    second = capsys.readouterr().out
    assert "unchanged: loan-approval v1" in second
    assert WorkflowSpec.objects.count() == 2


def test_ensure_demo_user_prints_how_to_log_in(capsys, django_user_model):
    call_command("ensure_demo_user")
    call_command("ensure_demo_user")
    out = capsys.readouterr().out
    assert "username 'demo', password 'demo-password'" in out and "/admin/" in out
    user = django_user_model.objects.get(username="demo")
    assert user.is_superuser and user.check_password("demo-password")


@pytest.mark.parametrize("path", [
    "/admin/workflows/workflowspec/?q=loan&source_format__exact=json",
    "/admin/cases/case/?state__exact=running&q=loan",
    "/admin/cases/workitem/?state__exact=enabled&kind__exact=manual&q=register",
    "/admin/cases/caseevent/?kind__exact=item_enabled",
])
def test_admin_changelists_with_filters_and_search(api_client, admin_client, path):
    register(api_client, example("loan-approval"))
    start_case(api_client, "loan-approval", {"amount": 1})
    response = admin_client.get(path)
    assert response.status_code == 200
    assert b"loan" in response.content or b"register" in response.content or b"item_enabled" in response.content


def test_admin_case_page_shows_its_work_items(api_client, admin_client):
    register(api_client, example("loan-approval"))
    case_id = start_case(api_client, "loan-approval", {"amount": 1})["case_id"]
    response = admin_client.get(f"/admin/cases/case/{case_id}/change/")
    assert response.status_code == 200
    assert b"register" in response.content
