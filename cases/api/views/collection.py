"""Evidence collection over the API: watch lists, SP-API access, captures, notification intake."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from cases.api import serializers as s
from cases.api.base import ApiViewSet, CursorPage, TokenRateThrottle, validated
from cases.api.views.cases import IDEMPOTENCY_KEY, actor_of
from cases.models import Brand, Capture, Case, Membership, Role, SpApiCredential, Storefront, WatchItem
from cases.services.captures import capture_request
from cases.services.offers import offer_notifications_receive
from cases.services.watch import (
    sp_api_credentials_remove,
    sp_api_credentials_set,
    watch_add,
    watch_remove,
    watch_update,
)
from cases.tasks import offer_notifications_schedule_drain


class WatchViewSet(ApiViewSet):
    serializer_class = s.WatchItemSerializer
    filter_backends: list[Any] = []
    pagination_class = CursorPage

    def brand(self, brand_pk: str) -> Brand:
        brand: Brand = self.get_visible(self.visible(Brand), brand_pk)
        return brand

    @extend_schema(summary="The brand's watch list", responses=s.WatchItemSerializer(many=True))
    def list(self, request: Request, brand_pk: str) -> Response:
        return self.page(WatchItem.objects.filter(brand=self.brand(brand_pk)), s.WatchItemSerializer)

    @extend_schema(
        summary="Watch an ASIN in a marketplace (managers); its first check is due at once",
        request=s.WatchItemInputSerializer,
        responses={201: s.WatchItemSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request: Request, brand_pk: str) -> Response:
        brand = self.brand(brand_pk)
        data = validated(s.WatchItemInputSerializer, request.data)
        item = watch_add(brand=brand, actor=actor_of(request), **data)
        return self.respond(s.WatchItemSerializer(item).data, status=201, etag=False)

    @extend_schema(
        summary="Change how often an ASIN is checked (managers)",
        request=s.WatchItemUpdateSerializer,
        responses=s.WatchItemSerializer,
    )
    def partial_update(self, request: Request, brand_pk: str, pk: str) -> Response:
        item = self.get_visible(WatchItem.objects.filter(brand=self.brand(brand_pk)), pk)
        data = validated(s.WatchItemUpdateSerializer, request.data)
        item = watch_update(item=item, actor=actor_of(request), **data)
        return self.respond(s.WatchItemSerializer(item).data)

    @extend_schema(summary="Stop watching an ASIN (managers)", responses={204: None})
    def destroy(self, request: Request, brand_pk: str, pk: str) -> Response:
        item = self.get_visible(WatchItem.objects.filter(brand=self.brand(brand_pk)).select_related("brand"), pk)
        watch_remove(item=item, actor=actor_of(request))
        return Response(status=204)


class SpApiCredentialViewSet(ApiViewSet):
    """The brand's SP-API authorization. Secrets go in and never come out."""

    serializer_class = s.SpApiCredentialSerializer
    filter_backends: list[Any] = []

    def brand(self, brand_pk: str) -> Brand:
        brand: Brand = self.get_visible(self.visible(Brand), brand_pk)
        return brand

    def get_object(self) -> SpApiCredential:
        credential = SpApiCredential.objects.filter(brand=self.brand(self.kwargs["brand_pk"])).first()
        if credential is None:
            raise exceptions.NotFound(_("This brand has no SP-API credentials."))
        return credential

    @extend_schema(summary="What is stored of the brand's SP-API access (no secrets)")
    def retrieve(self, request: Request, brand_pk: str) -> Response:
        return self.respond(s.SpApiCredentialSerializer(self.get_object()).data)

    @extend_schema(
        summary="Store or replace the brand's SP-API access (managers)",
        request=s.SpApiCredentialInputSerializer,
        responses=s.SpApiCredentialSerializer,
    )
    def update(self, request: Request, brand_pk: str) -> Response:
        brand = self.brand(brand_pk)
        data = validated(s.SpApiCredentialInputSerializer, request.data)
        credential = sp_api_credentials_set(brand=brand, actor=actor_of(request), **data)
        return self.respond(s.SpApiCredentialSerializer(credential).data, etag=False)

    @extend_schema(summary="Remove the brand's SP-API access (managers)", responses={204: None})
    def destroy(self, request: Request, brand_pk: str) -> Response:
        sp_api_credentials_remove(brand=self.brand(brand_pk), actor=actor_of(request))
        return Response(status=204)


def _captures() -> Any:
    return Capture.objects.select_related("requested_by", "screenshot", "archive")


class CaseCaptureViewSet(ApiViewSet):
    serializer_class = s.CaptureSerializer
    filter_backends: list[Any] = []
    pagination_class = CursorPage

    @extend_schema(summary="Page captures of the case, newest first", responses=s.CaptureSerializer(many=True))
    def list(self, request: Request, case_pk: str) -> Response:
        case = self.get_visible(self.visible(Case), case_pk)
        return self.page(_captures().filter(case=case), s.CaptureSerializer)

    @extend_schema(
        summary="Capture a page in headless Chromium (a job: poll it until done)",
        request=s.CaptureInputSerializer,
        responses={202: s.CaptureSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request: Request, case_pk: str) -> Response:
        case: Case = self.get_visible(self.visible(Case), case_pk)
        data = validated(s.CaptureInputSerializer, request.data)
        storefront = None
        if data.get("storefront") is not None:
            storefront = self.visible(Storefront).filter(team_id=case.team_id, pk=data["storefront"]).first()
            if storefront is None:
                raise exceptions.ValidationError({"storefront": [_("No such storefront in the case's team.")]})
        capture = capture_request(
            case=case, url=data["url"], kind=data.get("kind", "other"), storefront=storefront, actor=actor_of(request)
        )
        return self.respond(
            s.CaptureSerializer(_captures().get(pk=capture.pk)).data,
            status=202,
            etag=False,
            headers={"Location": f"/api/v1/captures/{capture.pk}/"},
        )


class CaptureViewSet(ApiViewSet):
    serializer_class = s.CaptureSerializer
    filter_backends: list[Any] = []

    @extend_schema(summary="A capture job: status, error, and the evidence it stored")
    def retrieve(self, request: Request, pk: str) -> Response:
        return self.respond(
            s.CaptureSerializer(
                self.get_visible(self.visible(Capture).select_related("requested_by", "screenshot", "archive"), pk)
            ).data
        )


class NotificationRateThrottle(TokenRateThrottle):
    scope = "notifications"


class OfferNotificationViewSet(ApiViewSet):
    """ANY_OFFER_CHANGED notifications relayed over HTTPS (EventBridge API destinations, relays)."""

    serializer_class = s.NotificationAcceptedSerializer
    filter_backends: list[Any] = []
    throttle_classes = [NotificationRateThrottle]

    @extend_schema(
        summary="Accept ANY_OFFER_CHANGED notifications (agents); each NotificationId counts once",
        description=(
            "The body is one notification as Amazon sends it to SQS, a list of them, or an "
            "EventBridge event whose `detail` is the notification. Only the watch lists of "
            "teams where you are an agent or manager are matched."
        ),
        request=dict,
        responses={202: s.NotificationAcceptedSerializer},
    )
    def create(self, request: Request) -> Response:
        body = request.data
        documents = body if isinstance(body, list) else [body]
        documents = [
            d.get("detail") if isinstance(d, dict) and isinstance(d.get("detail"), dict) else d for d in documents
        ]
        if not documents or len(documents) > 100:
            raise exceptions.ValidationError({"body": [_("Send 1 to 100 notifications.")]})
        mine = self.visible(Membership).filter(user_id=request.user.pk, role__in=[Role.AGENT, Role.MANAGER])
        team_ids = list(mine.values_list("team_id", flat=True))
        if not team_ids:
            raise exceptions.PermissionDenied(_("This needs the agent role in a team."))
        with transaction.atomic():
            received = offer_notifications_receive(documents=documents, via="https", team_ids=team_ids)
            if received.errors:
                raise exceptions.ValidationError({"body": received.errors[:10]})
            if received.pending:
                transaction.on_commit(offer_notifications_schedule_drain)
        accepted = len({d["NotificationMetadata"]["NotificationId"] for d in documents}) - received.duplicates
        return self.respond({"accepted": accepted, "duplicates": received.duplicates}, status=202, etag=False)
