from django.contrib import admin

from cases.models import Case, CaseEvent, WorkItem


class WorkItemInline(admin.TabularInline):
    model = WorkItem
    fields = ("engine_id", "task_id", "state", "kind", "enabled_at", "completed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("id", "spec", "state", "created_at", "updated_at", "completed_at")
    list_filter = ("state", "spec__spec_id", "created_at")
    search_fields = ("id", "spec__spec_id", "spec__name")
    readonly_fields = ("id", "spec", "engine_state", "marking", "event_seq", "created_at", "updated_at",
                       "completed_at")
    list_select_related = ("spec",)
    inlines = [WorkItemInline]


@admin.register(WorkItem)
class WorkItemAdmin(admin.ModelAdmin):
    list_display = ("engine_id", "task_id", "state", "kind", "case", "enabled_at", "completed_at")
    list_filter = ("state", "kind", "task_id")
    search_fields = ("id", "engine_id", "task_id", "task_name", "case__id", "case__spec__spec_id")
    readonly_fields = ("id", "case", "engine_id", "enabled_at", "started_at", "completed_at")
    list_select_related = ("case",)


@admin.register(CaseEvent)
class CaseEventAdmin(admin.ModelAdmin):
    list_display = ("case", "seq", "kind", "task_id", "item_engine_id", "at")
    list_filter = ("kind",)
    search_fields = ("case__id", "task_id", "item_engine_id")
    list_select_related = ("case",)
