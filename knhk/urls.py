"""URL configuration: /api/v1 (REST), /api/schema/ + /api/docs/ (OpenAPI), /health*, /admin/, /ui/."""

from django.contrib import admin
from django.urls import include, path, re_path

from knhk import health
from knhk.api.errors import api_not_found
from knhk.api.schema import DocsView, SchemaView
from knhk.observability.metrics import metrics_view

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("audit.api.urls")),
    path("", include("workflows.api.urls")),
    path("", include("cases.api.urls")),
    path("", include("incidents.api.urls")),
]

urlpatterns = [
    path("health", health.health, name="health"),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", metrics_view, name="metrics"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", DocsView.as_view(url_name="schema"), name="swagger-ui"),
    path("admin/", admin.site.urls),
    path("", include("ui.urls")),  # the browser UI (/ui/, /accounts/login/, / redirects to /ui/)
    re_path(r"^api(?:/.*)?$", api_not_found),
]

handler404 = "knhk.api.errors.handler404"
handler500 = "knhk.api.errors.handler500"
