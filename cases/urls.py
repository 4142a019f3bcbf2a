from django.urls import path
from django.views.generic import RedirectView

from cases import views

app_name = "cases"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="cases:case_list"), name="home"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<str:reference>/", views.case_detail, name="case_detail"),
    path("cases/<str:reference>/evidence/<int:pk>/download", views.evidence_download, name="evidence_download"),
]
