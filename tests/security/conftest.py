"""Fixtures for the security tests: two workflows, one user per role, rights granted on `claims`."""

from __future__ import annotations

from typing import Any

import pytest

from accounts import rights


def _spec(spec_id: str, review_roles: list[str]) -> dict[str, Any]:
    return {
        "id": spec_id,
        "conditions": [{"id": "start", "type": "input", "flows": ["review"]}, {"id": "end", "type": "output"}],
        "tasks": [
            {"id": "review", "roles": review_roles, "flows": ["archive"]},
            {"id": "archive", "flows": ["end"]},
        ],
    }


CLAIMS = _spec("claims", ["claims-reviewer"])
OTHER = _spec("other", [])


@pytest.fixture
def workflows(api_client) -> dict[str, dict[str, Any]]:
    """`claims` (review offered to role claims-reviewer) and `other`, registered by the superuser."""
    for spec in (CLAIMS, OTHER):
        assert api_client.post("/api/v1/workflows", {"spec": spec}, format="json").status_code == 201
    return {"claims": CLAIMS, "other": OTHER}


@pytest.fixture
def users(make_user, workflows) -> dict[str, Any]:
    """One user per role; the operator may start `claims`, the participants may see it."""
    people = {
        "admin": make_user("wanda", "workflow-admin"),
        "operator": make_user("otto", "operator"),
        "participant": make_user("pia", "participant", "claims-reviewer"),
        "outsider": make_user("paul", "participant"),  # a participant without the task's role
        "auditor": make_user("aude", "auditor"),
        "nobody": make_user("nemo"),
    }
    rights.grant("start", "claims", user=people["operator"])
    for name in ("participant", "outsider"):
        rights.grant("view", "claims", user=people[name])
    return people


@pytest.fixture
def clients(users, client_for) -> dict[str, Any]:
    return {role: client_for(user) for role, user in users.items()}


def start_case(client, spec_id: str = "claims") -> str:
    response = client.post("/api/v1/cases", {"spec_id": spec_id, "data": {}}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["case_id"]


def enabled_item(client, case_id: str, task_id: str) -> str:
    response = client.get(f"/api/v1/work-items?case={case_id}&state=enabled&task={task_id}")
    assert response.status_code == 200, response.content
    items = response.json()["results"]
    assert items, f"no enabled {task_id} item in case {case_id}"
    return items[0]["id"]
