"""/api/v1/auth/token, /api/v1/auth/token/refresh, /api/v1/workflows/<spec_id>/permissions."""

from django.urls import path

from accounts.views import TokenObtainView, TokenRefresh, WorkflowPermissionsView

urlpatterns = [
    path("auth/token", TokenObtainView.as_view(), name="auth-token"),
    path("auth/token/refresh", TokenRefresh.as_view(), name="auth-token-refresh"),
    path("workflows/<str:spec_id>/permissions", WorkflowPermissionsView.as_view(), name="workflow-permissions"),
]
