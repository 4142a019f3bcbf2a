from django.urls import path
from django.views.generic import RedirectView

from cases.views import account, case_list, case_page, case_records, evidence, inbox, team, watch

app_name = "cases"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="cases:case_list"), name="home"),
    path("cases/", case_list.case_list, name="case_list"),
    path("cases/<int:pk>/", case_page.case_detail, name="case_detail"),
    path("cases/<int:case_pk>/evidence/<int:pk>/download", evidence.evidence_download, name="evidence_download"),
    path("cases/<int:pk>/dossiers/", evidence.dossier_build, name="dossier_build"),
    path("cases/<int:pk>/status/", case_page.case_transition_view, name="case_transition"),
    path("cases/<int:pk>/edit/", case_page.case_edit, name="case_edit"),
    path("cases/<int:pk>/comments/", case_page.comment_create, name="comment_create"),
    path("cases/<int:pk>/test-buys/", case_records.test_buy_create, name="test_buy_create"),
    path("cases/<int:pk>/test-buys/order-id", case_records.order_id_check, name="order_id_check"),
    path("cases/<int:case_pk>/test-buys/<int:pk>/", case_records.test_buy_edit, name="test_buy_edit"),
    path("cases/<int:pk>/warnings/", case_records.warning_send, name="warning_send"),
    path("cases/<int:case_pk>/warnings/<int:pk>/reply", case_records.warning_reply, name="warning_reply"),
    path("cases/<int:pk>/submissions/", case_records.submission_create, name="submission_create"),
    path(
        "cases/<int:case_pk>/submissions/<int:pk>/outcome",
        case_records.submission_outcome,
        name="submission_outcome",
    ),
    path("cases/<int:pk>/captures/", evidence.capture_request_view, name="capture_request"),
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
