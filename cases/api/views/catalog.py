"""Brands with their IP rights, and storefronts."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from cases import services
from cases.api import serializers as s
from cases.api.base import ApiViewSet, CursorPage, validated
from cases.api.filters import StorefrontFilter
from cases.api.views.cases import IDEMPOTENCY_KEY, IF_MATCH, actor_of
from cases.letters import DEFAULTS
from cases.models import Brand, IPRight, Storefront, Team, WarningTemplate
from cases.models.letters import LetterKind, LetterLanguage


def team_for(request: Request, team_id: int | None) -> Team:
    """The team a new object goes to: the one named, or the caller's only team.

    Whether the caller's role there allows the write is the service's decision.
    """
    teams = Team.objects.visible_to(request.user)
    if team_id is not None:
        team = teams.filter(pk=team_id).first()
        if team is None:
            raise exceptions.ValidationError({"team": [_("No such team of yours.")]})
        return team
    mine = list(teams[:2])
    if len(mine) != 1:
        raise exceptions.ValidationError({"team": [_("You belong to several teams (or none): name the team.")]})
    return mine[0]


class BrandViewSet(ApiViewSet):
    serializer_class = s.BrandSerializer
    filter_backends: list[Any] = []

    @extend_schema(summary="Brands of your teams", responses=s.BrandSerializer(many=True))
    def list(self, request: Request) -> Response:
        return Response(s.BrandSerializer(self.visible(Brand), many=True).data)

    @extend_schema(
        summary="Create a brand (managers)",
        request=s.BrandInputSerializer,
        responses={201: s.BrandSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request: Request) -> Response:
        data = validated(s.BrandInputSerializer, request.data)
        team = team_for(request, data.pop("team", None))
        brand = services.brand_create(team=team, actor=actor_of(request), **data)
        return self.respond(
            s.BrandSerializer(brand).data, status=201, headers={"Location": f"/api/v1/brands/{brand.pk}/"}
        )

    @extend_schema(summary="Read a brand", responses=s.BrandSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return self.respond(s.BrandSerializer(self.get_visible(self.visible(Brand), pk)).data)

    @extend_schema(
        summary="Change a brand (managers)",
        request=s.BrandUpdateSerializer,
        responses=s.BrandSerializer,
        parameters=[IF_MATCH],
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        data = validated(s.BrandUpdateSerializer, request.data)
        data.pop("team", None)
        with transaction.atomic():
            brand: Brand = self.locked(self.visible(Brand), pk, shape=s.BrandSerializer)
            brand = services.brand_update(brand=brand, actor=actor_of(request), **data)
        return self.respond(s.BrandSerializer(brand).data)


class IPRightViewSet(ApiViewSet):
    serializer_class = s.IPRightSerializer
    filter_backends: list[Any] = []
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def brand(self, brand_pk: str) -> Brand:
        brand: Brand = self.get_visible(self.visible(Brand), brand_pk)
        return brand

    @extend_schema(summary="IP rights of the brand", responses=s.IPRightSerializer(many=True))
    def list(self, request: Request, brand_pk: str) -> Response:
        return Response(s.IPRightSerializer(IPRight.objects.filter(brand=self.brand(brand_pk)), many=True).data)

    @extend_schema(
        summary="Add an IP right, with its certificate if you have it (managers)",
        request={"multipart/form-data": s.IPRightInputSerializer, "application/json": s.IPRightInputSerializer},
        responses={201: s.IPRightSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request: Request, brand_pk: str) -> Response:
        data = validated(s.IPRightInputSerializer, request.data)
        certificate = data.pop("certificate", None)
        right = services.ip_right_create(
            brand=self.brand(brand_pk),
            actor=actor_of(request),
            certificate=certificate,
            certificate_name=certificate.name if certificate else "",
            **data,
        )
        return self.respond(s.IPRightSerializer(right).data, status=201)


class StorefrontViewSet(ApiViewSet):
    serializer_class = s.StorefrontSerializer
    filterset_class = StorefrontFilter
    pagination_class = CursorPage

    def get_queryset(self) -> Any:
        return self.visible(Storefront)

    @extend_schema(summary="Storefronts your teams know", responses=s.StorefrontSerializer(many=True))
    def list(self, request: Request) -> Response:
        return self.page(self.filter_queryset(self.get_queryset()), s.StorefrontSerializer)

    @extend_schema(
        summary="A storefront with its cases, sightings and linked accounts", responses=s.StorefrontDetailSerializer
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        return self.respond(s.StorefrontDetailSerializer(self.get_visible(self.get_queryset(), pk)).data)

    @extend_schema(
        summary="Correct the name or seller-profile details",
        request=s.StorefrontUpdateSerializer,
        responses=s.StorefrontDetailSerializer,
        parameters=[IF_MATCH],
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        data = validated(s.StorefrontUpdateSerializer, request.data)
        with transaction.atomic():
            storefront: Storefront = self.locked(self.get_queryset(), pk, shape=s.StorefrontDetailSerializer)
            storefront = services.storefront_update(storefront=storefront, actor=actor_of(request), **data)
        return self.respond(s.StorefrontDetailSerializer(storefront).data)


class WarningTemplateViewSet(ApiViewSet):
    """Each team's wording of the warning letters (managers change them)."""

    serializer_class = s.WarningTemplateSerializer
    filter_backends: list[Any] = []

    @extend_schema(summary="The letters of your teams: own wording, or the built-in text")
    def list(self, request: Request) -> Response:
        rows = []
        for team in Team.objects.visible_to(request.user):
            own = {(t.kind, t.language): t.body for t in WarningTemplate.objects.filter(team=team)}
            for kind in LetterKind.values:
                for language in LetterLanguage.values:
                    body = own.get((kind, language))
                    rows.append(
                        {
                            "team": team.pk,
                            "kind": kind,
                            "language": language,
                            "body": body or DEFAULTS[(kind, language)],
                            "is_default": body is None,
                        }
                    )
        return Response(rows)

    @extend_schema(summary="Set a team's wording of one letter (managers)", request=s.WarningTemplateSerializer)
    def create(self, request: Request) -> Response:
        data = validated(s.WarningTemplateSerializer, request.data)
        team = team_for(request, data.pop("team", None))
        template = services.warning_template_set(team=team, actor=actor_of(request), **data)
        body = {
            "team": team.pk,
            "kind": template.kind,
            "language": template.language,
            "body": template.body,
            "is_default": False,
        }
        return self.respond(body, status=201, etag=False)
