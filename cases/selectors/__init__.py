"""Reads of the case domain. Everything a user sees passes through ``visible_to``."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from cases.models import (
    Brand,
    Case,
    CaseStorefront,
    Comment,
    Evidence,
    IPRight,
    IPRightStatus,
    OperatorLink,
    Sighting,
    Storefront,
    Warning,
)
from cases.services._common import case_ref
from evidence.models import AuditEvent


def case_list(*, user: Any, search: str = "", status: str = "") -> QuerySet[Case]:
    cases = Case.objects.visible_to(user).select_related("brand", "assignee")
    if status:
        cases = cases.filter(status=status)
    return with_counts(case_search(cases, search)).order_by("-created_at", "-id")


def case_search(cases: QuerySet[Case], term: str) -> QuerySet[Case]:
    """Cases whose ASIN, reference, title, or a storefront's name or seller ID match ``term``."""
    term = term.strip()
    if not term:
        return cases
    matching_storefronts = CaseStorefront.objects.filter(
        Q(storefront__name__icontains=term) | Q(storefront__seller_id__iexact=term)
    ).values("case_id")
    return cases.filter(
        Q(asin__iexact=term) | Q(reference__iexact=term) | Q(title__icontains=term) | Q(pk__in=matching_storefronts)
    )


def for_api(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases with what their API shape needs and no more (lists read 100 at a time)."""
    return with_counts(
        cases.select_related("brand", "assignee").defer(
            *(
                f"brand__{f}"
                for f in (
                    "rights_owner",
                    "contact_name",
                    "contact_email",
                    "contact_phone",
                    "contact_address",
                    "created_at",
                    "updated_at",
                    "team",
                )
            ),
            *(
                f"assignee__{f}"
                for f in (
                    "password",
                    "last_login",
                    "first_name",
                    "last_name",
                    "email",
                    "is_staff",
                    "is_superuser",
                    "date_joined",
                )
            ),
        )
    )


def with_counts(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Storefront and (not withdrawn) evidence counts, in the same query."""
    return cases.annotate(
        storefront_count=_count(CaseStorefront.objects.filter(case=OuterRef("pk"))),
        evidence_count=_count(Evidence.objects.filter(case=OuterRef("pk"), withdrawn_at__isnull=True)),
    )


def _count(rows: QuerySet[Any], *, by: str = "case_id") -> Coalesce:
    """A correlated COUNT: unlike joined counts it does not multiply rows when combined."""
    counted = rows.order_by().values(by).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def case_get(*, user: Any, pk: int) -> Case:
    """The case if it is in one of the user's teams; ``Case.DoesNotExist`` otherwise."""
    return Case.objects.visible_to(user).select_related("brand", "team", "assignee").get(pk=pk)


# A storefront's sightings on one case shown on its page; older ones are counted, not read.
SIGHTINGS_SHOWN = 200


def case_storefronts(*, case: Case) -> QuerySet[CaseStorefront]:
    """The case's storefronts with their latest sightings, the warnings sent them and their operator groups.

    A fixed number of queries however many storefronts, sightings or warnings there are.
    """
    latest = Sighting.objects.filter(case=case).order_by("-seen_at", "-id")
    sighting_count = _count(Sighting.objects.filter(case=case, storefront=OuterRef("storefront")), by="storefront_id")
    return (
        CaseStorefront.objects.filter(case=case)
        .select_related("storefront")
        .annotate(sighting_count=sighting_count)
        .prefetch_related(
            Prefetch("storefront__sightings", queryset=latest[:SIGHTINGS_SHOWN], to_attr="case_sightings")
        )
        .prefetch_related(
            Prefetch(
                "storefront__warnings",
                queryset=Warning.objects.filter(case=case).order_by("sent_at", "id"),
                to_attr="case_warnings",
            )
        )
        .prefetch_related(
            Prefetch(
                "storefront__operator_links",
                queryset=OperatorLink.objects.select_related("group").prefetch_related(
                    Prefetch("group__links", queryset=OperatorLink.objects.select_related("storefront"))
                ),
            ),
        )
    )


def case_comments(*, case: Case) -> QuerySet[Comment]:
    return Comment.objects.filter(case=case).select_related("author").prefetch_related("mentions")


def case_evidence(*, case: Case) -> QuerySet[Evidence]:
    return Evidence.objects.filter(case=case).select_related("blob", "captured_by", "storefront", "withdrawn_by")


def case_activity(*, case: Case) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(ref=case_ref(case.pk)).order_by("-created_at", "-seq")


def operator_links_of(*, storefront: Storefront) -> QuerySet[OperatorLink]:
    """The links of the other storefronts run by the same operator, with the reason of each."""
    groups = OperatorLink.objects.filter(storefront=storefront).values("group_id")
    return (
        OperatorLink.objects.filter(group_id__in=groups)
        .exclude(storefront=storefront)
        .select_related("group", "storefront")
    )


def primary_ip_right(brand: Brand) -> IPRight | None:
    """The right a report or letter cites: a registered trademark, else a registered patent, else any."""
    rights = list(brand.ip_rights.all())
    for kind in ("trademark", "patent"):
        for right in rights:
            if right.kind == kind and right.status == IPRightStatus.REGISTERED:
                return right
    return rights[0] if rights else None
