"""Cases, their workflow, their storefronts and sightings, and their activity."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions, filters
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cases import selectors, services
from cases.api import serializers as s
from cases.api.base import ApiViewSet, CursorPage, validated
from cases.api.filters import CaseFilter
from cases.models import Brand, Case, CaseStorefront, Sighting, Storefront
from evidence.services import Actor

IF_MATCH = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, required=False, description="ETag from a read; 412 if it changed since"
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Retrying a POST with the same key returns the first result and creates nothing new",
)


def actor_of(request: Request) -> Actor:
    return Actor.of_user(request.user)


def user_in_team(user_id: int | None, team_id: int) -> Any:
    """The user with this ID if they belong to the team; a field error otherwise."""
    if user_id is None:
        return None
    user = get_user_model().objects.filter(pk=user_id, memberships__team_id=team_id).first()
    if user is None:
        raise exceptions.ValidationError({"assignee": [_("No such member of the case's team.")]})
    return user


class CaseViewSet(ApiViewSet):
    """Hijack cases of the caller's teams."""

    serializer_class = s.CaseSerializer
    filterset_class = CaseFilter
    filter_backends = [*ApiViewSet.filter_backends, filters.OrderingFilter]  # type: ignore[misc]
    ordering_fields = ["created_at", "updated_at", "status_changed_at"]
    pagination_class = CursorPage

    def get_queryset(self) -> Any:
        return selectors.for_api(self.visible(Case))

    @extend_schema(summary="List cases", responses=s.CaseSerializer(many=True))
    def list(self, request: Request) -> Response:
        rows = self.filter_queryset(selectors.with_counts(self.visible(Case))).values(*s.CASE_ROW)
        return self.page(rows, s.CaseSerializer)

    @extend_schema(
        summary="Open a case",
        request=s.CaseCreateSerializer,
        responses={201: s.CaseSerializer},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "Hijacked lamp",
                value={"brand": 1, "asin": "B0C1HJ4K2L", "marketplace": "US", "title": "Desk lamp", "priority": "high"},
                request_only=True,
            )
        ],
    )
    def create(self, request: Request) -> Response:
        data = validated(s.CaseCreateSerializer, request.data)
        brand = self.get_visible(self.visible(Brand), data["brand"])
        refs = list(data.get("external_refs", []))
        if data.get("external_ref"):
            refs.append(data["external_ref"])
        case = services.case_open(
            brand=brand,
            asin=data["asin"],
            marketplace=data["marketplace"],
            title=data.get("title", ""),
            priority=data.get("priority", "normal"),
            assignee=user_in_team(data.get("assignee"), brand.team_id),
            external_refs=refs,
            actor=actor_of(request),
        )
        body = s.CaseSerializer(self._reload(case.pk)).data
        return self.respond(body, status=201, headers={"Location": f"/api/v1/cases/{case.pk}/"})

    @extend_schema(summary="Read a case", responses=s.CaseSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return self.respond(s.CaseSerializer(self.get_visible(self.get_queryset(), pk)).data)

    @extend_schema(
        summary="Change title, priority, assignee or ticket references",
        request=s.CaseUpdateSerializer,
        responses=s.CaseSerializer,
        parameters=[IF_MATCH],
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        data = validated(s.CaseUpdateSerializer, request.data)
        with transaction.atomic():
            case = self._locked(pk)
            if "assignee" in data:
                data["assignee"] = user_in_team(data["assignee"], case.team_id)
            services.case_update(case=case, actor=actor_of(request), **data)
        return self.respond(s.CaseSerializer(self._reload(case.pk)).data)

    @extend_schema(
        summary="Move the case along its workflow",
        request=s.TransitionSerializer,
        responses=s.CaseSerializer,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
        examples=[OpenApiExample("Report filed", value={"status": "reported", "note": "RAV filed"}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        data = validated(s.TransitionSerializer, request.data)
        with transaction.atomic():
            case = self._locked(pk)
            services.case_transition(
                case=case,
                status=data["status"],
                note=data.get("note", ""),
                reason=data.get("reason", ""),
                actor=actor_of(request),
            )
        return self.respond(s.CaseSerializer(self._reload(case.pk)).data)

    def _reload(self, pk: int) -> Case:
        return self.get_queryset().get(pk=pk)

    def _locked(self, pk: str) -> Case:
        """Lock the case for this transaction and apply If-Match against its current ETag."""
        case: Case = self.get_visible(self.visible(Case).select_for_update(of=("self",), no_key=True), pk)
        self.check_if_match(s.CaseSerializer(self._reload(case.pk)).data)
        return case


class ActivityViewSet(ApiViewSet):
    """The case's audit trail: who did what, with before and after."""

    serializer_class = s.ActivitySerializer
    pagination_class = CursorPage
    filter_backends: list[Any] = []

    @extend_schema(summary="The audit trail of the case", responses=s.ActivitySerializer(many=True))
    def list(self, request: Request, case_pk: str) -> Response:
        case = self.get_visible(self.visible(Case), case_pk)
        return self.page(selectors.case_activity(case=case), s.ActivitySerializer)


class CaseStorefrontViewSet(ApiViewSet):
    """Storefronts hijacking one case."""

    serializer_class = s.CaseStorefrontSerializer
    filter_backends: list[Any] = []

    def _case(self, case_pk: str) -> Case:
        case: Case = self.get_visible(self.visible(Case), case_pk)
        return case

    @extend_schema(summary="Storefronts on the case", responses=s.CaseStorefrontSerializer(many=True))
    def list(self, request: Request, case_pk: str) -> Response:
        links = CaseStorefront.objects.filter(case=self._case(case_pk)).select_related("storefront")
        return Response(s.CaseStorefrontSerializer(links, many=True).data)

    @extend_schema(
        summary="Attach a storefront by seller ID, creating it when new",
        request=s.StorefrontAttachSerializer,
        responses={201: s.CaseStorefrontSerializer},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "Chinese storefront",
                value={"seller_id": "A1SZHAOYUNLAI01", "name": "深圳市好运来贸易有限公司"},
                request_only=True,
            )
        ],
    )
    def create(self, request: Request, case_pk: str) -> Response:
        data = validated(s.StorefrontAttachSerializer, request.data)
        link = services.storefront_attach(
            case=self._case(case_pk), seller_id=data["seller_id"], name=data.get("name", ""), actor=actor_of(request)
        )
        link = CaseStorefront.objects.select_related("storefront").get(pk=link.pk)
        return self.respond(s.CaseStorefrontSerializer(link).data, status=201)


class SightingViewSet(ApiViewSet):
    """Who was seen selling on the case's listing, when, at what price."""

    serializer_class = s.SightingSerializer
    pagination_class = CursorPage
    filter_backends: list[Any] = []

    @extend_schema(summary="Sightings on the case", responses=s.SightingSerializer(many=True))
    def list(self, request: Request, case_pk: str) -> Response:
        case = self.get_visible(self.visible(Case), case_pk)
        sightings = Sighting.objects.filter(case=case).select_related("storefront", "case")
        return self.page(sightings, s.SightingSerializer)

    @extend_schema(
        summary="Record a sighting",
        request=s.SightingInputSerializer,
        responses={201: s.SightingSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request: Request, case_pk: str) -> Response:
        data = validated(s.SightingInputSerializer, request.data)
        case: Case = self.get_visible(self.visible(Case), case_pk)
        storefront_id = data.pop("storefront", None)
        seller_id = data.pop("seller_id", None)
        if storefront_id is not None:
            storefront = self.get_visible(self.visible(Storefront), storefront_id)
        elif seller_id:
            storefront = services.storefront_attach(case=case, seller_id=seller_id, actor=actor_of(request)).storefront
        else:
            raise exceptions.ValidationError({"storefront": [_("Give storefront (an ID) or seller_id.")]})
        sighting = services.sighting_record(case=case, storefront=storefront, actor=actor_of(request), **data)
        return self.respond(s.SightingSerializer(sighting).data, status=201)
