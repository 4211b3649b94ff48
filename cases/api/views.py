"""/api/v1/cases and /api/v1/work-items: thin views over cases.services and cases.selectors."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.rights import filter_visible
from cases import selectors, services
from cases.api.serializers import (
    CaseDetail,
    CaseEventOut,
    CaseListQuery,
    CaseSummary,
    CompleteWorkItemRequest,
    EmptyRequest,
    PageQuery,
    StartCaseRequest,
    WorkItemListQuery,
    WorkItemOut,
)
from cases.models import LIVE_ITEM_STATES, CaseState, WorkItemState
from knhk.api.pagination import PageNumberPagination
from knhk.api.schema import ERROR_RESPONSES, error_example, paginated

CASE_ID = "6f1c2c1e-8d4b-4c55-9a43-3f1d2b7c9e10"
ITEM_ID = "0b7e4a52-5d8f-4a8e-b1c6-2e9d7f3a6c21"
ITEM_EXAMPLE = {
    "id": ITEM_ID, "case_id": CASE_ID, "spec_id": "loan-approval", "engine_id": "review#1",
    "task_id": "review", "task_name": "Review application", "net_id": "loan-approval", "state": "enabled",
    "kind": "manual", "roles": ["loan-officer"], "data": {"amount": 5000}, "parent": "",
    "started_by": None, "completed_by": None, "enabled_at": "2026-01-01T12:00:00Z", "started_at": None,
    "completed_at": None, "timer_due_at": None,
}  # fmt: skip
CASE_EXAMPLE = {
    "case_id": CASE_ID, "spec_id": "loan-approval", "version": 1, "state": "running",
    "created_at": "2026-01-01T12:00:00Z", "updated_at": "2026-01-01T12:00:00Z", "completed_at": None,
    "data": {"amount": 5000}, "marking": {"loan-approval:review": 0}, "work_items": [ITEM_EXAMPLE],
}  # fmt: skip


def _parse(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _paginated(request: Request, view: APIView, queryset: Any, serializer_class: type) -> Response:
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def _actor(request: Request) -> Any:
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _case_response(case_id: Any, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(CaseDetail(selectors.case_detail(case_id)).data, status=status_code)


def _started_case_response(result: services.StepResult) -> Response:
    """A new case as its start step wrote it: every live item is one of the step's rows (no re-read)."""
    case = result.case
    case.live_items = sorted((row for row in result.items if row.state in LIVE_ITEM_STATES),
                             key=lambda row: (row.enabled_at, row.engine_id))
    return Response(CaseDetail(case).data, status=status.HTTP_201_CREATED)


def _stepped_item_response(result: services.StepResult, item_id: str) -> Response:
    """The acted-on work item as the step wrote it (its case and spec are already loaded)."""
    row = result.item(services.as_uuid(item_id))
    return Response(WorkItemOut(row if row is not None else selectors.work_item_detail(item_id)).data)


class CaseListView(APIView):
    """GET: cases (filter by spec_id, version, state). POST: start a case."""

    @extend_schema(
        operation_id="cases_list",
        parameters=[
            OpenApiParameter("spec_id", str, description="Cases of this specification."),
            OpenApiParameter("version", int, description="Cases of this specification version."),
            OpenApiParameter("state", str, enum=CaseState.values),
        ],
        responses={200: paginated(CaseSummary(many=True), "CaseSummary"), **ERROR_RESPONSES},
        examples=[OpenApiExample("Cases", response_only=True, value=[
            {k: CASE_EXAMPLE[k] for k in CaseSummary.Meta.fields}])],
    )
    def get(self, request: Request) -> Response:
        query = _parse(CaseListQuery, request.query_params)
        rows = selectors.case_list(spec_id=query.get("spec_id"), state=query.get("state"),
                                   version=query.get("version"))
        rows = filter_visible(rows, request.user, "spec__spec_id")
        return _paginated(request, self, rows, CaseSummary)

    @extend_schema(
        operation_id="cases_start",
        request=StartCaseRequest,
        responses={201: CaseDetail, **ERROR_RESPONSES},
        examples=[
            OpenApiExample("Start a case", request_only=True,
                           value={"spec_id": "loan-approval", "data": {"amount": 5000}}),
            OpenApiExample("Started", response_only=True, status_codes=["201"], value=CASE_EXAMPLE),
            error_example("Unknown specification", "not_found", "No workflow 'nope'.", status_code="404"),
        ],
    )
    def post(self, request: Request) -> Response:
        body = _parse(StartCaseRequest, request.data)
        result = services.start_case(body["spec_id"], body["data"], version=body.get("version"),
                                     actor=_actor(request))
        return _started_case_response(result)


class CaseDetailView(APIView):
    @extend_schema(
        operation_id="cases_retrieve",
        responses={200: CaseDetail, **ERROR_RESPONSES},
        examples=[OpenApiExample("Case", response_only=True, value=CASE_EXAMPLE)],
    )
    def get(self, request: Request, case_id: str) -> Response:
        return _case_response(case_id)


CASE_ACTIONS = {
    "cancel": services.cancel_case,
    "suspend": services.suspend_case,
    "resume": services.resume_case,
}


def _case_action_view(action: str) -> type[APIView]:
    """POST /cases/{id}/<action>: cancel, suspend or resume a case."""
    target_state = {"cancel": "cancelled", "suspend": "suspended", "resume": "running"}[action]

    class CaseActionView(APIView):
        @extend_schema(
            operation_id=f"cases_{action}",
            request=EmptyRequest,
            responses={200: CaseDetail, **ERROR_RESPONSES},
            examples=[
                OpenApiExample(f"{action.capitalize()}ed", response_only=True,
                               value={**CASE_EXAMPLE, "state": target_state}),
                error_example("State conflict", "conflict", f"Cannot {action} case {CASE_ID}: it is completed.",
                              {"case_id": CASE_ID, "case_state": "completed"}, status_code="409"),
            ],
            description=f"{action.capitalize()} the case; 409 when its state does not allow it.",
        )
        def post(self, request: Request, case_id: str) -> Response:
            _parse(EmptyRequest, request.data or {})
            CASE_ACTIONS[action](case_id, actor=_actor(request))
            return _case_response(case_id)

    CaseActionView.__name__ = f"Case{action.capitalize()}View"
    CaseActionView.__qualname__ = CaseActionView.__name__
    return CaseActionView


CaseCancelView = _case_action_view("cancel")
CaseSuspendView = _case_action_view("suspend")
CaseResumeView = _case_action_view("resume")


class CaseHistoryView(APIView):
    @extend_schema(
        operation_id="cases_history",
        responses={200: paginated(CaseEventOut(many=True), "CaseEvent"), **ERROR_RESPONSES},
        examples=[OpenApiExample("History", response_only=True, value=[
            {"seq": 1, "kind": "net_started", "task_id": "", "net_id": "loan-approval", "work_item": "",
             "payload": {}, "actor": "", "at": "2026-01-01T12:00:00Z"},
            {"seq": 2, "kind": "item_enabled", "task_id": "review", "net_id": "loan-approval",
             "work_item": "review#1", "payload": {}, "actor": "", "at": "2026-01-01T12:00:00Z"},
        ])],
    )
    def get(self, request: Request, case_id: str) -> Response:
        _parse(PageQuery, request.query_params)
        return _paginated(request, self, selectors.case_history(case_id), CaseEventOut)


class WorkItemListView(APIView):
    @extend_schema(
        operation_id="work_items_list",
        parameters=[
            OpenApiParameter("case", str, description="Work items of this case (UUID)."),
            OpenApiParameter("state", str, enum=WorkItemState.values),
            OpenApiParameter("task", str, description="Work items of this task id."),
            OpenApiParameter("kind", str, description="manual, automated, composite or mi."),
        ],
        responses={200: paginated(WorkItemOut(many=True), "WorkItem"), **ERROR_RESPONSES},
        examples=[OpenApiExample("Work items", response_only=True, value=[ITEM_EXAMPLE])],
    )
    def get(self, request: Request) -> Response:
        query = _parse(WorkItemListQuery, request.query_params)
        rows = selectors.work_item_list(case_id=query.get("case"), state=query.get("state"),
                                        task=query.get("task"), kind=query.get("kind"))
        rows = filter_visible(rows, request.user, "case__spec__spec_id")
        return _paginated(request, self, rows, WorkItemOut)


class WorkItemDetailView(APIView):
    @extend_schema(
        operation_id="work_items_retrieve",
        responses={200: WorkItemOut, **ERROR_RESPONSES},
        examples=[OpenApiExample("Work item", response_only=True, value=ITEM_EXAMPLE)],
    )
    def get(self, request: Request, item_id: str) -> Response:
        return Response(WorkItemOut(selectors.work_item_detail(item_id)).data)


class WorkItemStartView(APIView):
    @extend_schema(
        operation_id="work_items_start",
        request=EmptyRequest,
        responses={200: WorkItemOut, **ERROR_RESPONSES},
        examples=[
            OpenApiExample("Started", response_only=True, value={**ITEM_EXAMPLE, "state": "started"}),
            error_example("Not enabled", "conflict", f"Cannot start work item {ITEM_ID}: it is completed.",
                          {"work_item_id": ITEM_ID, "state": "completed"}, status_code="409"),
        ],
    )
    def post(self, request: Request, item_id: str) -> Response:
        _parse(EmptyRequest, request.data or {})
        result = services.start_work_item(item_id, actor=_actor(request), by_person=True)
        return _stepped_item_response(result, item_id)


class WorkItemCompleteView(APIView):
    @extend_schema(
        operation_id="work_items_complete",
        request=CompleteWorkItemRequest,
        responses={200: WorkItemOut, **ERROR_RESPONSES},
        examples=[
            OpenApiExample("Complete with data", request_only=True, value={"data": {"approved": True}}),
            OpenApiExample("Completed", response_only=True,
                           value={**ITEM_EXAMPLE, "state": "completed", "data": {"approved": True},
                                  "completed_at": "2026-01-01T12:05:00Z"}),
            error_example("Already completed", "conflict", f"Cannot complete work item {ITEM_ID}: it is completed.",
                          {"work_item_id": ITEM_ID, "state": "completed"}, status_code="409"),
        ],
        description="Completes the item (starting it first if it is only enabled); its data is merged "
                    "into the case data and the case advances before the answer.",
    )
    def post(self, request: Request, item_id: str) -> Response:
        body = _parse(CompleteWorkItemRequest, request.data or {})
        result = services.complete_work_item(item_id, body["data"], actor=_actor(request), by_person=True)
        return _stepped_item_response(result, item_id)


class PatternListView(APIView):
    """The 43 workflow control-flow patterns (Russell et al. 2006 numbering) and how KNHK runs each."""

    @extend_schema(
        operation_id="patterns_list",
        responses={200: paginated(serializers.ListSerializer(child=serializers.DictField()), "Pattern")},
        examples=[OpenApiExample("Patterns", response_only=True, value=[
            {"number": 1, "name": "Sequence", "supported": True}])],
    )
    def get(self, request: Request) -> Response:
        _parse(PageQuery, request.query_params)
        from knhk.api.patterns import pattern_rows

        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(pattern_rows(), request, view=self)
        return paginator.get_paginated_response(page)
