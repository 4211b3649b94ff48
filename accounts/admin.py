"""Per-workflow rights in the admin (guardian's object-permission pages)."""

from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from accounts.models import WorkflowAccess


@admin.register(WorkflowAccess)
class WorkflowAccessAdmin(GuardedModelAdmin):
    list_display = ("spec_id",)
    search_fields = ("spec_id",)
