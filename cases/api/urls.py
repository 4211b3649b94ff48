from django.urls import re_path

from cases.api import views

UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

urlpatterns = [
    re_path(r"^cases/?$", views.CaseListView.as_view(), name="case-list"),
    re_path(rf"^cases/(?P<case_id>{UUID})/?$", views.CaseDetailView.as_view(), name="case-detail"),
    re_path(rf"^cases/(?P<case_id>{UUID})/cancel/?$", views.CaseCancelView.as_view(), name="case-cancel"),
    re_path(rf"^cases/(?P<case_id>{UUID})/suspend/?$", views.CaseSuspendView.as_view(), name="case-suspend"),
    re_path(rf"^cases/(?P<case_id>{UUID})/resume/?$", views.CaseResumeView.as_view(), name="case-resume"),
    re_path(rf"^cases/(?P<case_id>{UUID})/history/?$", views.CaseHistoryView.as_view(), name="case-history"),
    re_path(r"^work-items/?$", views.WorkItemListView.as_view(), name="work-item-list"),
    re_path(rf"^work-items/(?P<item_id>{UUID})/?$", views.WorkItemDetailView.as_view(), name="work-item-detail"),
    re_path(rf"^work-items/(?P<item_id>{UUID})/start/?$", views.WorkItemStartView.as_view(),
            name="work-item-start"),
    re_path(rf"^work-items/(?P<item_id>{UUID})/complete/?$", views.WorkItemCompleteView.as_view(),
            name="work-item-complete"),
    re_path(r"^patterns/?$", views.PatternListView.as_view(), name="pattern-list"),
]
