"""An automated item whose task ran while its case was suspended is not lost: resume queues it again.

Found by the nothing-lost replay (tests/reliability/test_nothing_lost.py): the worker skips an
automated item of a suspended case, and resume used to enqueue nothing, so the item stayed enabled
for ever.
"""

from __future__ import annotations

from unittest import mock

import pytest

from tests.api.helpers import register, start_case

pytestmark = pytest.mark.django_db

SPEC = {
    "id": "suspend-auto",
    "conditions": [{"id": "i", "type": "input", "flows": ["A"]}, {"id": "o", "type": "output"}],
    "tasks": [
        {"id": "A", "flows": ["auto"]},
        {"id": "auto", "kind": "automated", "flows": ["o"],
         "connector": {"name": "echo", "config": {"output": {"done": True}}}},
    ],
}  # fmt: skip


def test_automated_item_skipped_while_suspended_runs_after_resume(api_client) -> None:
    from cases.tasks import run_automated_item

    register(api_client, SPEC)
    case = start_case(api_client, "suspend-auto")
    case_path = f"/api/v1/cases/{case['case_id']}"
    (first,) = case["work_items"]
    with mock.patch("cases.tasks.run_automated_item.delay") as queued:  # the worker is busy for now
        response = api_client.post(f"/api/v1/work-items/{first['id']}/complete", {"data": {}}, format="json")
        assert response.status_code == 200, response.content
    (item_id,) = queued.call_args.args
    assert api_client.post(f"{case_path}/suspend", {}, format="json").status_code == 200

    assert run_automated_item.apply(args=(item_id,)).get() == "skipped"  # the worker gets to it now

    assert api_client.post(f"{case_path}/resume", {}, format="json").status_code == 200
    final = api_client.get(case_path).json()
    assert final["state"] == "completed", final
    assert final["data"]["done"] is True
    history = api_client.get(f"{case_path}/history?page_size=500").json()["results"]
    assert [e["kind"] for e in history].count("item_completed") == 2
