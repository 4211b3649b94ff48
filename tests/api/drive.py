"""Drive a case to its end over the HTTP API: start or complete whatever work is offered."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

Request = Callable[..., Any]  # (method, path, json=None) -> (status, body)

FINISHED = {"completed", "cancelled", "failed", "deadlocked"}


def drive_case(call: Request, case_id: str, *, max_steps: int = 500, idle_timeout: float = 30.0,
               output: Callable[[dict[str, Any]], dict[str, Any]] = lambda item: {},
               skip: Callable[[dict[str, Any]], bool] = lambda item: False) -> dict[str, Any]:
    """Start each offered MI/composite item, complete each offered manual item, until the case ends.

    Automated items are left to the workers; while only they remain, wait up to `idle_timeout`.
    `skip(item)`: items a person leaves alone (the other side of a choice). Returns the final case.
    """
    idle_since: float | None = None
    for _ in range(max_steps):
        status, case = call("GET", f"/api/v1/cases/{case_id}")
        assert status == 200, case
        if case["state"] in FINISHED:
            return case
        offered = [item for item in case["work_items"]
                   if item["state"] == "enabled" and item["kind"] != "automated" and not skip(item)]
        if not offered:
            idle_since = idle_since or time.monotonic()
            assert time.monotonic() - idle_since < idle_timeout, f"case stuck: {case}"
            time.sleep(0.1)
            continue
        idle_since = None
        item = offered[0]
        if item["kind"] in ("mi", "composite"):
            status, body = call("POST", f"/api/v1/work-items/{item['id']}/start", {})
        else:
            status, body = call("POST", f"/api/v1/work-items/{item['id']}/complete", {"data": output(item)})
        assert status == 200, (item, body)
    raise AssertionError(f"case {case_id} did not finish in {max_steps} steps")
