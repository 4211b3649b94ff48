"""OpenAPI pieces shared by the endpoints: the error shape and its examples."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers

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
