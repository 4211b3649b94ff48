"""GET /api/v1/audit (filtered, paginated), /api/v1/audit/verify, /api/v1/audit/export?format=csv|json."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAuditor
from audit.api.serializers import (
    AuditExportQuery,
    AuditListQuery,
    AuditQuerySerializer,
    AuditRecordSerializer,
    ChainReportSerializer,
)
from audit.chain import verify_chain
from audit.selectors import EXPORT_FIELDS, audit_records, export_rows


def _query(request: Request, query: type[AuditQuerySerializer], *, newest_first: bool) -> Any:
    """The filtered records (400 in the common error shape for a bad or unknown parameter)."""
    params = query(data=request.query_params)
    params.is_valid(raise_exception=True)
    return audit_records(**params.selector_kwargs(), newest_first=newest_first)


@extend_schema(parameters=[AuditQuerySerializer])
class AuditListView(ListAPIView):
    """Audit records, newest first, filtered by actor, action, outcome, workflow, case, time range."""

    permission_classes = [IsAuditor]
    serializer_class = AuditRecordSerializer
    filter_backends: list = []

    def get_queryset(self) -> Any:
        return _query(self.request, AuditListQuery, newest_first=True)


class AuditVerifyView(APIView):
    """Check the hash chain: intact, or the first broken record."""

    permission_classes = [IsAuditor]

    @extend_schema(responses=ChainReportSerializer)
    def get(self, request: Request) -> Response:
        report = verify_chain()
        return Response({**report.as_dict(), "message": report.message()})


class CSVRenderer(BaseRenderer):
    """Lets `?format=csv` through content negotiation; the export view streams the body itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return json.dumps(data).encode() if data is not None else b""


class AuditExportView(APIView):
    """The filtered records in chain order, streamed as CSV or JSON (a download)."""

    permission_classes = [IsAuditor]
    renderer_classes = [JSONRenderer, CSVRenderer]
    serializer_class = AuditRecordSerializer  # the shape of one exported record (for the OpenAPI schema)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        """Errors are JSON (and say so) even when the client asked for CSV."""
        if isinstance(response, Response) and response.status_code >= 400:
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        parameters=[AuditQuerySerializer,
                    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"], description="default json")],
        responses={(200, "application/json"): AuditRecordSerializer(many=True),
                   (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        rows = export_rows(_query(request, AuditExportQuery, newest_first=False))
        as_csv = request.accepted_renderer.format == "csv"
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response = StreamingHttpResponse(
            _csv_lines(rows) if as_csv else _json_chunks(rows),
            content_type="text/csv; charset=utf-8" if as_csv else "application/json",
        )
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{"csv" if as_csv else "json"}"'
        return response


def _csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_FIELDS)
    for row in rows:
        row["data"] = json.dumps(row["data"], sort_keys=True, ensure_ascii=False)
        writer.writerow([row[name] for name in EXPORT_FIELDS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_chunks(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for index, row in enumerate(rows):
        yield ("," if index else "") + json.dumps(row, ensure_ascii=False)
    yield "]"
