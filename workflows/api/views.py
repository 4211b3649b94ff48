"""/api/v1/workflows: register (JSON or YAWL), list, detail, delete."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.rights import filter_visible
from knhk.api.errors import BadRequest
from knhk.api.pagination import PageNumberPagination
from knhk.api.schema import ERROR_RESPONSES, error_example, paginated
from workflows import selectors, services
from workflows.api.serializers import (
    ImportSpecRequest,
    RegisteredSpecResponse,
    RegisterSpecRequest,
    SpecDetail,
    SpecListQuery,
    SpecSummary,
    VersionQuery,
)

EXAMPLE_SPEC = {
    "id": "workflow-123",
    "name": "Example Workflow",
    "conditions": [
        {"id": "start", "type": "input", "flows": ["review"]},
        {"id": "end", "type": "output"},
    ],
    "tasks": [{"id": "review", "name": "Review", "flows": ["end"]}],
}
REGISTERED_EXAMPLE = {
    "spec_id": "workflow-123", "version": 1, "name": "Example Workflow",
    "content_hash": "9f2c…", "source_format": "json", "created_at": "2026-01-01T12:00:00Z", "warnings": [],
}  # fmt: skip


def _registered(registration: services.Registration) -> Response:
    row = registration.spec
    row.warnings = registration.warnings
    return Response(RegisteredSpecResponse(row).data, status=status.HTTP_201_CREATED)


class WorkflowListView(APIView):
    """GET: the registered specifications. POST: register one (a new version if the id exists)."""

    @extend_schema(
        operation_id="workflows_list",
        parameters=[
            OpenApiParameter("spec_id", str, description="Only this specification id."),
            OpenApiParameter("all_versions", bool, description="Every version, not just the latest."),
        ],
        responses={200: paginated(SpecSummary(many=True), "SpecSummary"), **ERROR_RESPONSES},
        examples=[OpenApiExample("Specifications", response_only=True, value=[
            {k: v for k, v in REGISTERED_EXAMPLE.items() if k != "warnings"}])],
    )
    def get(self, request: Request) -> Response:
        query = SpecListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.spec_list(spec_id=query.validated_data.get("spec_id"),
                                   all_versions=query.validated_data["all_versions"])
        rows = filter_visible(rows, request.user)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(SpecSummary(page, many=True).data)

    @extend_schema(
        operation_id="workflows_register",
        request=RegisterSpecRequest,
        responses={201: RegisteredSpecResponse, **ERROR_RESPONSES},
        examples=[
            OpenApiExample("Register a specification", request_only=True, value={"spec": EXAMPLE_SPEC}),
            OpenApiExample("Registered", response_only=True, status_codes=["201"], value=REGISTERED_EXAMPLE),
            error_example("Invalid specification", "invalid_spec",
                          "The specification does not verify: net workflow-123: must have exactly one input "
                          "condition, found 0", {"errors": ["net workflow-123: must have exactly one input "
                                                            "condition, found 0"]}, status_code="400"),
        ],
    )
    def post(self, request: Request) -> Response:
        body = RegisterSpecRequest(data=request.data)
        body.is_valid(raise_exception=True)
        return _registered(services.register_spec(body.validated_data["spec"]))


class RawXmlParser(parsers.BaseParser):
    """The raw request body of an XML upload, as bytes."""

    media_type = "application/xml"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return stream.read() if stream is not None else b""


class TextXmlParser(RawXmlParser):
    media_type = "text/xml"


class WorkflowImportView(APIView):
    """POST a YAWL file (raw XML body or multipart `file`); answers like the JSON registration."""

    parser_classes = [RawXmlParser, TextXmlParser, parsers.MultiPartParser]

    @extend_schema(
        operation_id="workflows_import",
        request={"application/xml": OpenApiTypes.BINARY, "multipart/form-data": ImportSpecRequest},
        responses={201: RegisteredSpecResponse, **ERROR_RESPONSES},
        examples=[
            OpenApiExample("Imported", response_only=True, status_codes=["201"],
                           value={**REGISTERED_EXAMPLE, "spec_id": "orderfulfillment", "source_format": "yawl"}),
        ],
        description="Body: the YAWL XML itself with `Content-Type: application/xml`, or a multipart "
                    "form with the file in field `file`.",
    )
    def post(self, request: Request) -> Response:
        data = request.data
        if isinstance(data, bytes):
            content = data
        else:
            unknown = sorted((set(data.keys()) | set(request.FILES.keys())) - {"file"})
            if unknown:
                raise BadRequest("Unknown form fields: " + ", ".join(unknown),
                                 details={name: ["Unknown field."] for name in unknown})
            upload = request.FILES.get("file")
            if upload is None and not data:
                raise BadRequest("The request body is empty: send the YAWL file as an application/xml body "
                                 "or as multipart field 'file'.", code="invalid_yawl")
            if upload is None:
                raise BadRequest("Send the YAWL file as multipart field 'file' or as an application/xml body.",
                                 details={"file": ["This field is required."]})
            content = upload.read()
        return _registered(services.import_yawl(content))


class WorkflowDetailView(APIView):
    """GET one specification (latest version or ?version=N). DELETE it (409 while cases run)."""

    @extend_schema(
        operation_id="workflows_retrieve",
        parameters=[OpenApiParameter("version", int, description="An exact version (default: the latest).")],
        responses={200: SpecDetail, **ERROR_RESPONSES},
        examples=[OpenApiExample("Specification", response_only=True, value={
            **{k: v for k, v in REGISTERED_EXAMPLE.items() if k != "warnings"},
            "versions": [1], "case_counts": {"running": 1}, "spec": EXAMPLE_SPEC})],
    )
    def get(self, request: Request, spec_id: str) -> Response:
        query = VersionQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        row = selectors.spec_detail(spec_id, query.validated_data.get("version"))
        row.versions = selectors.spec_versions(spec_id)
        row.case_counts = selectors.case_counts(row)
        return Response(SpecDetail(row).data)

    @extend_schema(
        operation_id="workflows_delete",
        parameters=[OpenApiParameter("version", int, description="Delete only this version.")],
        responses={204: OpenApiResponse(description="Deleted."), **ERROR_RESPONSES},
        examples=[error_example("Cases still running", "conflict",
                                "Workflow 'workflow-123' has 1 running or suspended case(s); cancel them first.",
                                {"active_cases": 1}, status_code="409")],
    )
    def delete(self, request: Request, spec_id: str) -> Response:
        query = VersionQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        services.delete_spec(spec_id, query.validated_data.get("version"))
        return Response(status=status.HTTP_204_NO_CONTENT)
