"""Request and response shapes of /api/v1/cases and /api/v1/work-items."""

from __future__ import annotations

from rest_framework import serializers

from cases.models import Case, CaseEvent, CaseState, WorkItem, WorkItemState
from knhk.api.limits import MAX_DATA_DEPTH, max_depth
from knhk.api.serializers import QuerySerializer, StrictSerializer


def _json_object(value):
    if not isinstance(value, dict):
        raise serializers.ValidationError("Must be a JSON object.")
    return value


class WorkItemOut(serializers.ModelSerializer):
    case_id = serializers.UUIDField(source="case.id", read_only=True)
    spec_id = serializers.CharField(source="case.spec.spec_id", read_only=True)
    started_by = serializers.CharField(source="started_by.username", default=None, read_only=True, allow_null=True)
    completed_by = serializers.CharField(source="completed_by.username", default=None, read_only=True,
                                         allow_null=True)
    parent = serializers.CharField(source="parent_engine_id", read_only=True)

    class Meta:
        model = WorkItem
        fields = [
            "id", "case_id", "spec_id", "engine_id", "task_id", "task_name", "net_id", "state", "kind",
            "roles", "data", "parent", "started_by", "completed_by", "enabled_at", "started_at",
            "completed_at", "timer_due_at",
        ]  # fmt: skip


class CaseSummary(serializers.ModelSerializer):
    case_id = serializers.UUIDField(source="id", read_only=True)
    spec_id = serializers.CharField(source="spec.spec_id", read_only=True)
    version = serializers.IntegerField(source="spec.version", read_only=True)

    class Meta:
        model = Case
        fields = ["case_id", "spec_id", "version", "state", "created_at", "updated_at", "completed_at"]


class CaseDetail(CaseSummary):
    work_items = WorkItemOut(source="live_items", many=True, read_only=True,
                             help_text="The case's enabled and started work items.")

    class Meta(CaseSummary.Meta):
        fields = [*CaseSummary.Meta.fields, "data", "marking", "work_items"]


class CaseEventOut(serializers.ModelSerializer):
    work_item = serializers.CharField(source="item_engine_id", read_only=True)

    class Meta:
        model = CaseEvent
        fields = ["seq", "kind", "task_id", "net_id", "work_item", "payload", "actor", "at"]


class StartCaseRequest(StrictSerializer):
    spec_id = serializers.CharField(max_length=100)
    version = serializers.IntegerField(required=False, min_value=1, help_text="Default: the latest version.")
    data = serializers.JSONField(required=False, default=dict, validators=[_json_object, max_depth(MAX_DATA_DEPTH)],
                                 help_text="Start data for the root net's input variables.")


class CompleteWorkItemRequest(StrictSerializer):
    data = serializers.JSONField(required=False, default=dict, validators=[_json_object, max_depth(MAX_DATA_DEPTH)],
                                 help_text="Output data, merged (or mapped) into the case data.")


class EmptyRequest(StrictSerializer):
    """No fields."""


class CaseListQuery(QuerySerializer):
    spec_id = serializers.CharField(required=False)
    version = serializers.IntegerField(required=False, min_value=1)
    state = serializers.ChoiceField(choices=CaseState.choices, required=False)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1)


class WorkItemListQuery(QuerySerializer):
    case = serializers.UUIDField(required=False)
    state = serializers.ChoiceField(choices=WorkItemState.choices, required=False)
    task = serializers.CharField(required=False)
    kind = serializers.CharField(required=False)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1)


class PageQuery(QuerySerializer):
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1)
