from django.urls import path

from cases.views import (
    account,
    brands,
    case_list,
    case_page,
    dashboard,
    evidence,
    inbox,
    invitations,
    ip_rights,
    members,
    storefronts,
    team,
    watch,
)

app_name = "cases"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    # The older name of the start page, used by links that predate the dashboard.
    path("", dashboard.dashboard, name="home"),
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
    path("storefronts/<int:pk>/", storefronts.storefront_detail, name="storefront_detail"),
    path("notifications/", inbox.notifications, name="notifications"),
    path("brands/", brands.brand_list, name="brand_list"),
    path("brands/<int:pk>/", brands.brand_settings, name="brand_settings"),
    path("brands/<int:pk>/letters/", brands.brand_letters, name="brand_letters"),
    path("brands/<int:pk>/ip-rights/new/", ip_rights.ip_right_add, name="ip_right_add"),
    path("brands/<int:pk>/ip-rights/<int:right_pk>/", ip_rights.ip_right_edit, name="ip_right_edit"),
    path(
        "brands/<int:pk>/ip-rights/<int:right_pk>/certificate",
        ip_rights.ip_right_certificate,
        name="ip_right_certificate",
    ),
    path("brands/<int:pk>/watch/", watch.brand_watch, name="brand_watch"),
    path("settings/profile/", account.preferences, name="preferences"),
    path("language/", account.language_switch, name="language_switch"),
    path("settings/tokens/", team.api_tokens, name="api_tokens"),
    path("settings/webhooks/", team.webhooks, name="webhooks"),
    path("team/", members.team_settings, name="team_settings"),
    path("team/invitations/", members.team_invitations, name="team_invitations"),
    path("invitations/<str:key>/", invitations.invitation_accept_page, name="invitation_accept"),
]
