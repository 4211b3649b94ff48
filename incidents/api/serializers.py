"""Incident shapes for /api/v1/incidents."""

from __future__ import annotations

from rest_framework import serializers

from incidents.models import Incident, IncidentState
from knhk.api.serializers import QuerySerializer, StrictSerializer


class IncidentOut(serializers.ModelSerializer):
    case_id = serializers.UUIDField(read_only=True)
    work_item_id = serializers.UUIDField(read_only=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Incident
        fields = ["id", "state", "workflow_id", "case_id", "work_item_id", "task_id", "connector", "error",
                  "attempts", "resolution", "resolved_by", "created_at", "updated_at", "resolved_at"]
        read_only_fields = fields


class IncidentListQuery(QuerySerializer):
    state = serializers.ChoiceField(choices=IncidentState.values, required=False)
    workflow_id = serializers.CharField(required=False, max_length=100)
    case = serializers.UUIDField(required=False)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1)


class IncidentActionRequest(StrictSerializer):
    """retry: `data` is merged into the work item's input data; skip: `data` is its output data; another
    field is a 400."""

    data = serializers.DictField(required=False, allow_empty=True, child=serializers.JSONField())
