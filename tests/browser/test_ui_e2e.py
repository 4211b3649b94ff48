"""End to end in real headless Chromium: log in, upload a YAWL file, start a case, work its items from
the inbox until it finishes, and find every step in the audit review.

Screenshots of the diagram, the case page, the inbox and the audit review go to test-artifacts/ui/.
Run by .ci/run (`-m browser`); needs Debian's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "ui"
LEAVE_REQUEST = REPO / "tests" / "data" / "ui" / "leave_request.yawl"
CHROMIUM = os.environ.get("KNHK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture
def page(monkeypatch):
    """A Chromium page (Playwright, the system's chromium binary)."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        context.set_default_timeout(20_000)
        tab = context.new_page()
        yield tab
        context.close()
        browser.close()


def complete_from_inbox(page, task_name: str, fill) -> None:
    """Start the task's item from the inbox, fill its output form, complete it, back to the inbox."""
    page.get_by_role("link", name="Inbox").click()
    row = page.locator("table.inbox tbody tr", has_text=task_name)
    row.get_by_role("button", name=f"Start {task_name}").click()
    page.get_by_role("heading", level=1, name=task_name).wait_for()
    fill(page)
    page.get_by_role("button", name="Complete").click()
    page.get_by_text(f"Completed {task_name}").wait_for()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_upload_start_work_inbox_until_done_and_audit(live_server, page, make_user):
    make_user("alice", "workflow-admin", "operator", "participant", "auditor")
    base = live_server.url

    # Log in (every page needs it).
    page.goto(f"{base}/")
    assert "/accounts/login/" in page.url
    page.get_by_label("User name").fill("alice")
    page.get_by_label("Password").fill("pw-alice")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", level=1, name="Workflows").wait_for()

    # Upload the YAWL file: its diagram appears.
    page.get_by_role("link", name="Upload a YAWL file").click()
    page.get_by_label("Specification file").set_input_files(str(LEAVE_REQUEST))
    page.get_by_role("button", name="Upload and verify").click()
    page.get_by_text("Registered LeaveRequest version 1").wait_for()
    diagram = page.locator("svg.net-diagram").first
    assert diagram.get_attribute("role") == "img"
    for node in ("start", "Submit", "Review", "Book", "Reject", "end"):
        assert diagram.locator(f'g[data-node="{node}"]').count() == 1
    assert diagram.locator('g.decoration.split.xor').count() == 1
    assert "approved='true'" in diagram.locator("text.predicate").first.text_content()
    page.locator(".diagram-panel").first.screenshot(path=str(ARTIFACTS / "diagram.png"))

    # Start a case: the case page shows the token game's first step.
    page.get_by_role("button", name="Start case").click()
    page.get_by_text(re.compile(r"Case .* started\.")).wait_for()
    case_url = page.url
    assert page.locator("#case-state").inner_text() == "running"
    assert "enabled" in page.locator('svg g.task[data-node="Submit"]').get_attribute("class").split()
    page.screenshot(path=str(ARTIFACTS / "case-started.png"), full_page=True)

    # The inbox offers Submit; a wrong value is refused with a message next to the field.
    page.get_by_role("link", name="Inbox").click()
    assert page.locator("table.inbox tbody tr").count() == 1
    page.screenshot(path=str(ARTIFACTS / "inbox.png"), full_page=True)
    row = page.locator("table.inbox tbody tr", has_text="Submit request")
    row.get_by_role("button", name="Start Submit request").click()
    page.get_by_label("reason").fill("family visit")
    page.get_by_role("button", name="Complete").click()
    assert page.get_by_text("This field is required.").is_visible()
    page.get_by_label("days").fill("3")
    page.get_by_role("button", name="Complete").click()
    page.get_by_text("Completed Submit request").wait_for()

    # The case moved on: Review is offered with the submitted data; approve, then book.
    page.goto(case_url)
    assert "enabled" in page.locator('svg g.task[data-node="Review"]').get_attribute("class").split()
    page.screenshot(path=str(ARTIFACTS / "case-running.png"), full_page=True)
    complete_from_inbox(page, "Review request", lambda p: p.get_by_label("approved").select_option("true"))
    complete_from_inbox(page, "Book leave", lambda p: p.get_by_label("note").fill("booked for March"))
    assert page.get_by_text("Nothing to do").is_visible()

    # Finished: state, history and data on the case page.
    page.goto(case_url)
    assert page.locator("#case-state").inner_text() == "completed"
    history = page.locator("ol.timeline").inner_text()
    assert "Case completed" in history
    for task in ("Submit", "Review", "Book"):
        assert f"Work item completed: {task}" in history
    assert '"approved": true' in page.locator("pre.data").inner_text()
    page.screenshot(path=str(ARTIFACTS / "case-completed.png"), full_page=True)

    # Audit review: every step of this case, and the chain verifies.
    case_id = case_url.rstrip("/").rsplit("/", 1)[1]
    page.get_by_role("link", name="Audit").click()
    page.get_by_label("Case id").fill(case_id)
    page.get_by_role("button", name="Filter").click()
    assert "Chain verified" in page.locator("#chain-status").inner_text()
    rows = page.locator("table.audit tbody tr").all_inner_texts()
    for task in ("Submit", "Review", "Book"):
        for action in ("item.enabled", "item.started", "item.completed"):
            assert any(action in row and f"task {task}" in row for row in rows), (action, task, rows)
    assert any("case.completed" in row for row in rows)
    assert page.get_by_role("link", name="CSV").get_attribute("href").startswith("/api/v1/audit/export?format=csv")
    page.screenshot(path=str(ARTIFACTS / "audit.png"), full_page=True)

    # Phone width: the same case page, one column.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(case_url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # wide diagrams scroll inside
    fit = page.get_by_role("button", name="Fit to width").first
    fit.click()
    assert fit.get_attribute("aria-pressed") == "true"
    assert page.locator("svg.net-diagram").first.bounding_box()["width"] <= 390
    page.screenshot(path=str(ARTIFACTS / "case-phone.png"), full_page=True)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_keyboard_reaches_the_main_actions_and_region_toggles(live_server, page, make_user):
    """Skip link, focus order and the cancellation-region toggle work from the keyboard."""
    import json

    from workflows.services import register_spec

    make_user("kim", "workflow-admin", "operator", "participant", "auditor")
    register_spec(json.loads("""{"id": "cancelling", "conditions": [
        {"id": "i", "type": "input", "flows": ["a", "b"]}, {"id": "o", "type": "output"}],
        "tasks": [{"id": "a", "split": "and", "flows": ["o"], "cancels": ["b"]},
                  {"id": "b", "flows": ["o"]}]}"""))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("User name").fill("kim")
    page.get_by_label("Password").fill("pw-kim")
    page.keyboard.press("Enter")
    page.get_by_role("heading", level=1, name="Workflows").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.goto(f"{live_server.url}/ui/workflows/cancelling/")
    region = page.locator("g.cancel-region").first
    assert not region.is_visible()
    toggle = page.get_by_role("button", name="a", exact=True)
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-pressed") == "true"
    assert region.is_visible()
    page.locator(".diagram-panel").first.screenshot(path=str(ARTIFACTS / "diagram-cancellation-region.png"))
    page.keyboard.press("Space")
    assert toggle.get_attribute("aria-pressed") == "false" and not region.is_visible()


@pytest.mark.shared
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_orderfulfillment_diagrams_render_in_the_browser(live_server, page, make_user, shared_dir):
    """The orderfulfillment.yawl nets (shared material, uploaded as is) as the browser shows them."""
    make_user("olaf", "workflow-admin")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("User name").fill("olaf")
    page.get_by_label("Password").fill("pw-olaf")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/ui/workflows/upload/")
    page.get_by_label("Specification file").set_input_files(str(shared_dir / "yawl" / "orderfulfillment.yawl"))
    page.get_by_role("button", name="Upload and verify").click()
    page.get_by_text(re.compile(r"Registered .* version 1")).wait_for()
    diagrams = page.locator("svg.net-diagram")
    assert diagrams.count() == 9
    for index in range(diagrams.count()):
        box = diagrams.nth(index).bounding_box()
        assert box["width"] > 100 and box["height"] > 50
    page.screenshot(path=str(ARTIFACTS / "orderfulfillment.png"), full_page=True)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_case_page_follows_the_case_without_a_reload(live_server, page, make_user):
    """Work done elsewhere (here: through the service) shows up on an open case page by itself."""
    from cases.models import WorkItem
    from cases.services import complete_work_item, start_case
    from workflows.services import import_yawl

    user = make_user("wes", "workflow-admin", "operator", "participant")
    import_yawl(LEAVE_REQUEST.read_bytes())
    case = start_case("LeaveRequest", actor=user).case
    page.goto(f"{live_server.url}/accounts/login/?next=/ui/cases/{case.id}/")
    page.get_by_label("User name").fill("wes")
    page.get_by_label("Password").fill("pw-wes")
    page.get_by_role("button", name="Log in").click()
    review = page.locator('svg g.task[data-node="Review"]')
    assert "enabled" not in review.get_attribute("class").split()

    submit = WorkItem.objects.get(case=case, task_id="Submit")
    complete_work_item(submit.id, {"days": 1}, actor=user)
    page.wait_for_function(
        """() => document.querySelector('svg g.task[data-node="Review"]').classList.contains('enabled')""",
        timeout=15_000,
    )
    assert "Work item completed: Submit" in page.locator("ol.timeline").inner_text()
