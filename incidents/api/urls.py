from django.urls import re_path

from incidents.api import views

UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

urlpatterns = [
    re_path(r"^incidents/?$", views.IncidentListView.as_view(), name="incident-list"),
    re_path(rf"^incidents/(?P<incident_id>{UUID})/?$", views.IncidentDetailView.as_view(), name="incident-detail"),
    re_path(rf"^incidents/(?P<incident_id>{UUID})/retry/?$", views.IncidentRetryView.as_view(),
            name="incident-retry"),
    re_path(rf"^incidents/(?P<incident_id>{UUID})/skip/?$", views.IncidentSkipView.as_view(), name="incident-skip"),
    re_path(rf"^incidents/(?P<incident_id>{UUID})/cancel/?$", views.IncidentCancelView.as_view(),
            name="incident-cancel"),
]
