from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_safe
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from cases.api.views import cases as case_views
from cases.api.views import catalog, collection, dossiers, records, webhooks

LIST: dict[str, Any] = {"get": "list", "post": "create"}
ITEM: dict[str, Any] = {"get": "retrieve", "patch": "partial_update"}

_swagger = SpectacularSwaggerSplitView.as_view(url_name="api-schema")


# Only reads: the page's renderer has no template for DRF's answer to OPTIONS (a 500).
@require_safe
def api_docs(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Swagger UI sets inline styles as it draws; scripts stay as strict as on every page."""
    response: HttpResponse = _swagger(request, *args, **kwargs)
    policy = settings.CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    response["Content-Security-Policy"] = policy
    return response


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", api_docs, name="api-docs"),
    path("v1/brands/", catalog.BrandViewSet.as_view(LIST), name="api-brands"),
    path("v1/brands/<str:pk>/", catalog.BrandViewSet.as_view(ITEM), name="api-brand"),
    path("v1/brands/<str:brand_pk>/ip-rights/", catalog.IPRightViewSet.as_view(LIST), name="api-ip-rights"),
    path("v1/cases/", case_views.CaseViewSet.as_view(LIST), name="api-cases"),
    path("v1/cases/<str:pk>/", case_views.CaseViewSet.as_view(ITEM), name="api-case"),
    path(
        "v1/cases/<str:pk>/transition/",
        case_views.CaseViewSet.as_view({"post": "transition"}),
        name="api-case-transition",
    ),
    path(
        "v1/cases/<str:case_pk>/storefronts/",
        case_views.CaseStorefrontViewSet.as_view(LIST),
        name="api-case-storefronts",
    ),
    path("v1/cases/<str:case_pk>/sightings/", case_views.SightingViewSet.as_view(LIST), name="api-case-sightings"),
    path(
        "v1/cases/<str:case_pk>/activity/",
        case_views.ActivityViewSet.as_view({"get": "list"}),
        name="api-case-activity",
    ),
    path("v1/cases/<str:case_pk>/evidence/", records.CaseEvidenceViewSet.as_view(LIST), name="api-case-evidence"),
    path("v1/cases/<str:case_pk>/test-buys/", records.CaseTestBuyViewSet.as_view(LIST), name="api-case-test-buys"),
    path("v1/cases/<str:case_pk>/warnings/", records.CaseWarningViewSet.as_view(LIST), name="api-case-warnings"),
    path(
        "v1/cases/<str:case_pk>/warnings/draft/",
        records.WarningDraftViewSet.as_view({"get": "retrieve"}),
        name="api-case-warning-draft",
    ),
    path("v1/warning-templates/", catalog.WarningTemplateViewSet.as_view(LIST), name="api-warning-templates"),
    path(
        "v1/cases/<str:case_pk>/submissions/", records.CaseSubmissionViewSet.as_view(LIST), name="api-case-submissions"
    ),
    path("v1/storefronts/", catalog.StorefrontViewSet.as_view({"get": "list"}), name="api-storefronts"),
    path("v1/storefronts/<str:pk>/", catalog.StorefrontViewSet.as_view(ITEM), name="api-storefront"),
    path("v1/evidence/<str:pk>/", records.EvidenceViewSet.as_view({"get": "retrieve"}), name="api-evidence"),
    path(
        "v1/evidence/<str:pk>/download/",
        records.EvidenceViewSet.as_view({"get": "download"}),
        name="api-evidence-download",
    ),
    path(
        "v1/evidence/<str:pk>/withdraw/",
        records.EvidenceViewSet.as_view({"post": "withdraw"}),
        name="api-evidence-withdraw",
    ),
    path("v1/cases/<str:case_pk>/dossiers/", dossiers.CaseDossierViewSet.as_view(LIST), name="api-case-dossiers"),
    path("v1/dossiers/<str:pk>/", dossiers.DossierViewSet.as_view({"get": "retrieve"}), name="api-dossier"),
    path("v1/dossiers/<str:pk>/pdf/", dossiers.DossierViewSet.as_view({"get": "pdf"}), name="api-dossier-pdf"),
    path("v1/dossiers/<str:pk>/bundle/", dossiers.DossierViewSet.as_view({"get": "bundle"}), name="api-dossier-bundle"),
    path("v1/test-buys/<str:pk>/", records.TestBuyViewSet.as_view(ITEM), name="api-test-buy"),
    path("v1/submissions/<str:pk>/", records.SubmissionViewSet.as_view(ITEM), name="api-submission"),
    path("v1/webhooks/", webhooks.WebhookViewSet.as_view(LIST), name="api-webhooks"),
    path(
        "v1/webhooks/<str:pk>/",
        webhooks.WebhookViewSet.as_view({**ITEM, "delete": "destroy"}),
        name="api-webhook",
    ),
    path(
        "v1/webhooks/<str:pk>/deliveries/",
        webhooks.WebhookViewSet.as_view({"get": "deliveries"}),
        name="api-webhook-deliveries",
    ),
    path(
        "v1/webhook-deliveries/<str:pk>/redeliver/",
        webhooks.DeliveryViewSet.as_view({"post": "redeliver"}),
        name="api-delivery-redeliver",
    ),
    path("v1/brands/<str:brand_pk>/watch/", collection.WatchViewSet.as_view(LIST), name="api-brand-watch"),
    path(
        "v1/brands/<str:brand_pk>/watch/<str:pk>/",
        collection.WatchViewSet.as_view({"patch": "partial_update", "delete": "destroy"}),
        name="api-brand-watch-item",
    ),
    path(
        "v1/brands/<str:brand_pk>/sp-api/",
        collection.SpApiCredentialViewSet.as_view({"get": "retrieve", "put": "update", "delete": "destroy"}),
        name="api-brand-sp-api",
    ),
    path("v1/cases/<str:case_pk>/captures/", collection.CaseCaptureViewSet.as_view(LIST), name="api-case-captures"),
    path("v1/captures/<str:pk>/", collection.CaptureViewSet.as_view({"get": "retrieve"}), name="api-capture"),
    path(
        "v1/sp-api/notifications/",
        collection.OfferNotificationViewSet.as_view({"post": "create"}),
        name="api-sp-api-notifications",
    ),
]
