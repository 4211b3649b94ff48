"""Request serializers that refuse unknown fields instead of dropping them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.settings import api_settings


class RejectUnknownFields:
    """Serializer mixin: body fields the serializer does not take (unknown or read-only) are a 400 naming
    them. Mix it in before the serializer class, e.g. over simplejwt's token serializers."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            accepted = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - accepted)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field."] for name in unknown}
                )
        return super().to_internal_value(data)


class StrictSerializer(RejectUnknownFields, serializers.Serializer):
    """A serializer whose unknown body fields are a 400 naming them."""


def without_format(params: Any) -> Any:
    """Query parameters without DRF's URL format override (`?format=json`): content negotiation has
    already checked it (an unsupported format is a 400 there), so it is not an unknown parameter."""
    override = api_settings.URL_FORMAT_OVERRIDE
    if not override or not hasattr(params, "copy") or override not in params:
        return params
    params = params.copy()  # a QueryDict copy is mutable and keeps repeated parameters
    params.pop(override)
    return params


class QuerySerializer(StrictSerializer):
    """A serializer of query parameters: an unknown parameter is a 400 naming it, but `format` (DRF's
    URL format override, checked by content negotiation) is accepted unless the serializer declares
    its own `format` field (e.g. the audit export's json/csv)."""

    def to_internal_value(self, data: Any) -> Any:
        if api_settings.URL_FORMAT_OVERRIDE not in self.fields:
            data = without_format(data)
        return super().to_internal_value(data)
