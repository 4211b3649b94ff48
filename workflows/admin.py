from django.contrib import admin

from workflows.models import WorkflowSpec


@admin.register(WorkflowSpec)
class WorkflowSpecAdmin(admin.ModelAdmin):
    list_display = ("spec_id", "version", "name", "source_format", "created_at")
    list_filter = ("source_format", "created_at")
    search_fields = ("spec_id", "name", "content_hash")
    readonly_fields = ("spec_id", "version", "content_hash", "created_at")
    ordering = ("spec_id", "-version")
