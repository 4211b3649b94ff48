"""Read-only admin for the audit log, with the API's filters."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    list_display = ("seq", "at", "actor", "action", "outcome", "workflow_id", "case_id", "work_item")
    list_filter = ("action", "outcome", ("at", admin.DateFieldListFilter), "actor", "workflow_id")
    search_fields = ("=actor", "=workflow_id", "=case_id", "=work_item", "=request_id")
    date_hierarchy = "at"
    ordering = ("-seq",)
    readonly_fields = ("seq", "at", "actor", "action", "outcome", "workflow_id", "case_id", "work_item",
                       "request_id", "data", "prev_hash", "hash")
    list_per_page = 100
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditRecord | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditRecord | None = None) -> bool:
        return False
