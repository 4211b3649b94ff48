"""/api/v1/incidents: the dead letter queue, and the operator's retry, skip and cancel."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import rights
from incidents import services
from incidents.api.serializers import IncidentActionRequest, IncidentListQuery, IncidentOut
from incidents.models import Incident, IncidentState
from knhk.api.errors import NotFound
from knhk.api.pagination import PageNumberPagination
from knhk.api.schema import ERROR_RESPONSES, error_example, paginated

INCIDENT_ID = "3d4f8a9e-1b2c-4d5e-8f90-a1b2c3d4e5f6"
INCIDENT_EXAMPLE = {
    "id": INCIDENT_ID, "state": "open", "workflow_id": "order-fulfilment",
    "case_id": "6f1c2c1e-8d4b-4c55-9a43-3f1d2b7c9e10", "work_item_id": "0b7e4a52-5d8f-4a8e-b1c6-2e9d7f3a6c21",
    "task_id": "charge_card", "connector": "http",
    "error": "POST https://payments/charge answered 503: unavailable", "attempts": 4, "resolution": "",
    "resolved_by": None, "created_at": "2026-01-01T12:00:00Z", "updated_at": "2026-01-01T12:00:00Z",
    "resolved_at": None,
}  # fmt: skip


class OperatorAccess:
    """Mixin: incidents are for operators (the operate-cases capability), on top of the API's default;
    each incident also needs the right on its workflow (view to see it, start to act on it)."""

    def check_permissions(self, request: Request) -> None:
        super().check_permissions(request)
        if rights.checks_enabled():
            rights.require_capability(request.user, rights.OPERATE_CASES, "handle incidents")


def _actor(request: Request) -> Any:
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _incident(incident_id: Any, request: Request, right: str = "view") -> Incident:
    """The incident, if the caller holds `right` on its workflow (404 when they may not see it)."""
    incident = Incident.objects.select_related("resolved_by").filter(pk=incident_id).first()
    if incident is None or not rights.has_right(request.user, "view", incident.workflow_id):
        raise NotFound(f"No incident {incident_id}.")
    rights.require_right(request.user, right, incident.workflow_id, f"{right} incidents of this workflow")
    return incident


class IncidentListView(OperatorAccess, APIView):
    @extend_schema(
        operation_id="incidents_list",
        parameters=[
            OpenApiParameter("state", str, enum=IncidentState.values, description="open = the dead letter queue."),
            OpenApiParameter("workflow_id", str), OpenApiParameter("case", str, description="Case UUID."),
        ],
        responses={200: paginated(IncidentOut(many=True), "Incident"), **ERROR_RESPONSES},
        examples=[OpenApiExample("Dead letter queue", response_only=True, value=[INCIDENT_EXAMPLE])],
    )
    def get(self, request: Request) -> Response:
        query = IncidentListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = rights.filter_visible(Incident.objects.select_related("resolved_by"), request.user, "workflow_id")
        if "state" in query.validated_data:
            rows = rows.filter(state=query.validated_data["state"])
        if "workflow_id" in query.validated_data:
            rows = rows.filter(workflow_id=query.validated_data["workflow_id"])
        if "case" in query.validated_data:
            rows = rows.filter(case_id=query.validated_data["case"])
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(IncidentOut(page, many=True).data)


class IncidentDetailView(OperatorAccess, APIView):
    @extend_schema(operation_id="incidents_retrieve", responses={200: IncidentOut, **ERROR_RESPONSES},
                   examples=[OpenApiExample("Incident", response_only=True, value=INCIDENT_EXAMPLE)])
    def get(self, request: Request, incident_id: str) -> Response:
        return Response(IncidentOut(_incident(incident_id, request)).data)


ACTIONS = {
    "retry": ("Run the connector again; `data` (optional) is merged into the work item's input data first.",
              "retrying"),
    "skip": ("Complete the work item with `data` as its output; the case advances.", "skipped"),
    "cancel": ("Cancel the incident's case.", "cancelled"),
}


def _action_view(action: str) -> type[APIView]:
    description, new_state = ACTIONS[action]

    class IncidentActionView(OperatorAccess, APIView):
        @extend_schema(
            operation_id=f"incidents_{action}",
            request=IncidentActionRequest,
            responses={200: IncidentOut, **ERROR_RESPONSES},
            description=description + " 409 unless the incident is open and its work item and case still run.",
            examples=[
                OpenApiExample(f"{action} request", request_only=True,
                               value={"data": {"card": "4111-corrected"}} if action != "cancel" else {}),
                OpenApiExample(f"{action} answer", response_only=True, value={**INCIDENT_EXAMPLE, "state": new_state}),
                error_example("Not open", "conflict", f"Cannot {action} incident {INCIDENT_ID}: it is resolved.",
                              {"incident_id": INCIDENT_ID, "state": "resolved"}, status_code="409"),
            ],
        )
        def post(self, request: Request, incident_id: str) -> Response:
            body = IncidentActionRequest(data=request.data or {})
            body.is_valid(raise_exception=True)
            data = body.validated_data.get("data")
            _incident(incident_id, request, "start")
            if action == "retry":
                services.retry_incident(incident_id, data, actor=_actor(request))
            elif action == "skip":
                services.skip_incident(incident_id, data, actor=_actor(request))
            else:
                services.cancel_incident(incident_id, actor=_actor(request))
            return Response(IncidentOut(_incident(incident_id, request)).data)

    IncidentActionView.__name__ = IncidentActionView.__qualname__ = f"Incident{action.capitalize()}View"
    return IncidentActionView


IncidentRetryView = _action_view("retry")
IncidentSkipView = _action_view("skip")
IncidentCancelView = _action_view("cancel")
