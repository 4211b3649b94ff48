"""Helpers for API tests: register the shipped examples, drive work items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def register(client, spec: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/workflows", {"spec": spec}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def start_case(client, spec_id: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post("/api/v1/cases", {"spec_id": spec_id, "data": data or {}}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def live_items(client, case_id: str, state: str = "enabled") -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/work-items?case={case_id}&state={state}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def item_by_task(client, case_id: str, task_id: str) -> dict[str, Any]:
    items = [item for item in live_items(client, case_id) if item["task_id"] == task_id]
    assert items, f"no enabled work item of task {task_id!r}"
    return items[0]


def complete(client, item_id: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post(f"/api/v1/work-items/{item_id}/complete", {"data": data or {}}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def case(client, case_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/cases/{case_id}")
    assert response.status_code == 200, response.content
    return response.json()
