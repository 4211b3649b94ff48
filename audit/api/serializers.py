from rest_framework import serializers

from audit.models import AuditRecord
from knhk.api.serializers import QuerySerializer


class AuditRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditRecord
        fields = ["seq", "at", "actor", "action", "outcome", "workflow_id", "case_id", "work_item",
                  "request_id", "data", "prev_hash", "hash"]
        read_only_fields = fields


class ChainReportSerializer(serializers.Serializer):
    intact = serializers.BooleanField()
    checked = serializers.IntegerField()
    first_broken = serializers.IntegerField(allow_null=True)
    record_id = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class AuditQuerySerializer(QuerySerializer):
    """The filters of the list and the export (all optional); an unknown parameter is a 400."""

    actor = serializers.CharField(required=False, max_length=150)
    action = serializers.CharField(required=False, max_length=64,
                                   help_text="Exact action, or a prefix ending in '.' or '*' (case.*).")
    outcome = serializers.CharField(required=False, max_length=16)
    workflow = serializers.CharField(required=False, max_length=100)
    case = serializers.CharField(required=False, max_length=64)
    work_item = serializers.CharField(required=False, max_length=255)
    since = serializers.DateTimeField(required=False, help_text="From this time (inclusive), ISO 8601.")
    until = serializers.DateTimeField(required=False, help_text="Before this time (exclusive), ISO 8601.")

    NOT_FILTERS = ("page", "page_size", "format")

    def validate(self, attrs: dict) -> dict:
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": "must be later than 'since'."})
        return attrs

    def selector_kwargs(self) -> dict:
        data = {key: value for key, value in self.validated_data.items() if key not in self.NOT_FILTERS}
        renamed = {"workflow": "workflow_id", "case": "case_id"}
        return {renamed.get(key, key): value for key, value in data.items()}


class AuditListQuery(AuditQuerySerializer):
    """The list's filters and its page."""

    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1)


class AuditExportQuery(AuditQuerySerializer):
    """The export's filters and its format."""

    format = serializers.ChoiceField(choices=["json", "csv"], required=False)
