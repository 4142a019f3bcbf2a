from django.urls import path
from django.views.generic import RedirectView

from cases import views

app_name = "cases"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="cases:case_list"), name="home"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:case_pk>/evidence/<int:pk>/download", views.evidence_download, name="evidence_download"),
    path("cases/<int:pk>/dossiers/", views.dossier_build, name="dossier_build"),
    path("cases/<int:pk>/warnings/", views.warning_send, name="warning_send"),
    path(
        "cases/<int:case_pk>/dossiers/<int:pk>/<str:kind>",
        views.dossier_file,
        name="dossier_file",
    ),
    path("settings/tokens/", views.api_tokens, name="api_tokens"),
    path("settings/webhooks/", views.webhooks, name="webhooks"),
]
