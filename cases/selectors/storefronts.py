"""What a storefront's page reads: its cases, its recent sightings, and the accounts linked to it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from cases.models import CaseStorefront, OperatorLink, Sighting, Storefront
from cases.selectors import operator_links_of


def storefront_get(*, user: Any, pk: int) -> Storefront:
    """The storefront if it is in one of the user's teams; ``Storefront.DoesNotExist`` otherwise."""
    return Storefront.objects.visible_to(user).get(pk=pk)


def storefront_cases(*, user: Any, storefront: Storefront) -> QuerySet[CaseStorefront]:
    """Every case the storefront appears on, the most recently seen first."""
    return (
        CaseStorefront.objects.visible_to(user)
        .filter(storefront=storefront)
        .select_related("case")
        .order_by("-last_seen", "-pk")
    )


def storefront_sightings(*, user: Any, storefront: Storefront, limit: int = 100) -> list[Sighting]:
    """The storefront's latest sightings on any case, the newest first."""
    return list(
        Sighting.objects.visible_to(user)
        .filter(storefront=storefront)
        .select_related("case")
        .order_by("-seen_at", "-pk")[:limit]
    )


def linked_accounts(*, user: Any, storefront: Storefront) -> QuerySet[OperatorLink]:
    """The other storefronts of the storefront's operator groups, one row per reason they are linked."""
    # The left side's select_related is the one a combined queryset keeps.
    return (operator_links_of(storefront=storefront) & OperatorLink.objects.visible_to(user)).order_by(
        "group__name", "group_id", "storefront__marketplace", "storefront__seller_id", "reason"
    )
