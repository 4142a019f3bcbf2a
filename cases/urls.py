from django.urls import path
from django.views.generic import RedirectView

from cases.views import account, case_list, case_page, evidence, inbox, team, watch

app_name = "cases"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="cases:case_list"), name="home"),
    path("cases/", case_list.case_list, name="case_list"),
    path("cases/<int:pk>/", case_page.case_detail, name="case_detail"),
    path("cases/<int:case_pk>/evidence/<int:pk>/download", evidence.evidence_download, name="evidence_download"),
    path("cases/<int:case_pk>/evidence/<int:pk>/thumbnail", evidence.evidence_thumbnail, name="evidence_thumbnail"),
    path("cases/<int:case_pk>/evidence/<int:pk>/withdraw", evidence.evidence_withdraw_view, name="evidence_withdraw"),
    path("cases/<int:pk>/evidence/", evidence.evidence_gallery_view, name="evidence_gallery"),
    path("cases/<int:pk>/evidence/upload", evidence.evidence_upload, name="evidence_upload"),
    path("cases/<int:pk>/dossiers/", evidence.dossier_build, name="dossier_build"),
    path("cases/<int:pk>/dossiers/panel", evidence.dossier_panel, name="dossier_panel"),
    path("cases/<int:pk>/warnings/", case_page.warning_send, name="warning_send"),
    path("cases/<int:pk>/captures/", evidence.capture_request_view, name="capture_request"),
    path("cases/<int:pk>/captures/jobs", evidence.capture_jobs, name="capture_jobs"),
    path(
        "cases/<int:case_pk>/dossiers/<int:pk>/<str:kind>",
        evidence.dossier_file,
        name="dossier_file",
    ),
    path("notifications/", inbox.notifications, name="notifications"),
    path("brands/", watch.brand_list, name="brand_list"),
    path("brands/<int:pk>/watch/", watch.brand_watch, name="brand_watch"),
    path("settings/profile/", account.preferences, name="preferences"),
    path("language/", account.language_switch, name="language_switch"),
    path("settings/tokens/", team.api_tokens, name="api_tokens"),
    path("settings/webhooks/", team.webhooks, name="webhooks"),
]
