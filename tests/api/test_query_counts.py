"""SQL statements per request on the hot endpoints (issue 8): a fixed budget, whatever the data size.

Counted as a role user sees them (JWT user, role permissions, per-workflow rights), so the access
checks are in the count. The budgets hold on SQLite and PostgreSQL (PostgreSQL needs three fewer: its
audit append is one statement); a list must not grow with its length (no N+1).
"""

from __future__ import annotations

import pytest
from django.db import connection

from tests.api.helpers import example, register

pytestmark = pytest.mark.django_db

SQLITE_EXTRA = 3 if connection.vendor == "sqlite" else 0  # audit head: write lock, read, update


@pytest.fixture
def operator(make_user, client_for, api_client):
    from accounts import rights

    register(api_client, example("loan-approval"))
    user = make_user("olga", "operator", "participant", "clerk")
    rights.grant("start", "loan-approval", user=user)
    return client_for(user)


def _start(client) -> dict:
    response = client.post("/api/v1/cases", {"spec_id": "loan-approval", "data": {"applicant": "A", "amount": 5}},
                           format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_case_start_budget(operator, django_assert_max_num_queries):
    _start(operator)  # warm the executor cache
    # user; capability and right: role permissions (user + groups), the workflow's object rights
    # (user or groups, one query); spec; savepoint, case, items, events, audit, release
    with django_assert_max_num_queries(11 + SQLITE_EXTRA):
        answer = _start(operator)
    assert answer["state"] == "running" and [i["task_id"] for i in answer["work_items"]] == ["register"]


def test_work_item_complete_budget(operator, django_assert_max_num_queries):
    item = _start(operator)["work_items"][0]
    # user, item access (spec + roles), capability and right (3), role check; savepoint, case lock,
    # live items, case update, new items, changed items, events, audit, release; the answer needs none
    with django_assert_max_num_queries(15 + SQLITE_EXTRA):
        response = operator.post(f"/api/v1/work-items/{item['id']}/complete", {"data": {}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "completed" and response.json()["completed_by"] == "olga"


@pytest.mark.parametrize("path", ["/api/v1/cases", "/api/v1/work-items?state=enabled", "/api/v1/workflows"])
def test_lists_do_not_grow_with_their_length(operator, django_assert_max_num_queries, path):
    for _ in range(3):
        _start(operator)
    statements = []
    with connection.execute_wrapper(lambda execute, sql, *rest: statements.append(sql) or execute(sql, *rest)):
        assert operator.get(path).status_code == 200
    for _ in range(12):
        _start(operator)
    with django_assert_max_num_queries(len(statements)):
        response = operator.get(path)
    assert response.status_code == 200 and response.json()["count"] >= 1


def test_case_detail_does_not_repeat_the_case_in_every_item_row(api_client, django_assert_max_num_queries):
    wide = {
        "id": "wide",
        "conditions": [{"id": "i", "type": "input", "flows": ["fork"]}, {"id": "o", "type": "output"}],
        "tasks": [{"id": "fork", "kind": "routing", "flows": [f"t{n}" for n in range(40)]},
                  *({"id": f"t{n}", "flows": ["join"]} for n in range(40)),
                  {"id": "join", "join": "and", "flows": ["o"]}],
    }  # fmt: skip
    assert api_client.post("/api/v1/workflows", {"spec": wide}, format="json").status_code == 201
    case_id = api_client.post("/api/v1/cases", {"spec_id": "wide"}, format="json").json()["case_id"]
    statements = []
    with connection.execute_wrapper(lambda execute, sql, *rest: statements.append(sql) or execute(sql, *rest)):
        response = api_client.get(f"/api/v1/cases/{case_id}")
    assert response.status_code == 200 and len(response.json()["work_items"]) == 40
    item_queries = [sql for sql in statements if 'FROM "cases_workitem"' in sql]
    assert item_queries and not [sql for sql in item_queries if "engine_state" in sql], item_queries
    assert {item["spec_id"] for item in response.json()["work_items"]} == {"wide"}
