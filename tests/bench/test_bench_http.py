"""The HTTP benchmark's pure parts: its workflow, its percentile, and what it reports when it cannot run."""

from __future__ import annotations

from bench import http
from knhk.engine import get_executor


def test_bench_workflow_offers_a_manual_item_then_an_automated_one():
    case = get_executor(http.bench_spec()).start_case("c1", {"amount": 1})
    [review] = case.items.values()
    assert (review.task, review.kind) == ("review", "manual")
    case.start(review.id)
    case.complete(review.id, {"approved": True})
    [notify] = case.items.values()
    assert (notify.task, notify.kind) == ("notify", "automated")
    assert case.data["approved"] is True


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert http.percentile(values, 50) == 50.0
    assert http.percentile(values, 95) == 95.0
    assert http.percentile(values, 99) == 99.0
    assert http.percentile([7.0], 99) == 7.0


def test_missing_prerequisites_give_skipped_rows(monkeypatch):
    monkeypatch.setattr(http, "missing_prerequisite", lambda: "wrk is not installed")
    rows, facts = http.run(http.Durations())
    assert facts == {}
    assert rows and all(r.value is None and r.met is False and "skipped: wrk is not installed" in r.note for r in rows)


def test_wrk_script_reports_a_json_summary():
    script = http.LUA.read_text()
    assert "BENCH_JSON" in script and "function done" in script
