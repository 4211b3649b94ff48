from django.urls import re_path

from cases.api.urls import UUID
from incidents.api import views

urlpatterns = [
    re_path(r"^incidents/?$", views.IncidentListView.as_view(), name="incident-list"),
    re_path(rf"^incidents/(?P<incident_id>{UUID})/?$", views.IncidentDetailView.as_view(), name="incident-detail"),
    re_path(rf"^incidents/(?P<incident_id>{UUID})/retry/?$", views.IncidentRetryView.as_view(),
            name="incident-retry"),
    re_path(rf"^incidents/(?P<incident_id>{UUID})/skip/?$", views.IncidentSkipView.as_view(), name="incident-skip"),
    re_path(rf"^incidents/(?P<incident_id>{UUID})/cancel/?$", views.IncidentCancelView.as_view(),
            name="incident-cancel"),
]
