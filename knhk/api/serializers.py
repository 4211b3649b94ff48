"""Request serializers that refuse unknown fields instead of dropping them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


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
