from django.urls import re_path

from workflows.api.views import WorkflowDetailView, WorkflowImportView, WorkflowListView

SPEC_ID = r"(?P<spec_id>[A-Za-z0-9_.:-]{1,100})"

urlpatterns = [
    re_path(r"^workflows/?$", WorkflowListView.as_view(), name="workflow-list"),
    re_path(r"^workflows/import/?$", WorkflowImportView.as_view(), name="workflow-import"),
    re_path(rf"^workflows/{SPEC_ID}/?$", WorkflowDetailView.as_view(), name="workflow-detail"),
]
