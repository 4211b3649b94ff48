"""The browser UI under /ui/, session login at /accounts/login/, and / redirecting to the UI.

Mounted from knhk/urls.py with `path("", include("ui.urls"))`.
"""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from ui import views

app_name = "ui"

pages = [
    path("", views.workflow_list, name="workflow-list"),
    path("workflows/upload/", views.workflow_upload, name="workflow-upload"),
    path("workflows/<str:spec_id>/", views.workflow_detail, name="workflow-detail"),
    path("workflows/<str:spec_id>/v<int:version>/", views.workflow_detail, name="workflow-version"),
    path("workflows/<str:spec_id>/v<int:version>/net<int:net_index>.svg", views.workflow_diagram_svg,
         name="workflow-diagram"),
    path("cases/", views.case_list, name="case-list"),
    path("cases/<uuid:case_id>/", views.case_detail, name="case-detail"),
    path("cases/<uuid:case_id>/<str:action>/", views.case_action, name="case-action"),
    path("inbox/", views.inbox, name="inbox"),
    path("items/<uuid:item_id>/", views.work_item, name="work-item"),
    path("items/<uuid:item_id>/start/", views.work_item_start, name="work-item-start"),
    path("audit/", views.audit_review, name="audit"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("ui/", include(pages)),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
