"""Request and response shapes of /api/v1/workflows."""

from __future__ import annotations

from rest_framework import serializers

from knhk.api.serializers import QuerySerializer, StrictSerializer
from workflows.models import WorkflowSpec


class RegisterSpecRequest(StrictSerializer):
    spec = serializers.JSONField(help_text="The specification document (docs/spec-format.md).")

    def validate_spec(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object (a specification).")
        return value


class RegisteredSpecResponse(serializers.ModelSerializer):
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = WorkflowSpec
        fields = ["spec_id", "version", "name", "content_hash", "source_format", "created_at", "warnings"]


class SpecSummary(serializers.ModelSerializer):
    class Meta:
        model = WorkflowSpec
        fields = ["spec_id", "version", "name", "content_hash", "source_format", "created_at"]


class SpecDetail(serializers.ModelSerializer):
    versions = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    case_counts = serializers.DictField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = WorkflowSpec
        fields = ["spec_id", "version", "name", "content_hash", "source_format", "created_at", "versions",
                  "case_counts", "spec"]


class ImportSpecRequest(serializers.Serializer):
    file = serializers.FileField(help_text="A YAWL specification file (.yawl or .xml).")


class SpecListQuery(QuerySerializer):
    spec_id = serializers.CharField(required=False)
    all_versions = serializers.BooleanField(required=False, default=False)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1)


class VersionQuery(QuerySerializer):
    version = serializers.IntegerField(required=False, min_value=1)
