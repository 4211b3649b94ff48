"""OpenAPI pieces shared by the endpoints: the error shape and its examples."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

ErrorResponse = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorBody",
            fields={
                "code": serializers.CharField(help_text="Machine-readable code, e.g. not_found, conflict, invalid."),
                "message": serializers.CharField(help_text="What went wrong, for people."),
                "details": serializers.JSONField(help_text="Field errors or other specifics."),
            },
        )
    },
)

ERROR_RESPONSES: dict[int, OpenApiResponse] = {
    400: OpenApiResponse(ErrorResponse, description="Bad input (names every problem)."),
    404: OpenApiResponse(ErrorResponse, description="Unknown id."),
    409: OpenApiResponse(ErrorResponse, description="Conflicts with the current state."),
}


def error_example(name: str, code: str, message: str, details: Any = None, *, status_code: str = "400") -> OpenApiExample:
    """An example of the common error body."""
    return OpenApiExample(
        name,
        response_only=True,
        status_codes=[status_code],
        value={"error": {"code": code, "message": message, "details": details or {}}},
    )


def paginated(child: serializers.BaseSerializer, name: str) -> serializers.Serializer:
    """The page shape of knhk.api.pagination: {"count", "next", "previous", "results": [child]}."""
    return inline_serializer(
        name=f"Paginated{name}List",
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": child,
        },
    )


# Answers any API route can give whatever its view does: the body parser and limits (400, 413, 415),
# authentication and rights (401, 403), unknown ids or pages (404), methods (405), the rate limit (429).
COMMON_ERRORS = {
    "400": "Bad input (names every problem).",
    "401": "Not authenticated.",
    "403": "Not allowed.",
    "404": "Unknown id or page.",
    "405": "Method not allowed.",
    "413": "Request body too large.",
    "415": "Unsupported media type.",
    "429": "Rate limited (see Retry-After).",
}


def add_common_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every operation documents the common error answers."""
    has_error = "Error" in result.get("components", {}).get("schemas", {})
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}} if has_error else {}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for status_code, description in COMMON_ERRORS.items():
                responses.setdefault(status_code, {"content": content, "description": description})
    return result


class _JsonErrors:
    """An OpenAPI view whose errors are JSON in the common shape: its own renderers (YAML, OpenAPI JSON,
    the Swagger UI's HTML template) would otherwise render a 405 or a `?format=xml` 400 as YAML or HTML."""

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(response, "exception", False):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


class SchemaView(_JsonErrors, SpectacularAPIView):
    """/api/schema/: the OpenAPI document (YAML, or `?format=json`); errors in JSON."""


class DocsView(_JsonErrors, SpectacularSwaggerView):
    """/api/docs/: the Swagger UI; GET and HEAD only (its HTML renderer cannot answer OPTIONS), errors in JSON."""

    http_method_names = ["get", "head"]
