"""Webhook endpoints: their addresses and delivery logs are the business of the teams' managers."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from cases.models import Membership, Role, Team, WebhookEndpoint


def managed_teams(user: Any) -> QuerySet[Team]:
    return Team.objects.visible_to(user).filter(memberships__user=user, memberships__role=Role.MANAGER)


def managed_endpoints(user: Any) -> QuerySet[WebhookEndpoint]:
    """Endpoints of the teams ``user`` manages; a viewer or agent of the team sees none."""
    return WebhookEndpoint.objects.visible_to(user).filter(team__in=managed_teams(user))


def with_managed(endpoints: QuerySet[WebhookEndpoint], user: Any) -> QuerySet[WebhookEndpoint]:
    """``endpoints``, each marked ``managed`` when ``user`` manages its team (in the same query)."""
    managers = Membership.objects.filter(team_id=OuterRef("team_id"), user_id=user.pk, role=Role.MANAGER)
    return endpoints.annotate(managed=Exists(managers))
