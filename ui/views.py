"""The browser pages: thin views over the platform's selectors (reads) and services (writes).

Every page needs a session login; what a user may see or do is asked of `ui.access` (the security
layer's helpers). Failures of a service (a conflict, a bad document) come back as messages on the page.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from audit.chain import verify_chain
from audit.context import set_actor
from audit.selectors import audit_records
from cases import selectors as case_selectors
from cases import services as case_services
from cases.models import LIVE_ITEM_STATES, CaseState, WorkItemState
from knhk.api.errors import ApiError
from knhk.api.limits import MAX_BODY_DEPTH
from knhk.engine.spec import SpecError
from knhk.engine.verify import verify
from ui import access
from ui.forms import AuditFilterForm, CaseFilterForm, OutputForm, StartCaseForm, UploadForm, parse_json
from workflows import selectors as spec_selectors
from workflows import services as spec_services
from workflows.diagram import CaseOverlay, spec_diagrams

PAGE_SIZE = 50
PERSON_KINDS = ("manual", "mi", "composite")  # work item kinds people do (automated items run on workers)
CONTAINER_KINDS = ("mi", "composite")  # started by a person, then complete by themselves (no completion form)


def ui_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; the user is the audit actor; a refusal renders the error page (403/404)."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        set_actor(request.user)
        try:
            return view(request, *args, **kwargs)
        except access.Denied as denied:
            return render(request, "ui/error.html", {"message": denied.message, "status": denied.status},
                          status=denied.status)  # fmt: skip
        except ApiError as error:
            if error.status_code == 404:
                return render(request, "ui/error.html", {"message": str(error.detail), "status": 404}, status=404)
            raise

    return wrapper


def _page(request: HttpRequest, queryset: Any) -> Any:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    return urlencode([(key, value) for key, value in request.GET.items() if key != "page" and value])


def _event_label(kind: str) -> str:
    """`item_enabled` -> "Work item enabled", `case_completed` -> "Case completed"."""
    subject, _, what = kind.partition("_")
    subject = {"item": "Work item", "case": "Case", "net": "Net", "timer": "Timer"}.get(subject, subject.title())
    return f"{subject} {what.replace('_', ' ')}".strip()


def _error_messages(error: ApiError) -> list[str]:
    details = error.details if isinstance(error.details, dict) else {}
    listed = details.get("errors") or []
    return [str(message) for message in listed] or [str(error.detail)]


# --------------------------------------------------------------------------- workflows


@ui_view
def workflow_list(request: HttpRequest) -> HttpResponse:
    """Every visible specification with its versions (the newest first)."""
    rows = access.visible(spec_selectors.spec_list(all_versions=True), request.user, "spec_id")
    workflows: dict[str, list[Any]] = {}
    for row in rows:
        workflows.setdefault(row.spec_id, []).append(row)
    return render(request, "ui/workflow_list.html", {
        "workflows": [{"latest": versions[0], "versions": versions} for versions in workflows.values()],
        "may_register": access.may_register(request.user),
    })  # fmt: skip


@ui_view
def workflow_detail(request: HttpRequest, spec_id: str, version: int | None = None) -> HttpResponse:
    """One version's diagrams, verifier warnings, versions, cases and the start form."""
    access.require_view(request.user, spec_id)
    spec = spec_selectors.spec_detail(spec_id, version)
    may_start = access.may_operate(request.user, spec_id)
    form = StartCaseForm(request.POST or None) if may_start else None
    if request.method == "POST":
        access.require_operate(request.user, spec_id, "start cases of this workflow")
        if form.is_valid():
            try:
                result = case_services.start_case(spec_id, form.cleaned_data["data"], version=spec.version,
                                                  actor=request.user)  # fmt: skip
            except ApiError as error:
                form.add_error("data", _error_messages(error))
            else:
                messages.success(request, f"Case {result.case.id} started.")
                return redirect("ui:case-detail", case_id=result.case.id)
    return render(request, "ui/workflow_detail.html", {
        "spec": spec,
        "diagrams": spec_diagrams(spec.spec),
        "problems": verify(spec.spec),
        "versions": spec_selectors.spec_versions(spec_id),
        "case_counts": sorted(spec_selectors.case_counts(spec).items()),
        "start_form": form,
    }, status=400 if request.method == "POST" else 200)  # fmt: skip (a POST that got here was refused)


@ui_view
def workflow_diagram_svg(request: HttpRequest, spec_id: str, version: int, net_index: int) -> HttpResponse:
    """One net's diagram as a standalone SVG file."""
    access.require_view(request.user, spec_id)
    spec = spec_selectors.spec_detail(spec_id, version)
    diagrams = spec_diagrams(spec.spec)
    if not 0 <= net_index < len(diagrams):
        raise access.Denied(404, f"Workflow {spec_id!r} version {version} has no net #{net_index}.")
    return HttpResponse(diagrams[net_index].svg, content_type="image/svg+xml")


def _read_upload(upload: Any) -> tuple[dict[str, Any] | None, bytes, list[str]]:
    """The uploaded document (a JSON spec parsed here; YAWL is converted by the service) or errors."""
    data = upload.read()
    if not upload.name.lower().endswith(".json"):
        return None, data, []
    try:
        document = parse_json(data.decode("utf-8-sig"), limit=MAX_BODY_DEPTH)
    except UnicodeDecodeError as exc:
        return None, data, [f"{upload.name} is not UTF-8 text: {exc}"]
    except ValueError as exc:
        return None, data, [f"{upload.name}: {exc}"]
    if isinstance(document, dict) and isinstance(document.get("spec"), dict):
        document = document["spec"]
    return document, data, []


def _diagrams_of_rejected(document: dict[str, Any] | None, data: bytes) -> list[Any]:
    """Diagrams of a document that did not register, when it is at least well-formed."""
    if document is None:
        from knhk.engine.importers.yawl import import_yawl_bytes

        try:
            document = import_yawl_bytes(data)
        except (ValueError, SyntaxError):
            return []
    try:
        return spec_diagrams(document)
    except (SpecError, ValueError, TypeError):
        return []


@ui_view
def workflow_upload(request: HttpRequest) -> HttpResponse:
    """Register a YAWL or JSON file; when it does not verify, its diagram is shown beside the messages."""
    access.require_register(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "errors": [], "diagrams": []}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        document, data, errors = _read_upload(upload)
        if errors:
            context["errors"] = errors
        else:
            try:
                registration = (spec_services.register_spec(document) if document is not None
                                else spec_services.import_yawl(data))  # fmt: skip
            except ApiError as error:
                context["errors"] = _error_messages(error)
                context["diagrams"] = _diagrams_of_rejected(document, data)
            else:
                row = registration.spec
                messages.success(request, f"Registered {row.spec_id} version {row.version}.")
                for warning in registration.warnings:
                    messages.warning(request, warning)
                return redirect("ui:workflow-version", spec_id=row.spec_id, version=row.version)
    status = 400 if request.method == "POST" else 200  # a POST that got here was refused
    return render(request, "ui/workflow_upload.html", context, status=status)


# --------------------------------------------------------------------------- cases


@ui_view
def case_list(request: HttpRequest) -> HttpResponse:
    visible_specs = access.visible(spec_selectors.spec_list(), request.user, "spec_id")
    form = CaseFilterForm(request.GET or None, workflow_ids=[row.spec_id for row in visible_specs])
    filters = form.cleaned_data if form.is_valid() else {}
    cases = case_selectors.case_list(spec_id=filters.get("workflow") or None, state=filters.get("state") or None,
                                     version=filters.get("version"))  # fmt: skip
    cases = access.visible(cases, request.user, "spec__spec_id")
    return render(request, "ui/case_list.html", {
        "form": form, "page": _page(request, cases), "query": _query_without_page(request),
    })  # fmt: skip


def _case_context(request: HttpRequest, case_id: Any) -> dict[str, Any]:
    case = case_selectors.case_detail(case_id)
    spec_id = case.spec.spec_id
    access.require_view(request.user, spec_id)
    spec_document = spec_selectors.spec_detail(spec_id, case.spec.version).spec
    overlay = CaseOverlay(case.marking or {}, [(item.net_id, item.task_id, item.state) for item in case.live_items])
    may_operate = access.may_operate(request.user, spec_id)
    return {
        "case": case,
        "diagrams": spec_diagrams(spec_document, overlay, prefix="case"),
        "items": [
            {"item": item, "may_work": item.kind in PERSON_KINDS and access.may_work_on(request.user, spec_id, item.roles)}
            for item in case.live_items
        ],
        "history": [(event, _event_label(event.kind)) for event in case_selectors.case_history(case.id)],
        "data_json": json.dumps(case.data, indent=2, sort_keys=True, ensure_ascii=False),
        "may_suspend": may_operate and case.state == CaseState.RUNNING,
        "may_resume": may_operate and case.state == CaseState.SUSPENDED,
        "may_cancel": may_operate and case.state in (CaseState.RUNNING, CaseState.SUSPENDED),
    }


@ui_view
def case_detail(request: HttpRequest, case_id: Any) -> HttpResponse:
    return render(request, "ui/case_detail.html", _case_context(request, case_id))


CASE_ACTIONS = {
    "suspend": (case_services.suspend_case, "suspended"),
    "resume": (case_services.resume_case, "resumed"),
    "cancel": (case_services.cancel_case, "cancelled"),
}


@require_POST
@ui_view
def case_action(request: HttpRequest, case_id: Any, action: str) -> HttpResponse:
    """Suspend, resume or cancel a case (POST from the case page)."""
    if action not in CASE_ACTIONS:
        raise access.Denied(404, f"Unknown case action {action!r}.")
    case = case_selectors.case_detail(case_id)
    access.require_operate(request.user, case.spec.spec_id, f"{action} cases of this workflow")
    service, done = CASE_ACTIONS[action]
    try:
        service(case.id, actor=request.user)
    except ApiError as error:
        messages.error(request, str(error.detail))
    else:
        messages.success(request, f"Case {done}.")
    return redirect("ui:case-detail", case_id=case.id)


# --------------------------------------------------------------------------- work items


@ui_view
def inbox(request: HttpRequest) -> HttpResponse:
    """Live work items of running cases that this user may work on (their roles, their workflows)."""
    items = case_selectors.work_item_list().filter(state__in=LIVE_ITEM_STATES, kind__in=PERSON_KINDS,
                                                   case__state=CaseState.RUNNING)  # fmt: skip
    items = access.visible(items, request.user, "case__spec__spec_id")
    allowed: dict[tuple[str, tuple[str, ...]], bool] = {}
    offered = []
    for item in items:
        key = (item.case.spec.spec_id, tuple(item.roles or ()))
        if key not in allowed:
            allowed[key] = access.may_work_on(request.user, key[0], list(key[1]))
        if allowed[key]:
            offered.append(item)
    return render(request, "ui/inbox.html", {"items": offered})


def _item_for_work(request: HttpRequest, item_id: Any) -> Any:
    item = case_selectors.work_item_detail(item_id)
    access.require_work_item(request.user, item.case.spec.spec_id, item.roles)
    return item


def _declared_outputs(item: Any) -> list[dict[str, Any]] | None:
    task = case_services.task_definition(item.case.spec, item.net_id, item.task_id)
    return task.get("outputs")


CONTAINER_MESSAGES = {
    "mi": ("A multiple-instance task is not completed itself: start it, then complete each of its "
           "instances; it completes when enough of them have."),
    "composite": ("A composite task is not completed itself: start it to run its subnet; it completes when "
                  "the subnet does."),
}


def _container_page(request: HttpRequest, item: Any) -> HttpResponse:
    """A multiple-instance parent or a composite item: start it, then follow its instances or its subnet's
    work items (no completion form: the engine completes it)."""
    if item.kind == "mi":
        rows = case_selectors.work_item_list(case_id=item.case_id).filter(parent_engine_id=item.engine_id)
    else:
        subnet = case_services.task_definition(item.case.spec, item.net_id, item.task_id).get("subnet")
        rows = case_selectors.work_item_list(case_id=item.case_id).filter(
            state__in=LIVE_ITEM_STATES, net_id=subnet) if item.state == WorkItemState.STARTED else []
    live = item.case.state == CaseState.RUNNING
    return render(request, "ui/work_item.html", {
        "item": item, "form": None, "container": item.kind,
        "may_start": live and item.state == WorkItemState.ENABLED,
        "instances": [{"item": row, "may_work": row.state in LIVE_ITEM_STATES and row.kind in PERSON_KINDS
                       and access.may_work_on(request.user, item.case.spec.spec_id, row.roles)} for row in rows],
        "container_error": CONTAINER_MESSAGES[item.kind] if request.method == "POST" else "",
        "input_json": json.dumps(item.data, indent=2, sort_keys=True, ensure_ascii=False),
    }, status=400 if request.method == "POST" else 200)  # fmt: skip


@ui_view
def work_item(request: HttpRequest, item_id: Any) -> HttpResponse:
    """A work item: its input data and the completion form built from the task's declared outputs."""
    item = _item_for_work(request, item_id)
    if item.kind in CONTAINER_KINDS:
        return _container_page(request, item)
    form = OutputForm(_declared_outputs(item), request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = case_services.complete_work_item(item.id, form.output_data(), actor=request.user)
        except ApiError as error:
            form.add_error(None, _error_messages(error))
        else:
            messages.success(request, f"Completed {item.task_name or item.task_id}; case is {result.case.state}.")
            return redirect("ui:inbox")
    live = item.state in LIVE_ITEM_STATES and item.case.state == CaseState.RUNNING
    return render(request, "ui/work_item.html", {
        "item": item, "form": form if live else None,
        "input_json": json.dumps(item.data, indent=2, sort_keys=True, ensure_ascii=False),
    }, status=400 if form.errors else 200)  # fmt: skip


@require_POST
@ui_view
def work_item_start(request: HttpRequest, item_id: Any) -> HttpResponse:
    item = _item_for_work(request, item_id)
    try:
        case_services.start_work_item(item.id, actor=request.user)
    except ApiError as error:
        messages.error(request, str(error.detail))
        return redirect("ui:inbox")
    if item.kind == "mi":
        created = case_selectors.work_item_list(case_id=item.case_id).filter(parent_engine_id=item.engine_id).count()
        messages.success(request, f"Started {item.task_name or item.task_id}: {created} instance(s) offered.")
    elif item.kind == "composite":
        messages.success(request, f"Started {item.task_name or item.task_id}: its subnet runs.")
        return redirect("ui:case-detail", case_id=item.case_id)
    else:
        messages.success(request, f"Started {item.task_name or item.task_id}.")
    return redirect("ui:work-item", item_id=item.id)


# --------------------------------------------------------------------------- audit


@ui_view
def audit_review(request: HttpRequest) -> HttpResponse:
    """The audit log, newest first, with filters, the chain's verification and export links."""
    access.require_audit(request.user)
    form = AuditFilterForm(request.GET or None)
    records = audit_records(**form.selector_kwargs(), newest_first=True) if form.is_valid() else audit_records(
        newest_first=True
    )
    query = _query_without_page(request) if form.is_valid() else ""
    export = reverse("audit-export")
    page = _page(request, records)
    return render(request, "ui/audit.html", {
        "form": form,
        "page": page,
        "rows": [(record, json.dumps(record.data, ensure_ascii=False, sort_keys=True) if record.data else "")
                 for record in page.object_list],
        "query": query,
        "chain": verify_chain(),
        "export_csv": f"{export}?{urlencode({'format': 'csv'})}{'&' + query if query else ''}",
        "export_json": f"{export}?{urlencode({'format': 'json'})}{'&' + query if query else ''}",
    })  # fmt: skip


def home(request: HttpRequest) -> HttpResponse:
    return redirect("ui:workflow-list")
