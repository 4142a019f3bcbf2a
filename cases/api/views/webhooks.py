"""Webhook endpoints of a team, their delivery log, and redelivery (managers)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cases.api import serializers as s
from cases.api.base import ApiViewSet, CursorPage, validated
from cases.api.views.cases import IDEMPOTENCY_KEY, IF_MATCH, actor_of
from cases.api.views.catalog import team_for
from cases.models import Role, WebhookDelivery, WebhookEndpoint
from cases.selectors.webhooks import managed_endpoints, with_managed
from cases.services import webhooks
from cases.services._common import role_needed


class WebhookViewSet(ApiViewSet):
    serializer_class = s.WebhookEndpointSerializer
    filter_backends: list[Any] = []
    pagination_class = CursorPage  # for the delivery log

    def endpoint(self, pk: str) -> WebhookEndpoint:
        """The endpoint, to its team's managers: 404 to other teams, 403 to the team's viewers and agents."""
        endpoint: Any = self.get_visible(with_managed(self.visible(WebhookEndpoint), self.request.user), pk)
        if not endpoint.managed:
            raise role_needed(Role.MANAGER)
        return endpoint

    @extend_schema(
        summary="Webhook endpoints of the teams you manage", responses=s.WebhookEndpointSerializer(many=True)
    )
    def list(self, request: Request) -> Response:
        return self.page(managed_endpoints(request.user), s.WebhookEndpointSerializer)

    @extend_schema(
        summary="Register an HTTPS endpoint (managers); the response shows its signing secret once",
        request=s.WebhookInputSerializer,
        responses={201: s.WebhookEndpointCreatedSerializer},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "Jira automation",
                value={
                    "url": "https://example.atlassian.net/hooks/abc",
                    "events": ["case.created", "sighting.new_seller"],
                },
                request_only=True,
            )
        ],
    )
    def create(self, request: Request) -> Response:
        data = validated(s.WebhookInputSerializer, request.data)
        team = team_for(request, data.pop("team", None))
        endpoint, secret = webhooks.webhook_endpoint_create(team=team, actor=actor_of(request), **data)
        body = {**s.WebhookEndpointSerializer(endpoint).data, "secret": secret}
        return self.respond(body, status=201, etag=False)

    @extend_schema(summary="Read an endpoint", responses=s.WebhookEndpointSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return self.respond(s.WebhookEndpointSerializer(self.endpoint(pk)).data)

    @extend_schema(
        summary="Change an endpoint",
        request=s.WebhookUpdateSerializer,
        responses=s.WebhookEndpointSerializer,
        parameters=[IF_MATCH],
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        data = validated(s.WebhookUpdateSerializer, request.data)
        with transaction.atomic():
            endpoint: WebhookEndpoint = self.locked(
                self.visible(WebhookEndpoint), pk, shape=s.WebhookEndpointSerializer
            )
            endpoint = webhooks.webhook_endpoint_update(endpoint=endpoint, actor=actor_of(request), **data)
        return self.respond(s.WebhookEndpointSerializer(endpoint).data)

    @extend_schema(summary="Remove an endpoint and its delivery log", responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        webhooks.webhook_endpoint_delete(endpoint=self.endpoint(pk), actor=actor_of(request))
        return Response(status=204)

    @extend_schema(summary="Deliveries to the endpoint, newest first", responses=s.WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str) -> Response:
        return self.page(WebhookDelivery.objects.filter(endpoint=self.endpoint(pk)), s.WebhookDeliverySerializer)


class DeliveryViewSet(ApiViewSet):
    serializer_class = s.WebhookDeliverySerializer
    filter_backends: list[Any] = []

    @extend_schema(
        summary="Send a delivery's event again (managers)",
        request=None,
        responses={202: s.WebhookDeliverySerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk: str) -> Response:
        delivery: WebhookDelivery = self.get_visible(self.visible(WebhookDelivery).select_related("endpoint"), pk)
        copy = webhooks.webhook_redeliver(delivery=delivery, actor=actor_of(request))
        copy.refresh_from_db()
        return self.respond(s.WebhookDeliverySerializer(copy).data, status=202, etag=False)
