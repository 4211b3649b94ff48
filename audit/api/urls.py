from django.urls import path

from audit.api.views import AuditExportView, AuditListView, AuditVerifyView

urlpatterns = [
    path("audit", AuditListView.as_view(), name="audit-list"),
    path("audit/verify", AuditVerifyView.as_view(), name="audit-verify"),
    path("audit/export", AuditExportView.as_view(), name="audit-export"),
]
