"""Admin: the dead letter queue (with retry and cancel actions) and the circuit breakers."""

from __future__ import annotations

from django.contrib import admin, messages

from incidents import services
from incidents.breaker import Breaker
from incidents.models import CircuitBreaker, Incident, IncidentState
from knhk.api.errors import ApiError


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["id", "state", "workflow_id", "task_id", "connector", "attempts", "created_at", "resolved_at"]
    list_filter = ["state", "workflow_id", "connector", "created_at"]
    search_fields = ["id", "case__id", "task_id", "connector", "error"]
    readonly_fields = [f.name for f in Incident._meta.fields]
    date_hierarchy = "created_at"
    actions = ["retry_selected", "cancel_selected"]

    def has_add_permission(self, request) -> bool:
        return False

    def _apply(self, request, queryset, action, verb: str) -> None:
        done, refused = 0, []
        for incident in queryset.filter(state=IncidentState.OPEN):
            try:
                action(incident.pk, actor=request.user)
                done += 1
            except ApiError as exc:
                refused.append(str(exc.detail))
        if done:
            self.message_user(request, f"{verb} {done} incident(s).", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)

    @admin.action(description="Retry the selected open incidents")
    def retry_selected(self, request, queryset) -> None:
        self._apply(request, queryset, services.retry_incident, "Retried")

    @admin.action(description="Cancel the cases of the selected open incidents")
    def cancel_selected(self, request, queryset) -> None:
        self._apply(request, queryset, services.cancel_incident, "Cancelled")


@admin.register(CircuitBreaker)
class CircuitBreakerAdmin(admin.ModelAdmin):
    list_display = ["key", "state", "consecutive_failures", "opened_at", "updated_at"]
    list_filter = ["state"]
    search_fields = ["key", "last_error"]
    readonly_fields = [f.name for f in CircuitBreaker._meta.fields]
    actions = ["close_selected"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Close the selected breakers")
    def close_selected(self, request, queryset) -> None:
        for row in queryset:
            Breaker.for_key(row.key).reset()
        self.message_user(request, f"Closed {queryset.count()} breaker(s).", messages.SUCCESS)
